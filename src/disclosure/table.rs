//! Published tables and rows: the exact evaluations of one indicator, date
//! and window at every unit of an authority, with the policy applied.

use super::tree::{groups_of, protect, Group};
use super::{
    denominator_role, numerator_role, DisclosureError, Policy, Published, RagRule, Role, Symbol,
};
use crate::calendar::{Date, Month, Window};
use crate::config::{TargetSpec, UnitIdx};
use crate::contrib::Slot;
use crate::indicators::{Indicator, Kind, Query};
use crate::scorecard::{dot, small_denominator, Dot, Evaluation, Rag, Ratio, Reader};
use std::collections::HashMap;

/// One published evaluation: numerator, denominator, value and rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedEvaluation {
    /// The numerator (stored units: FTE in millionths).
    pub num: Published<i64>,
    /// The denominator; `z` for counts.
    pub den: Published<i64>,
    /// The value; `z` without a denominator, `x` without a population.
    pub value: Published<Ratio>,
    /// The rating (`None` when not rated), or `c` when withheld.
    pub rag: Published<Option<Rag>>,
    /// Whether the denominator is from 1 to 9; `c` when it is withheld.
    pub small_den: Published<bool>,
}

/// Publishes one table: `evaluations[i]` is the exact evaluation of the
/// indicator at cell `i`, and `groups` the additive relations between the
/// cells (a parent unit and its children).
pub fn publish_table(
    policy: &Policy,
    def: &Indicator,
    groups: &[Group],
    evaluations: &[Evaluation],
) -> Result<Vec<PublishedEvaluation>, DisclosureError> {
    let nums: Vec<i64> = evaluations.iter().map(|e| e.reading.num).collect();
    let dens: Vec<i64> = evaluations.iter().map(|e| e.reading.den).collect();
    let den_role = denominator_role(def);
    let withheld_of = |role: Option<Role>, values: &[i64]| -> Result<Vec<bool>, DisclosureError> {
        let mut withheld: Vec<bool> = values
            .iter()
            .map(|value| role == Some(Role::Count) && policy.is_small(*value))
            .collect();
        if role == Some(Role::Count) {
            protect(groups, values, &mut withheld)?;
        }
        Ok(withheld)
    };
    let den_withheld = withheld_of(den_role, &dens)?;
    let num_withheld = match numerator_role(def) {
        Role::FollowsDenominator => den_withheld.clone(),
        role => withheld_of(Some(role), &nums)?,
    };
    Ok(evaluations
        .iter()
        .enumerate()
        .map(|(cell, exact)| {
            let amount = |role: Option<Role>, withheld: bool, amount: i64| match role {
                None => Published::Symbol(Symbol::NotApplicable),
                Some(_) if withheld => Published::Symbol(Symbol::Confidential),
                Some(Role::Count) => policy.rounded(amount),
                // A rate's denominator without a configured population.
                Some(Role::Open) if def.query == Query::Population && amount == 0 => {
                    Published::Symbol(Symbol::NotAvailable)
                }
                Some(_) => Published::Shown(amount),
            };
            let num = amount(
                Some(numerator_role(def)),
                num_withheld[cell],
                exact.reading.num,
            );
            let den = amount(den_role, den_withheld[cell], exact.reading.den);
            let value_withheld = num_withheld[cell] || den_withheld[cell];
            let value = published_value(def, exact, value_withheld, num);
            let rag = match policy.rag() {
                RagRule::Never => Published::Shown(None),
                RagRule::UnlessSuppressed if value.is_withheld() => {
                    Published::Symbol(Symbol::Confidential)
                }
                _ => Published::Shown(exact.rag),
            };
            let small_den = if den.is_withheld() {
                Published::Symbol(Symbol::Confidential)
            } else {
                Published::Shown(small_denominator(def, exact.reading))
            };
            PublishedEvaluation {
                num,
                den,
                value,
                rag,
                small_den,
            }
        })
        .collect())
}

fn published_value(
    def: &Indicator,
    exact: &Evaluation,
    withheld: bool,
    num: Published<i64>,
) -> Published<Ratio> {
    if withheld {
        return Published::Symbol(Symbol::Confidential);
    }
    let Some(ratio) = exact.value else {
        return Published::Symbol(if def.query == Query::Population {
            Symbol::NotAvailable
        } else {
            Symbol::NotApplicable
        });
    };
    if def.kind == Kind::Count {
        // The published count (rounded, or k).
        return match num {
            Published::Shown(count) => Published::Shown(Ratio {
                numerator: i128::from(count),
                denominator: ratio.denominator,
            }),
            Published::Symbol(symbol) => Published::Symbol(symbol),
        };
    }
    if ratio.numerator != 0 && ratio.tenths() == 0 {
        Published::Symbol(Symbol::RoundsToZero)
    } else {
        Published::Shown(ratio)
    }
}

/// One published scorecard row (the published twin of [`crate::scorecard::Row`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedRow {
    /// The slot.
    pub slot: Slot,
    /// The unit.
    pub unit: UnitIdx,
    /// The as-of date.
    pub date: Date,
    /// As at the date.
    pub now: PublishedEvaluation,
    /// The value at the end of the previous month.
    pub month_ago: Published<Ratio>,
    /// The value at the end of the same month a year earlier.
    pub year_ago: Published<Ratio>,
    /// Direction of travel between the published values; `c` when either is withheld.
    pub dot: Published<Option<Dot>>,
    /// The rolling-3-month column of R12M indicators.
    pub r3m: Option<PublishedEvaluation>,
}

/// The units of one authority in configuration order, and their groups.
struct AuthorityTree {
    units: Vec<UnitIdx>,
    groups: Vec<Group>,
}

/// Published rows over a reader: tables are computed once per indicator,
/// authority, date and window, and kept.
pub struct Publisher<'r, 'a> {
    reader: &'r Reader<'a>,
    policy: &'r Policy,
    trees: Vec<AuthorityTree>,
    /// Per unit: its authority and its cell in that authority's tables.
    cells: Vec<(usize, usize)>,
    tables: HashMap<(Slot, usize, Date, Window), Vec<PublishedEvaluation>>,
}

impl<'r, 'a> Publisher<'r, 'a> {
    /// A publisher over `reader` applying `policy`.
    pub fn new(reader: &'r Reader<'a>, policy: &'r Policy) -> Result<Self, DisclosureError> {
        let config = reader.config;
        let mut trees: Vec<AuthorityTree> = Vec::with_capacity(config.authorities.len());
        let mut cells = vec![(0, 0); config.units.len()];
        for la in 0..config.authorities.len() {
            let units: Vec<UnitIdx> = config
                .unit_indices()
                .into_iter()
                .filter(|unit| config.unit(*unit).la.0 as usize == la)
                .collect();
            for (cell, unit) in units.iter().enumerate() {
                cells[unit.0 as usize] = (la, cell);
            }
            trees.push(AuthorityTree {
                units,
                groups: Vec::new(),
            });
        }
        for tree in &mut trees {
            let parents: Vec<Option<usize>> = tree
                .units
                .iter()
                .map(|unit| {
                    config
                        .unit(*unit)
                        .parent
                        .map(|parent| cells[parent.0 as usize].1)
                })
                .collect();
            tree.groups = groups_of(&parents)?;
        }
        Ok(Publisher {
            reader,
            policy,
            trees,
            cells,
            tables: HashMap::new(),
        })
    }

    /// The reader it publishes from.
    pub fn reader(&self) -> &'r Reader<'a> {
        self.reader
    }

    /// The published evaluation of `slot` at `unit` as at `date` over `window`.
    pub fn evaluate(
        &mut self,
        slot: Slot,
        unit: UnitIdx,
        date: Date,
        window: Window,
    ) -> Result<PublishedEvaluation, DisclosureError> {
        let (la, cell) = *self
            .cells
            .get(unit.0 as usize)
            .ok_or_else(|| DisclosureError::Tree(format!("no unit {}", unit.0)))?;
        let key = (slot, la, date, window);
        if !self.tables.contains_key(&key) {
            let tree = &self.trees[la];
            let evaluations: Vec<Evaluation> = tree
                .units
                .iter()
                .map(|unit| self.reader.evaluate(slot, *unit, date, window))
                .collect();
            let table = publish_table(
                self.policy,
                self.reader.def(slot),
                &tree.groups,
                &evaluations,
            )?;
            self.tables.insert(key, table);
        }
        self.tables
            .get(&key)
            .and_then(|table| table.get(cell))
            .copied()
            .ok_or_else(|| DisclosureError::Tree(format!("no cell {cell} for unit {}", unit.0)))
    }

    /// A published row as at `date`, comparing with the ends of the months
    /// before `month` (as [`Reader::row_at`]).
    pub fn row_at(
        &mut self,
        slot: Slot,
        unit: UnitIdx,
        date: Date,
        month: Month,
    ) -> Result<PublishedRow, DisclosureError> {
        let def = self.reader.def(slot);
        let window = def.window;
        let now = self.evaluate(slot, unit, date, window)?;
        let month_ago = self
            .evaluate(slot, unit, month.plus(-1).last_day(), window)?
            .value;
        let year_ago = self
            .evaluate(slot, unit, month.plus(-12).last_day(), window)?
            .value;
        let target: Option<&TargetSpec> = self.reader.target(slot, date);
        let dot = if now.value.is_withheld() || month_ago.is_withheld() {
            Published::Symbol(Symbol::Confidential)
        } else {
            Published::Shown(dot(
                def.polarity,
                target,
                now.value.shown(),
                month_ago.shown(),
            ))
        };
        let r3m = if window == Window::R12M {
            Some(self.evaluate(slot, unit, date, Window::R3M)?)
        } else {
            None
        };
        Ok(PublishedRow {
            slot,
            unit,
            date,
            now,
            month_ago,
            year_ago,
            dot,
            r3m,
        })
    }

    /// Every reported row of a unit for a month.
    pub fn unit_rows(
        &mut self,
        unit: UnitIdx,
        month: Month,
    ) -> Result<Vec<PublishedRow>, DisclosureError> {
        self.unit_rows_at(unit, month.last_day())
    }

    /// Every reported row of a unit as at a date (live values).
    pub fn unit_rows_at(
        &mut self,
        unit: UnitIdx,
        date: Date,
    ) -> Result<Vec<PublishedRow>, DisclosureError> {
        let slots: Vec<Slot> = self
            .reader
            .catalogue
            .reported()
            .map(|(slot, _)| slot)
            .collect();
        slots
            .into_iter()
            .map(|slot| self.row_at(slot, unit, date, date.month()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::Output;
    use crate::indicators::by_id;
    use crate::scorecard::{rag, value_of, Reading};

    /// la(0) -> north(1), south(2); north -> n1(3), n2(4); south -> s1(5).
    fn groups() -> Vec<Group> {
        groups_of(&[None, Some(0), Some(0), Some(1), Some(1), Some(2)]).unwrap()
    }

    fn evaluations(id: &str, readings: &[(i64, i64)]) -> Vec<Evaluation> {
        let def = by_id(id).unwrap();
        readings
            .iter()
            .map(|&(num, den)| {
                let reading = Reading { num, den };
                let value = value_of(def, reading);
                Evaluation {
                    reading,
                    value,
                    rag: rag(def, None, reading, value),
                }
            })
            .collect()
    }

    fn publish(policy: &Policy, id: &str, readings: &[(i64, i64)]) -> Vec<PublishedEvaluation> {
        publish_table(
            policy,
            by_id(id).unwrap(),
            &groups(),
            &evaluations(id, readings),
        )
        .unwrap()
    }

    const C: Published<i64> = Published::Symbol(Symbol::Confidential);

    #[test]
    fn counts_below_the_threshold_are_withheld_at_and_above_it_shown() {
        // SCS01 (open cases, a count). Threshold 6: 5 is withheld, 6 and 7 are not.
        let table = publish(
            &Policy::default(),
            "SCS01",
            &[(31, 0), (13, 0), (18, 0), (6, 0), (7, 0), (18, 0)],
        );
        let nums: Vec<_> = table.iter().map(|cell| cell.num).collect();
        assert_eq!(nums.iter().filter(|num| num.is_withheld()).count(), 0);
        assert_eq!(table[3].value.shown().map(|v| v.numerator), Some(6));
        assert_eq!(table[3].den, Symbol::NotApplicable);
        let table = publish(
            &Policy::default(),
            "SCS01",
            &[(30, 0), (12, 0), (18, 0), (5, 0), (7, 0), (18, 0)],
        );
        // n1 = 5 is withheld; its only sibling n2 (7) goes with it.
        let nums: Vec<_> = table.iter().map(|cell| cell.num).collect();
        assert_eq!(
            nums,
            vec![
                Published::Shown(30),
                Published::Shown(12),
                Published::Shown(18),
                C,
                C,
                Published::Shown(18)
            ]
        );
        assert!(table[3].value.is_withheld());
        // Zero is published.
        let table = publish(
            &Policy::default(),
            "SCS01",
            &[(18, 0), (0, 0), (18, 0), (0, 0), (0, 0), (18, 0)],
        );
        assert!(table.iter().all(|cell| !cell.num.is_withheld()));
    }

    #[test]
    fn a_percentage_with_a_withheld_numerator_is_withheld() {
        // CP01: n1 has 3 of 40 children; n2 10 of 60; south 20 of 50.
        // A rate (SCS02): the population is open, its absence is x.
        let table = publish(
            &Policy::default(),
            "SCS02",
            &[
                (25, 34_000_000),
                (22, 0),
                (3, 12_000_000),
                (10, 0),
                (12, 0),
                (3, 0),
            ],
        );
        assert_eq!(table[0].den, Published::Shown(34_000_000));
        assert_eq!(table[1].den, Symbol::NotAvailable);
        // South's 3 referrals are withheld, so are north's 22 (secondary),
        // then n1's 10: withheld values are c, with or without a population.
        assert_eq!(table[1].value, Symbol::Confidential);
        assert_eq!(table[2].value, Symbol::Confidential);
        assert_eq!(table[2].den, Published::Shown(12_000_000));
        assert_eq!(table[3].value, Symbol::Confidential);
        assert_eq!(table[4].num, Published::Shown(12));
        assert_eq!(table[4].value, Symbol::NotAvailable);
        let table = publish(
            &Policy::default(),
            "CP01",
            &[(33, 150), (13, 100), (20, 50), (3, 40), (10, 60), (20, 50)],
        );
        let n1 = table[3];
        assert_eq!((n1.num, n1.den), (C, Published::Shown(40)));
        assert_eq!(n1.value, Symbol::Confidential);
        assert_eq!(n1.rag, Symbol::Confidential);
        assert_eq!(n1.small_den, Published::Shown(false));
        // The numerator of n2 goes too (north less n2 would give n1); its
        // denominator and the other percentages stand.
        assert_eq!(table[4].num, C);
        assert_eq!(table[4].den, Published::Shown(60));
        assert_eq!(table[4].value, Symbol::Confidential);
        let north = table[1];
        assert_eq!(north.num, Published::Shown(13));
        assert_eq!(
            north.value,
            Published::Shown(Ratio {
                numerator: 1300,
                denominator: 100
            })
        );
        assert_eq!(north.rag, Published::Shown(None)); // no target here
    }

    #[test]
    fn a_lone_withheld_child_forces_its_parent_and_a_sibling_of_the_parent() {
        // South has one team, s1, with 4 referrals a month: south is 4 as
        // well; la less north would give south, so north goes, then north's
        // smallest team.
        let table = publish(
            &Policy::default(),
            "REF-M",
            &[(64, 0), (60, 0), (4, 0), (20, 0), (40, 0), (4, 0)],
        );
        let nums: Vec<_> = table.iter().map(|cell| cell.num).collect();
        assert_eq!(
            nums,
            vec![Published::Shown(64), C, C, C, Published::Shown(40), C]
        );
        // A denominator withheld hides an average's numerator (days) and value.
        let table = publish(
            &Policy::default(),
            "AD02",
            &[
                (4000, 20),
                (3000, 15),
                (1000, 5),
                (2000, 10),
                (1000, 5),
                (1000, 5),
            ],
        );
        assert_eq!(table[5].num, C);
        assert_eq!(table[5].den, C);
        assert_eq!(table[3].num, Published::Shown(2000));
    }

    #[test]
    fn rounding_publishes_multiples_and_k_for_non_zero_counts_rounding_to_zero() {
        let policy = Policy::new(1, 5, RagRule::UnlessSuppressed, vec![Output::Report]).unwrap();
        let table = publish(
            &policy,
            "SCS01",
            &[(40, 0), (19, 0), (21, 0), (2, 0), (17, 0), (21, 0)],
        );
        let nums: Vec<_> = table.iter().map(|cell| cell.num).collect();
        assert_eq!(
            nums,
            vec![
                Published::Shown(40),
                Published::Shown(20),
                Published::Shown(20),
                Published::Symbol(Symbol::RoundsToZero),
                Published::Shown(15),
                Published::Shown(20)
            ]
        );
        assert_eq!(table[3].value, Symbol::RoundsToZero);
        // A percentage that shows as 0.0% but is not zero is k: 1 in 4,000
        // (0.025%); 1 in 2,000 (0.05%) shows as 0.1%.
        let table = publish(
            &policy,
            "CP01",
            &[
                (2, 6000),
                (1, 4000),
                (1, 2000),
                (1, 4000),
                (0, 0),
                (1, 2000),
            ],
        );
        assert_eq!(table[2].value.shown().map(|v| v.tenths()), Some(1));
        assert_eq!(table[3].value, Symbol::RoundsToZero);
        assert_eq!(table[4].value, Symbol::NotApplicable);
        assert_eq!(table[4].num, Published::Shown(0));
    }

    #[test]
    fn rag_rules() {
        let def = by_id("CP01").unwrap();
        let target = TargetSpec::Bound {
            target: rust_decimal::Decimal::from(10),
            floor: rust_decimal::Decimal::from(20),
        };
        let readings = [(33, 150), (13, 100), (20, 50), (3, 40), (10, 60), (20, 50)];
        let exact: Vec<Evaluation> = readings
            .iter()
            .map(|&(num, den)| {
                let reading = Reading { num, den };
                let value = value_of(def, reading);
                Evaluation {
                    reading,
                    value,
                    rag: rag(def, Some(&target), reading, value),
                }
            })
            .collect();
        let with = |rule| {
            let policy = Policy::new(6, 1, rule, vec![]).unwrap();
            publish_table(&policy, def, &groups(), &exact).unwrap()[3].rag
        };
        assert_eq!(with(RagRule::UnlessSuppressed), Symbol::Confidential);
        assert_eq!(with(RagRule::Always), Published::Shown(Some(Rag::Green)));
        assert_eq!(with(RagRule::Never), Published::Shown(None));
    }
}
