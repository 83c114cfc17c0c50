//! Disclosure control, tested as a property: over random unit trees and
//! counts, and over random histories replayed through the engine at every
//! month end, no withheld count of the published tables can be worked out
//! from the published ones, every shown count is the exact one (or its
//! rounding), and every count below the threshold is withheld.
//!
//! "Cannot be worked out" is checked twice: by the rule the policy follows
//! (no parent unit with its children holds exactly one withheld count), and
//! independently by linear algebra: a withheld count is determined by the
//! published relations "parent = sum of children" exactly when its unit
//! vector lies in the row space of those relations over the withheld counts.

mod common;
#[allow(dead_code)]
mod model;
use common::engine::Harness;
use proptest::prelude::*;
use ragline::calendar::{Month, Window};
use ragline::disclosure::table::{publish_table, PublishedEvaluation, Publisher};
use ragline::disclosure::tree::groups_of;
use ragline::disclosure::{
    denominator_role, numerator_role, Output, Policy, Published, RagRule, Role, Symbol,
};
use ragline::indicators::{by_id, Indicator, Kind, Query};
use ragline::scorecard::{rag, value_of, Evaluation, Reading};

/// Whether the withheld cell `target` is determined by the relations
/// "parent = sum of children" given every published cell: Gaussian
/// elimination over the rationals (integers, fraction-free) on the
/// relations restricted to the withheld cells.
fn determined(parents: &[Option<usize>], withheld: &[bool], target: usize) -> bool {
    let unknowns: Vec<usize> = (0..withheld.len()).filter(|cell| withheld[*cell]).collect();
    let column = |cell: usize| unknowns.iter().position(|unknown| *unknown == cell);
    let mut rows: Vec<Vec<i128>> = Vec::new();
    for parent in 0..parents.len() {
        let children: Vec<usize> = (0..parents.len())
            .filter(|child| parents[*child] == Some(parent))
            .collect();
        if children.is_empty() {
            continue;
        }
        let mut row = vec![0i128; unknowns.len()];
        if let Some(index) = column(parent) {
            row[index] += 1;
        }
        for child in children {
            if let Some(index) = column(child) {
                row[index] -= 1;
            }
        }
        rows.push(row);
    }
    let rank_without = rank(rows.clone());
    let mut unit = vec![0i128; unknowns.len()];
    unit[column(target).expect("a withheld cell")] = 1;
    rows.push(unit);
    rank(rows) == rank_without
}

fn rank(mut rows: Vec<Vec<i128>>) -> usize {
    let columns = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for column in 0..columns {
        let Some(pivot) = (rank..rows.len()).find(|row| rows[*row][column] != 0) else {
            continue;
        };
        rows.swap(rank, pivot);
        for row in 0..rows.len() {
            if row != rank && rows[row][column] != 0 {
                let (a, b) = (rows[rank][column], rows[row][column]);
                let pivot_row = rows[rank].clone();
                for (x, p) in rows[row].iter_mut().zip(&pivot_row) {
                    *x = *x * a - p * b;
                }
                let divisor = rows[row].iter().fold(0i128, |g, x| gcd(g, x.abs()));
                if divisor > 1 {
                    for x in &mut rows[row] {
                        *x /= divisor;
                    }
                }
            }
        }
        rank += 1;
    }
    rank
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Every property of one published table against the exact evaluations.
fn check_table(
    policy: &Policy,
    def: &Indicator,
    parents: &[Option<usize>],
    exact: &[Evaluation],
    published: &[PublishedEvaluation],
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(exact.len(), published.len());
    type Component = (Option<Role>, Vec<i64>, Vec<Published<i64>>);
    let components: [Component; 2] = [
        (
            Some(numerator_role(def)),
            exact.iter().map(|e| e.reading.num).collect(),
            published.iter().map(|p| p.num).collect(),
        ),
        (
            denominator_role(def),
            exact.iter().map(|e| e.reading.den).collect(),
            published.iter().map(|p| p.den).collect(),
        ),
    ];
    for (component, (role, exact, shown)) in components.iter().enumerate() {
        let withheld: Vec<bool> = shown.iter().map(|cell| cell.is_withheld()).collect();
        for cell in 0..exact.len() {
            let at = format!(
                "{what}: component {component}, cell {cell}, exact {}",
                exact[cell]
            );
            match role {
                None => prop_assert_eq!(
                    shown[cell],
                    Published::Symbol(Symbol::NotApplicable),
                    "{}",
                    at
                ),
                Some(Role::Open) if def.query == Query::Population && exact[cell] == 0 => {
                    prop_assert_eq!(
                        shown[cell],
                        Published::Symbol(Symbol::NotAvailable),
                        "{}",
                        at
                    )
                }
                Some(Role::Open) => {
                    prop_assert_eq!(shown[cell], Published::Shown(exact[cell]), "{}", at)
                }
                Some(Role::FollowsDenominator) => {
                    let den_withheld = published[cell].den.is_withheld();
                    prop_assert_eq!(withheld[cell], den_withheld, "{}", at);
                    if !den_withheld {
                        prop_assert_eq!(shown[cell], Published::Shown(exact[cell]), "{}", at);
                    }
                }
                Some(Role::Count) => {
                    // Below the threshold: withheld.
                    if exact[cell] >= 1 && exact[cell] < policy.threshold() {
                        prop_assert!(withheld[cell], "{} shown below the threshold", at);
                    }
                    // Shown: the exact count rounded to the base (half up), k
                    // only for a non-zero count rounding to zero.
                    let base = policy.round_to();
                    let remainder = exact[cell] % base;
                    let rounded = if 2 * remainder >= base {
                        exact[cell] - remainder + base
                    } else {
                        exact[cell] - remainder
                    };
                    match shown[cell] {
                        Published::Shown(count) => {
                            prop_assert_eq!(count, rounded, "{}", at);
                            prop_assert!(count != 0 || exact[cell] == 0, "{}", at);
                        }
                        Published::Symbol(Symbol::RoundsToZero) => {
                            prop_assert!(exact[cell] != 0 && rounded == 0, "{}", at)
                        }
                        Published::Symbol(Symbol::Confidential) => {}
                        other => prop_assert!(false, "{}: {:?}", at, other),
                    }
                }
            }
        }
        if matches!(role, Some(Role::Count | Role::FollowsDenominator)) {
            // The rule: no parent and its children hold exactly one withheld cell.
            for parent in 0..parents.len() {
                let children: Vec<usize> = (0..parents.len())
                    .filter(|child| parents[*child] == Some(parent))
                    .collect();
                if children.is_empty() {
                    continue;
                }
                let lone = std::iter::once(parent)
                    .chain(children.iter().copied())
                    .filter(|cell| withheld[*cell])
                    .count();
                prop_assert!(
                    lone != 1,
                    "{}: component {}, the group of {} has one withheld cell",
                    what,
                    component,
                    parent
                );
            }
            // Independently: no withheld cell is determined.
            for cell in 0..withheld.len() {
                if withheld[cell] {
                    prop_assert!(
                        !determined(parents, &withheld, cell),
                        "{}: component {}, cell {} can be worked out",
                        what,
                        component,
                        cell
                    );
                }
            }
        }
    }
    // A value is shown exactly when its counts are, and then equals the exact one.
    for (cell, (exact, shown)) in exact.iter().zip(published).enumerate() {
        let at = format!("{what}: value of cell {cell}");
        let counts_withheld = shown.num.is_withheld() || shown.den.is_withheld();
        prop_assert_eq!(shown.value.is_withheld(), counts_withheld, "{}", at);
        if let Published::Shown(value) = shown.value {
            if def.kind == Kind::Count {
                prop_assert_eq!(
                    Published::Shown(value.numerator as i64),
                    shown.num,
                    "{}",
                    at
                );
            } else {
                prop_assert_eq!(Some(value), exact.value, "{}", at);
                prop_assert!(value.numerator == 0 || value.tenths() != 0, "{}", at);
            }
        }
        if counts_withheld && policy.rag() == RagRule::UnlessSuppressed {
            prop_assert!(shown.rag.is_withheld(), "{}: rating shown", at);
        }
    }
    Ok(())
}

/// A random forest (one or two authorities) and counts: leaves drawn small
/// (mostly 0 to 12), parents the sums of their children, roots sometimes
/// with a remainder of their own (facts without a responsible unit).
fn forest() -> impl Strategy<Value = (Vec<Option<usize>>, Vec<(i64, i64)>, bool)> {
    (2usize..18, any::<u64>(), any::<bool>()).prop_map(|(size, seed, residual)| {
        let mut rng = common::Rng(seed);
        let mut parents = vec![None];
        for node in 1..size {
            // Now and then a second root (another authority).
            if node == size / 2 && rng.chance(25) {
                parents.push(None);
            } else {
                parents.push(Some(rng.below(node as u64) as usize));
            }
        }
        let leaf = |rng: &mut common::Rng| {
            let den = if rng.chance(80) {
                rng.below(13)
            } else {
                rng.below(120)
            } as i64;
            let num = if den == 0 {
                0
            } else {
                rng.below(den as u64 + 1) as i64
            };
            (num, den)
        };
        let mut values: Vec<(i64, i64)> = (0..size).map(|_| leaf(&mut rng)).collect();
        // Parents are the sums of their children (children come after parents).
        for node in (0..size).rev() {
            let has_children = parents.contains(&Some(node));
            if has_children {
                let (mut num, mut den) = (0, 0);
                for child in 0..size {
                    if parents[child] == Some(node) {
                        num += values[child].0;
                        den += values[child].1;
                    }
                }
                if residual && parents[node].is_none() {
                    let extra = rng.below(3) as i64;
                    num += extra;
                    den += extra;
                }
                values[node] = (num, den);
            }
        }
        (parents, values, residual)
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        1i64..12,
        prop_oneof![Just(1i64), Just(2), Just(5), Just(10)],
        0usize..3,
    )
        .prop_map(|(threshold, round_to, rule)| {
            let rule = [RagRule::UnlessSuppressed, RagRule::Always, RagRule::Never][rule];
            Policy::new(threshold, round_to, rule, vec![Output::Report]).expect("a valid policy")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any tree, any counts: percentages, counts, averages and rates.
    #[test]
    fn no_withheld_count_of_a_random_tree_can_be_worked_out(
        tree in forest(),
        policy in policy(),
        kind in 0usize..4,
    ) {
        let (parents, values, _residual) = tree;
        let id = ["CP01", "SCS01", "AD02", "SCS02"][kind];
        let def = by_id(id).unwrap();
        let exact: Vec<Evaluation> = values
            .iter()
            .map(|&(num, den)| {
                let reading = Reading { num, den: if id == "SCS02" { den * 1_000_000 } else { den } };
                let value = value_of(def, reading);
                Evaluation { reading, value, rag: rag(def, None, reading, value) }
            })
            .collect();
        let groups = groups_of(&parents).unwrap();
        let published = publish_table(&policy, def, &groups, &exact).unwrap();
        check_table(&policy, def, &parents, &exact, &published, id)?;
    }
}

/// The test tree of `tests/common` (la; north, south; four teams) as parents.
fn engine_parents(harness: &Harness) -> Vec<Option<usize>> {
    let config = harness.engine.config();
    config
        .units
        .iter()
        .map(|unit| unit.parent.map(|parent| parent.0 as usize))
        .collect()
}

fn check_history(seed: u64, children: usize, policy: &Policy) -> Result<(), TestCaseError> {
    let facts = common::random_history(seed, children, 30);
    let harness = Harness::new(&common::cfg(), &facts, 5000);
    let engine = &harness.engine;
    let reader = engine.reader();
    let parents = engine_parents(&harness);
    let units = engine.config().unit_indices();
    let mut publisher = Publisher::new(&reader, policy).unwrap();
    let mut withheld = 0usize;
    let mut month = Month::new(2015, 1).unwrap();
    while month <= Month::new(2019, 6).unwrap() {
        let date = month.last_day();
        for (slot, slot_def) in engine.catalogue().reported() {
            let windows: &[Window] = if slot_def.def.window == Window::R12M {
                &[Window::R12M, Window::R3M]
            } else {
                std::slice::from_ref(&slot_def.def.window)
            };
            for &window in windows {
                let exact: Vec<Evaluation> = units
                    .iter()
                    .map(|unit| reader.evaluate(slot, *unit, date, window))
                    .collect();
                let published: Vec<PublishedEvaluation> = units
                    .iter()
                    .map(|unit| publisher.evaluate(slot, *unit, date, window).unwrap())
                    .collect();
                let what = format!("{} {month} {window:?} (seed {seed})", slot_def.id);
                check_table(policy, slot_def.def, &parents, &exact, &published, &what)?;
                withheld += published
                    .iter()
                    .filter(|cell| cell.num.is_withheld())
                    .count();
            }
            // A row's columns are the tables of their dates.
            for unit in &units {
                let row = publisher.row_at(slot, *unit, date, month).unwrap();
                let before = publisher
                    .evaluate(slot, *unit, month.plus(-1).last_day(), slot_def.def.window)
                    .unwrap();
                prop_assert_eq!(row.month_ago, before.value);
                if row.now.value.is_withheld() || before.value.is_withheld() {
                    prop_assert!(row.dot.is_withheld());
                }
            }
        }
        month = month.plus(1);
    }
    // Small histories have small counts: something was withheld.
    prop_assert!(withheld > 0 || policy.threshold() == 1);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random histories through the engine: every indicator, window and
    /// month end of 2015 to mid-2019.
    #[test]
    fn no_withheld_count_of_a_replayed_history_can_be_worked_out(
        seed in any::<u64>(),
        children in 4usize..24,
        policy in policy(),
    ) {
        check_history(seed, children, &policy)?;
    }
}

/// The checker finds what it is meant to find: a table with one withheld
/// team and its published siblings fails it.
#[test]
fn the_checker_catches_a_lone_withheld_cell() {
    // la(0) -> a(1) -> t1(2), t2(3).
    let parents = [None, Some(0), Some(1), Some(1)];
    assert!(determined(&parents, &[false, false, true, false], 2));
    assert!(!determined(&parents, &[false, false, true, true], 2));
    // Two levels: a and t1 withheld, la and t2 published: a = la, so t1 = a - t2.
    assert!(determined(&parents, &[false, true, true, false], 2));
    let def = by_id("SCS01").unwrap();
    let exact: Vec<Evaluation> = [10, 10, 3, 7]
        .iter()
        .map(|&num| {
            let reading = Reading { num, den: 0 };
            Evaluation {
                reading,
                value: value_of(def, reading),
                rag: None,
            }
        })
        .collect();
    let mut published: Vec<PublishedEvaluation> = publish_table(
        &Policy::default(),
        def,
        &groups_of(&parents).unwrap(),
        &exact,
    )
    .unwrap();
    assert!(check_table(&Policy::default(), def, &parents, &exact, &published, "ok").is_ok());
    // Publish t2 (7) by hand: t1 = a - t2 = 3 could be worked out.
    published[3].num = Published::Shown(7);
    published[3].value = Published::Shown(exact[3].value.unwrap());
    assert!(check_table(
        &Policy::default(),
        def,
        &parents,
        &exact,
        &published,
        "broken"
    )
    .is_err());
}
