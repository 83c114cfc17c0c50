//! Synthetic event histories for `ragline generate`.
//!
//! Simulates children's journeys through children's social care and writes them as
//! JSON Lines in the contract of `docs/events.md`: referrals (a quarter of closed
//! cases come back within 12 months), Child and Family assessments, section 47
//! enquiries, ICPCs and child protection plans with their reviews, periods of care
//! with placements, arrangement meetings, reviews, health and dental checks and
//! adoption steps, care leavers' birthday contacts, missing episodes, visits at the
//! rhythm of the child's status, worker allocations, and per leaf unit case audits
//! and monthly staffing snapshots (case-holding FTE from the unit's open cases).
//!
//! - Volumes: `Scale::Kent` normalises Kent's 2017 figures (`docs/configuration.md`,
//!   "Kent's scale") over the leaves, in the proportions of the activity table
//!   (`KENT_TEAMS`) for Kent's own unit ids and of an average Kent team of the
//!   same kind otherwise; `Scale::Small` is 1/50 of it;
//!   `Scale::National` is 150 average English authorities, each a quarter of Kent
//!   ([`AVERAGE_LA_SHARE_OF_KENT`]: England's 2017 referrals, CP plans and children
//!   in care over ~150 authorities are 0.24-0.27 of Kent's), spread over the leaves
//!   the same way (config/national.toml: 150 authorities of six leaves each).
//!   The history starts empty: a stock of already-open cases, plans, periods of care
//!   and care leavers enters in the first four weeks, so stocks are near steady state
//!   from the first month-end (month-one counts of referrals and starts are inflated).
//! - Kent in steady state (second year, seed 1): ~193,000 events a year (national:
//!   ~7.1 million), ~17,400 referrals, ~16,600 completed assessments, ~1,300 CP
//!   plans started, ~470 audits, ~10,400 open cases, ~1,350 children on a plan and
//!   ~1,650 in care. The mix: visits ~33% (CP ~30,000, CIN ~21,000, CIC ~11,000),
//!   worker allocations ~12%, referrals, closures and assessments ~9% each, child
//!   details ~7%. The first year is ~230,000 (the opening stock).
//! - Visit rhythms (the volume that is a choice): CP about every 10 working days
//!   (about 85% on time, as Kent's 2017 scorecard); children in care every 6 weeks
//!   in the first year of a period, every 3-4 months after it (the statutory
//!   minimum); children in need on a CIN plan every 6-12 weeks, disabled children
//!   every 3-6 months; no routine visits while a case is in assessment or enquiry
//!   without a plan (the assessment and the enquiry record `child_seen`), nor for
//!   care leavers (their birthday contacts) and adoption support. CIN visits are
//!   thinner than Kent's 28-day standard so that a Kent year stays under 200,000
//!   events: CIN01 comes out far below Kent's 76%.
//! - Ids: events `e` + 8 digits in file order, children `c` + at least 6 digits, workers `w` +
//!   5 digits. References (`plan_id`, ...) name the starting event of the same child.
//! - Clean history: sorted by (date, recorded_at, event_id); a child's events of one
//!   date have increasing `recorded_at` in causal order; no `revision`, no `void`;
//!   `la` only when the leaves span several authorities.
//! - Messy history: the same facts (same ids and content), delivered out of order
//!   (2 days, 3 weeks, 3% 1-6 months late), ~5% exact duplicates, ~5% of facts with
//!   earlier wrong revisions (some voided, then restored) and the true content at the
//!   highest `revision`, ~2% fake events whose highest revision is void, ~0.5%
//!   malformed lines (fresh ids) that no validator may accept. Keeping the highest
//!   revision per event_id, dropping voids and rejecting invalid lines gives back
//!   exactly the clean history.
//!
//! One seeded ChaCha generator drives the facts and a second, independent one the
//! noise, so the facts are identical in both modes and the same options always give
//! the same bytes.

use chrono::{Datelike, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

/// A leaf unit of the configuration. `kind` is `cswt`, `cic`, `disability`,
/// `suasc`, `adoption`, `care_leavers` (anything else is treated like `cswt`).
pub struct GenUnit {
    /// The unit id of the configuration (what `unit` fields name).
    pub id: String,
    /// The unit's kind: picks its role in the journeys and its default volumes.
    pub kind: String,
    /// The local authority the unit belongs to.
    pub la: String,
}

impl GenUnit {
    /// Every leaf unit of `config`, with its kind and authority.
    pub fn leaves_of(config: &crate::config::Config) -> Vec<GenUnit> {
        config
            .units
            .iter()
            .filter(|unit| unit.is_leaf())
            .map(|unit| GenUnit {
                id: unit.id.clone(),
                kind: unit.kind.clone(),
                la: config.authorities[unit.la.0 as usize].id.clone(),
            })
            .collect()
    }
}

/// Volume of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// About 1/50 of Kent's volumes (a few hundred children a year), for fast tests.
    Small,
    /// Kent's 2017 volumes (`docs/configuration.md`), spread over the leaves like its
    /// activity table.
    Kent,
    /// England: 150 average authorities, each a quarter of Kent's volumes, spread
    /// over the leaves like `Kent` (meant for a configuration of 150 authorities).
    National,
}

/// The volume of an average English authority as a share of Kent's: England's
/// 2017 referrals (~650,000), child protection plans (~51,000) and children in care
/// (~72,700) over its ~150 authorities are 0.24-0.27 of Kent's figures.
pub const AVERAGE_LA_SHARE_OF_KENT: f64 = 0.25;

/// The number of authorities `Scale::National` stands for.
pub const NATIONAL_AUTHORITIES: f64 = 150.0;

/// What to generate.
pub struct GenOptions {
    /// Seed of the random generators: the same seed and options give the same bytes.
    pub seed: u64,
    /// First day of the history (events are dated from here).
    pub start: chrono::NaiveDate,
    /// Length of the history in calendar months from `start`.
    pub months: u32,
    /// Volume.
    pub scale: Scale,
    /// Wrap the facts in delivery noise (see the module documentation).
    pub messy: bool,
}

/// Counts of what was written.
#[derive(Debug, Default, Clone)]
pub struct GenStats {
    /// Lines written (events, noise and malformed lines).
    pub lines: u64,
    /// Surviving facts (the clean history's events).
    pub facts: u64,
    /// Children with at least one event.
    pub children: u64,
    /// Extra exact copies of lines (messy only).
    pub noise_duplicates: u64,
    /// Superseded earlier revisions of real facts, voided ones included (messy only).
    pub noise_revisions: u64,
    /// Lines of fake events whose highest revision is void (messy only).
    pub noise_voided: u64,
    /// Lines that are not valid events (messy only).
    pub noise_malformed: u64,
}

/// Writes a JSON Lines event history. The same seed and options always give the same bytes.
pub fn generate(
    options: &GenOptions,
    leaves: &[GenUnit],
    out: &mut dyn std::io::Write,
) -> std::io::Result<GenStats> {
    if leaves.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "generate: no leaf units",
        ));
    }
    if options.months == 0 {
        return Ok(GenStats::default());
    }
    let mut g = Gen::new(options, leaves);
    g.simulate();
    g.finish(options, out)
}

// ---------------------------------------------------------------- tables

/// Kent's per-team activity (August 2017): caseload, referrals a month, CP plans,
/// children in care, UASC in care.
const KENT_TEAMS: &[(&str, [f64; 5])] = &[
    ("ashford-cswt", [478.0, 123.0, 132.0, 5.0, 0.0]),
    ("canterbury-cswt", [441.0, 102.0, 90.0, 12.0, 0.0]),
    ("dartford-cswt", [281.0, 87.0, 59.0, 2.0, 0.0]),
    ("dover-cswt", [617.0, 104.0, 131.0, 7.0, 0.0]),
    ("gravesham-cswt", [464.0, 110.0, 63.0, 1.0, 0.0]),
    ("maidstone-cswt", [513.0, 138.0, 92.0, 10.0, 0.0]),
    ("sevenoaks-cswt", [270.0, 88.0, 28.0, 2.0, 0.0]),
    ("shepway-cswt", [605.0, 97.0, 155.0, 12.0, 0.0]),
    ("swale-cswt", [814.0, 184.0, 179.0, 10.0, 0.0]),
    ("thanet-margate-cswt", [299.0, 91.0, 91.0, 5.0, 0.0]),
    ("thanet-ramsgate-cswt", [405.0, 96.0, 112.0, 4.0, 0.0]),
    ("the-weald-cswt", [550.0, 147.0, 130.0, 7.0, 0.0]),
    ("north-kent-cic", [304.0, 0.0, 31.0, 244.0, 66.0]),
    ("east-kent-cansw-cic", [364.0, 0.0, 16.0, 333.0, 51.0]),
    ("east-kent-tha-cic", [295.0, 1.0, 15.0, 260.0, 19.0]),
    ("south-kent-cic", [372.0, 0.0, 8.0, 329.0, 60.0]),
    ("west-kent-cic", [351.0, 0.0, 19.0, 310.0, 65.0]),
    ("suasc", [163.0, 25.0, 0.0, 104.0, 104.0]),
    ("disability-ek", [538.0, 10.0, 13.0, 59.0, 1.0]),
    ("disability-wk", [644.0, 8.0, 7.0, 41.0, 0.0]),
    ("adoption-sg", [155.0, 11.0, 0.0, 2.0, 0.0]),
    ("care-leavers", [1345.0, 1.0, 0.0, 0.0, 0.0]),
];

/// Profile of a unit whose id is not one of Kent's: the average Kent team of its kind.
fn default_profile(kind: Kind) -> [f64; 5] {
    match kind {
        Kind::Cswt => [478.0, 114.0, 105.0, 6.0, 0.0],
        Kind::Cic => [337.0, 0.2, 18.0, 295.0, 52.0],
        Kind::Disability => [591.0, 9.0, 10.0, 50.0, 0.5],
        Kind::Suasc => [163.0, 25.0, 0.0, 104.0, 104.0],
        Kind::Adoption => [155.0, 11.0, 0.0, 2.0, 0.0],
        Kind::CareLeavers => [1345.0, 1.0, 0.0, 0.0, 0.0],
    }
}

// Kent volumes (`docs/configuration.md`, "Kent's scale") that the categories below
// are normalised to.
const KENT_GENERAL_NEW_REFS_YEAR: f64 = 12_500.0; // new children referred to CSWTs
const KENT_UASC_REFS_YEAR: f64 = 300.0;
const KENT_DISABILITY_REFS_YEAR: f64 = 216.0;
const KENT_SUPPORT_REFS_YEAR: f64 = 144.0;
const KENT_STOCK_CP: f64 = 1_372.0;
const KENT_STOCK_CIC: f64 = 1_409.0;
const KENT_STOCK_UASC_CIC: f64 = 366.0;
const KENT_STOCK_CIN: f64 = 4_600.0; // open cases of CSWTs and CIC teams without a plan or care
const KENT_STOCK_DISABILITY_CIN: f64 = 1_062.0;
const KENT_STOCK_SUPPORT: f64 = 153.0;
const KENT_STOCK_CARE_LEAVERS: f64 = 1_345.0;
const KENT_AUDITS_YEAR: f64 = 470.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cswt,
    Cic,
    Disability,
    Suasc,
    Adoption,
    CareLeavers,
}

fn kind_of(s: &str) -> Kind {
    match s {
        "cic" => Kind::Cic,
        "disability" => Kind::Disability,
        "suasc" => Kind::Suasc,
        "adoption" => Kind::Adoption,
        "care_leavers" => Kind::CareLeavers,
        _ => Kind::Cswt,
    }
}

// ---------------------------------------------------------------- dates
// Days are i32 counts from the common era (chrono's num_days_from_ce; 1 = Monday 0001-01-01).

const FAR: i32 = i32::MAX / 2;

fn nd(d: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d).expect("date in range")
}

fn dn(n: NaiveDate) -> i32 {
    n.num_days_from_ce()
}

/// 0 = Monday .. 6 = Sunday.
fn weekday(d: i32) -> i32 {
    (d - 1).rem_euclid(7)
}

fn is_weekend(d: i32) -> bool {
    weekday(d) >= 5
}

/// The day itself if a weekday, else the next Monday.
fn on_weekday(d: i32) -> i32 {
    match weekday(d) {
        5 => d + 2,
        6 => d + 1,
        _ => d,
    }
}

/// The n-th working day (Monday to Friday) after d; d itself for n = 0.
fn add_wd(d: i32, n: i32) -> i32 {
    let mut x = d;
    let mut k = 0;
    while k < n {
        x += 1;
        if !is_weekend(x) {
            k += 1;
        }
    }
    x
}

/// Calendar month arithmetic with clamping to the month's last day.
fn add_months(d: i32, m: i32) -> i32 {
    let n = nd(d);
    let r = if m >= 0 {
        n.checked_add_months(Months::new(m as u32))
    } else {
        n.checked_sub_months(Months::new((-m) as u32))
    };
    dn(r.expect("date in range"))
}

/// The date a child born on `dob` turns `age` (29 February clamps to 28 February).
fn birthday(dob: i32, age: i32) -> i32 {
    add_months(dob, 12 * age)
}

/// Whole years of age at d.
fn age_at(dob: i32, d: i32) -> i32 {
    if d < dob {
        return 0;
    }
    let mut n = (d - dob) / 366;
    while birthday(dob, n + 1) <= d {
        n += 1;
    }
    n
}

fn write_date(out: &mut Vec<u8>, d: i32) {
    let n = nd(d);
    let (y, m, dd) = (n.year(), n.month(), n.day());
    if (0..=9999).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (dd / 10) as u8,
            b'0' + (dd % 10) as u8,
        ]);
    } else {
        out.extend_from_slice(format!("{:04}-{:02}-{:02}", y, m, dd).as_bytes());
    }
}

/// Formatted dates for the days of the history (and a margin), so that the hot
/// path formats a date by copying ten bytes.
struct DateCache {
    first: i32,
    bytes: Vec<[u8; 10]>,
}

impl DateCache {
    fn new(first: i32, last: i32) -> Self {
        let mut bytes = Vec::with_capacity((last - first + 1).max(0) as usize);
        let mut buf = Vec::with_capacity(10);
        for d in first..=last {
            buf.clear();
            write_date(&mut buf, d);
            let mut a = [0u8; 10];
            a.copy_from_slice(&buf[..10]);
            bytes.push(a);
        }
        DateCache { first, bytes }
    }

    fn put(&self, out: &mut Vec<u8>, d: i32) {
        let i = d - self.first;
        if i >= 0 && (i as usize) < self.bytes.len() {
            out.extend_from_slice(&self.bytes[i as usize]);
        } else {
            write_date(out, d);
        }
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = Vec::with_capacity(20);
    push_u64(&mut tmp, n);
    for _ in tmp.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(&tmp);
}

/// Tenths as a JSON number with exactly one decimal ("18.0", "3.5").
fn push_tenths(out: &mut Vec<u8>, t: u32) {
    push_u64(out, (t / 10) as u64);
    out.push(b'.');
    out.push(b'0' + (t % 10) as u8);
}

// ---------------------------------------------------------------- facts

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Ty {
    ChildDetails,
    Referral,
    CaseTransferred,
    CaseClosed,
    WorkerAllocated,
    WorkerUnallocated,
    Visit,
    AssessmentCompleted,
    S47Completed,
    IcpcHeld,
    CpPlanStarted,
    CpPlanEnded,
    CpReviewHeld,
    CicStarted,
    CicEnded,
    PlacementStarted,
    PlacementArrangementMeeting,
    CicReviewHeld,
    HealthAssessment,
    IhaReferral,
    DentalCheck,
    PlacementOrderGranted,
    AdoptionMatch,
    MissingStarted,
    MissingEnded,
    ReturnInterviewHeld,
    CareLeaverContact,
    CaseAuditCompleted,
    StaffingSnapshot,
}

const TY_NAMES: [&str; 29] = [
    "child_details",
    "referral",
    "case_transferred",
    "case_closed",
    "worker_allocated",
    "worker_unallocated",
    "visit",
    "assessment_completed",
    "s47_completed",
    "icpc_held",
    "cp_plan_started",
    "cp_plan_ended",
    "cp_review_held",
    "cic_started",
    "cic_ended",
    "placement_started",
    "placement_arrangement_meeting",
    "cic_review_held",
    "health_assessment",
    "iha_referral",
    "dental_check",
    "placement_order_granted",
    "adoption_match",
    "missing_started",
    "missing_ended",
    "return_interview_held",
    "care_leaver_contact",
    "case_audit_completed",
    "staffing_snapshot",
];

const VISIT_TYPES: [&str; 4] = ["cin", "cp", "cic", "other"];
const V_CIN: u8 = 0;
const V_CP: u8 = 1;
const V_CIC: u8 = 2;
const V_OTHER: u8 = 3;

const PLACEMENT_TYPES: [&str; 8] = [
    "foster_inhouse",
    "foster_relative_friend",
    "foster_agency",
    "residential",
    "placed_for_adoption",
    "placed_with_parents",
    "independent_living",
    "other",
];
const P_INHOUSE: u8 = 0;
const P_RELATIVE: u8 = 1;
const P_AGENCY: u8 = 2;
const P_RESIDENTIAL: u8 = 3;
const P_ADOPTION: u8 = 4;
const P_PARENTS: u8 = 5;
const P_INDEPENDENT: u8 = 6;
const P_OTHER: u8 = 7;

const CIC_END_REASONS: [&str; 5] = ["adopted", "sgo", "returned_home", "age_18", "other"];
const R_ADOPTED: u8 = 0;
const R_SGO: u8 = 1;
const R_HOME: u8 = 2;
const R_AGE18: u8 = 3;
const R_OTHER: u8 = 4;

/// Index 0 means "field absent".
const CLOSE_REASONS: [&str; 8] = [
    "",
    "no_further_action",
    "cin_closed",
    "stepped_down",
    "moved_out_of_area",
    "reached_18",
    "adopted_or_sgo",
    "other",
];
const CATEGORIES: [&str; 6] = [
    "",
    "neglect",
    "emotional_abuse",
    "physical_abuse",
    "sexual_abuse",
    "multiple",
];
const LEGAL_STATUSES: [&str; 7] = ["", "C1", "C2", "V2", "E1", "L1", "J2"];
const GRADES: [&str; 4] = ["outstanding", "good", "requires_improvement", "inadequate"];

const NO_CHILD: u32 = u32::MAX;
const NO_UNIT: u16 = u16::MAX;
const NO_DISTANCE: u32 = u32::MAX;

/// One fact, compactly. Payload by type:
/// - child_details: a = date of birth (day), f1 bit0 uasc, bit1 write `uasc`
/// - referral, case_transferred, audits, staffing: `unit`
/// - case_closed: f1 = CLOSE_REASONS index
/// - worker_allocated: a = worker index, f1 bit0 qualified
/// - visit: f1 = visit type
/// - assessment_completed, s47_completed: a = started (day), f1 bit0 child_seen
/// - icpc_held: a = s47_started (day)
/// - cp_plan_started: f1 = category; cic_started: f1 = legal status
/// - references (plan, period, placement, episode): a = uid of the starting fact
/// - cic_ended: f1 = reason; placement_started: f1 = type, b = distance in tenths
/// - cic_review_held: f1 bit0 participated; health_assessment: f1 0 initial, 1 review
/// - care_leaver_contact: f1 bit0 in_touch, bit1 accommodation_suitable, bit2 eet
/// - case_audit_completed: f1 = grade, `child` optional
/// - staffing_snapshot: a = establishment << 16 | caseholding, b = permanent << 16 | agency (tenths)
#[derive(Clone, Copy, Debug)]
struct Fact {
    uid: u32,
    date: i32,
    /// recorded_at, seconds from day 0 of the era (UTC).
    rec: i64,
    child: u32,
    unit: u16,
    ty: Ty,
    f1: u8,
    a: u32,
    b: u32,
}

fn day_u(d: i32) -> u32 {
    d as u32
}

// ---------------------------------------------------------------- generator state

struct UnitInfo {
    /// The unit id as a JSON string literal (quoted, escaped).
    json: String,
    id: String,
    la: u16,
    kind: Kind,
    /// caseload, referrals a month, CP plans, children in care, UASC in care.
    prof: [f64; 5],
    /// How much likelier than average a referral here leads to a section 47 enquiry.
    cp_prop: f64,
    /// Qualified workers.
    workers: Vec<u32>,
    /// A worker without a social work qualification (assistant, student).
    unqualified: u32,
}

struct LaInfo {
    json: String,
}

struct Worker {
    qualified: bool,
}

struct ChildRec {
    la: u16,
}

/// Entry of a child into the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    General,
    Uasc,
    Disability,
    Support,
    StockCin,
    StockCp,
    StockCic,
    StockUascCic,
    StockDisCin,
    StockSupport,
    StockCareLeaver,
}

/// The child being generated.
#[derive(Default)]
struct Cur {
    idx: u32,
    la: u16,
    dob: i32,
    uasc: bool,
    first_fact: usize,
    unit: u16,
    open: bool,
    seg_start: i32,
    /// (unit, from, to) responsible-unit intervals of open cases; to = FAR while open.
    segs: Vec<(u16, i32, i32)>,
    cp: Vec<(i32, i32)>,
    cic: Vec<(i32, i32)>,
    /// Child-in-need plans (from, to).
    cin: Vec<(i32, i32)>,
    plans: u32,
    last_ref: i32,
}

struct Gen {
    rng: ChaCha8Rng,
    seed: u64,
    start: i32,
    /// Last day of the history (inclusive).
    end: i32,
    scale: f64,
    facts: Vec<Fact>,
    next_uid: u32,
    units: Vec<UnitInfo>,
    las: Vec<LaInfo>,
    /// The units of each authority, in configuration order.
    la_units: Vec<Vec<u16>>,
    multi_la: bool,
    workers: Vec<Worker>,
    children: Vec<ChildRec>,
    /// Open-case segments of every child: (unit, from, to, child).
    segs: Vec<(u16, i32, i32, u32)>,
    cur: Cur,
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string serialises")
}

impl Gen {
    fn new(options: &GenOptions, leaves: &[GenUnit]) -> Self {
        let start = dn(options.start);
        let end = add_months(start, options.months as i32) - 1;
        let mut las: Vec<LaInfo> = Vec::new();
        let mut la_names: Vec<&str> = Vec::new();
        let mut units = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            let la = match la_names.iter().position(|n| *n == leaf.la.as_str()) {
                Some(i) => i,
                None => {
                    la_names.push(&leaf.la);
                    las.push(LaInfo {
                        json: json_str(&leaf.la),
                    });
                    la_names.len() - 1
                }
            };
            let kind = kind_of(&leaf.kind);
            let prof = KENT_TEAMS
                .iter()
                .find(|(n, _)| *n == leaf.id.as_str())
                .map(|(_, p)| *p)
                .unwrap_or_else(|| default_profile(kind));
            let cp_prop = if prof[1] > 0.5 && kind == Kind::Cswt {
                ((prof[2] / prof[1]) / 0.91).clamp(0.35, 1.8)
            } else {
                1.0
            };
            units.push(UnitInfo {
                json: json_str(&leaf.id),
                id: leaf.id.clone(),
                la: la as u16,
                kind,
                prof,
                cp_prop,
                workers: Vec::new(),
                unqualified: 0,
            });
        }
        let scale = match options.scale {
            Scale::Kent => 1.0,
            Scale::Small => 0.02,
            Scale::National => NATIONAL_AUTHORITIES * AVERAGE_LA_SHARE_OF_KENT,
        };
        let mut la_units: Vec<Vec<u16>> = vec![Vec::new(); las.len()];
        for (i, u) in units.iter().enumerate() {
            la_units[u.la as usize].push(i as u16);
        }
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            seed: options.seed,
            start,
            end,
            scale,
            facts: Vec::new(),
            next_uid: 0,
            multi_la: las.len() > 1,
            las,
            la_units,
            units,
            workers: Vec::new(),
            children: Vec::new(),
            segs: Vec::new(),
            cur: Cur::default(),
        };
        // Worker pools: about one worker per 17 expected open cases.
        let caseload: [fn(&UnitInfo) -> f64; 1] = [|u| u.prof[0]];
        let caseload_share = g.shares(&caseload);
        for (i, share) in caseload_share.iter().enumerate() {
            let expected = share * 10_450.0 * scale;
            let n = ((expected / 17.0).round() as usize).max(3);
            for _ in 0..n {
                g.units[i].workers.push(g.workers.len() as u32);
                g.workers.push(Worker { qualified: true });
            }
            g.units[i].unqualified = g.workers.len() as u32;
            g.workers.push(Worker { qualified: false });
        }
        g
    }

    // ------------------------------------------------------------ random helpers

    fn uni(&mut self) -> f64 {
        self.rng.gen::<f64>()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen::<f64>() < p
    }

    /// Uniform integer in lo..=hi (lo when hi < lo).
    fn ri(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..=hi)
        }
    }

    fn exp_days(&mut self, mean: f64) -> i32 {
        let u: f64 = self.rng.gen::<f64>();
        (-(1.0 - u).ln() * mean).min(1.0e7) as i32
    }

    fn pick_w(&mut self, w: &[f64]) -> usize {
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.uni() * total;
        for (i, v) in w.iter().enumerate() {
            if x < *v {
                return i;
            }
            x -= v;
        }
        w.len() - 1
    }

    /// Normalised per-unit shares from the first tier of weights with a positive total.
    fn shares(&self, tiers: &[fn(&UnitInfo) -> f64]) -> Vec<f64> {
        for tier in tiers {
            let w: Vec<f64> = self.units.iter().map(|u| tier(u).max(0.0)).collect();
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                return w.into_iter().map(|x| x / total).collect();
            }
        }
        vec![0.0; self.units.len()]
    }

    /// A unit of the current child's authority picked by weight, if any has weight.
    fn pick_unit(&mut self, weight: &dyn Fn(&UnitInfo) -> f64) -> Option<u16> {
        let cands: Vec<(u16, f64)> = self.la_units[self.cur.la as usize]
            .iter()
            .map(|&i| (i, weight(&self.units[i as usize]).max(0.0)))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        if cands.is_empty() {
            return None;
        }
        let w: Vec<f64> = cands.iter().map(|c| c.1).collect();
        let i = self.pick_w(&w);
        Some(cands[i].0)
    }

    /// A children's social work team of the child's authority (any unit as a last resort).
    fn pick_general(&mut self) -> u16 {
        if let Some(u) = self.pick_unit(&|u| {
            if u.kind == Kind::Cswt {
                u.prof[1] + 1.0
            } else {
                0.0
            }
        }) {
            return u;
        }
        self.pick_unit(&|_| 1.0).unwrap_or(self.cur.unit)
    }

    fn pick_cic_team(&mut self) -> Option<u16> {
        if self.cur.uasc {
            self.pick_unit(&|u| {
                if u.kind == Kind::Cic {
                    u.prof[4] + 1.0
                } else {
                    0.0
                }
            })
        } else {
            self.pick_unit(&|u| {
                if u.kind == Kind::Cic {
                    u.prof[3] - u.prof[4] + 1.0
                } else {
                    0.0
                }
            })
        }
    }

    fn unit_kind(&self) -> Kind {
        self.units[self.cur.unit as usize].kind
    }

    // ------------------------------------------------------------ facts of the current child

    fn emit(&mut self, ty: Ty, date: i32, unit: u16, f1: u8, a: u32, b: u32) -> Option<u32> {
        if date < self.start || date > self.end {
            return None;
        }
        let uid = self.next_uid;
        self.next_uid += 1;
        self.facts.push(Fact {
            uid,
            date,
            rec: 0,
            child: self.cur.idx,
            unit,
            ty,
            f1,
            a,
            b,
        });
        Some(uid)
    }

    fn referral(&mut self, unit: u16, d: i32) {
        self.emit(Ty::Referral, d, unit, 0, 0, 0);
        if !self.cur.open {
            self.cur.open = true;
            self.cur.unit = unit;
            self.cur.seg_start = d;
        }
        self.cur.last_ref = d;
    }

    fn transfer(&mut self, unit: u16, d: i32) {
        if unit == self.cur.unit {
            return;
        }
        self.emit(Ty::CaseTransferred, d, unit, 0, 0, 0);
        if self.cur.open {
            self.cur.segs.push((self.cur.unit, self.cur.seg_start, d));
            self.cur.seg_start = d;
        }
        self.cur.unit = unit;
    }

    /// Closes the open case on d; returns d.
    fn close_at(&mut self, d: i32, reason: u8) -> i32 {
        if !self.cur.open {
            return d;
        }
        let r = if self.chance(0.7) { reason } else { 0 };
        self.emit(Ty::CaseClosed, d, NO_UNIT, r, 0, 0);
        self.cur.segs.push((self.cur.unit, self.cur.seg_start, d));
        self.cur.open = false;
        d
    }

    fn contact(&mut self, d: i32, age: i32) {
        let young = age <= 17;
        let mut f1 = 0u8;
        if self.chance(if young { 0.97 } else { 0.85 }) {
            f1 |= 1;
            if self.chance(if young { 0.98 } else { 0.93 }) {
                f1 |= 2;
            }
            if self.chance(if young { 0.8 } else { 0.63 }) {
                f1 |= 4;
            }
        }
        self.emit(Ty::CareLeaverContact, d, NO_UNIT, f1, 0, 0);
    }

    fn age(&self, d: i32) -> i32 {
        age_at(self.cur.dob, d)
    }

    fn b18(&self) -> i32 {
        birthday(self.cur.dob, 18)
    }
}

/// Friday for a weekend day, else the day itself (keeps on-time dates on time).
fn back_weekday(d: i32) -> i32 {
    match weekday(d) {
        5 => d - 1,
        6 => d - 2,
        _ => d,
    }
}

// ---------------------------------------------------------------- journeys

/// Age in whole years at entry, by weight over age bands (years, weight).
fn age_band(g: &mut Gen, bands: &[(i32, i32, f64)]) -> i32 {
    let w: Vec<f64> = bands.iter().map(|b| b.2).collect();
    let i = g.pick_w(&w);
    g.ri(bands[i].0, bands[i].1)
}

const AGES_GENERAL: &[(i32, i32, f64)] = &[
    (0, 0, 0.12),
    (1, 4, 0.20),
    (5, 9, 0.25),
    (10, 15, 0.31),
    (16, 17, 0.12),
];
const AGES_CP: &[(i32, i32, f64)] = &[
    (0, 0, 0.15),
    (1, 4, 0.30),
    (5, 9, 0.30),
    (10, 15, 0.22),
    (16, 17, 0.03),
];
const AGES_CIC: &[(i32, i32, f64)] = &[
    (0, 0, 0.05),
    (1, 4, 0.15),
    (5, 9, 0.20),
    (10, 15, 0.40),
    (16, 17, 0.20),
];
const AGES_UASC: &[(i32, i32, f64)] = &[(14, 14, 0.08), (15, 15, 0.20), (16, 17, 0.72)];
const AGES_STOCK_UASC: &[(i32, i32, f64)] = &[(15, 15, 0.10), (16, 17, 0.90)];

impl Gen {
    /// Generates one child's whole history from its entry on `day` at `unit`.
    fn child_life(&mut self, unit: u16, day: i32, entry: Entry) {
        let age = match entry {
            Entry::General | Entry::StockCin => age_band(self, AGES_GENERAL),
            Entry::StockCp => age_band(self, AGES_CP),
            Entry::StockCic => age_band(self, AGES_CIC),
            Entry::Uasc => age_band(self, AGES_UASC),
            Entry::StockUascCic => age_band(self, AGES_STOCK_UASC),
            Entry::Disability | Entry::StockDisCin => self.ri(1, 17),
            Entry::Support | Entry::StockSupport => self.ri(1, 15),
            Entry::StockCareLeaver => self.ri(18, 20),
        };
        let dob = day - age * 365 - self.ri(age / 4, 364);
        let idx = self.children.len() as u32;
        let la = self.units[unit as usize].la;
        self.children.push(ChildRec { la });
        self.cur = Cur {
            idx,
            la,
            dob,
            uasc: matches!(entry, Entry::Uasc | Entry::StockUascCic),
            first_fact: self.facts.len(),
            unit,
            ..Cur::default()
        };
        let write_uasc = self.cur.uasc || self.chance(0.5);
        let f1 = (self.cur.uasc as u8) | ((write_uasc as u8) << 1);
        self.emit(Ty::ChildDetails, day, NO_UNIT, f1, day_u(dob), 0);

        let mut closed = self.first_case(unit, day, entry);
        while closed <= self.end {
            match self.next_referral(closed) {
                Some((r, u)) => {
                    self.referral(u, r);
                    closed = self.case_path(r);
                }
                None => break,
            }
        }
        if self.cur.open {
            self.cur.segs.push((self.cur.unit, self.cur.seg_start, FAR));
            self.cur.open = false;
        }
        // A few children get their details recorded again later (same facts).
        if self.chance(0.03) {
            let d = day + self.ri(30, 900);
            self.emit(Ty::ChildDetails, d, NO_UNIT, f1 | 2, day_u(dob), 0);
        }
        self.visits();
        self.workers_for_child();
        self.missing();
        self.finish_child();
    }

    fn first_case(&mut self, unit: u16, t0: i32, entry: Entry) -> i32 {
        self.referral(unit, t0);
        match entry {
            Entry::Uasc => self.uasc_path(t0),
            Entry::General | Entry::Disability | Entry::Support => self.case_path(t0),
            Entry::StockCin => {
                // Some open cases of the opening stock are heading for a (repeat) plan:
                // this stands in for the plans that a history already running would start.
                if self.chance(0.09) && self.age(t0) < 16 {
                    let s = on_weekday(t0 + self.ri(14, 300));
                    return self.s47_route(s, s, true);
                }
                let d = self.cin_duration(true);
                self.cin_phase(t0, d, 0.03)
            }
            Entry::StockCp => {
                let s = t0 + self.ri(0, 3);
                self.cp_plan(s, true)
            }
            Entry::StockCic | Entry::StockUascCic => self.care_route(t0, true),
            Entry::StockDisCin => {
                let d = self.exp_days(6.0 * 365.0).max(20);
                self.cin_phase(t0, d, 0.01)
            }
            Entry::StockSupport => {
                let d = t0 + self.ri(7, 540);
                self.close_at(d, 6)
            }
            Entry::StockCareLeaver => self.care_leaver_phase(t0),
        }
    }

    /// What follows a case-opening referral dated r, by the kind of the unit it opened at.
    fn case_path(&mut self, r: i32) -> i32 {
        match self.unit_kind() {
            Kind::Suasc if self.cur.uasc => self.uasc_path(r),
            Kind::Disability => self.disability_path(r),
            Kind::Adoption | Kind::CareLeavers => self.support_path(r),
            _ => self.general_path(r),
        }
    }

    /// The next referral after a case closed on `closed`: about a quarter come back
    /// within 12 months of the last referral, some years later.
    fn next_referral(&mut self, closed: i32) -> Option<(i32, u16)> {
        if self.age(closed + 30) >= 18 {
            return None;
        }
        let l = self.cur.last_ref;
        let x = self.uni();
        let r = if x < 0.26 && l + 364 - (closed + 7) >= 7 {
            self.ri(closed + 7, l + 364)
        } else if x < 0.36 {
            closed + self.ri(365, 1460)
        } else {
            return None;
        };
        let r = on_weekday(r);
        if r > self.end || self.age(r) >= 18 {
            return None;
        }
        let k = self.unit_kind();
        let u = if matches!(k, Kind::Cswt | Kind::Disability | Kind::Suasc) && self.chance(0.85) {
            self.cur.unit
        } else {
            self.pick_general()
        };
        Some((r, u))
    }

    /// A Child and Family assessment started around r; returns its completion day.
    fn assessment(&mut self, r: i32, p_done: f64) -> i32 {
        let started = if self.chance(0.7) {
            r
        } else {
            on_weekday(r + self.ri(1, 3))
        };
        let dur = if self.chance(0.88) {
            self.ri(10, 45)
        } else {
            self.ri(46, 60)
        };
        let comp = add_wd(started, dur);
        if self.chance(p_done) {
            let seen = self.chance(0.97) as u8;
            self.emit(
                Ty::AssessmentCompleted,
                comp,
                NO_UNIT,
                seen,
                day_u(started),
                0,
            );
        }
        comp
    }

    fn cin_duration(&mut self, stock: bool) -> i32 {
        let base = |g: &mut Gen| {
            if g.chance(0.5) {
                g.ri(60, 180)
            } else {
                g.ri(180, 480)
            }
        };
        if !stock {
            return base(self);
        }
        // Length-biased total, then the part still to run.
        loop {
            let d = base(self);
            if self.uni() * 480.0 < d as f64 {
                return self.ri(7, d);
            }
        }
    }

    fn general_path(&mut self, r: i32) -> i32 {
        let comp = self.assessment(r, 0.97);
        let age = self.age(r);
        let mut p47 = 0.29 * self.units[self.cur.unit as usize].cp_prop;
        if self.cur.plans > 0 {
            p47 += 0.2;
        }
        if age >= 17 {
            p47 *= 0.3;
        }
        let x = self.uni();
        if x < p47 {
            let s = on_weekday(r + self.ri(0, 4));
            return self.s47_route(s, comp, false);
        }
        if x < p47 + 0.025 && age < 17 {
            let c = r + self.ri(0, 30);
            return self.care_route(c, false);
        }
        if x < p47 + 0.58 {
            let d = comp + self.ri(0, 14);
            return self.close_at(d, 1);
        }
        let d = self.cin_duration(false);
        self.cin_phase(comp, d, 0.03)
    }

    /// Child in need from `from` for about `dur` days, then care (with probability
    /// `care_p`) or closure. Returns the closure day.
    fn cin_phase(&mut self, from: i32, dur: i32, care_p: f64) -> i32 {
        let mut to = from + dur.max(1);
        let b18 = self.b18();
        if to >= b18 {
            to = (b18 - self.ri(1, 30)).max(from + 1);
        }
        self.cur.cin.push((from, to));
        self.extras(from, to, true);
        if self.age(to) < 17 && self.chance(care_p) {
            return self.care_route(to, false);
        }
        self.close_at(to, 2)
    }

    /// Occasional referrals while the case is open (they never move it) and
    /// transfers between teams of the same kind.
    fn extras(&mut self, from: i32, to: i32, allow_transfer: bool) {
        if to - from > 60 && self.chance(0.05) {
            let d = on_weekday(from + self.ri(20, to - from - 2));
            let u = if self.chance(0.5) {
                self.cur.unit
            } else {
                self.pick_general()
            };
            if d < to {
                self.emit(Ty::Referral, d, u, 0, 0, 0);
                self.cur.last_ref = d;
            }
        }
        if allow_transfer && to - from > 90 && self.unit_kind() == Kind::Cswt && self.chance(0.03) {
            let d = on_weekday(from + self.ri(30, to - from - 2));
            let here = self.cur.unit;
            if let Some(u) = self.pick_unit(&|u| {
                if u.kind == Kind::Cswt {
                    u.prof[1] + 1.0
                } else {
                    0.0
                }
            }) {
                if u != here && d < to {
                    self.transfer(u, d);
                }
            }
        }
    }

    /// A section 47 enquiry started on s, perhaps an ICPC and a plan. `after` is the
    /// earliest day the case may close (the assessment's completion).
    fn s47_route(&mut self, s: i32, after: i32, repeat: bool) -> i32 {
        let icpc = repeat || self.chance(0.27);
        let icpc_wd = if self.chance(0.85) {
            self.ri(4, 15)
        } else {
            self.ri(16, 28)
        };
        let s47_wd = if icpc {
            self.ri(1, icpc_wd.min(12))
        } else {
            self.ri(3, 25)
        };
        let done = add_wd(s, s47_wd);
        let seen = self.chance(0.97) as u8;
        self.emit(Ty::S47Completed, done, NO_UNIT, seen, day_u(s), 0);
        if icpc {
            let ic = add_wd(s, icpc_wd);
            self.emit(Ty::IcpcHeld, ic, NO_UNIT, 0, day_u(s), 0);
            if repeat || self.chance(0.88) {
                return self.cp_plan(ic, false);
            }
            let d = self.cin_duration(false);
            return self.cin_phase(ic.max(after), d, 0.03);
        }
        if self.chance(0.5) {
            let d = self.cin_duration(false);
            self.cin_phase(done.max(after), d, 0.04)
        } else {
            let d = done.max(after) + self.ri(0, 14);
            self.close_at(d, 1)
        }
    }

    fn plan_duration(&mut self, stock: bool) -> i32 {
        let base = |g: &mut Gen| {
            let x = g.uni();
            if x < 0.35 {
                g.ri(90, 270)
            } else if x < 0.83 {
                g.ri(270, 540)
            } else if x < 0.95 {
                g.ri(540, 730)
            } else {
                g.ri(731, 1100)
            }
        };
        if !stock {
            return base(self);
        }
        loop {
            let d = base(self);
            if self.uni() * 1100.0 < d as f64 {
                return self.ri(14, d);
            }
        }
    }

    /// A child protection plan from s; returns the closure day of the case.
    fn cp_plan(&mut self, s: i32, stock: bool) -> i32 {
        let cat = if self.chance(0.95) {
            1 + self.pick_w(&[0.45, 0.35, 0.08, 0.04, 0.08]) as u8
        } else {
            0
        };
        let pid = match self.emit(Ty::CpPlanStarted, s, NO_UNIT, cat, 0, 0) {
            Some(p) => p,
            None => return FAR,
        };
        let b18 = self.b18();
        let mut e = s + self.plan_duration(stock);
        if e >= b18 {
            e = (b18 - self.ri(1, 30)).max(s + 14);
        }
        // Review conferences: 3 months, then every 6 months; a few late.
        let mut reviews = Vec::new();
        let mut rv = if self.chance(0.97) {
            back_weekday(add_months(s, 3) - self.ri(0, 14))
        } else {
            on_weekday(add_months(s, 3) + self.ri(1, 10))
        };
        while rv < e {
            reviews.push(rv);
            rv = if self.chance(0.97) {
                back_weekday(add_months(rv, 6) - self.ri(0, 25))
            } else {
                on_weekday(add_months(rv, 6) + self.ri(1, 15))
            };
        }
        if let Some(&last) = reviews.last() {
            if e - last < 60 && self.chance(0.6) {
                e = last; // the plan ends at its review conference
            }
        }
        for d in reviews {
            self.emit(Ty::CpReviewHeld, d, NO_UNIT, 0, pid, 0);
        }
        self.extras(s, e, false);
        self.cur.cp.push((s, e));
        self.cur.plans += 1;
        self.emit(Ty::CpPlanEnded, e, NO_UNIT, 0, pid, 0);
        if e > self.end {
            return FAR;
        }
        let age = self.age(e);
        let x = self.uni();
        if age < 17 && x < 0.20 {
            let c = if self.chance(0.3) {
                (e - self.ri(0, 60)).max(s + 1)
            } else {
                e
            };
            return self.care_route(c, false);
        }
        if age < 16 && x < 0.40 {
            let s2 = on_weekday(e + self.ri(90, 600));
            if s2 < self.b18() - 60 {
                return self.s47_route(s2, s2, true);
            }
        }
        if x < 0.81 {
            let d = self.ri(60, 270);
            return self.cin_phase(e, d, 0.02);
        }
        let d = e + self.ri(0, 14);
        self.close_at(d, 3)
    }

    fn uasc_path(&mut self, r: i32) -> i32 {
        let dur = self.ri(10, 30);
        let comp = add_wd(r, dur);
        let seen = self.chance(0.99) as u8;
        self.emit(Ty::AssessmentCompleted, comp, NO_UNIT, seen, day_u(r), 0);
        if self.chance(0.9) && self.age(r) < 18 {
            let c = r + self.ri(0, 7);
            return self.care_route(c, false);
        }
        let d = comp + self.ri(0, 10);
        self.close_at(d, 7)
    }

    fn disability_path(&mut self, r: i32) -> i32 {
        let comp = self.assessment(r, 0.97);
        let x = self.uni();
        if x < 0.03 {
            let s = on_weekday(r + self.ri(0, 4));
            return self.s47_route(s, comp, false);
        }
        if x < 0.05 && self.age(r) < 17 {
            let c = r + self.ri(0, 60);
            return self.care_route(c, false);
        }
        if x < 0.45 {
            let d = comp + self.ri(0, 14);
            return self.close_at(d, 1);
        }
        let d = self.exp_days(6.0 * 365.0).max(30);
        self.cin_phase(comp, d, 0.01)
    }

    fn support_path(&mut self, r: i32) -> i32 {
        if self.chance(0.6) {
            self.assessment(r, 1.0);
        }
        let d = r + self.ri(30, 365);
        self.close_at(d, 7)
    }
}

// ---------------------------------------------------------------- care

impl Gen {
    /// A period of care from c and what follows it; returns the closure day of the case.
    fn care_route(&mut self, c: i32, stock: bool) -> i32 {
        let (end, reason) = self.care_period(c, stock);
        if end > self.end {
            return FAR;
        }
        match reason {
            R_AGE18 => self.care_leaver_phase(end),
            R_ADOPTED | R_SGO => {
                let to = self.pick_unit(&|u| if u.kind == Kind::Adoption { 1.0 } else { 0.0 });
                match to {
                    Some(u) if self.chance(0.9) => {
                        self.transfer(u, end);
                        let d = end + self.ri(60, 540);
                        self.close_at(d, 6)
                    }
                    _ => {
                        let d = end + self.ri(0, 30);
                        self.close_at(d, 6)
                    }
                }
            }
            R_HOME => {
                if self.chance(0.55) {
                    let k = self.unit_kind();
                    let back = self.ri(0, 30);
                    if k == Kind::Cic && self.chance(0.5) {
                        let u = self.pick_general();
                        self.transfer(u, end + back);
                    }
                    let d = self.ri(30.max(back), 180);
                    self.cin_phase(end, d, 0.05)
                } else {
                    let d = end + self.ri(0, 30);
                    self.close_at(d, 2)
                }
            }
            _ => {
                let d = end + self.ri(0, 60);
                self.close_at(d, 7)
            }
        }
    }

    fn care_outcome(&mut self, age: i32) -> u8 {
        let (w, rs): (&[f64], &[u8]) = if self.cur.uasc {
            if age >= 15 {
                (&[0.85, 0.15], &[R_AGE18, R_OTHER])
            } else {
                (&[0.6, 0.2, 0.2], &[R_AGE18, R_OTHER, R_HOME])
            }
        } else {
            match age {
                0 => (
                    &[0.60, 0.15, 0.15, 0.10],
                    &[R_ADOPTED, R_SGO, R_HOME, R_OTHER],
                ),
                1..=4 => (
                    &[0.40, 0.20, 0.28, 0.12],
                    &[R_ADOPTED, R_SGO, R_HOME, R_OTHER],
                ),
                5..=9 => (
                    &[0.08, 0.17, 0.45, 0.30],
                    &[R_ADOPTED, R_SGO, R_HOME, R_OTHER],
                ),
                10..=15 => (
                    &[0.05, 0.45, 0.30, 0.20],
                    &[R_SGO, R_HOME, R_AGE18, R_OTHER],
                ),
                _ => (&[0.75, 0.15, 0.10], &[R_AGE18, R_HOME, R_OTHER]),
            }
        };
        let i = self.pick_w(w);
        rs[i]
    }

    fn care_duration(&mut self, reason: u8, stock: bool) -> i32 {
        let base = |g: &mut Gen| match reason {
            R_ADOPTED => g.ri(420, 800),
            R_SGO => g.ri(300, 900),
            R_HOME => {
                if g.chance(0.3) {
                    g.ri(7, 90)
                } else {
                    g.ri(90, 720)
                }
            }
            _ => g.ri(60, 1200),
        };
        if !stock {
            return base(self);
        }
        loop {
            let d = base(self);
            if self.uni() * 1200.0 < d as f64 {
                return self.ri(14, d);
            }
        }
    }

    /// One period of care from c: placements, reviews, health, adoption steps.
    /// Returns its end day and reason (FAR when it started after the history).
    fn care_period(&mut self, c: i32, stock: bool) -> (i32, u8) {
        let age = self.age(c);
        let b18 = self.b18();
        let ls = if self.cur.uasc {
            3
        } else if self.chance(0.9) {
            1 + self.pick_w(&[0.1, 0.3, 0.35, 0.05, 0.1, 0.1]) as u8
        } else {
            0
        };
        let pid = match self.emit(Ty::CicStarted, c, NO_UNIT, ls, 0, 0) {
            Some(p) => p,
            None => return (FAR, R_OTHER),
        };
        let mut reason = self.care_outcome(age);
        let mut end = if reason == R_AGE18 {
            b18
        } else {
            c + self.care_duration(reason, stock).max(1)
        };
        if end >= b18 {
            end = b18;
            reason = R_AGE18;
        }
        if end <= c {
            end = c + 1;
        }
        // Teams: children's teams hand children in care to a CIC team; some UASC move too.
        let k = self.unit_kind();
        if k == Kind::Cswt && end - c > 45 {
            if let Some(u) = self.pick_cic_team() {
                let d = c + self.ri(0, 42);
                self.transfer(u, d);
            }
        } else if k == Kind::Suasc && end - c > 200 && self.chance(0.4) {
            if let Some(u) = self.pick_cic_team() {
                let d = c + self.ri(30, 180);
                self.transfer(u, d);
            }
        }
        // Adoption: court order, match, then the move to the adoptive family.
        let mut placed: Option<i32> = None;
        let mut already_adoptive = false;
        if reason == R_ADOPTED {
            let span = end - c;
            if stock && span < 200 {
                already_adoptive = true;
            } else {
                let pf = end - self.ri(90, 300).min((span / 2).max(1));
                let mt = pf - self.ri(7, 40);
                let mut od = mt - self.ri(40, 200);
                if !stock && od < c {
                    od = c + (mt - c) / 3;
                }
                if od >= c {
                    self.emit(Ty::PlacementOrderGranted, od, NO_UNIT, 0, pid, 0);
                }
                if mt >= c {
                    self.emit(Ty::AdoptionMatch, mt, NO_UNIT, 0, pid, 0);
                }
                placed = Some(pf.max(c + 1));
            }
        } else if age < 5 && self.chance(0.05) {
            let od = c + self.ri(150, 400);
            if od < end {
                self.emit(Ty::PlacementOrderGranted, od, NO_UNIT, 0, pid, 0);
            }
        }
        self.placements(pid, c, end, placed, already_adoptive, reason);
        self.care_checks(pid, c, end);
        self.cur.cic.push((c, end));
        let b17 = birthday(self.cur.dob, 17);
        if b17 >= c && b17 < end {
            let d = (b17 + self.ri(-20, 30)).clamp(c, end - 1);
            self.contact(d, 17);
        }
        self.emit(Ty::CicEnded, end, NO_UNIT, reason, pid, 0);
        (end, reason)
    }

    fn placement_type(&mut self, age: i32) -> u8 {
        let (w, ts): (&[f64], &[u8]) = if self.cur.uasc {
            if age >= 16 {
                (
                    &[0.22, 0.33, 0.08, 0.27, 0.10],
                    &[P_INHOUSE, P_AGENCY, P_RESIDENTIAL, P_INDEPENDENT, P_OTHER],
                )
            } else {
                (
                    &[0.35, 0.45, 0.10, 0.10],
                    &[P_INHOUSE, P_AGENCY, P_RESIDENTIAL, P_OTHER],
                )
            }
        } else if age >= 16 {
            (
                &[0.35, 0.12, 0.15, 0.12, 0.04, 0.17, 0.05],
                &[
                    P_INHOUSE,
                    P_RELATIVE,
                    P_AGENCY,
                    P_RESIDENTIAL,
                    P_PARENTS,
                    P_INDEPENDENT,
                    P_OTHER,
                ],
            )
        } else if age >= 10 {
            (
                &[0.48, 0.15, 0.15, 0.12, 0.05, 0.05],
                &[
                    P_INHOUSE,
                    P_RELATIVE,
                    P_AGENCY,
                    P_RESIDENTIAL,
                    P_PARENTS,
                    P_OTHER,
                ],
            )
        } else {
            (
                &[0.55, 0.22, 0.12, 0.01, 0.07, 0.03],
                &[
                    P_INHOUSE,
                    P_RELATIVE,
                    P_AGENCY,
                    P_RESIDENTIAL,
                    P_PARENTS,
                    P_OTHER,
                ],
            )
        };
        let i = self.pick_w(w);
        ts[i]
    }

    fn placement(&mut self, pid: u32, p: i32, ty: u8) {
        let dist = if self.chance(0.05) {
            NO_DISTANCE
        } else if ty == P_PARENTS {
            self.ri(0, 100) as u32
        } else if self.chance(0.8) {
            self.ri(1, 200) as u32
        } else {
            self.ri(201, 1200) as u32
        };
        let plid = match self.emit(Ty::PlacementStarted, p, NO_UNIT, ty, pid, dist) {
            Some(x) => x,
            None => return,
        };
        if self.chance(0.96) {
            let x = self.uni();
            let d = if x < 0.03 && p - 3 >= self.start {
                p - self.ri(1, 3)
            } else if x < 0.90 {
                add_wd(p, self.ri(0, 5))
            } else {
                add_wd(p, self.ri(6, 15))
            };
            self.emit(Ty::PlacementArrangementMeeting, d, NO_UNIT, 0, plid, 0);
        }
    }

    fn placements(
        &mut self,
        pid: u32,
        c: i32,
        end: i32,
        placed: Option<i32>,
        adoptive: bool,
        reason: u8,
    ) {
        let limit = placed.unwrap_or(end);
        let x = self.uni();
        let mean = if x < 0.62 {
            4000.0
        } else if x < 0.90 {
            420.0
        } else {
            100.0
        };
        let mut p = c;
        loop {
            let ty = if adoptive {
                P_ADOPTION
            } else {
                self.placement_type(self.age(p))
            };
            self.placement(pid, p, ty);
            let next = p + self.exp_days(mean).max(7);
            if next >= limit || adoptive || next > self.end {
                break;
            }
            p = next;
        }
        if reason == R_HOME && placed.is_none() && self.chance(0.2) {
            let q = end - self.ri(30, 120);
            if q > p {
                self.placement(pid, q, P_PARENTS);
            }
        }
        if let Some(pf) = placed {
            if pf > p && pf < end {
                self.placement(pid, pf, P_ADOPTION);
            }
        }
    }

    /// IHA referral, health assessments, dental checks and looked-after reviews.
    fn care_checks(&mut self, pid: u32, c: i32, end: i32) {
        if self.chance(0.97) {
            let wd = if self.chance(0.86) {
                self.ri(0, 5)
            } else {
                self.ri(6, 15)
            };
            let d = add_wd(c, wd);
            if d < end {
                self.emit(Ty::IhaReferral, d, NO_UNIT, 0, pid, 0);
            }
        }
        let wd = if self.chance(0.86) {
            self.ri(5, 20)
        } else {
            self.ri(21, 45)
        };
        let mut ha = add_wd(c, wd);
        if self.chance(0.98) && ha < end {
            self.emit(Ty::HealthAssessment, ha, NO_UNIT, 0, pid, 0);
            loop {
                let m = if self.age(ha) < 5 { 6 } else { 12 };
                ha = if self.chance(0.9) {
                    back_weekday(add_months(ha, m) - self.ri(0, 30))
                } else {
                    on_weekday(add_months(ha, m) + self.ri(1, 60))
                };
                if ha >= end || ha > self.end {
                    break;
                }
                self.emit(Ty::HealthAssessment, ha, NO_UNIT, 1, pid, 0);
            }
        }
        let mut dc = on_weekday(c + self.ri(20, 180));
        while dc < end && dc <= self.end {
            self.emit(Ty::DentalCheck, dc, NO_UNIT, 0, pid, 0);
            dc = if self.chance(0.85) {
                back_weekday(add_months(dc, 12) - self.ri(0, 60))
            } else {
                on_weekday(add_months(dc, 12) + self.ri(1, 90))
            };
        }
        let wd = if self.chance(0.96) {
            self.ri(5, 20)
        } else {
            self.ri(21, 30)
        };
        let mut rv = add_wd(c, wd);
        let mut k = 0;
        while rv < end && rv <= self.end {
            let p = if self.age(rv) < 4 { 0.85 } else { 0.94 };
            let part = self.chance(p) as u8;
            self.emit(Ty::CicReviewHeld, rv, NO_UNIT, part, pid, 0);
            let m = if k == 0 { 3 } else { 6 };
            rv = if self.chance(0.97) {
                back_weekday(add_months(rv, m) - self.ri(0, 25))
            } else {
                on_weekday(add_months(rv, m) + self.ri(1, 20))
            };
            k += 1;
        }
    }

    /// A care leaver from `from` (usually the 18th birthday): contacts around the
    /// birthdays up to 21, then closure. Returns the closure day.
    fn care_leaver_phase(&mut self, from: i32) -> i32 {
        if self.unit_kind() != Kind::CareLeavers {
            if let Some(u) = self.pick_unit(&|u| {
                if u.kind == Kind::CareLeavers {
                    1.0
                } else {
                    0.0
                }
            }) {
                self.transfer(u, from);
            }
        }
        let dob = self.cur.dob;
        let mut last = from;
        for age in 18..=21 {
            let b = birthday(dob, age);
            if b + 30 < from {
                continue;
            }
            let d = (b + self.ri(-20, 30)).max(from);
            if d > self.end {
                break;
            }
            self.contact(d, age);
            last = d;
        }
        let d = (birthday(dob, 21) + self.ri(0, 45)).max(last + 1);
        self.close_at(d, 5)
    }
}

// ---------------------------------------------------------------- visits, workers, missing

/// Open-case intervals (from, to, first segment, last segment) of sorted segments.
fn merge_segs(segs: &[(u16, i32, i32)]) -> Vec<(i32, i32, usize, usize)> {
    let mut out: Vec<(i32, i32, usize, usize)> = Vec::new();
    for (i, &(_, f, t)) in segs.iter().enumerate() {
        match out.last_mut() {
            Some(last) if last.1 == f || (f >= last.0 && f < last.1) => {
                last.1 = last.1.max(t);
                last.3 = i;
            }
            _ => out.push((f, t, i, i)),
        }
    }
    out
}

impl Gen {
    fn unit_at(&self, segs: &[(u16, i32, i32)], d: i32) -> Kind {
        for &(u, f, t) in segs {
            if f <= d && d < t {
                return self.units[u as usize].kind;
            }
        }
        self.unit_kind()
    }

    /// Visits while the case is open, at the rhythm of the child's status (see the
    /// module documentation): child protection about every 10 working days, children
    /// in care every 6 weeks in the first year of a period and every 3-4 months after
    /// it, children in need on a CIN plan every 6-12 weeks, disabled children in need
    /// every 3-6 months. A case in assessment or enquiry without a plan, a care leaver
    /// and adoption support have no routine visits; the first visit follows the start
    /// of a plan, a period of care or a CIN plan within a few days.
    fn visits(&mut self) {
        let mut segs = std::mem::take(&mut self.cur.segs);
        segs.sort_by_key(|s| (s.1, s.2));
        let starts: Vec<i32> = self
            .cur
            .cp
            .iter()
            .chain(self.cur.cic.iter())
            .chain(self.cur.cin.iter())
            .map(|x| x.0)
            .collect();
        for (f, t, _, _) in merge_segs(&segs) {
            let stop = t.min(self.end + 1);
            let mut v = f + self.ri(0, 6);
            while v < stop {
                let mut d = v;
                if is_weekend(d) && self.chance(0.8) {
                    d = on_weekday(d);
                    if d >= stop {
                        break;
                    }
                }
                let in_cp = self.cur.cp.iter().any(|&(s, e)| s <= d && d < e);
                let cic_from = self
                    .cur
                    .cic
                    .iter()
                    .find(|&&(s, e)| s <= d && d < e)
                    .map(|x| x.0);
                let in_cin = self.cur.cin.iter().any(|&(s, e)| s <= d && d < e);
                let kind = self.unit_at(&segs, d);
                let rhythm = if in_cp {
                    Some((
                        V_CP,
                        if self.chance(0.6) {
                            self.ri(10, 14)
                        } else {
                            self.ri(15, 28)
                        },
                    ))
                } else if let Some(c) = cic_from {
                    let long_term = d - c >= 365;
                    Some((
                        V_CIC,
                        match (long_term, self.chance(0.85)) {
                            (false, true) => self.ri(35, 42),
                            (false, false) => self.ri(43, 60),
                            (true, true) => self.ri(84, 112),
                            (true, false) => self.ri(113, 150),
                        },
                    ))
                } else {
                    match kind {
                        Kind::CareLeavers | Kind::Adoption => None,
                        Kind::Disability if in_cin => Some((V_CIN, self.ri(90, 180))),
                        _ if in_cin => Some((
                            V_CIN,
                            if self.chance(0.5) {
                                self.ri(42, 56)
                            } else {
                                self.ri(57, 84)
                            },
                        )),
                        _ => None,
                    }
                };
                let Some((vt, gap)) = rhythm else {
                    // No routine visits: on to the next start of a plan or period.
                    match starts.iter().filter(|&&s| s > d).min() {
                        Some(&s) if s < stop => {
                            v = s + self.ri(0, 3);
                            continue;
                        }
                        _ => break,
                    }
                };
                let vt = if self.chance(0.03) { V_OTHER } else { vt };
                self.emit(Ty::Visit, d, NO_UNIT, vt, 0, 0);
                let mut nv = d + gap.max(1);
                for &s in &starts {
                    if s > d && s < nv {
                        let k = self.ri(0, 3);
                        nv = nv.min(s + k);
                    }
                }
                v = nv;
            }
        }
        self.cur.segs = segs;
    }

    /// Allocates a qualified worker of unit u on d (not `current` if the pool allows).
    fn allocate(&mut self, u: u16, d: i32, current: Option<u32>) -> u32 {
        let n = self.units[u as usize].workers.len();
        let mut w = self.units[u as usize].workers[self.rng.gen_range(0..n)];
        if Some(w) == current && n > 1 {
            w = self.units[u as usize].workers[self.rng.gen_range(0..n)];
        }
        let q = self.workers[w as usize].qualified as u8;
        self.emit(Ty::WorkerAllocated, d, NO_UNIT, q, w, 0);
        w
    }

    /// Allocation on d; now and then an unqualified worker holds the case for a few
    /// days first. Returns the worker holding it afterwards.
    fn allocate_maybe_unqualified(
        &mut self,
        u: u16,
        d: i32,
        until: i32,
        current: Option<u32>,
    ) -> u32 {
        if self.chance(0.01) {
            let w = self.units[u as usize].unqualified;
            self.emit(Ty::WorkerAllocated, d, NO_UNIT, 0, w, 0);
            let d2 = d + self.ri(1, 10);
            if d2 < until {
                return self.allocate(u, d2, Some(w));
            }
            return w;
        }
        self.allocate(u, d, current)
    }

    /// Worker allocations: at opening and transfers, changes now and then, short
    /// unallocated spells, and sometimes an unallocation at closure.
    fn workers_for_child(&mut self) {
        let segs = std::mem::take(&mut self.cur.segs);
        for (_, t, i0, i1) in merge_segs(&segs) {
            let mut current: Option<u32> = None;
            for (si, &(u, sf, st)) in segs.iter().enumerate().take(i1 + 1).skip(i0) {
                if st <= sf || sf > self.end {
                    continue;
                }
                let first = si == i0;
                let x = self.uni();
                let d0 = sf
                    + if x < 0.93 {
                        0
                    } else if x < 0.99 {
                        self.ri(1, 2)
                    } else {
                        self.ri(3, 15)
                    };
                if d0 >= st {
                    continue;
                }
                if first || current.is_none() || self.chance(0.85) {
                    current = Some(self.allocate_maybe_unqualified(u, d0, st, current));
                }
                let mean = match self.units[u as usize].kind {
                    Kind::Cic | Kind::Suasc | Kind::CareLeavers => 700.0,
                    _ => 730.0,
                };
                let mut d = d0 + self.exp_days(mean).max(14);
                while d < st && d <= self.end {
                    if self.chance(0.03) {
                        self.emit(Ty::WorkerUnallocated, d, NO_UNIT, 0, 0, 0);
                        current = None;
                        let d2 = d + self.ri(1, 10);
                        if d2 < st {
                            current = Some(self.allocate(u, d2, None));
                        }
                        d = d2;
                    } else {
                        current = Some(self.allocate_maybe_unqualified(u, d, st, current));
                    }
                    d += self.exp_days(mean).max(14);
                }
            }
            if t < FAR && self.chance(0.05) {
                self.emit(Ty::WorkerUnallocated, t, NO_UNIT, 0, 0, 0);
            }
        }
        self.cur.segs = segs;
    }

    fn episode(&mut self, d: i32) -> i32 {
        let x = self.uni();
        let e = d + if x < 0.6 {
            0
        } else if x < 0.88 {
            1
        } else {
            self.ri(2, 6)
        };
        if let Some(eid) = self.emit(Ty::MissingStarted, d, NO_UNIT, 0, 0, 0) {
            self.emit(Ty::MissingEnded, e, NO_UNIT, 0, eid, 0);
            if self.chance(0.9) {
                let wd = if self.chance(0.87) {
                    self.ri(0, 3)
                } else {
                    self.ri(4, 10)
                };
                self.emit(Ty::ReturnInterviewHeld, add_wd(e, wd), NO_UNIT, 0, eid, 0);
            }
        }
        e
    }

    /// Missing episodes of children aged 11-17 while their case is open.
    fn missing(&mut self) {
        let p = if self.cur.cic.is_empty() { 0.035 } else { 0.2 };
        let prone = self.chance(p);
        if !prone && !self.chance(0.02) {
            return;
        }
        let lo = birthday(self.cur.dob, 11);
        let hi = self.b18().min(self.end + 1);
        let mean = self.ri(25, 150) as f64;
        let segs = std::mem::take(&mut self.cur.segs);
        for (f, t, _, _) in merge_segs(&segs) {
            let (a, b) = (f.max(lo), t.min(hi));
            if a >= b {
                continue;
            }
            if prone {
                let mut d = a + self.exp_days(mean);
                while d < b {
                    let e = self.episode(d);
                    d = e + 1 + self.exp_days(mean);
                }
            } else if self.chance(0.5) {
                let d = self.ri(a, b - 1);
                self.episode(d);
            }
        }
        self.cur.segs = segs;
    }

    /// Orders the child's facts by date (keeping the order of generation within a
    /// day), stamps recorded_at so that it grows within a day, and files the segments.
    fn finish_child(&mut self) {
        let s = self.cur.first_fact;
        self.facts[s..].sort_by_key(|f| f.date);
        let mut prev_date = i32::MIN;
        let mut prev_rec = 0i64;
        for i in s..self.facts.len() {
            let x = self.uni();
            let lag = if x < 0.78 {
                0
            } else if x < 0.92 {
                1
            } else if x < 0.98 {
                self.ri(2, 4)
            } else {
                self.ri(5, 10)
            };
            let secs = self.ri(8 * 3600, 18 * 3600) as i64;
            let date = self.facts[i].date;
            let mut rec = (date + lag) as i64 * 86_400 + secs;
            if date == prev_date && rec <= prev_rec {
                rec = prev_rec + self.ri(30, 900) as i64;
            }
            self.facts[i].rec = rec;
            prev_date = date;
            prev_rec = rec;
        }
        let idx = self.cur.idx;
        for &(u, f, t) in &self.cur.segs {
            if t > f {
                self.segs.push((u, f, t, idx));
            }
        }
    }

    // ------------------------------------------------------------ the whole history

    fn simulate(&mut self) {
        type Tier = fn(&UnitInfo) -> f64;
        fn k(u: &UnitInfo, ks: &[Kind]) -> bool {
            ks.contains(&u.kind)
        }
        let all: Tier = |_| 1.0;
        // (total at Kent scale, entry, weight tiers)
        let stock: Vec<(f64, Entry, Vec<Tier>)> = vec![
            (
                KENT_STOCK_CP,
                Entry::StockCp,
                vec![
                    |u| {
                        if k(u, &[Kind::Cswt, Kind::Disability]) {
                            u.prof[2]
                        } else {
                            0.0
                        }
                    },
                    |u| if k(u, &[Kind::Cic]) { u.prof[2] } else { 0.0 },
                    all,
                ],
            ),
            (
                KENT_STOCK_CIC,
                Entry::StockCic,
                vec![
                    |u| {
                        if k(u, &[Kind::CareLeavers, Kind::Adoption]) {
                            0.0
                        } else {
                            u.prof[3] - u.prof[4]
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_UASC_CIC,
                Entry::StockUascCic,
                vec![
                    |u| {
                        // the UASC service holds most of them (4x Kent's table share)
                        if k(u, &[Kind::Suasc]) {
                            4.0 * u.prof[4]
                        } else if k(u, &[Kind::Cic, Kind::Disability]) {
                            u.prof[4]
                        } else {
                            0.0
                        }
                    },
                    |u| if k(u, &[Kind::Cswt]) { 1.0 } else { 0.0 },
                    all,
                ],
            ),
            (
                KENT_STOCK_CIN * 0.45,
                Entry::General,
                vec![
                    |u| {
                        if k(u, &[Kind::Cswt]) {
                            u.prof[0] - u.prof[2] - u.prof[3]
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_CIN * 0.55,
                Entry::StockCin,
                vec![
                    |u| {
                        if k(u, &[Kind::Cswt, Kind::Cic, Kind::Suasc]) {
                            u.prof[0] - u.prof[2] - u.prof[3]
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_DISABILITY_CIN,
                Entry::StockDisCin,
                vec![
                    |u| {
                        if k(u, &[Kind::Disability]) {
                            u.prof[0] - u.prof[2] - u.prof[3]
                        } else {
                            0.0
                        }
                    },
                    |u| if k(u, &[Kind::Cswt]) { u.prof[0] } else { 0.0 },
                ],
            ),
            (
                KENT_STOCK_SUPPORT,
                Entry::StockSupport,
                vec![|u| {
                    if k(u, &[Kind::Adoption]) {
                        u.prof[0] - u.prof[3]
                    } else {
                        0.0
                    }
                }],
            ),
            (
                KENT_STOCK_CARE_LEAVERS,
                Entry::StockCareLeaver,
                vec![
                    |u| {
                        if k(u, &[Kind::CareLeavers]) {
                            u.prof[0]
                        } else {
                            0.0
                        }
                    },
                    |u| if k(u, &[Kind::Cic]) { u.prof[3] } else { 0.0 },
                    |u| if k(u, &[Kind::Cswt]) { u.prof[0] } else { 0.0 },
                    all,
                ],
            ),
        ];
        let flows: Vec<(f64, Entry, Vec<Tier>)> = vec![
            (
                KENT_GENERAL_NEW_REFS_YEAR,
                Entry::General,
                vec![
                    |u| {
                        if k(u, &[Kind::Cswt, Kind::Cic]) {
                            u.prof[1]
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_UASC_REFS_YEAR,
                Entry::Uasc,
                vec![
                    |u| if k(u, &[Kind::Suasc]) { u.prof[1] } else { 0.0 },
                    |u| if k(u, &[Kind::Cic]) { u.prof[4] } else { 0.0 },
                    |u| if k(u, &[Kind::Cswt]) { u.prof[1] } else { 0.0 },
                    all,
                ],
            ),
            (
                KENT_DISABILITY_REFS_YEAR,
                Entry::Disability,
                vec![
                    |u| {
                        if k(u, &[Kind::Disability]) {
                            u.prof[1]
                        } else {
                            0.0
                        }
                    },
                    |u| if k(u, &[Kind::Cswt]) { u.prof[1] } else { 0.0 },
                    all,
                ],
            ),
            (
                KENT_SUPPORT_REFS_YEAR,
                Entry::Support,
                vec![|u| {
                    if k(u, &[Kind::Adoption, Kind::CareLeavers]) {
                        u.prof[1]
                    } else {
                        0.0
                    }
                }],
            ),
        ];
        let mut entries: Vec<(i32, u32, u16, Entry)> = Vec::new();
        let mut seq = 0u32;
        for (total, entry, tiers) in &stock {
            let sh = self.shares(tiers);
            for (i, s) in sh.iter().enumerate() {
                let x = total * self.scale * s;
                let n = x.floor() as u32 + self.chance(x - x.floor()) as u32;
                for _ in 0..n {
                    let t0 = on_weekday(self.start + self.ri(0, 27)).min(self.end);
                    entries.push((t0, seq, i as u16, *entry));
                    seq += 1;
                }
            }
        }
        for (total, entry, tiers) in &flows {
            let sh = self.shares(tiers);
            for (i, s) in sh.iter().enumerate() {
                let rate = total * self.scale * s / 365.25;
                if rate <= 0.0 {
                    continue;
                }
                let mut t = 0.0f64;
                loop {
                    let u: f64 = self.uni();
                    t += -(1.0 - u).ln() / rate;
                    let mut d = self.start + t as i32;
                    if d > self.end {
                        break;
                    }
                    if is_weekend(d) && self.chance(0.75) {
                        d = on_weekday(d);
                        if d > self.end {
                            continue;
                        }
                    }
                    entries.push((d, seq, i as u16, *entry));
                    seq += 1;
                }
            }
        }
        entries.sort_by_key(|e| (e.0, e.1));
        for &(d, _, u, e) in &entries {
            self.child_life(u, d, e);
        }
        self.unit_events();
    }
}

// ---------------------------------------------------------------- unit-level events

fn half_fte_tenths(x: f64) -> u32 {
    ((x.max(0.0) * 2.0).round() as u32) * 5
}

impl Gen {
    #[allow(clippy::too_many_arguments)]
    fn unit_fact(&mut self, ty: Ty, date: i32, unit: u16, child: u32, f1: u8, a: u32, b: u32) {
        let uid = self.next_uid;
        self.next_uid += 1;
        let lag = if self.chance(0.85) { 0 } else { self.ri(1, 4) };
        let rec = (date + lag) as i64 * 86_400 + self.ri(7 * 3600, 19 * 3600) as i64;
        self.facts.push(Fact {
            uid,
            date,
            rec,
            child,
            unit,
            ty,
            f1,
            a,
            b,
        });
    }

    /// Monthly staffing snapshots (case-holding FTE from the unit's open cases) and
    /// case file audits.
    fn unit_events(&mut self) {
        let (start, end) = (self.start, self.end);
        let ndays = (end - start + 2) as usize;
        let nu = self.units.len();
        let mut open = vec![0i32; nu * ndays];
        let mut per_unit: Vec<Vec<(i32, i32, u32)>> = vec![Vec::new(); nu];
        for &(u, f, t, c) in &self.segs {
            let (a, b) = (f.max(start), t.min(end + 1));
            if a >= b {
                continue;
            }
            open[u as usize * ndays + (a - start) as usize] += 1;
            open[u as usize * ndays + (b - start) as usize] -= 1;
            per_unit[u as usize].push((f, t, c));
        }
        for u in 0..nu {
            let row = &mut open[u * ndays..(u + 1) * ndays];
            for i in 1..ndays {
                row[i] += row[i - 1];
            }
            per_unit[u].sort_unstable();
        }
        let open_at = |u: usize, d: i32| open[u * ndays + (d - start) as usize].max(0) as f64;
        for u in 0..nu {
            let (lo, hi) = match self.units[u].kind {
                Kind::Cswt => (16, 22),
                Kind::Cic => (13, 18),
                _ => (15, 24),
            };
            let base_ratio = self.ri(lo, hi) as f64 + self.uni();
            let perm_share = 0.70 + 0.20 * self.uni();
            let mut d = start;
            while d <= end {
                let month_end = (add_months(d, 1) - 1).min(end);
                let cases = open_at(u, month_end).max(open_at(u, d));
                let ratio = base_ratio + 3.0 * self.uni() - 1.5;
                let ch = half_fte_tenths(cases / ratio).max(5);
                let est = ch + half_fte_tenths(ch as f64 / 10.0 * 0.15 * self.uni());
                let perm =
                    half_fte_tenths(est as f64 / 10.0 * (perm_share + 0.1 * self.uni() - 0.05))
                        .min(est);
                let agency = half_fte_tenths(
                    (est as f64 / 10.0 * (0.05 + 0.2 * self.uni())).min((est - perm) as f64 / 10.0),
                );
                self.unit_fact(
                    Ty::StaffingSnapshot,
                    d,
                    u as u16,
                    NO_CHILD,
                    0,
                    (est << 16) | ch,
                    (perm << 16) | agency,
                );
                d = add_months(d, 1);
            }
        }
        let caseload: [fn(&UnitInfo) -> f64; 1] = [|u| u.prof[0]];
        let sh = self.shares(&caseload);
        for (u, share) in sh.iter().enumerate() {
            let rate = KENT_AUDITS_YEAR * self.scale * share / 365.25;
            if rate <= 0.0 {
                continue;
            }
            let quality = 0.58 + 0.27 * self.uni();
            let mut t = 0.0f64;
            loop {
                let x: f64 = self.uni();
                t += -(1.0 - x).ln() / rate;
                let d = on_weekday(start + t as i32);
                if d > end {
                    break;
                }
                let grade = if self.chance(quality) {
                    if self.chance(0.12) {
                        0
                    } else {
                        1
                    }
                } else if self.chance(0.2) {
                    3
                } else {
                    2
                };
                let mut child = NO_CHILD;
                if self.chance(0.7) {
                    let list = &per_unit[u];
                    let n = list.partition_point(|s| s.0 <= d);
                    for _ in 0..30 {
                        if n == 0 {
                            break;
                        }
                        let s = list[self.rng.gen_range(0..n)];
                        if s.1 > d {
                            child = s.2;
                            break;
                        }
                    }
                }
                self.unit_fact(Ty::CaseAuditCompleted, d, u as u16, child, grade, 0, 0);
            }
        }
    }
}

// ---------------------------------------------------------------- rendering

struct Render {
    dates: DateCache,
    /// Output id number (1-based) of each fact, by uid.
    id_of: Vec<u32>,
}

fn push_event_id(out: &mut Vec<u8>, id: u32) {
    out.push(b'e');
    push_padded(out, id as u64, 8);
}

impl Gen {
    /// One event as a compact JSON object and a newline.
    fn render(
        &self,
        r: &Render,
        f: &Fact,
        id: u32,
        rev: Option<u32>,
        void: bool,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(b"{\"event_id\":\"");
        push_event_id(out, id);
        out.push(b'"');
        if let Some(n) = rev {
            out.extend_from_slice(b",\"revision\":");
            push_u64(out, n as u64);
        }
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(TY_NAMES[f.ty as usize].as_bytes());
        out.push(b'"');
        if self.multi_la {
            let la = if f.unit != NO_UNIT {
                self.units[f.unit as usize].la
            } else {
                self.children[f.child as usize].la
            };
            out.extend_from_slice(b",\"la\":");
            out.extend_from_slice(self.las[la as usize].json.as_bytes());
        }
        if f.child != NO_CHILD {
            out.extend_from_slice(b",\"child_id\":\"c");
            push_padded(out, f.child as u64 + 1, 6);
            out.push(b'"');
        }
        out.extend_from_slice(b",\"date\":\"");
        r.dates.put(out, f.date);
        out.extend_from_slice(b"\",\"recorded_at\":\"");
        let day = f.rec.div_euclid(86_400) as i32;
        let sod = f.rec.rem_euclid(86_400) as u32;
        r.dates.put(out, day);
        out.extend_from_slice(&[
            b'T',
            b'0' + (sod / 36_000) as u8,
            b'0' + (sod / 3600 % 10) as u8,
            b':',
            b'0' + (sod % 3600 / 600) as u8,
            b'0' + (sod % 3600 / 60 % 10) as u8,
            b':',
            b'0' + (sod % 60 / 10) as u8,
            b'0' + (sod % 10) as u8,
            b'Z',
            b'"',
        ]);
        if f.unit != NO_UNIT {
            out.extend_from_slice(b",\"unit\":");
            out.extend_from_slice(self.units[f.unit as usize].json.as_bytes());
        }
        let reference = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            push_event_id(out, r.id_of[f.a as usize]);
            out.push(b'"');
        };
        let flag = |out: &mut Vec<u8>, name: &str, v: bool| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(if v { b"\":true" } else { b"\":false" });
        };
        let text = |out: &mut Vec<u8>, name: &str, v: &str| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            out.extend_from_slice(v.as_bytes());
            out.push(b'"');
        };
        let date_field = |out: &mut Vec<u8>, name: &str, d: i32| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            r.dates.put(out, d);
            out.push(b'"');
        };
        match f.ty {
            Ty::ChildDetails => {
                date_field(out, "date_of_birth", f.a as i32);
                if f.f1 & 2 != 0 {
                    flag(out, "uasc", f.f1 & 1 != 0);
                }
            }
            Ty::Referral | Ty::CaseTransferred | Ty::WorkerUnallocated | Ty::MissingStarted => {}
            Ty::CaseClosed => {
                if f.f1 != 0 {
                    text(out, "reason", CLOSE_REASONS[f.f1 as usize]);
                }
            }
            Ty::WorkerAllocated => {
                out.extend_from_slice(b",\"worker_id\":\"w");
                push_padded(out, f.a as u64, 5);
                out.push(b'"');
                flag(out, "qualified", f.f1 & 1 != 0);
            }
            Ty::Visit => text(out, "visit_type", VISIT_TYPES[f.f1 as usize]),
            Ty::AssessmentCompleted | Ty::S47Completed => {
                date_field(out, "started", f.a as i32);
                flag(out, "child_seen", f.f1 & 1 != 0);
            }
            Ty::IcpcHeld => date_field(out, "s47_started", f.a as i32),
            Ty::CpPlanStarted => {
                if f.f1 != 0 {
                    text(out, "category", CATEGORIES[f.f1 as usize]);
                }
            }
            Ty::CpPlanEnded | Ty::CpReviewHeld => reference(out, "plan_id"),
            Ty::CicStarted => {
                if f.f1 != 0 {
                    text(out, "legal_status", LEGAL_STATUSES[f.f1 as usize]);
                }
            }
            Ty::CicEnded => {
                reference(out, "period_id");
                text(out, "reason", CIC_END_REASONS[f.f1 as usize]);
            }
            Ty::PlacementStarted => {
                reference(out, "period_id");
                text(out, "placement_type", PLACEMENT_TYPES[f.f1 as usize]);
                if f.b != NO_DISTANCE {
                    out.extend_from_slice(b",\"distance_miles\":");
                    push_tenths(out, f.b);
                }
            }
            Ty::PlacementArrangementMeeting => reference(out, "placement_id"),
            Ty::CicReviewHeld => {
                reference(out, "period_id");
                flag(out, "participated", f.f1 & 1 != 0);
            }
            Ty::HealthAssessment => {
                reference(out, "period_id");
                text(out, "kind", if f.f1 == 0 { "initial" } else { "review" });
            }
            Ty::IhaReferral | Ty::DentalCheck | Ty::PlacementOrderGranted | Ty::AdoptionMatch => {
                reference(out, "period_id")
            }
            Ty::MissingEnded | Ty::ReturnInterviewHeld => reference(out, "episode_id"),
            Ty::CareLeaverContact => {
                flag(out, "in_touch", f.f1 & 1 != 0);
                if f.f1 & 1 != 0 {
                    flag(out, "accommodation_suitable", f.f1 & 2 != 0);
                    flag(out, "eet", f.f1 & 4 != 0);
                }
            }
            Ty::CaseAuditCompleted => text(out, "grade", GRADES[f.f1 as usize]),
            Ty::StaffingSnapshot => {
                for (name, v) in [
                    ("establishment_fte", f.a >> 16),
                    ("caseholding_fte", f.a & 0xffff),
                    ("permanent_qsw_fte", f.b >> 16),
                    ("agency_fte", f.b & 0xffff),
                ] {
                    out.extend_from_slice(b",\"");
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b"\":");
                    push_tenths(out, v);
                }
            }
        }
        if void {
            out.extend_from_slice(b",\"void\":true");
        }
        out.extend_from_slice(b"}\n");
    }

    /// Sorts the facts into file order, numbers them and writes the history.
    fn finish(&mut self, options: &GenOptions, out: &mut dyn Write) -> std::io::Result<GenStats> {
        self.facts.sort_unstable_by_key(|f| (f.date, f.rec, f.uid));
        let mut id_of = vec![0u32; self.next_uid as usize];
        for (i, f) in self.facts.iter().enumerate() {
            id_of[f.uid as usize] = i as u32 + 1;
        }
        let r = Render {
            dates: DateCache::new(self.start - 60, self.end + 500),
            id_of,
        };
        let mut stats = GenStats {
            facts: self.facts.len() as u64,
            children: self.children.len() as u64,
            ..GenStats::default()
        };
        if options.messy {
            self.write_messy(&r, out, &mut stats)?;
        } else {
            let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
            for f in &self.facts {
                let id = r.id_of[f.uid as usize];
                self.render(&r, f, id, None, false, &mut buf);
                if buf.len() >= 1 << 20 {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
            out.write_all(&buf)?;
            stats.lines = self.facts.len() as u64;
        }
        out.flush()?;
        Ok(stats)
    }
}

// ---------------------------------------------------------------- messy history

const DAY: i64 = 86_400;

/// One delivered line: a fact at its final revision, an alternative content
/// (earlier revision, void or fake) or a malformed line.
struct Arrival {
    key: i64,
    seq: u32,
    src: u8,
    idx: u32,
    rev: i32,
    void: bool,
}
const SRC_FACT: u8 = 0;
const SRC_ALT: u8 = 1;
const SRC_BAD: u8 = 2;

struct Noise<'a> {
    g: &'a Gen,
    rng: ChaCha8Rng,
    arr: Vec<Arrival>,
    /// (content, event id number)
    alts: Vec<(Fact, u32)>,
    bad: Vec<Vec<u8>>,
    seq: u32,
    next_id: u32,
}

fn has_started(ty: Ty) -> bool {
    matches!(
        ty,
        Ty::AssessmentCompleted | Ty::S47Completed | Ty::IcpcHeld
    )
}

impl<'a> Noise<'a> {
    fn push(&mut self, key: i64, src: u8, idx: u32, rev: i32, void: bool) {
        self.arr.push(Arrival {
            key,
            seq: self.seq,
            src,
            idx,
            rev,
            void,
        });
        self.seq += 1;
    }

    fn alt(&mut self, f: Fact, id: u32) -> u32 {
        self.alts.push((f, id));
        self.alts.len() as u32 - 1
    }

    /// Delivery delay: mostly within two days, often within three weeks, a few months late.
    fn jitter(&mut self) -> i64 {
        let x: f64 = self.rng.gen();
        if x < 0.70 {
            self.rng.gen_range(0..2 * DAY)
        } else if x < 0.97 {
            self.rng.gen_range(0..21 * DAY)
        } else {
            self.rng.gen_range(30 * DAY..180 * DAY)
        }
    }

    fn shift_date(&mut self, f: &mut Fact) -> bool {
        let (s, e) = (self.g.start, self.g.end);
        for _ in 0..4 {
            let k: i32 = self.rng.gen_range(1..=20);
            let k = if self.rng.gen_bool(0.5) { k } else { -k };
            let mut d = (f.date + k).clamp(s, e);
            if has_started(f.ty) && d < f.a as i32 {
                d = (f.date + k.abs()).min(e);
            }
            if d != f.date && (!has_started(f.ty) || d >= f.a as i32) {
                f.rec += (d - f.date) as i64 * DAY;
                f.date = d;
                return true;
            }
        }
        false
    }

    fn other_unit(&mut self, u: u16) -> Option<u16> {
        let la = self.g.units[u as usize].la;
        let c: Vec<u16> = self.g.la_units[la as usize]
            .iter()
            .copied()
            .filter(|&i| i != u)
            .collect();
        if c.is_empty() {
            None
        } else {
            Some(c[self.rng.gen_range(0..c.len())])
        }
    }

    /// Changes a field of the fact to another valid value; false if it has none to change.
    fn change_field(&mut self, f: &mut Fact) -> bool {
        let coin = self.rng.gen_bool(0.5);
        match f.ty {
            Ty::ChildDetails => {
                if coin {
                    f.a -= self.rng.gen_range(1..=400);
                } else {
                    f.f1 = (f.f1 ^ 1) | 2;
                }
            }
            Ty::Referral | Ty::CaseTransferred => match self.other_unit(f.unit) {
                Some(u) => f.unit = u,
                None => return false,
            },
            Ty::CaseAuditCompleted => {
                let other = if coin { self.other_unit(f.unit) } else { None };
                match other {
                    Some(u) => f.unit = u,
                    None => f.f1 = (f.f1 + self.rng.gen_range(1..=3)) % 4,
                }
            }
            Ty::StaffingSnapshot => {
                let ch = (f.a & 0xffff) + 5 * self.rng.gen_range(1..=6);
                f.a = (f.a & 0xffff_0000) | ch.min(0xffff);
            }
            Ty::CaseClosed => f.f1 = 1 + (f.f1 + self.rng.gen_range(0..=5)) % 7,
            Ty::WorkerAllocated => {
                if coin {
                    f.f1 ^= 1;
                } else {
                    let n = self.g.workers.len() as u32;
                    f.a = (f.a + self.rng.gen_range(1..n.max(2))) % n;
                }
            }
            Ty::Visit => f.f1 = (f.f1 + self.rng.gen_range(1..=3)) % 4,
            Ty::AssessmentCompleted | Ty::S47Completed => {
                if coin {
                    f.f1 ^= 1;
                } else {
                    f.a -= self.rng.gen_range(1..=10);
                }
            }
            Ty::IcpcHeld => f.a -= self.rng.gen_range(1..=10),
            Ty::CpPlanStarted => f.f1 = (f.f1 + self.rng.gen_range(1..=5)) % 6,
            Ty::CicStarted => f.f1 = (f.f1 + self.rng.gen_range(1..=6)) % 7,
            Ty::CicEnded => f.f1 = (f.f1 + self.rng.gen_range(1..=4)) % 5,
            Ty::PlacementStarted => {
                if coin {
                    f.f1 = (f.f1 + self.rng.gen_range(1..=7)) % 8;
                } else if f.b == NO_DISTANCE {
                    f.b = self.rng.gen_range(0..300);
                } else {
                    f.b += self.rng.gen_range(1..200);
                }
            }
            Ty::CicReviewHeld | Ty::HealthAssessment => f.f1 ^= 1,
            Ty::CareLeaverContact => {
                if f.f1 & 1 != 0 {
                    f.f1 ^= if coin { 2 } else { 4 };
                } else {
                    f.f1 = 1 | 2;
                }
            }
            _ => return false,
        }
        true
    }

    /// A different but valid content for the same kind of fact.
    fn perturb(&mut self, f: &Fact) -> Fact {
        let mut g = *f;
        let by_date = self.rng.gen_bool(0.5);
        if by_date {
            if !self.shift_date(&mut g) && !self.change_field(&mut g) {
                g.rec += DAY; // last resort: a different recorded_at
            }
        } else if !self.change_field(&mut g) && !self.shift_date(&mut g) {
            g.rec += DAY;
        }
        g
    }
}

/// Required fields of each type besides event_id, type and date.
fn required_fields(ty: Ty) -> &'static [&'static str] {
    match ty {
        Ty::ChildDetails => &["child_id", "date_of_birth"],
        Ty::Referral | Ty::CaseTransferred => &["child_id", "unit"],
        Ty::CaseClosed
        | Ty::WorkerUnallocated
        | Ty::CpPlanStarted
        | Ty::CicStarted
        | Ty::MissingStarted => &["child_id"],
        Ty::WorkerAllocated => &["child_id", "worker_id"],
        Ty::Visit => &["child_id", "visit_type"],
        Ty::AssessmentCompleted | Ty::S47Completed => &["child_id", "started", "child_seen"],
        Ty::IcpcHeld => &["child_id", "s47_started"],
        Ty::CpPlanEnded | Ty::CpReviewHeld => &["child_id", "plan_id"],
        Ty::CicEnded => &["child_id", "period_id", "reason"],
        Ty::PlacementStarted => &["child_id", "period_id", "placement_type"],
        Ty::PlacementArrangementMeeting => &["child_id", "placement_id"],
        Ty::CicReviewHeld => &["child_id", "period_id", "participated"],
        Ty::HealthAssessment => &["child_id", "period_id", "kind"],
        Ty::IhaReferral | Ty::DentalCheck | Ty::PlacementOrderGranted | Ty::AdoptionMatch => {
            &["child_id", "period_id"]
        }
        Ty::MissingEnded | Ty::ReturnInterviewHeld => &["child_id", "episode_id"],
        Ty::CareLeaverContact => &["child_id", "in_touch"],
        Ty::CaseAuditCompleted => &["unit", "grade"],
        Ty::StaffingSnapshot => &[
            "unit",
            "establishment_fte",
            "caseholding_fte",
            "permanent_qsw_fte",
            "agency_fte",
        ],
    }
}

impl<'a> Noise<'a> {
    /// A line that is not a valid event, made from a real fact under a fresh id.
    fn malformed(&mut self, r: &Render, t: &Fact) -> Vec<u8> {
        use serde_json::Value;
        let id = self.next_id;
        self.next_id += 1;
        let mut line = Vec::new();
        self.g.render(r, t, id, None, false, &mut line);
        line.pop();
        let mut v: Value = serde_json::from_slice(&line).expect("own output parses");
        let year = nd(t.date).year();
        let variant = self.rng.gen_range(0..12);
        {
            let obj = v.as_object_mut().expect("object");
            match variant {
                0 => {
                    let n = self.rng.gen_range(8..60);
                    let mut b = vec![0xFFu8];
                    for _ in 0..n {
                        let x: u8 = self.rng.gen();
                        b.push(if x == b'\n' || x == b'\r' { 0xFE } else { x });
                    }
                    return b;
                }
                1 => {
                    let cut = self.rng.gen_range(line.len() / 3..line.len() - 1);
                    line.truncate(cut);
                    return line;
                }
                2 => {
                    let names = [
                        "visit_planned",
                        "case_reopened",
                        "Referral",
                        "placement_ended",
                    ];
                    obj.insert(
                        "type".into(),
                        names[self.rng.gen_range(0..names.len())].into(),
                    );
                }
                3 => {
                    let mut fields: Vec<&str> = vec!["event_id", "type", "date"];
                    fields.extend_from_slice(required_fields(t.ty));
                    let f = fields[self.rng.gen_range(0..fields.len())];
                    obj.remove(f);
                    if f == "in_touch" {
                        obj.remove("accommodation_suitable");
                        obj.remove("eet");
                    }
                }
                4 => {
                    let bad = ["02-30", "02-31", "04-31", "13-01", "00-10"];
                    let b = bad[self.rng.gen_range(0..bad.len())];
                    obj.insert("date".into(), format!("{:04}-{}", year, b).into());
                }
                5 => {
                    let la_name =
                        serde_json::from_str::<String>(&self.g.las[0].json).unwrap_or_default();
                    let is_leaf = |s: &str| self.g.units.iter().any(|u| u.id == s);
                    let unit =
                        if self.rng.gen_bool(0.5) && !la_name.is_empty() && !is_leaf(&la_name) {
                            la_name
                        } else {
                            let mut n = 0;
                            loop {
                                let s = format!("unknown-unit-{}", n);
                                if !is_leaf(&s) {
                                    break s;
                                }
                                n += 1;
                            }
                        };
                    obj.insert("unit".into(), unit.into());
                }
                6 if has_started(t.ty) => {
                    let mut b = Vec::new();
                    r.dates.put(&mut b, t.date + self.rng.gen_range(1..=10));
                    let s = String::from_utf8(b).expect("ascii");
                    let name = if t.ty == Ty::IcpcHeld {
                        "s47_started"
                    } else {
                        "started"
                    };
                    obj.insert(name.into(), s.into());
                }
                7 => {
                    let wrong: [(&str, Value); 6] = [
                        ("revision", Value::from("1")),
                        ("revision", serde_json::json!(1.5)),
                        ("revision", Value::from(-1)),
                        ("revision", Value::from(true)),
                        ("date", Value::from(20170801)),
                        ("void", Value::from("false")),
                    ];
                    let (k, val) = wrong[self.rng.gen_range(0..wrong.len())].clone();
                    obj.insert(k.into(), val);
                }
                8 => {
                    let k = self.rng.gen_range(0..4);
                    return match k {
                        0 => Vec::new(),
                        1 => format!("[{}]", String::from_utf8_lossy(&line)).into_bytes(),
                        2 => b"\"event\"".to_vec(),
                        _ => {
                            let mut b = line.clone();
                            b.pop();
                            b.extend_from_slice(b",\"distance_miles\":NaN}");
                            b
                        }
                    };
                }
                9 => {
                    let mut b = Vec::new();
                    r.dates.put(&mut b, t.date);
                    let s = format!("{}T25:61:00Z", String::from_utf8(b).expect("ascii"));
                    obj.insert("recorded_at".into(), s.into());
                }
                10 => {
                    let mut n = 0;
                    let la = loop {
                        let s = format!("atlantis-{}", n);
                        if !self.g.las.iter().any(|l| l.json == json_str(&s)) {
                            break s;
                        }
                        n += 1;
                    };
                    obj.insert("la".into(), la.into());
                }
                _ => {
                    let opt = ["recorded_at", "la", "revision", "void"];
                    let k = opt[self.rng.gen_range(0..opt.len())];
                    obj.insert(k.into(), Value::Null);
                }
            }
        }
        serde_json::to_vec(&v).expect("serialises")
    }
}

impl Gen {
    fn write_messy(
        &self,
        r: &Render,
        out: &mut dyn Write,
        stats: &mut GenStats,
    ) -> std::io::Result<()> {
        let n = self.facts.len();
        let mut z = Noise {
            g: self,
            rng: ChaCha8Rng::seed_from_u64(self.seed ^ 0x6d65_7373_795f_6e6f),
            arr: Vec::with_capacity(n + n / 5 + 16),
            alts: Vec::new(),
            bad: Vec::new(),
            seq: 0,
            next_id: n as u32 + 1,
        };
        // Real facts: delivery delays, earlier revisions with wrong content, duplicates.
        for (i, f) in self.facts.iter().enumerate() {
            let id = i as u32 + 1;
            let base = f.rec + z.jitter();
            let mut rev = -1;
            if z.rng.gen_bool(0.05) {
                let x: f64 = z.rng.gen();
                let k = if x < 0.7 {
                    1
                } else if x < 0.95 {
                    2
                } else {
                    3
                };
                let void_mid = k >= 2 && z.rng.gen_bool(0.2);
                let mut prev = 0u32;
                for j in 0..k {
                    let key = base + z.rng.gen_range(-20 * DAY..20 * DAY);
                    if void_mid && j == k - 1 {
                        z.push(key, SRC_ALT, prev, j, true);
                    } else {
                        let alt = z.perturb(f);
                        prev = z.alt(alt, id);
                        z.push(key, SRC_ALT, prev, j, false);
                    }
                    stats.noise_revisions += 1;
                    if z.rng.gen_bool(0.05) {
                        let last = z.arr.last().expect("just pushed");
                        let (k2, s2, i2, r2, v2) =
                            (last.key, last.src, last.idx, last.rev, last.void);
                        let dk = z.rng.gen_range(0..10 * DAY);
                        z.push(k2 + dk, s2, i2, r2, v2);
                        stats.noise_duplicates += 1;
                    }
                }
                rev = k;
            }
            z.push(base, SRC_FACT, i as u32, rev, false);
            if z.rng.gen_bool(0.05) {
                let key = base + z.rng.gen_range(-5 * DAY..30 * DAY);
                z.push(key, SRC_FACT, i as u32, rev, false);
                stats.noise_duplicates += 1;
            }
        }
        // Fake facts whose highest revision is void.
        let nf = (n as f64 * 0.02).round() as usize;
        for _ in 0..nf {
            let t = self.facts[z.rng.gen_range(0..n)];
            let fake = z.perturb(&t);
            let id = z.next_id;
            z.next_id += 1;
            let base = fake.rec + z.jitter();
            let x: f64 = z.rng.gen();
            let a0 = z.alt(fake, id);
            if x < 0.55 {
                z.push(base, SRC_ALT, a0, 0, false);
                let later = base + z.rng.gen_range(0..40 * DAY);
                z.push(later, SRC_ALT, a0, 1, true);
                stats.noise_voided += 2;
            } else if x < 0.75 {
                z.push(base, SRC_ALT, a0, 0, true);
                stats.noise_voided += 1;
            } else if x < 0.90 {
                z.push(base, SRC_ALT, a0, 0, false);
                let f1 = z.perturb(&fake);
                let a1 = z.alt(f1, id);
                let k1 = base + z.rng.gen_range(0..20 * DAY);
                z.push(k1, SRC_ALT, a1, 1, false);
                let f2 = z.perturb(&f1);
                let a2 = z.alt(f2, id);
                let k2 = base + z.rng.gen_range(0..40 * DAY);
                z.push(k2, SRC_ALT, a2, 2, true);
                stats.noise_voided += 3;
            } else {
                z.push(base, SRC_ALT, a0, 0, false);
                let void_at = base + z.rng.gen_range(DAY..10 * DAY);
                z.push(void_at, SRC_ALT, a0, 2, true);
                let f1 = z.perturb(&fake);
                let a1 = z.alt(f1, id);
                let k1 = void_at + z.rng.gen_range(5 * DAY..60 * DAY);
                z.push(k1, SRC_ALT, a1, 1, false);
                stats.noise_voided += 3;
            }
        }
        // Lines that are not valid events.
        let nb = ((n as f64 * 0.005).round() as usize).max(if n > 0 { 1 } else { 0 });
        for _ in 0..nb {
            let t = self.facts[z.rng.gen_range(0..n)];
            let bytes = z.malformed(r, &t);
            z.bad.push(bytes);
            let key = t.rec + z.jitter();
            let idx = z.bad.len() as u32 - 1;
            z.push(key, SRC_BAD, idx, -1, false);
            stats.noise_malformed += 1;
        }
        let Noise {
            mut arr, alts, bad, ..
        } = z;
        arr.sort_unstable_by_key(|a| (a.key, a.seq));
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        for a in &arr {
            let rev = if a.rev >= 0 { Some(a.rev as u32) } else { None };
            match a.src {
                SRC_FACT => {
                    let f = &self.facts[a.idx as usize];
                    self.render(r, f, a.idx + 1, rev, a.void, &mut buf);
                }
                SRC_ALT => {
                    let (f, id) = &alts[a.idx as usize];
                    self.render(r, f, *id, rev, a.void, &mut buf);
                }
                _ => {
                    buf.extend_from_slice(&bad[a.idx as usize]);
                    buf.push(b'\n');
                }
            }
            if buf.len() >= 1 << 20 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        stats.lines = arr.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> i32 {
        dn(NaiveDate::from_ymd_opt(y, m, dd).unwrap())
    }

    #[test]
    fn calendar_helpers() {
        assert_eq!(weekday(d(2017, 1, 2)), 0); // a Monday
        assert_eq!(weekday(d(2017, 1, 1)), 6);
        for x in d(2016, 1, 1)..d(2018, 1, 1) {
            assert_eq!(weekday(x), nd(x).weekday().num_days_from_monday() as i32);
        }
        assert_eq!(add_wd(d(2017, 1, 6), 1), d(2017, 1, 9)); // Friday + 1 working day
        assert_eq!(add_wd(d(2017, 1, 6), 0), d(2017, 1, 6));
        assert_eq!(add_wd(d(2017, 1, 2), 5), d(2017, 1, 9));
        assert_eq!(add_months(d(2016, 8, 31), 6), d(2017, 2, 28));
        assert_eq!(birthday(d(2008, 2, 29), 1), d(2009, 2, 28));
        assert_eq!(age_at(d(2008, 2, 29), d(2009, 2, 27)), 0);
        assert_eq!(age_at(d(2008, 2, 29), d(2009, 2, 28)), 1);
        assert_eq!(age_at(d(2000, 6, 15), d(2018, 6, 15)), 18);
        assert_eq!(age_at(d(2000, 6, 15), d(2018, 6, 14)), 17);
        assert_eq!(on_weekday(d(2017, 1, 7)), d(2017, 1, 9));
        assert_eq!(back_weekday(d(2017, 1, 8)), d(2017, 1, 6));
    }

    #[test]
    fn formatting() {
        let mut b = Vec::new();
        push_tenths(&mut b, 205);
        b.push(b' ');
        push_tenths(&mut b, 0);
        b.push(b' ');
        push_padded(&mut b, 42, 6);
        b.push(b' ');
        write_date(&mut b, d(2017, 8, 1));
        assert_eq!(String::from_utf8(b).unwrap(), "20.5 0.0 000042 2017-08-01");
        let cache = DateCache::new(d(2017, 1, 1), d(2017, 12, 31));
        let mut c = Vec::new();
        cache.put(&mut c, d(2017, 3, 4));
        cache.put(&mut c, d(1999, 12, 31));
        assert_eq!(String::from_utf8(c).unwrap(), "2017-03-041999-12-31");
    }

    #[test]
    fn a_rendered_event_is_compact_json() {
        let leaves = vec![GenUnit {
            id: "t\"1".into(),
            kind: "cswt".into(),
            la: "x".into(),
        }];
        let options = GenOptions {
            seed: 1,
            start: NaiveDate::from_ymd_opt(2017, 1, 1).unwrap(),
            months: 1,
            scale: Scale::Small,
            messy: false,
        };
        let g = Gen::new(&options, &leaves);
        let r = Render {
            dates: DateCache::new(g.start, g.end),
            id_of: vec![0, 7],
        };
        let f = Fact {
            uid: 1,
            date: d(2017, 1, 5),
            rec: d(2017, 1, 6) as i64 * 86_400 + 10 * 3600 + 15 * 60 + 7,
            child: NO_CHILD,
            unit: 0,
            ty: Ty::StaffingSnapshot,
            f1: 0,
            a: (205 << 16) | 180,
            b: (165 << 16) | 30,
        };
        let mut out = Vec::new();
        g.render(&r, &f, 7, Some(2), true, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event_id\":\"e00000007\",\"revision\":2,\"type\":\"staffing_snapshot\",\"date\":\"2017-01-05\",\
             \"recorded_at\":\"2017-01-06T10:15:07Z\",\"unit\":\"t\\\"1\",\"establishment_fte\":20.5,\
             \"caseholding_fte\":18.0,\"permanent_qsw_fte\":16.5,\"agency_fte\":3.0,\"void\":true}\n"
        );
    }
}
