//! The generator's state: the units, workers and children of the simulation,
//! the facts generated so far, the child being generated, and the helpers
//! that draw random numbers, pick units and record facts.

use super::dates::{age_at, birthday};
use super::facts::{EventType, Fact, NO_UNIT};
use super::render::json_string_literal;
use super::units::{Kind, UnitModel};
use super::{GenOptions, GenUnit, Scale, AVERAGE_LA_SHARE_OF_KENT, NATIONAL_AUTHORITIES};
use crate::calendar::{Date, WorkingCalendar};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A local authority of the leaves.
pub(super) struct Authority {
    /// Its id as a JSON string literal (quoted, escaped).
    pub(super) json: String,
}

/// A social worker of a unit's pool.
pub(super) struct Worker {
    /// Whether the worker holds a social work qualification.
    pub(super) qualified: bool,
}

/// What the rendering needs to know of a child once its history is generated.
pub(super) struct ChildRecord {
    /// Index of the child's authority.
    pub(super) authority: u16,
}

/// How a child enters the history: a new referral (the flows) or an open case
/// of the opening stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// Referred to a children's social work team.
    General,
    /// An unaccompanied asylum-seeking child arriving.
    Uasc,
    /// Referred to a disabled children's team.
    Disability,
    /// Referred for adoption or care leaver support.
    Support,
    /// Opening stock: a child in need.
    StockCin,
    /// Opening stock: on a child protection plan.
    StockCp,
    /// Opening stock: in care.
    StockCic,
    /// Opening stock: an unaccompanied asylum-seeking child in care.
    StockUascCic,
    /// Opening stock: a disabled child in need.
    StockDisabledCin,
    /// Opening stock: adoption or special guardianship support.
    StockSupport,
    /// Opening stock: a care leaver.
    StockCareLeaver,
}

/// The child being generated.
pub(super) struct ChildInProgress {
    /// Index of the child (its id is `c` and the index plus one).
    pub(super) index: u32,
    /// Index of the child's authority.
    pub(super) authority: u16,
    pub(super) date_of_birth: Date,
    /// Unaccompanied asylum-seeking child.
    pub(super) uasc: bool,
    /// Index of the child's first fact in the generator's facts.
    pub(super) first_fact: usize,
    /// The unit responsible for the case (the last one while closed).
    pub(super) unit: u16,
    /// Whether a case is open.
    pub(super) open: bool,
    /// Start of the current responsibility spell of the open case.
    pub(super) spell_start: Date,
    /// (unit, from, to) responsible-unit intervals of open cases; to =
    /// `OPEN_ENDED` while open.
    pub(super) case_spells: Vec<(u16, Date, Date)>,
    /// Child protection plans (from, to).
    pub(super) cp_plans: Vec<(Date, Date)>,
    /// Periods of care (from, to).
    pub(super) care_periods: Vec<(Date, Date)>,
    /// Child-in-need plans (from, to).
    pub(super) cin_plans: Vec<(Date, Date)>,
    /// Child protection plans started so far.
    pub(super) cp_plan_count: u32,
    /// Date of the last referral.
    pub(super) last_referral: Date,
}

impl ChildInProgress {
    /// A child without any case yet, responsible unit `unit`.
    pub(super) fn new(
        index: u32,
        authority: u16,
        date_of_birth: Date,
        uasc: bool,
        first_fact: usize,
        unit: u16,
    ) -> ChildInProgress {
        ChildInProgress {
            index,
            authority,
            date_of_birth,
            uasc,
            first_fact,
            unit,
            open: false,
            spell_start: date_of_birth,
            case_spells: Vec::new(),
            cp_plans: Vec::new(),
            care_periods: Vec::new(),
            cin_plans: Vec::new(),
            cp_plan_count: 0,
            last_referral: date_of_birth,
        }
    }
}

/// The whole simulation.
pub(super) struct Generator {
    /// The random generator of the facts.
    pub(super) rng: ChaCha8Rng,
    /// The seed (the noise has its own generator derived from it).
    pub(super) seed: u64,
    /// First day of the history.
    pub(super) start: Date,
    /// Last day of the history (inclusive).
    pub(super) end: Date,
    /// Monday to Friday (the generator knows no bank holidays).
    pub(super) weekdays: WorkingCalendar,
    /// Volumes as a multiple of Kent's.
    pub(super) scale: f64,
    /// Every fact generated so far.
    pub(super) facts: Vec<Fact>,
    /// The uid of the next fact.
    pub(super) next_uid: u32,
    /// The leaf units, in configuration order.
    pub(super) units: Vec<UnitModel>,
    /// The authorities of the leaves, in order of first appearance.
    pub(super) authorities: Vec<Authority>,
    /// The units of each authority, in configuration order.
    pub(super) units_of_authority: Vec<Vec<u16>>,
    /// Whether the leaves span several authorities (events then name theirs).
    pub(super) several_authorities: bool,
    /// Every worker of every unit.
    pub(super) workers: Vec<Worker>,
    /// Every child generated so far.
    pub(super) children: Vec<ChildRecord>,
    /// Open-case spells of every child: (unit, from, to, child).
    pub(super) case_spells: Vec<(u16, Date, Date, u32)>,
    /// The child being generated.
    pub(super) child: ChildInProgress,
}

impl Generator {
    /// A generator with the units, authorities and worker pools of `leaves`
    /// and no facts yet.
    pub(super) fn new(options: &GenOptions, leaves: &[GenUnit]) -> Self {
        let start = options.start;
        let end = start.add_months(options.months as i32).add_days(-1);
        let mut authorities: Vec<Authority> = Vec::new();
        let mut authority_names: Vec<&str> = Vec::new();
        let mut units = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            let authority = match authority_names.iter().position(|n| *n == leaf.la.as_str()) {
                Some(i) => i,
                None => {
                    authority_names.push(&leaf.la);
                    authorities.push(Authority {
                        json: json_string_literal(&leaf.la),
                    });
                    authority_names.len() - 1
                }
            };
            units.push(UnitModel::new(leaf, authority as u16));
        }
        let scale = match options.scale {
            Scale::Kent => 1.0,
            Scale::Small => 0.02,
            Scale::National => NATIONAL_AUTHORITIES * AVERAGE_LA_SHARE_OF_KENT,
        };
        let mut units_of_authority: Vec<Vec<u16>> = vec![Vec::new(); authorities.len()];
        for (i, u) in units.iter().enumerate() {
            units_of_authority[u.authority as usize].push(i as u16);
        }
        let mut generator = Generator {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            seed: options.seed,
            start,
            end,
            weekdays: WorkingCalendar::new(Vec::new()),
            scale,
            facts: Vec::new(),
            next_uid: 0,
            several_authorities: authorities.len() > 1,
            authorities,
            units_of_authority,
            units,
            workers: Vec::new(),
            children: Vec::new(),
            case_spells: Vec::new(),
            child: ChildInProgress::new(0, 0, start, false, 0, 0),
        };
        // Worker pools: about one worker per 17 expected open cases.
        let caseload: [fn(&UnitModel) -> f64; 1] = [|u| u.profile.caseload];
        let caseload_share = generator.shares(&caseload);
        for (i, share) in caseload_share.iter().enumerate() {
            let expected = share * 10_450.0 * scale;
            let n = ((expected / 17.0).round() as usize).max(3);
            for _ in 0..n {
                let worker = generator.workers.len() as u32;
                generator.units[i].workers.push(worker);
                generator.workers.push(Worker { qualified: true });
            }
            generator.units[i].unqualified = generator.workers.len() as u32;
            generator.workers.push(Worker { qualified: false });
        }
        generator
    }

    /// The `n`-th working day (Monday to Friday) after `date`; `date` itself for 0.
    pub(super) fn add_working_days(&self, date: Date, n: i32) -> Date {
        self.weekdays.add_working_days(date, n as u32)
    }

    // ------------------------------------------------------------ random helpers

    /// A uniform number in [0, 1).
    pub(super) fn uniform(&mut self) -> f64 {
        self.rng.gen::<f64>()
    }

    /// True with probability `p`.
    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.gen::<f64>() < p
    }

    /// Uniform integer in lo..=hi (lo when hi < lo).
    pub(super) fn int_between(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..=hi)
        }
    }

    /// A uniform date in first..=last (first when last < first).
    pub(super) fn date_between(&mut self, first: Date, last: Date) -> Date {
        Date::from_days(self.int_between(first.days(), last.days()))
    }

    /// Days drawn from an exponential distribution of mean `mean`.
    pub(super) fn exp_days(&mut self, mean: f64) -> i32 {
        let u: f64 = self.rng.gen::<f64>();
        (-(1.0 - u).ln() * mean).min(1.0e7) as i32
    }

    /// An index into `weights` picked with probability proportional to its weight.
    pub(super) fn pick_weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.uniform() * total;
        for (i, weight) in weights.iter().enumerate() {
            if x < *weight {
                return i;
            }
            x -= weight;
        }
        weights.len() - 1
    }

    /// Normalised per-unit shares from the first tier of weights with a positive total.
    pub(super) fn shares(&self, tiers: &[fn(&UnitModel) -> f64]) -> Vec<f64> {
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
    pub(super) fn pick_unit(&mut self, weight: &dyn Fn(&UnitModel) -> f64) -> Option<u16> {
        let candidates: Vec<(u16, f64)> = self.units_of_authority[self.child.authority as usize]
            .iter()
            .map(|&i| (i, weight(&self.units[i as usize]).max(0.0)))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let weights: Vec<f64> = candidates.iter().map(|c| c.1).collect();
        let i = self.pick_weighted(&weights);
        Some(candidates[i].0)
    }

    /// A children's social work team of the child's authority (any unit as a last resort).
    pub(super) fn pick_general(&mut self) -> u16 {
        if let Some(u) = self.pick_unit(&|u| {
            if u.kind == Kind::Cswt {
                u.profile.referrals_a_month + 1.0
            } else {
                0.0
            }
        }) {
            return u;
        }
        self.pick_unit(&|_| 1.0).unwrap_or(self.child.unit)
    }

    /// A children in care team of the child's authority, weighted by its
    /// children in care (UASC or not, as the child).
    pub(super) fn pick_cic_team(&mut self) -> Option<u16> {
        if self.child.uasc {
            self.pick_unit(&|u| {
                if u.kind == Kind::Cic {
                    u.profile.uasc_in_care + 1.0
                } else {
                    0.0
                }
            })
        } else {
            self.pick_unit(&|u| {
                if u.kind == Kind::Cic {
                    u.profile.in_care - u.profile.uasc_in_care + 1.0
                } else {
                    0.0
                }
            })
        }
    }

    /// The kind of the unit responsible for the child.
    pub(super) fn unit_kind(&self) -> Kind {
        self.units[self.child.unit as usize].kind
    }

    // ------------------------------------------------------------ facts of the current child

    /// Records a fact of the current child (unless dated outside the history)
    /// and returns its uid. See [`Fact`] for the meaning of `code`, `primary`
    /// and `secondary`.
    pub(super) fn emit(
        &mut self,
        event_type: EventType,
        date: Date,
        unit: u16,
        code: u8,
        primary: u32,
        secondary: u32,
    ) -> Option<u32> {
        if date < self.start || date > self.end {
            return None;
        }
        let uid = self.next_uid;
        self.next_uid += 1;
        self.facts.push(Fact {
            uid,
            date,
            recorded_at: 0,
            child: self.child.index,
            unit,
            event_type,
            code,
            primary,
            secondary,
        });
        Some(uid)
    }

    /// A referral to `unit` on `d`, opening a case there if none is open.
    pub(super) fn referral(&mut self, unit: u16, d: Date) {
        self.emit(EventType::Referral, d, unit, 0, 0, 0);
        if !self.child.open {
            self.child.open = true;
            self.child.unit = unit;
            self.child.spell_start = d;
        }
        self.child.last_referral = d;
    }

    /// Transfers the case to `unit` on `d`.
    pub(super) fn transfer(&mut self, unit: u16, d: Date) {
        if unit == self.child.unit {
            return;
        }
        self.emit(EventType::CaseTransferred, d, unit, 0, 0, 0);
        if self.child.open {
            self.child
                .case_spells
                .push((self.child.unit, self.child.spell_start, d));
            self.child.spell_start = d;
        }
        self.child.unit = unit;
    }

    /// Closes the open case on d; returns d.
    pub(super) fn close_at(&mut self, d: Date, reason: u8) -> Date {
        if !self.child.open {
            return d;
        }
        let r = if self.chance(0.7) { reason } else { 0 };
        self.emit(EventType::CaseClosed, d, NO_UNIT, r, 0, 0);
        self.child
            .case_spells
            .push((self.child.unit, self.child.spell_start, d));
        self.child.open = false;
        d
    }

    /// A care leaver's contact on `d` at `age`.
    pub(super) fn contact(&mut self, d: Date, age: i32) {
        let young = age <= 17;
        let mut code = 0u8;
        if self.chance(if young { 0.97 } else { 0.85 }) {
            code |= 1;
            if self.chance(if young { 0.98 } else { 0.93 }) {
                code |= 2;
            }
            if self.chance(if young { 0.8 } else { 0.63 }) {
                code |= 4;
            }
        }
        self.emit(EventType::CareLeaverContact, d, NO_UNIT, code, 0, 0);
    }

    /// The child's age in whole years on `d`.
    pub(super) fn age(&self, d: Date) -> i32 {
        age_at(self.child.date_of_birth, d)
    }

    /// The child's 18th birthday.
    pub(super) fn eighteenth_birthday(&self) -> Date {
        birthday(self.child.date_of_birth, 18)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn working_days_are_monday_to_friday() {
        let leaves = vec![GenUnit {
            id: "t".into(),
            kind: "cswt".into(),
            la: "x".into(),
        }];
        let options = GenOptions {
            seed: 1,
            start: d("2017-01-01"),
            months: 1,
            scale: Scale::Small,
            messy: false,
        };
        let generator = Generator::new(&options, &leaves);
        assert_eq!(generator.end, d("2017-01-31"));
        // Friday + 1 working day is the Monday.
        assert_eq!(
            generator.add_working_days(d("2017-01-06"), 1),
            d("2017-01-09")
        );
        assert_eq!(
            generator.add_working_days(d("2017-01-06"), 0),
            d("2017-01-06")
        );
        assert_eq!(
            generator.add_working_days(d("2017-01-02"), 5),
            d("2017-01-09")
        );
        // Outside the calendar's table as well.
        assert_eq!(
            generator.add_working_days(d("1980-01-04"), 1),
            d("1980-01-07")
        );
    }
}
