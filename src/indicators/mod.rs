//! The indicator catalogue: one file per indicator, each turning facts into
//! contributions.
//!
//! An indicator never sees RocksDB, Kafka, the clock or another indicator. It
//! declares its kind, window and polarity, and emits dated [`Point`]s through
//! [`Emit`]: `flow` for a fact counted on a date, `snapshot` for a membership
//! that holds over date intervals. Snapshot indicators give an evaluation
//! function and the candidate dates at which its answer may change; the value
//! is constant between consecutive candidates, so membership becomes a list of
//! spans. Adding an indicator is a new file and one line in [`REGISTRY`].

use crate::calendar::{Date, Window, WorkingCalendar};
use crate::config::{Config, ConfigError, UascFilter, UnitIdx};
use crate::contrib::{Point, Slot};
use crate::fold::{ChildFacts, UnitFacts};

mod ad01;
mod ad02;
mod ad03;
mod as01;
mod as02;
mod caseload;
mod cic01;
mod cic02;
mod cic03;
mod cic04;
mod cic05;
mod cic06;
mod cic07;
mod cic08;
mod cic09;
mod cic_n;
mod cice_m;
mod cics_m;
mod cin01;
mod cin02;
mod cl01;
mod cl02;
mod cp01;
mod cp02;
mod cp03;
mod cp04;
mod cp05;
mod cp06;
mod cp_n;
mod cpe_m;
mod cps_m;
mod mis02;
mod ref_m;
mod scs01;
mod scs02;
mod scs03;
mod scs08;
mod scs13;
mod scs18;
mod scs19;
mod scs29;
mod scs34;
mod scs37;
mod scs40;
mod scs41;
mod scs42;
mod scs43;
mod staffing_gate;
mod uasc_n;

/// Every catalogue indicator, sorted by id.
pub static REGISTRY: &[&Indicator] = &[
    &ad01::DEF,
    &ad02::DEF,
    &ad03::DEF,
    &as01::DEF,
    &as02::DEF,
    &cic_n::DEF,
    &cic01::DEF,
    &cic02::DEF,
    &cic03::DEF,
    &cic04::DEF,
    &cic05::DEF,
    &cic06::DEF,
    &cic07::DEF,
    &cic08::DEF,
    &cic09::DEF,
    &cice_m::DEF,
    &cics_m::DEF,
    &cin01::DEF,
    &cin02::DEF,
    &cl01::DEF,
    &cl02::DEF,
    &cp_n::DEF,
    &cp01::DEF,
    &cp02::DEF,
    &cp03::DEF,
    &cp04::DEF,
    &cp05::DEF,
    &cp06::DEF,
    &cpe_m::DEF,
    &cps_m::DEF,
    &mis02::DEF,
    &ref_m::DEF,
    &scs01::DEF,
    &scs02::DEF,
    &scs03::DEF,
    &scs08::DEF,
    &scs13::DEF,
    &scs18::DEF,
    &scs19::DEF,
    &scs29::DEF,
    &scs34::DEF,
    &scs37::DEF,
    &scs40::DEF,
    &scs41::DEF,
    &scs42::DEF,
    &scs43::DEF,
    &uasc_n::DEF,
];

/// How a value is formed from numerator and denominator (`docs/scorecard.md`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// 100 x num / den.
    Percent,
    /// num / den.
    Average,
    /// num per 10,000 of the configured population.
    Rate,
    /// num alone.
    Count,
    /// num / den (caseloads).
    Ratio,
}

impl Kind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Percent => "percent",
            Kind::Average => "average",
            Kind::Rate => "rate",
            Kind::Count => "count",
            Kind::Ratio => "ratio",
        }
    }
}

/// Which way is good.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Polarity {
    /// Higher is better.
    High,
    /// Lower is better.
    Low,
    /// Closest to the target is best.
    Target,
    /// No polarity: never rated.
    None,
}

impl Polarity {
    /// The code shown in scorecards.
    pub fn code(self) -> &'static str {
        match self {
            Polarity::High => "H",
            Polarity::Low => "L",
            Polarity::Target => "T",
            Polarity::None => "-",
        }
    }
}

/// How the scorecard reads an indicator's series.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Query {
    /// Numerator and denominator straight from the unit's series.
    Plain,
    /// Denominator from the configured population (rates).
    Population,
    /// Summed over the leaves of a kind under the unit that have a staffing
    /// snapshot on the date (decision D21).
    Caseload {
        /// The leaf kind (`cswt`, `cic`).
        leaf_kind: &'static str,
    },
}

/// Contributions of one child.
pub type ChildFn = fn(&ChildFacts, &mut Emit);
/// Contributions of one unit's own events.
pub type UnitFn = fn(UnitIdx, &UnitFacts, &mut Emit);

/// A catalogue indicator.
pub struct Indicator {
    /// Catalogue id.
    pub id: &'static str,
    /// Catalogue name.
    pub name: &'static str,
    /// Report section.
    pub section: &'static str,
    /// Value kind.
    pub kind: Kind,
    /// Default reporting window (SS for snapshot indicators).
    pub window: Window,
    /// Polarity.
    pub polarity: Polarity,
    /// The catalogue's own UASC filter ("exc UASC" rows exclude).
    pub default_uasc: UascFilter,
    /// Stored numerators are this many times the reported one.
    pub num_scale: i64,
    /// Stored denominators are this many times the reported one.
    pub den_scale: i64,
    /// What counts in the numerator (for the reference table).
    pub numerator: &'static str,
    /// What counts in the denominator (for the reference table).
    pub denominator: &'static str,
    /// Default target and floor, as the catalogue states them.
    pub default_target: &'static str,
    /// Child contributions.
    pub child: Option<ChildFn>,
    /// Unit contributions.
    pub unit: Option<UnitFn>,
    /// How the scorecard reads it.
    pub query: Query,
}

impl Indicator {
    /// Whether the value is a window sum (flow) rather than a level (snapshot).
    pub fn is_flow(&self) -> bool {
        self.window != Window::Ss
    }
}

/// Looks a catalogue indicator up by id.
pub fn by_id(id: &str) -> Option<&'static Indicator> {
    REGISTRY
        .iter()
        .copied()
        .find(|indicator| indicator.id == id)
}

/// One slot of the engine: a configured entry (or an internal helper series).
#[derive(Clone, Debug)]
pub struct SlotDef {
    /// The id reported.
    pub id: String,
    /// Index into `Config::indicators`; `None` for internal slots.
    pub entry: Option<usize>,
    /// The definition.
    pub def: &'static Indicator,
    /// The UASC filter in force.
    pub filter: UascFilter,
}

impl std::fmt::Debug for Indicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// The configured indicators resolved against the registry.
#[derive(Clone, Debug)]
pub struct Catalogue {
    /// Configured entries first (in configuration order), then internal slots.
    pub slots: Vec<SlotDef>,
    /// The staffing-gate slot, when a caseload indicator is configured.
    pub gate: Option<Slot>,
}

impl Catalogue {
    /// Resolves every configured entry; unknown bases are configuration errors.
    pub fn from_config(config: &Config) -> Result<Catalogue, ConfigError> {
        let mut slots = Vec::new();
        for (position, entry) in config.indicators.iter().enumerate() {
            let def = by_id(&entry.base).ok_or_else(|| ConfigError {
                file: config.path.display().to_string(),
                key: format!("indicator[{position}] ({})", entry.id),
                problem: format!(
                    "'{}' is not a catalogue indicator (set base = one of {})",
                    entry.base,
                    REGISTRY
                        .iter()
                        .map(|indicator| indicator.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
            slots.push(SlotDef {
                id: entry.id.clone(),
                entry: Some(position),
                def,
                filter: entry.uasc.unwrap_or(def.default_uasc),
            });
        }
        let needs_gate = slots
            .iter()
            .any(|slot| matches!(slot.def.query, Query::Caseload { .. }));
        let gate = needs_gate.then(|| {
            slots.push(SlotDef {
                id: staffing_gate::DEF.id.to_string(),
                entry: None,
                def: &staffing_gate::DEF,
                filter: UascFilter::All,
            });
            (slots.len() - 1) as Slot
        });
        assert!(slots.len() < Slot::MAX as usize, "too many indicator slots");
        Ok(Catalogue { slots, gate })
    }

    /// Slots that are reported (configured entries).
    pub fn reported(&self) -> impl Iterator<Item = (Slot, &SlotDef)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.entry.is_some())
            .map(|(index, slot)| (index as Slot, slot))
    }

    /// The slot of a reported id.
    pub fn slot_of(&self, id: &str) -> Option<Slot> {
        self.reported()
            .find(|(_, slot)| slot.id == id)
            .map(|(index, _)| index)
    }

    /// Appends every child contribution of every slot to `out` (unnormalised).
    pub fn contribute_child(
        &self,
        config: &Config,
        root: UnitIdx,
        facts: &ChildFacts,
        out: &mut Vec<Point>,
    ) {
        for (index, slot) in self.slots.iter().enumerate() {
            let Some(contribute) = slot.def.child else {
                continue;
            };
            let keep = match slot.filter {
                UascFilter::All => true,
                UascFilter::Exclude => !facts.uasc,
                UascFilter::Only => facts.uasc,
            };
            if keep {
                let mut emit = Emit::new(config, index as Slot, root, out);
                contribute(facts, &mut emit);
            }
        }
    }

    /// Appends every unit contribution of every slot to `out` (unnormalised).
    pub fn contribute_unit(
        &self,
        config: &Config,
        unit: UnitIdx,
        facts: &UnitFacts,
        out: &mut Vec<Point>,
    ) {
        let root = config.root_of(config.unit(unit).la);
        for (index, slot) in self.slots.iter().enumerate() {
            if let Some(contribute) = slot.def.unit {
                let mut emit = Emit::new(config, index as Slot, root, out);
                contribute(unit, facts, &mut emit);
            }
        }
    }
}

/// Where an indicator writes its contributions.
pub struct Emit<'a> {
    config: &'a Config,
    slot: Slot,
    root: UnitIdx,
    out: &'a mut Vec<Point>,
    candidates: Vec<Date>,
}

impl<'a> Emit<'a> {
    fn new(config: &'a Config, slot: Slot, root: UnitIdx, out: &'a mut Vec<Point>) -> Emit<'a> {
        Emit {
            config,
            slot,
            root,
            out,
            candidates: Vec::new(),
        }
    }

    /// The working-day calendar.
    pub fn calendar(&self) -> &'a WorkingCalendar {
        &self.config.calendar
    }

    /// The `n`-th working day after `date`.
    pub fn working_days_after(&self, date: Date, n: u32) -> Date {
        self.config.calendar.add_working_days(date, n)
    }

    /// The kind of a unit.
    pub fn unit_kind(&self, unit: UnitIdx) -> &'a str {
        &self.config.unit(unit).kind
    }

    /// A fact counted on `date` at `unit`.
    pub fn flow(&mut self, unit: UnitIdx, date: Date, num: i64, den: i64) {
        if num != 0 || den != 0 {
            self.out.push(Point {
                slot: self.slot,
                unit,
                date,
                num,
                den,
            });
        }
    }

    /// A fact counted on `date` at the child's responsible unit on that date
    /// (the root when there is none).
    pub fn flow_responsible(&mut self, facts: &ChildFacts, date: Date, num: i64, den: i64) {
        let unit = facts.unit_at(date).unwrap_or(self.root);
        self.flow(unit, date, num, den);
    }

    /// A membership `[from, to)` at `unit`.
    pub fn span(&mut self, unit: UnitIdx, from: Date, to: Date, num: i64, den: i64) {
        if from >= to || (num == 0 && den == 0) {
            return;
        }
        self.flow(unit, from, num, den);
        if to != Date::MAX {
            self.flow(unit, to, -num, -den);
        }
    }

    /// Adds a date at which a snapshot's answer may change.
    pub fn candidate(&mut self, date: Date) {
        if date != Date::MAX && date != Date::MIN {
            self.candidates.push(date);
        }
    }

    /// A snapshot membership: `eval(D)` gives (num, den) as at D, which must
    /// be constant between consecutive candidate dates (unit changes are added
    /// here) and zero before the first. Attributed to the responsible unit on
    /// each date (the root when there is none). Clears the candidates.
    pub fn snapshot(&mut self, facts: &ChildFacts, mut eval: impl FnMut(Date) -> (i64, i64)) {
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.extend(facts.unit_change_dates());
        candidates.sort_unstable();
        candidates.dedup();
        let mut open: Option<(Date, UnitIdx, i64, i64)> = None;
        for &date in &candidates {
            let (num, den) = eval(date);
            let unit = facts.unit_at(date).unwrap_or(self.root);
            if let Some((from, open_unit, open_num, open_den)) = open {
                if (open_unit, open_num, open_den) == (unit, num, den) {
                    continue;
                }
                self.span(open_unit, from, date, open_num, open_den);
                open = None;
            }
            if num != 0 || den != 0 {
                open = Some((date, unit, num, den));
            }
        }
        if let Some((from, unit, num, den)) = open {
            self.span(unit, from, Date::MAX, num, den);
        }
        candidates.clear();
        self.candidates = candidates;
    }
}

/// The smallest date D with `D - months` (clamped) on or after `date`: when a
/// condition "X <= D - N months" first holds.
pub fn first_date_months_after(date: Date, months: i32) -> Date {
    if date == Date::MAX || date == Date::MIN {
        return date;
    }
    let mut guess = date.add_months(months);
    while guess.add_days(-1).add_months(-months) >= date {
        guess = guess.add_days(-1);
    }
    while guess.add_months(-months) < date {
        guess = guess.add_days(1);
    }
    guess
}

/// The smallest date D whose R12M window starts after `date`: from D on, a
/// fact or interval ending on `date` no longer reaches the window.
pub fn first_date_r12m_starts_after(date: Date) -> Date {
    if date == Date::MAX || date == Date::MIN {
        return date;
    }
    let mut guess = date.add_months(12).add_days(-3);
    while Window::R12M.start(guess) <= date {
        guess = guess.add_days(1);
    }
    while Window::R12M.start(guess.add_days(-1)) > date {
        guess = guess.add_days(-1);
    }
    guess
}

/// 1 or 0.
pub(crate) fn one_if(condition: bool) -> i64 {
    i64::from(condition)
}

/// Review chain check (decision D15): reviews dated <= `date`, the first
/// within `first_limit`, the second within `second_months` of the first, each
/// later within 6 months of the previous, and the next not overdue at `date`.
pub(crate) fn review_chain_ok(
    reviews: impl Iterator<Item = Date>,
    date: Date,
    first_limit: Date,
    second_months: i32,
) -> bool {
    let mut previous: Option<Date> = None;
    let mut count = 0;
    for review in reviews.take_while(|review| *review <= date) {
        let limit = match (previous, count) {
            (None, _) => first_limit,
            (Some(last), 1) => last.add_months(second_months),
            (Some(last), _) => last.add_months(6),
        };
        if review > limit {
            return false;
        }
        previous = Some(review);
        count += 1;
    }
    match previous {
        None => false,
        Some(last) => {
            let next_due = if count == 1 {
                last.add_months(second_months)
            } else {
                last.add_months(6)
            };
            date <= next_due
        }
    }
}

#[cfg(test)]
mod tests;
