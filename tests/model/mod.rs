// Reference model of the ragline indicators.
//
// A slow, obvious, from-scratch computation of every indicator of
// `docs/indicator-definitions.md`, written straight from the contract in
// `docs/` (events, scorecard, indicator definitions, configuration and the
// decisions of `docs/decisions.md`). It shares no code with the engine.
// Property tests compare the engine against it on random histories.
//
// Shape: the surviving events are grouped per child and each child's events are
// put in "child order" (date, then `recorded_at` as an instant with absent
// first, then `event_id` by code point). From that order a few plain lists are
// derived per child (case intervals, unit changes, plans, periods with their
// placements, episodes, ...). An indicator value is then a sum over children:
// flow indicators list the child's counted facts (counted date, attributed unit,
// numerator part, denominator part) and keep those dated in the window;
// snapshot indicators look at the child's state on the as-of date itself.
//
// This file is meant to be copied verbatim into a test module, so it has no
// crate attributes and does not name its own crate.

use chrono::{DateTime, Datelike, NaiveDate, Weekday};
use serde_json::Value;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

// ===========================================================================
// Public interface
// ===========================================================================

#[derive(Clone, Debug)]
pub struct ModelUnit {
    pub id: String,
    pub parent: Option<String>,
    pub kind: String,
}

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub units: Vec<ModelUnit>,
    pub bank_holidays: Vec<NaiveDate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UascFilter {
    All,
    Exclude,
    Only,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    R12M,
    R3M,
    Ytd,
    M,
    Ss,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelValue {
    pub num: f64,
    pub den: f64,
}

/// Every catalogue id the model knows, in the order of
/// `docs/indicator-definitions.md`.
pub const ALL_INDICATORS: &[&str] = &[
    "SCS03", "SCS02", "AS01", "AS02", "CP05", "CP06", "SCS13", "CP04", "CIC03", "CIC04", "CIC08",
    "SCS29", "AD02", "AD01", "AD03", "SCS08", "MIS02", "CL01", "CL02", "SCS34", "SCS37", "REF-M",
    "CPS-M", "CPE-M", "CICS-M", "CICE-M", "SCS01", "CP-N", "CIC-N", "UASC-N", "CIN02", "CIN01",
    "CP01", "CP02", "CP03", "CIC01", "SCS18", "SCS19", "CIC02", "CIC05", "CIC06", "CIC07", "CIC09",
    "SCS40", "SCS41", "SCS43", "SCS42",
];

/// Applies revision, duplicate and void rules to already-valid events given in
/// arrival order; returns the surviving events (any order).
///
/// Per `event_id` the highest revision is kept (absent revision = 0); an arrival
/// whose revision is equal to or lower than the one held changes nothing, so of
/// two arrivals with the same id and revision the first wins (decision D2). If
/// the kept revision is `void: true` the event does not survive (decision D3).
pub fn surviving(arrivals: &[Value]) -> Vec<Value> {
    surviving_refs(arrivals)
        .into_iter()
        .map(|(_, v)| v.clone())
        .collect()
}

/// [`surviving`] without copying: the surviving arrivals with their envelopes, in
/// order of first arrival of their `event_id`.
fn surviving_refs(arrivals: &[Value]) -> Vec<(Envelope<'_>, &Value)> {
    let mut held: Vec<(Envelope<'_>, &Value)> = Vec::with_capacity(arrivals.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(arrivals.len());
    for a in arrivals {
        let env = envelope(a);
        let Some(id) = env.event_id else { continue };
        match index.entry(id) {
            Entry::Vacant(slot) => {
                slot.insert(held.len());
                held.push((env, a));
            }
            Entry::Occupied(slot) => {
                let i = *slot.get();
                if env.revision > held[i].0.revision {
                    held[i] = (env, a);
                }
            }
        }
    }
    held.into_iter().filter(|(env, _)| !env.void).collect()
}

/// The envelope fields of an event, read in one pass over its fields.
#[derive(Default)]
struct Envelope<'a> {
    event_id: Option<&'a str>,
    /// Absent: 0.
    revision: u64,
    /// Absent: false.
    void: bool,
    ty: &'a str,
    date: Option<&'a str>,
    recorded_at: Option<&'a str>,
    child_id: Option<&'a str>,
}

fn envelope(v: &Value) -> Envelope<'_> {
    let mut env = Envelope::default();
    let Some(fields) = v.as_object() else {
        return env;
    };
    for (k, x) in fields {
        match k.as_str() {
            "event_id" => env.event_id = x.as_str(),
            "revision" => env.revision = x.as_u64().unwrap_or(0),
            "void" => env.void = x.as_bool().unwrap_or(false),
            "type" => env.ty = x.as_str().unwrap_or(""),
            "date" => env.date = x.as_str(),
            "recorded_at" => env.recorded_at = x.as_str(),
            "child_id" => env.child_id = x.as_str(),
            _ => {}
        }
    }
    env
}

/// The indicator's numerator and denominator for `unit` (which covers every unit
/// below it) as at `date` over `window`.
/// Snapshot indicators ignore `window` (always as at `date`). Count indicators
/// return den = 0. SCS02 returns the referral count as num and den = 0.
/// Staffing/caseload values are sums of FTE as f64.
///
/// `events` should be the surviving events; the revision rules are applied again
/// here (a no-op on a surviving set), so passing raw arrivals in arrival order
/// gives the same answer.
pub fn value(
    cfg: &ModelConfig,
    events: &[Value],
    indicator: &str,
    filter: UascFilter,
    unit: &str,
    date: NaiveDate,
    window: Window,
) -> ModelValue {
    Model::new(cfg, events).value(indicator, filter, unit, date, window)
}

/// The same computation as [`value`], with the event grouping done once so that
/// many values over one history are cheaper to get.
pub struct Model {
    parent: HashMap<String, Option<String>>,
    /// (id, kind) in configuration order.
    units: Vec<(String, String)>,
    root: String,
    holidays: HashSet<NaiveDate>,
    children: Vec<Child>,
    audits: Vec<Audit>,
    snapshots: Vec<Snapshot>,
}

impl Model {
    /// Applies the revision rules to `events` (arrival order) and groups the
    /// surviving events per child in child order.
    pub fn new(cfg: &ModelConfig, events: &[Value]) -> Model {
        let events = surviving_refs(events);
        let parent: HashMap<String, Option<String>> = cfg
            .units
            .iter()
            .map(|u| (u.id.clone(), u.parent.clone()))
            .collect();
        let units: Vec<(String, String)> = cfg
            .units
            .iter()
            .map(|u| (u.id.clone(), u.kind.clone()))
            .collect();
        let root = cfg
            .units
            .iter()
            .find(|u| u.parent.is_none())
            .map(|u| u.id.clone())
            .unwrap_or_default();
        let holidays: HashSet<NaiveDate> = cfg.bank_holidays.iter().copied().collect();

        let mut audits = Vec::new();
        let mut snapshots = Vec::new();
        let mut child_order: Vec<&str> = Vec::new();
        let mut by_child: HashMap<&str, Vec<(OrderKey, &str, &Value)>> = HashMap::new();
        for (env, v) in events {
            let Some(key) = order_key(&env) else { continue };
            let ty = env.ty;
            match ty {
                "case_audit_completed" => {
                    let grade = field_str(v, "grade").unwrap_or("");
                    audits.push(Audit {
                        date: key.date,
                        unit: field_str(v, "unit").unwrap_or("").to_string(),
                        good: grade == "good" || grade == "outstanding",
                    });
                }
                "staffing_snapshot" => snapshots.push(Snapshot {
                    unit: field_str(v, "unit").unwrap_or("").to_string(),
                    establishment: field_f64(v, "establishment_fte").unwrap_or(0.0),
                    caseholding: field_f64(v, "caseholding_fte").unwrap_or(0.0),
                    permanent_qsw: field_f64(v, "permanent_qsw_fte").unwrap_or(0.0),
                    agency: field_f64(v, "agency_fte").unwrap_or(0.0),
                    key: (key.date, key.recorded_at, key.event_id.to_string()),
                }),
                _ => {
                    let Some(child) = env.child_id else { continue };
                    let list = by_child.entry(child).or_default();
                    if list.is_empty() {
                        child_order.push(child);
                    }
                    list.push((key, ty, v));
                }
            }
        }
        let children = child_order
            .into_iter()
            .map(|id| {
                let mut evs = by_child.remove(id).unwrap_or_default();
                evs.sort_by(|a, b| a.0.cmp(&b.0));
                build_child(&evs)
            })
            .collect();
        Model {
            parent,
            units,
            root,
            holidays,
            children,
            audits,
            snapshots,
        }
    }

    /// As the free function [`value`].
    pub fn value(
        &self,
        indicator: &str,
        filter: UascFilter,
        unit: &str,
        date: NaiveDate,
        window: Window,
    ) -> ModelValue {
        let mut num = 0.0;
        let mut den = 0.0;
        match indicator {
            // ---- unit-level facts: no children, no UASC filter ----
            "SCS37" => {
                let (from, to) = window_range(date, window);
                for a in &self.audits {
                    if from <= a.date && a.date <= to && self.is_under(&a.unit, unit) {
                        den += 1.0;
                        if a.good {
                            num += 1.0;
                        }
                    }
                }
            }
            "SCS40" | "SCS41" => {
                // Every unit under `unit`; only leaves can carry snapshots.
                for (leaf, _kind) in &self.units {
                    if !self.is_under(leaf, unit) {
                        continue;
                    }
                    if let Some(s) = self.snapshot_at(leaf, date) {
                        num += if indicator == "SCS40" {
                            s.permanent_qsw
                        } else {
                            s.agency
                        };
                        den += s.establishment;
                    }
                }
            }
            "SCS43" | "SCS42" => {
                let wanted = if indicator == "SCS43" { "cswt" } else { "cic" };
                for (leaf, kind) in &self.units {
                    if kind != wanted || !self.is_under(leaf, unit) {
                        continue;
                    }
                    let Some(s) = self.snapshot_at(leaf, date) else {
                        continue;
                    };
                    den += s.caseholding;
                    for c in &self.children {
                        if keep(filter, c.uasc)
                            && c.case_open_at(date)
                            && c.unit_at(date) == Some(leaf.as_str())
                        {
                            num += 1.0;
                        }
                    }
                }
            }
            // ---- snapshot indicators: the child's state on `date` ----
            _ if SNAPSHOT_INDICATORS.contains(&indicator) => {
                for c in &self.children {
                    if !keep(filter, c.uasc) {
                        continue;
                    }
                    if let Some((n, d)) = self.snapshot(c, indicator, date) {
                        if self.counts_at(c.unit_at(date), unit) {
                            num += n;
                            den += d;
                        }
                    }
                }
            }
            // ---- flow indicators: counted facts dated in the window ----
            _ if FLOW_INDICATORS.contains(&indicator) => {
                let (from, to) = window_range(date, window);
                for c in &self.children {
                    if !keep(filter, c.uasc) {
                        continue;
                    }
                    for f in self.flow_facts(c, indicator) {
                        if from <= f.date && f.date <= to && self.counts_at(f.unit.as_deref(), unit)
                        {
                            num += f.num;
                            den += f.den;
                        }
                    }
                }
            }
            _ => panic!("model: unknown indicator {indicator}"),
        }
        ModelValue { num, den }
    }

    // -----------------------------------------------------------------------
    // Units
    // -----------------------------------------------------------------------

    /// Is unit `a` the unit `u` or a unit below it?
    fn is_under(&self, a: &str, u: &str) -> bool {
        let mut cur: Option<&str> = Some(a);
        while let Some(c) = cur {
            if c == u {
                return true;
            }
            cur = self.parent.get(c).and_then(|p| p.as_deref());
        }
        false
    }

    /// Does a fact attributed to `attributed` (None: no responsible unit) count
    /// in the value of unit `u`? Unattributed facts count at the root only.
    fn counts_at(&self, attributed: Option<&str>, u: &str) -> bool {
        match attributed {
            Some(a) => self.is_under(a, u),
            None => u == self.root,
        }
    }

    fn add_wd(&self, x: NaiveDate, n: u32) -> NaiveDate {
        add_working_days(x, n, &self.holidays)
    }

    /// The latest staffing snapshot of `leaf` dated <= `d` (by child-order key).
    fn snapshot_at(&self, leaf: &str, d: NaiveDate) -> Option<&Snapshot> {
        self.snapshots
            .iter()
            .filter(|s| s.unit == leaf && s.key.0 <= d)
            .max_by(|a, b| a.key.cmp(&b.key))
    }

    // -----------------------------------------------------------------------
    // Flow indicators
    // -----------------------------------------------------------------------

    /// Every counted fact of one child for a flow indicator, whatever its date.
    fn flow_facts(&self, c: &Child, ind: &str) -> Vec<Fact> {
        let mut out = Vec::new();
        // Fact attributed to the unit responsible on its counted date.
        let at = |date: NaiveDate, num: bool, den: f64| Fact {
            date,
            unit: c.unit_at(date).map(str::to_string),
            num: if num { 1.0 } else { 0.0 },
            den,
        };
        match ind {
            "SCS03" => {
                for (r, u) in &c.referrals {
                    let from = add_months(*r, -12);
                    let previous = c.referrals.iter().any(|(p, _)| from <= *p && *p < *r);
                    out.push(Fact {
                        date: *r,
                        unit: Some(u.clone()),
                        num: one_if(previous),
                        den: 1.0,
                    });
                }
            }
            "SCS02" => {
                for (r, u) in &c.referrals {
                    out.push(Fact {
                        date: *r,
                        unit: Some(u.clone()),
                        num: 1.0,
                        den: 0.0,
                    });
                }
            }
            "REF-M" => {
                for (r, _) in &c.referrals {
                    out.push(at(*r, true, 0.0));
                }
            }
            "AS01" => {
                for a in &c.assessments {
                    out.push(at(a.date, a.date <= self.add_wd(a.started, 45), 1.0));
                }
            }
            "AS02" => {
                for a in &c.assessments {
                    out.push(at(a.date, a.child_seen, 1.0));
                }
            }
            "CP05" => {
                for a in &c.s47s {
                    out.push(at(a.date, a.child_seen, 1.0));
                }
            }
            "CP06" => {
                for (date, s47_started) in &c.icpcs {
                    out.push(at(*date, *date <= self.add_wd(*s47_started, 15), 1.0));
                }
            }
            "SCS13" => {
                for p in &c.plans {
                    let earlier = c.plans.iter().any(|q| q.start < p.start);
                    out.push(at(p.start, earlier, 1.0));
                }
            }
            "CPS-M" => {
                for p in &c.plans {
                    out.push(at(p.start, true, 0.0));
                }
            }
            "CP04" => {
                for p in &c.plans {
                    if let Some(e) = p.end {
                        out.push(at(e, e >= add_months(p.start, 24), 1.0));
                    }
                }
            }
            "CPE-M" => {
                for p in &c.plans {
                    if let Some(e) = p.end {
                        out.push(at(e, true, 0.0));
                    }
                }
            }
            "CIC03" => {
                for per in &c.periods {
                    for pl in &per.placements {
                        let limit = self.add_wd(pl.start, 5);
                        let met = pl.meetings.iter().any(|m| *m <= limit);
                        out.push(at(pl.start, met, 1.0));
                    }
                }
            }
            "CIC04" => {
                for per in &c.periods {
                    for (date, participated) in &per.reviews {
                        out.push(at(*date, *participated, 1.0));
                    }
                }
            }
            "CIC08" => {
                for per in &c.periods {
                    let limit = self.add_wd(per.start, 5);
                    let ok = per.iha.iter().any(|x| per.start <= *x && *x <= limit);
                    out.push(at(per.start, ok, 1.0));
                }
            }
            "CICS-M" => {
                for per in &c.periods {
                    out.push(at(per.start, true, 0.0));
                }
            }
            "CICE-M" | "AD01" | "AD03" => {
                for per in &c.periods {
                    let Some((e, reason)) = &per.end else {
                        continue;
                    };
                    match ind {
                        "CICE-M" => out.push(at(*e, true, 0.0)),
                        "AD01" => out.push(at(*e, reason == "adopted", 1.0)),
                        _ => out.push(at(*e, reason == "sgo", 1.0)),
                    }
                }
            }
            "SCS29" => {
                for per in &c.periods {
                    let Some((e, reason)) = &per.end else {
                        continue;
                    };
                    if reason != "adopted" {
                        continue;
                    }
                    let first_pfa = per
                        .placements
                        .iter()
                        .find(|pl| pl.placement_type == "placed_for_adoption");
                    if let Some(pl) = first_pfa {
                        let days = (pl.start - per.start).num_days() as f64;
                        out.push(Fact {
                            date: *e,
                            unit: c.unit_at(*e).map(str::to_string),
                            num: days,
                            den: 1.0,
                        });
                    }
                }
            }
            "AD02" => {
                for per in &c.periods {
                    let Some((e, reason)) = &per.end else {
                        continue;
                    };
                    if reason != "adopted" {
                        continue;
                    }
                    if let (Some(order), Some(matched)) = (per.orders.first(), per.matches.first())
                    {
                        let days = (*matched - *order).num_days() as f64;
                        out.push(Fact {
                            date: *e,
                            unit: c.unit_at(*e).map(str::to_string),
                            num: days,
                            den: 1.0,
                        });
                    }
                }
            }
            "SCS08" | "MIS02" => {
                for ep in &c.episodes {
                    let Some(r) = ep.end else { continue };
                    let under_18 = matches!(c.age_at(ep.start), Some(a) if a < 18);
                    if !under_18 {
                        continue;
                    }
                    let ok = if ind == "SCS08" {
                        !ep.interviews.is_empty()
                    } else {
                        let limit = self.add_wd(r, 3);
                        ep.interviews.iter().any(|x| *x <= limit)
                    };
                    out.push(at(r, ok, 1.0));
                }
            }
            "CL01" => {
                for k in &c.contacts {
                    out.push(at(k.date, k.in_touch, 1.0));
                }
            }
            "CL02" | "SCS34" => {
                for k in &c.contacts {
                    if k.in_touch {
                        let ok = if ind == "CL02" {
                            k.accommodation_suitable
                        } else {
                            k.eet
                        };
                        out.push(at(k.date, ok, 1.0));
                    }
                }
            }
            _ => panic!("model: {ind} is not a child flow indicator"),
        }
        out
    }

    // -----------------------------------------------------------------------
    // Snapshot indicators
    // -----------------------------------------------------------------------

    /// One child's (num, den) part of a snapshot indicator on `d`; None when the
    /// child is in neither. Counts give (1, 0).
    fn snapshot(&self, c: &Child, ind: &str, d: NaiveDate) -> Option<(f64, f64)> {
        let count = |yes: bool| if yes { Some((1.0, 0.0)) } else { None };
        let percent = |in_den: bool, in_num: bool| {
            if in_den {
                Some((one_if(in_num), 1.0))
            } else {
                None
            }
        };
        match ind {
            "SCS01" => count(c.case_open_at(d)),
            "CP-N" => count(c.open_plan(d).is_some()),
            "CIC-N" => count(c.current_period(d).is_some()),
            "UASC-N" => count(c.current_period(d).is_some() && c.uasc),
            "CIN02" => {
                let qualified_worker = matches!(c.worker_at(d), Some((_, true)));
                count(c.case_open_at(d) && !qualified_worker)
            }
            "CIN01" => {
                let opened = c.case_opened_at(d)?;
                let in_den = c.open_plan(d).is_none()
                    && c.current_period(d).is_none()
                    && opened <= add_days(d, -28);
                let seen = c.visits.iter().any(|v| *v <= d && d <= add_days(*v, 28));
                percent(in_den, seen)
            }
            "CP01" => {
                let plan = c.open_plan(d)?;
                percent(true, d >= add_months(plan.start, 18))
            }
            "CP02" => {
                let plan = c.open_plan(d)?;
                let s = plan.start;
                let in_den = d >= self.add_wd(s, 10);
                let seen = c
                    .visits
                    .iter()
                    .any(|v| s <= *v && *v <= d && d <= self.add_wd(*v, 10));
                percent(in_den, seen)
            }
            "CP03" => {
                let plan = c.open_plan(d)?;
                let s = plan.start;
                let in_den = d >= add_months(s, 3);
                let reviews: Vec<NaiveDate> =
                    plan.reviews.iter().copied().filter(|r| *r <= d).collect();
                let ok = match reviews.first() {
                    None => false,
                    Some(first) => {
                        let mut ok = *first <= add_months(s, 3);
                        for i in 1..reviews.len() {
                            ok &= reviews[i] <= add_months(reviews[i - 1], 6);
                        }
                        ok && d <= add_months(*reviews.last().unwrap(), 6)
                    }
                };
                percent(in_den, ok)
            }
            "CIC01" => {
                c.current_period(d)?;
                let (from, _) = window_range(d, Window::R12M);
                let mut n = 0;
                for per in &c.periods {
                    for pl in &per.placements {
                        let non_empty = pl.end.is_none_or(|e| e > pl.start);
                        let overlaps = pl.start <= d && pl.end.is_none_or(|e| e > from);
                        if non_empty && overlaps {
                            n += 1;
                        }
                    }
                }
                percent(true, n >= 3)
            }
            "SCS18" => {
                let per = c.current_period(d)?;
                let under_16 = matches!(c.age_at(d), Some(a) if a < 16);
                let in_den = under_16 && per.start <= add_months(d, -30);
                let two_years_ago = add_months(d, -24);
                let ok = match per.placement_index_at(d) {
                    None => false,
                    Some(i) => {
                        let pl = &per.placements[i];
                        pl.start <= two_years_ago
                            || (pl.placement_type == "placed_for_adoption"
                                && i > 0
                                && per.placements[i - 1].start <= two_years_ago)
                    }
                };
                percent(in_den, ok)
            }
            "SCS19" => {
                let per = c.current_period(d)?;
                let pl = &per.placements[per.placement_index_at(d)?];
                let t = pl.placement_type.as_str();
                let in_den = matches!(
                    t,
                    "foster_inhouse" | "foster_relative_friend" | "foster_agency"
                );
                percent(
                    in_den,
                    matches!(t, "foster_inhouse" | "foster_relative_friend"),
                )
            }
            "CIC02" => {
                let per = c.current_period(d)?;
                let pl = &per.placements[per.placement_index_at(d)?];
                let miles = pl.distance_miles?;
                percent(true, miles <= 20.0)
            }
            "CIC05" => {
                let per = c.current_period(d)?;
                let limit = self.add_wd(per.start, 20);
                let in_den = d >= limit;
                let reviews: Vec<NaiveDate> = per
                    .reviews
                    .iter()
                    .map(|(r, _)| *r)
                    .filter(|r| *r <= d)
                    .collect();
                let ok = match reviews.len() {
                    0 => false,
                    n => {
                        let mut ok = reviews[0] <= limit;
                        if n >= 2 {
                            ok &= reviews[1] <= add_months(reviews[0], 3);
                        }
                        for i in 2..n {
                            ok &= reviews[i] <= add_months(reviews[i - 1], 6);
                        }
                        let grace = if n == 1 { 3 } else { 6 };
                        ok && d <= add_months(reviews[n - 1], grace)
                    }
                };
                percent(in_den, ok)
            }
            "CIC06" => {
                let per = c.current_period(d)?;
                let in_den = per.start <= add_months(d, -12);
                let ok = per
                    .dental
                    .iter()
                    .any(|v| *v <= d && d <= add_months(*v, 12));
                percent(in_den, ok)
            }
            "CIC07" => {
                let per = c.current_period(d)?;
                let limit = self.add_wd(per.start, 20);
                let in_den = d >= limit;
                let initial_in_time = per
                    .health
                    .iter()
                    .any(|(x, initial)| *initial && *x <= d.min(limit));
                let latest = per
                    .health
                    .iter()
                    .rev()
                    .find(|(x, _)| *x <= d)
                    .map(|(x, _)| *x);
                let under_5 = matches!(c.age_at(d), Some(a) if a < 5);
                let recent = match latest {
                    None => false,
                    Some(l) => d <= add_months(l, if under_5 { 6 } else { 12 }),
                };
                percent(in_den, initial_in_time && recent)
            }
            "CIC09" => {
                let per = c.current_period(d)?;
                let in_den = per.start <= add_months(d, -18);
                let ok = match c.worker_held_since(d) {
                    None => false,
                    Some(since) => since <= add_months(d, -12),
                };
                percent(in_den, ok)
            }
            _ => panic!("model: {ind} is not a snapshot indicator"),
        }
    }
}

const SNAPSHOT_INDICATORS: &[&str] = &[
    "SCS01", "CP-N", "CIC-N", "UASC-N", "CIN02", "CIN01", "CP01", "CP02", "CP03", "CIC01", "SCS18",
    "SCS19", "CIC02", "CIC05", "CIC06", "CIC07", "CIC09",
];

const FLOW_INDICATORS: &[&str] = &[
    "SCS03", "SCS02", "AS01", "AS02", "CP05", "CP06", "SCS13", "CP04", "CIC03", "CIC04", "CIC08",
    "SCS29", "AD02", "AD01", "AD03", "SCS08", "MIS02", "CL01", "CL02", "SCS34", "REF-M", "CPS-M",
    "CPE-M", "CICS-M", "CICE-M",
];

fn keep(filter: UascFilter, uasc: bool) -> bool {
    match filter {
        UascFilter::All => true,
        UascFilter::Exclude => !uasc,
        UascFilter::Only => uasc,
    }
}

/// 1 for true, 0 for false.
fn one_if(x: bool) -> f64 {
    if x {
        1.0
    } else {
        0.0
    }
}

// ===========================================================================
// Dates
// ===========================================================================

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first_next = NaiveDate::from_ymd_opt(ny, nm, 1).unwrap();
    first_next.pred_opt().unwrap().day()
}

/// `d` plus `n` calendar months (n may be negative); a day that does not exist
/// in the target month clamps to its last day (2016-08-31 + 6 = 2017-02-28).
pub fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let total = d.year() * 12 + (d.month() as i32 - 1) + n;
    let year = total.div_euclid(12);
    let month = (total.rem_euclid(12) + 1) as u32;
    let day = d.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

pub fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d + chrono::Duration::days(n)
}

fn is_working_day(d: NaiveDate, holidays: &HashSet<NaiveDate>) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&d)
}

/// The n-th working day after `x` (`x` itself does not count); `x` for n = 0.
pub fn add_working_days(x: NaiveDate, n: u32, holidays: &HashSet<NaiveDate>) -> NaiveDate {
    let mut d = x;
    let mut counted = 0;
    while counted < n {
        d = d.succ_opt().unwrap();
        if is_working_day(d, holidays) {
            counted += 1;
        }
    }
    d
}

/// Whole years from `dob` to `d`: the largest n with dob + 12n months <= d
/// (clamped). Negative when `d` is before the birth.
pub fn age_at(dob: NaiveDate, d: NaiveDate) -> i32 {
    let mut n = d.year() - dob.year() + 1;
    while add_months(dob, 12 * n) > d {
        n -= 1;
    }
    n
}

fn is_month_end(d: NaiveDate) -> bool {
    d.day() == days_in_month(d.year(), d.month())
}

/// The inclusive date range a flow value as at `d` covers.
/// `Window::Ss` (not a flow period) covers the single day `d`.
pub fn window_range(d: NaiveDate, w: Window) -> (NaiveDate, NaiveDate) {
    let rolling = |months: i32| {
        if is_month_end(d) {
            let first_of_month = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap();
            add_months(first_of_month, -(months - 1))
        } else {
            add_months(d, -months).succ_opt().unwrap()
        }
    };
    let from = match w {
        Window::R12M => rolling(12),
        Window::R3M => rolling(3),
        Window::Ytd => {
            let fy = if d.month() >= 4 {
                d.year()
            } else {
                d.year() - 1
            };
            NaiveDate::from_ymd_opt(fy, 4, 1).unwrap()
        }
        Window::M => NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap(),
        Window::Ss => d,
    };
    (from, d)
}

// ===========================================================================
// Events
// ===========================================================================

fn field_str<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn field_bool(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

fn field_f64(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

fn field_date(v: &Value, k: &str) -> Option<NaiveDate> {
    field_str(v, k).and_then(parse_date)
}

/// `YYYY-MM-DD` (the only date form valid events carry).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Child order (`docs/events.md`, "Order within a day"; decision D7): date,
/// then `recorded_at` as an instant with an absent one first, then `event_id`
/// by code point (byte order of UTF-8).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey<'a> {
    date: NaiveDate,
    recorded_at: Option<(i64, u32)>,
    event_id: &'a str,
}

fn order_key<'a>(env: &Envelope<'a>) -> Option<OrderKey<'a>> {
    let date = parse_date(env.date?)?;
    let recorded_at = env
        .recorded_at
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| (t.timestamp(), t.timestamp_subsec_nanos()));
    let event_id = env.event_id?;
    Some(OrderKey {
        date,
        recorded_at,
        event_id,
    })
}

struct Audit {
    date: NaiveDate,
    unit: String,
    good: bool,
}

struct Snapshot {
    /// The snapshot's place in the child order: (date, recorded_at, event_id).
    key: (NaiveDate, Option<(i64, u32)>, String),
    unit: String,
    establishment: f64,
    caseholding: f64,
    permanent_qsw: f64,
    agency: f64,
}

struct Fact {
    date: NaiveDate,
    unit: Option<String>,
    num: f64,
    den: f64,
}

// ===========================================================================
// One child's history
// ===========================================================================

struct Plan {
    start: NaiveDate,
    /// Date of the first `cp_plan_ended` (child order) naming the plan.
    end: Option<NaiveDate>,
    /// `cp_review_held` dates, child order (= date order).
    reviews: Vec<NaiveDate>,
}

struct Placement {
    start: NaiveDate,
    placement_type: String,
    distance_miles: Option<f64>,
    /// Exclusive end: the next placement's start or the period's end, whichever
    /// is first; None when neither.
    end: Option<NaiveDate>,
    meetings: Vec<NaiveDate>,
}

struct Period {
    start: NaiveDate,
    /// Date and reason of the first `cic_ended` (child order).
    end: Option<(NaiveDate, String)>,
    /// Child order.
    placements: Vec<Placement>,
    reviews: Vec<(NaiveDate, bool)>,
    /// (date, is initial), child order.
    health: Vec<(NaiveDate, bool)>,
    iha: Vec<NaiveDate>,
    dental: Vec<NaiveDate>,
    orders: Vec<NaiveDate>,
    matches: Vec<NaiveDate>,
}

impl Period {
    fn end_date(&self) -> Option<NaiveDate> {
        self.end.as_ref().map(|(e, _)| *e)
    }

    /// The placement whose interval holds `d`, if any.
    fn placement_index_at(&self, d: NaiveDate) -> Option<usize> {
        self.placements
            .iter()
            .position(|pl| pl.start <= d && pl.end.is_none_or(|e| d < e))
    }
}

struct Episode {
    start: NaiveDate,
    /// Date of the first `missing_ended` (child order).
    end: Option<NaiveDate>,
    interviews: Vec<NaiveDate>,
}

struct Assessment {
    date: NaiveDate,
    started: NaiveDate,
    child_seen: bool,
}

struct Contact {
    date: NaiveDate,
    in_touch: bool,
    accommodation_suitable: bool,
    eet: bool,
}

struct Child {
    /// From the single latest `child_details` (decision D1).
    date_of_birth: Option<NaiveDate>,
    uasc: bool,
    /// (date, unit) each time the responsible unit was set, child order.
    unit_changes: Vec<(NaiveDate, String)>,
    /// Case intervals [opened, closed), child order.
    cases: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// Every referral (date, its own unit), child order.
    referrals: Vec<(NaiveDate, String)>,
    /// (date, Some((worker, qualified)) for an allocation, None for an unallocation).
    workers: Vec<(NaiveDate, Option<(String, bool)>)>,
    visits: Vec<NaiveDate>,
    assessments: Vec<Assessment>,
    s47s: Vec<Assessment>,
    /// (conference date, s47_started).
    icpcs: Vec<(NaiveDate, NaiveDate)>,
    contacts: Vec<Contact>,
    plans: Vec<Plan>,
    periods: Vec<Period>,
    episodes: Vec<Episode>,
}

/// Builds one child's lists from its events, already in child order.
/// `evs`: (order key, type, event).
fn build_child(evs: &[(OrderKey<'_>, &str, &Value)]) -> Child {
    // Pass 1: the things other events refer to by id.
    let mut plans: Vec<Plan> = Vec::new();
    let mut periods: Vec<Period> = Vec::new();
    let mut episodes: Vec<Episode> = Vec::new();
    let mut plan_ix: HashMap<&str, usize> = HashMap::new();
    let mut period_ix: HashMap<&str, usize> = HashMap::new();
    let mut episode_ix: HashMap<&str, usize> = HashMap::new();
    for &(ref k, ty, _) in evs {
        match ty {
            "cp_plan_started" => {
                plan_ix.insert(k.event_id, plans.len());
                plans.push(Plan {
                    start: k.date,
                    end: None,
                    reviews: Vec::new(),
                });
            }
            "cic_started" => {
                period_ix.insert(k.event_id, periods.len());
                periods.push(Period {
                    start: k.date,
                    end: None,
                    placements: Vec::new(),
                    reviews: Vec::new(),
                    health: Vec::new(),
                    iha: Vec::new(),
                    dental: Vec::new(),
                    orders: Vec::new(),
                    matches: Vec::new(),
                });
            }
            "missing_started" => {
                episode_ix.insert(k.event_id, episodes.len());
                episodes.push(Episode {
                    start: k.date,
                    end: None,
                    interviews: Vec::new(),
                });
            }
            _ => {}
        }
    }

    // Pass 2: placements (they name a period; meetings name them).
    let mut placement_ix: HashMap<&str, (usize, usize)> = HashMap::new();
    for &(ref k, ty, v) in evs {
        if ty != "placement_started" {
            continue;
        }
        let Some(&pi) = field_str(v, "period_id").and_then(|p| period_ix.get(p)) else {
            continue;
        };
        placement_ix.insert(k.event_id, (pi, periods[pi].placements.len()));
        periods[pi].placements.push(Placement {
            start: k.date,
            placement_type: field_str(v, "placement_type").unwrap_or("").to_string(),
            distance_miles: field_f64(v, "distance_miles"),
            end: None,
            meetings: Vec::new(),
        });
    }

    // Pass 3: everything else, in child order.
    let mut child = Child {
        date_of_birth: None,
        uasc: false,
        unit_changes: Vec::new(),
        cases: Vec::new(),
        referrals: Vec::new(),
        workers: Vec::new(),
        visits: Vec::new(),
        assessments: Vec::new(),
        s47s: Vec::new(),
        icpcs: Vec::new(),
        contacts: Vec::new(),
        plans: Vec::new(),
        periods: Vec::new(),
        episodes: Vec::new(),
    };
    let mut open_case: Option<NaiveDate> = None;
    for &(ref k, ty, v) in evs {
        let date = k.date;
        let plan = || {
            field_str(v, "plan_id")
                .and_then(|id| plan_ix.get(id))
                .copied()
        };
        let period = || {
            field_str(v, "period_id")
                .and_then(|id| period_ix.get(id))
                .copied()
        };
        let episode = || {
            field_str(v, "episode_id")
                .and_then(|id| episode_ix.get(id))
                .copied()
        };
        match ty {
            "child_details" => {
                // The latest record overall wins (decision D1): later ones overwrite.
                child.date_of_birth = field_date(v, "date_of_birth");
                child.uasc = field_bool(v, "uasc").unwrap_or(false);
            }
            "referral" => {
                let unit = field_str(v, "unit").unwrap_or("").to_string();
                child.referrals.push((date, unit.clone()));
                if open_case.is_none() {
                    open_case = Some(date);
                    child.unit_changes.push((date, unit));
                }
            }
            "case_transferred" => {
                child
                    .unit_changes
                    .push((date, field_str(v, "unit").unwrap_or("").to_string()));
            }
            "case_closed" => {
                if let Some(opened) = open_case.take() {
                    child.cases.push((opened, Some(date)));
                }
            }
            "worker_allocated" => {
                let worker = field_str(v, "worker_id").unwrap_or("").to_string();
                let qualified = field_bool(v, "qualified").unwrap_or(true);
                child.workers.push((date, Some((worker, qualified))));
            }
            "worker_unallocated" => child.workers.push((date, None)),
            "visit" => child.visits.push(date),
            "assessment_completed" | "s47_completed" => {
                let a = Assessment {
                    date,
                    started: field_date(v, "started").unwrap_or(date),
                    child_seen: field_bool(v, "child_seen").unwrap_or(false),
                };
                if ty == "assessment_completed" {
                    child.assessments.push(a);
                } else {
                    child.s47s.push(a);
                }
            }
            "icpc_held" => {
                child
                    .icpcs
                    .push((date, field_date(v, "s47_started").unwrap_or(date)));
            }
            "cp_plan_ended" => {
                if let Some(i) = plan() {
                    if plans[i].end.is_none() {
                        plans[i].end = Some(date);
                    }
                }
            }
            "cp_review_held" => {
                if let Some(i) = plan() {
                    plans[i].reviews.push(date);
                }
            }
            "cic_ended" => {
                if let Some(i) = period() {
                    if periods[i].end.is_none() {
                        let reason = field_str(v, "reason").unwrap_or("").to_string();
                        periods[i].end = Some((date, reason));
                    }
                }
            }
            "placement_arrangement_meeting" => {
                if let Some(&(pi, j)) =
                    field_str(v, "placement_id").and_then(|id| placement_ix.get(id))
                {
                    periods[pi].placements[j].meetings.push(date);
                }
            }
            "cic_review_held" => {
                if let Some(i) = period() {
                    periods[i]
                        .reviews
                        .push((date, field_bool(v, "participated").unwrap_or(false)));
                }
            }
            "health_assessment" => {
                if let Some(i) = period() {
                    periods[i]
                        .health
                        .push((date, field_str(v, "kind") == Some("initial")));
                }
            }
            "iha_referral" => {
                if let Some(i) = period() {
                    periods[i].iha.push(date);
                }
            }
            "dental_check" => {
                if let Some(i) = period() {
                    periods[i].dental.push(date);
                }
            }
            "placement_order_granted" => {
                if let Some(i) = period() {
                    periods[i].orders.push(date);
                }
            }
            "adoption_match" => {
                if let Some(i) = period() {
                    periods[i].matches.push(date);
                }
            }
            "missing_ended" => {
                if let Some(i) = episode() {
                    if episodes[i].end.is_none() {
                        episodes[i].end = Some(date);
                    }
                }
            }
            "return_interview_held" => {
                if let Some(i) = episode() {
                    episodes[i].interviews.push(date);
                }
            }
            "care_leaver_contact" => {
                child.contacts.push(Contact {
                    date,
                    in_touch: field_bool(v, "in_touch").unwrap_or(false),
                    accommodation_suitable: field_bool(v, "accommodation_suitable")
                        .unwrap_or(false),
                    eet: field_bool(v, "eet").unwrap_or(false),
                });
            }
            _ => {}
        }
    }
    if let Some(opened) = open_case {
        child.cases.push((opened, None));
    }

    // Placement intervals: each lasts until the next placement of its period or
    // the period's end, whichever is first.
    for per in &mut periods {
        let period_end = per.end_date();
        for j in 0..per.placements.len() {
            let next_start = per.placements.get(j + 1).map(|pl| pl.start);
            per.placements[j].end = match (next_start, period_end) {
                (Some(a), Some(e)) => Some(a.min(e)),
                (Some(a), None) => Some(a),
                (None, Some(e)) => Some(e),
                (None, None) => None,
            };
        }
    }

    child.plans = plans;
    child.periods = periods;
    child.episodes = episodes;
    child
}

impl Child {
    fn age_at(&self, d: NaiveDate) -> Option<i32> {
        self.date_of_birth.map(|dob| age_at(dob, d))
    }

    /// The responsible unit at `d`: the last unit set by events dated <= d.
    fn unit_at(&self, d: NaiveDate) -> Option<&str> {
        self.unit_changes
            .iter()
            .rev()
            .find(|(x, _)| *x <= d)
            .map(|(_, u)| u.as_str())
    }

    /// The opening date of the case interval holding `d`, if a case is open at `d`.
    fn case_opened_at(&self, d: NaiveDate) -> Option<NaiveDate> {
        self.cases
            .iter()
            .find(|(o, c)| *o <= d && c.is_none_or(|c| d < c))
            .map(|(o, _)| *o)
    }

    fn case_open_at(&self, d: NaiveDate) -> bool {
        self.case_opened_at(d).is_some()
    }

    /// The open plan at `d`: the earliest-started (child order) plan open at d.
    fn open_plan(&self, d: NaiveDate) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|p| p.start <= d && p.end.is_none_or(|e| d < e))
    }

    /// The current period at `d`: the earliest-started (child order) period open at d.
    fn current_period(&self, d: NaiveDate) -> Option<&Period> {
        self.periods
            .iter()
            .find(|p| p.start <= d && p.end_date().is_none_or(|e| d < e))
    }

    /// The worker holding the case at `d` and whether they are qualified.
    fn worker_at(&self, d: NaiveDate) -> Option<(&str, bool)> {
        let last = self.workers.iter().rev().find(|(x, _)| *x <= d)?;
        last.1.as_ref().map(|(w, q)| (w.as_str(), *q))
    }

    /// When the worker holding the case at `d` began holding it without a
    /// break (re-allocation of the same worker keeps it continuous).
    fn worker_held_since(&self, d: NaiveDate) -> Option<NaiveDate> {
        let upto: Vec<&(NaiveDate, Option<(String, bool)>)> =
            self.workers.iter().filter(|(x, _)| *x <= d).collect();
        let (last_date, last) = upto.last()?;
        let (worker, _) = last.as_ref()?;
        let mut since = *last_date;
        for (x, e) in upto.iter().rev() {
            match e {
                Some((w, _)) if w == worker => since = *x,
                _ => break,
            }
        }
        Some(since)
    }
}
