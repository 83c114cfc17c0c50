//! The invariant, tested: for random histories delivered in random orders,
//! with duplicates, earlier revisions carrying wrong content (even another
//! child), voided extra events and random batch boundaries, every indicator
//! value the engine reports for every unit at month ends and random dates
//! equals the reference model's from-scratch value over the surviving events.

mod common;
#[allow(dead_code)]
mod model;
use common::engine::Harness;
use common::*;
use model::*;
use proptest::prelude::*;
use serde_json::Value;

const UNITS: &[&str] = &["la", "north", "south", "n-cswt", "n-cic", "s-cswt", "s-cic"];

fn dates(seed: u64) -> Vec<chrono::NaiveDate> {
    let mut rng = Rng(seed ^ 0xda7e);
    let mut out = Vec::new();
    for year in 2015..=2019 {
        for month in 1..=12 {
            let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
            let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
            out.push(next.pred_opt().unwrap());
        }
    }
    for _ in 0..12 {
        out.push(d("2015-01-01") + chrono::Duration::days(rng.below(1700) as i64));
    }
    out
}

fn compare(
    facts: &[Value],
    arrivals: &[Value],
    seed: u64,
    batch: usize,
) -> Result<(), TestCaseError> {
    let config = cfg();
    let model = Model::new(&config, facts);
    let harness = Harness::new(&config, arrivals, batch);
    for date in dates(seed) {
        for indicator in ALL_INDICATORS {
            let windows: &[Window] =
                if ["REF-M", "CPS-M", "CPE-M", "CICS-M", "CICE-M"].contains(indicator) {
                    &[Window::M, Window::Ytd]
                } else {
                    &[Window::R12M, Window::R3M]
                };
            for &window in windows {
                for unit in UNITS {
                    for filter in [UascFilter::All, UascFilter::Exclude] {
                        let expected = model.value(indicator, filter, unit, date, window);
                        let got = harness.value(indicator, filter, unit, date, window);
                        prop_assert!(
                            (expected.num - got.0).abs() < 1e-6 && (expected.den - got.1).abs() < 1e-6,
                            "{indicator} {filter:?} {unit} {date} {window:?}: model {:?}, engine {:?} (seed {seed})",
                            (expected.num, expected.den),
                            got
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Messy delivery of a random history equals the model over the clean facts.
    #[test]
    fn engine_equals_model_whatever_the_delivery(seed in any::<u64>(), batch in 1usize..400) {
        let facts = random_history(seed, 6, 45);
        let arrivals = messy(&facts, seed);
        compare(&facts, &arrivals, seed, batch)?;
    }

    /// The same on histories whose dates sit on the contract's boundaries.
    #[test]
    fn engine_equals_model_on_boundary_dates(seed in any::<u64>(), batch in 1usize..300) {
        let facts = boundary_history(seed, 10, 30);
        let arrivals = messy(&facts, seed);
        compare(&facts, &arrivals, seed, batch)?;
    }
}

/// Fixed cases found by the property test, kept as regressions.
#[test]
fn clean_single_batch_history_equals_model() {
    let facts = random_history(7, 8, 50);
    compare(&facts, &facts, 7, 100_000).unwrap();
}
