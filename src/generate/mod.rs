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
//! - Returns: `generate_with_returns` also writes the clean history as the
//!   statutory returns that describe it (SSDA903 tables and Children in Need
//!   censuses per collection year, and a mapping file; `returns`). A period of
//!   care that starts under a placement order (legal status E1) has its
//!   `placement_order_granted` on its first day, as the returns imply.
//!
//! One seeded ChaCha generator drives the facts and a second, independent one the
//! noise, so the facts are identical in both modes and the same options always give
//! the same bytes.
//!
//! The parts: `options` (what is asked for), `units` (the leaves, their kinds and
//! activity profiles), `generator` (the state and its random helpers), `population`
//! (opening stock and flows of new children), `journeys` (cases, assessments,
//! enquiries, plans), `care` (periods of care and care leavers), `casework` (visits,
//! workers, missing episodes), `unit_events` (staffing snapshots and audits),
//! `facts` and `render` (the compact facts and their JSON), `noise` and `malformed`
//! (the messy history). Dates are the crate's [`crate::calendar::Date`].

mod care;
mod casework;
mod dates;
mod facts;
mod generator;
mod journeys;
mod malformed;
mod noise;
mod options;
mod population;
mod render;
mod returns;
mod unit_events;
mod units;

pub use options::{GenOptions, GenStats, Scale, AVERAGE_LA_SHARE_OF_KENT, NATIONAL_AUTHORITIES};
pub use returns::ReturnsStats;
pub use units::GenUnit;

use generator::Generator;

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
    let mut generator = Generator::new(options, leaves);
    generator.simulate();
    generator.finish(options, out)
}

/// Writes the history as [`generate`] does and, into `returns_dir`, the
/// statutory returns that describe it: SSDA903 tables and Children in Need
/// censuses for each collection year covered, with a mapping of children to
/// units (docs/import.md, "The round trip").
pub fn generate_with_returns(
    options: &GenOptions,
    leaves: &[GenUnit],
    out: &mut dyn std::io::Write,
    returns_dir: &std::path::Path,
) -> std::io::Result<(GenStats, ReturnsStats)> {
    if leaves.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "generate: no leaf units",
        ));
    }
    if options.months == 0 {
        return Ok((GenStats::default(), ReturnsStats::default()));
    }
    let mut generator = Generator::new(options, leaves);
    generator.simulate();
    let stats = generator.finish(options, out)?;
    let returns = generator.write_returns(returns_dir)?;
    Ok((stats, returns))
}
