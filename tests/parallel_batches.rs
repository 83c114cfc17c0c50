//! Large batches are decoded and re-folded on several threads
//! (`processing.threads`); nothing may depend on it. For random messy
//! histories:
//! - an engine on four threads and one on a single thread, each given the
//!   whole history as one batch, hold byte-identical state (every column
//!   family, every key and value), and still do after further events in
//!   small batches;
//! - an engine given the same history in random smaller batches on one
//!   thread holds the same ledger and series, and reports the same month-end
//!   scorecard for every unit and closed month (its recorded month ends
//!   differ only in how often they were restated on the way).

mod common;
#[allow(dead_code)]
mod model;
use common::engine::{closed_month_scorecards, config_text, family_records};
use common::*;
use proptest::prelude::*;
use ragline::config::Config;
use ragline::event::RawMessage;
use ragline::pipeline::{Engine, Mode};
use ragline::store::Family;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// An engine on `threads` threads over a temporary state directory.
struct Engined {
    engine: Engine,
    _directory: tempfile::TempDir,
}

impl Engined {
    fn new(threads: usize) -> Engined {
        let text = format!(
            "{}\n[processing]\nthreads = {threads}\n",
            config_text(&cfg())
        );
        let config = Config::parse(&text, Path::new("test.toml")).expect("test config parses");
        let directory = tempfile::tempdir().unwrap();
        let engine = Engine::open(Arc::new(config), directory.path(), Mode::Replay).unwrap();
        Engined {
            engine,
            _directory: directory,
        }
    }

    /// Feeds `events` in batches of the given sizes, cycling through them.
    fn feed(&mut self, events: &[Value], sizes: &[usize]) {
        let messages = RawMessage::file_lines("test", events.iter().map(Value::to_string));
        let mut start = 0;
        for &size in sizes.iter().cycle() {
            if start >= messages.len() {
                break;
            }
            let end = (start + size.max(1)).min(messages.len());
            let outcome = self.engine.run_batch(&messages[start..end], None).unwrap();
            assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
            start = end;
        }
    }

    /// Every key and value of a column family, in key order.
    fn family(&self, family: Family) -> Vec<(Vec<u8>, Vec<u8>)> {
        family_records(&self.engine, family)
    }

    /// The month-end scorecard of every unit, as JSON, for every closed month.
    fn scorecards(&self) -> Vec<String> {
        closed_month_scorecards(&self.engine)
    }
}

/// A history and its messy delivery, large enough that a whole-history
/// batch takes the parallel path (more than 64 messages and owners).
fn history(seed: u64) -> (Vec<Value>, Vec<Value>) {
    let facts = random_history(seed, 90, 12);
    let arrivals = messy(&facts, seed);
    (facts, arrivals)
}

/// Later events for the same children: another history's facts under new
/// event ids.
fn later_events(seed: u64) -> Vec<Value> {
    let mut events = random_history(seed ^ 0x1a7e, 90, 3);
    for event in &mut events {
        let id = event["event_id"].as_str().unwrap().to_string();
        event["event_id"] = Value::from(format!("later-{id}"));
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn threads_change_no_byte_of_the_state(seed in any::<u64>(), small in 1usize..40) {
        let (_, arrivals) = history(seed);
        prop_assume!(arrivals.len() > 64);
        let mut parallel = Engined::new(4);
        let mut single = Engined::new(1);
        parallel.feed(&arrivals, &[arrivals.len()]);
        single.feed(&arrivals, &[arrivals.len()]);
        for family in Family::ALL {
            prop_assert!(parallel.family(family) == single.family(family), "{family:?} differs (seed {seed})");
        }
        // Then live: small batches (one thread either way) after a large one.
        let later = later_events(seed);
        parallel.feed(&later, &[small]);
        single.feed(&later, &[small]);
        for family in Family::ALL {
            prop_assert!(parallel.family(family) == single.family(family), "{family:?} differs after later events (seed {seed})");
        }
        prop_assert_eq!(parallel.scorecards(), single.scorecards());
    }

    #[test]
    fn one_large_batch_equals_many_small_ones(seed in any::<u64>(), sizes in proptest::collection::vec(1usize..300, 1..6)) {
        let (_, arrivals) = history(seed);
        let mut whole = Engined::new(0);
        let mut batches = Engined::new(1);
        whole.feed(&arrivals, &[arrivals.len()]);
        batches.feed(&arrivals, &sizes);
        for family in [Family::Ledger, Family::Owners, Family::Series] {
            prop_assert!(whole.family(family) == batches.family(family), "{family:?} differs (seed {seed}, batches {sizes:?})");
        }
        prop_assert_eq!(whole.engine.clock(), batches.engine.clock());
        let scorecards = whole.scorecards();
        prop_assert!(!scorecards.is_empty());
        prop_assert_eq!(&scorecards, &batches.scorecards());
        let later = later_events(seed);
        whole.feed(&later, &[7]);
        batches.feed(&later, &[7]);
        for family in [Family::Ledger, Family::Owners, Family::Series] {
            prop_assert!(whole.family(family) == batches.family(family), "{family:?} differs after later events (seed {seed})");
        }
        prop_assert_eq!(whole.scorecards(), batches.scorecards());
    }
}
