//! The bulk rebuild (a replay into an empty state, `docs/scorecard.md`,
//! "Bulk rebuild") is a second driver of the batch steps; nothing may tell
//! the two apart. For random messy histories with malformed lines among
//! them:
//! - a bulk rebuild, spilling to disk with a small memory budget or not at
//!   all, on one thread or on every core, holds byte-identical state (every
//!   column family: ledger, owners, series, recorded month ends, live
//!   values, outbox with its dead letters, positions, clock, totals) to
//!   the batch driver given the whole history as one batch, and still does
//!   after further events in small batches;
//! - it holds the same ledger and series, and reports the same month-end
//!   scorecards for every unit and closed month, as the batch driver given
//!   the history in random small batches, also after further events.

mod common;
#[allow(dead_code)]
mod model;
use common::engine::{closed_month_scorecards, config_text, family_records};
use common::*;
use proptest::prelude::*;
use ragline::config::Config;
use ragline::event::RawMessage;
use ragline::pipeline::{Engine, EngineError, Mode, RebuildOptions};
use ragline::store::Family;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn config(threads: usize) -> Arc<Config> {
    let text = format!(
        "{}\n[processing]\nthreads = {threads}\n",
        config_text(&cfg())
    );
    Arc::new(Config::parse(&text, Path::new("test.toml")).expect("test config parses"))
}

/// An engine over a temporary state directory, emitting every output.
struct Engined {
    engine: Engine,
    directory: tempfile::TempDir,
}

impl Engined {
    fn new(threads: usize) -> Engined {
        let directory = tempfile::tempdir().unwrap();
        let mut engine = Engine::open(config(threads), directory.path(), Mode::Replay).unwrap();
        engine.set_emit_outputs(true);
        Engined { engine, directory }
    }

    /// The batch driver: `messages` in batches of the given sizes, cycling.
    fn batches(&mut self, messages: &[RawMessage], sizes: &[usize]) {
        let mut start = 0;
        for &size in sizes.iter().cycle() {
            if start >= messages.len() {
                break;
            }
            let end = (start + size.max(1)).min(messages.len());
            self.engine.run_batch(&messages[start..end], None).unwrap();
            start = end;
        }
    }

    /// The bulk driver: `messages` fed in pieces of `piece`, holding at
    /// most `in_memory` events.
    fn rebuild(&mut self, messages: &[RawMessage], piece: usize, in_memory: usize) {
        assert!(self.engine.is_fresh());
        let options = RebuildOptions {
            events_in_memory: in_memory,
            spill_dir: self.directory.path().join("rebuild-spill"),
        };
        let mut rebuild = self.engine.begin_rebuild(options).unwrap();
        for chunk in messages.chunks(piece.max(1)) {
            rebuild.feed(chunk).unwrap();
        }
        let outcome = rebuild.finish().unwrap();
        assert_eq!(outcome.consumed, messages.len() as u64);
        assert!(
            !self.directory.path().join("rebuild-spill").exists(),
            "spill files are removed"
        );
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

/// A messy delivery of a random history with malformed lines among it
/// (dead letters), as file lines.
fn arrivals(seed: u64) -> Vec<RawMessage> {
    let facts = random_history(seed, 90, 12);
    let mut lines: Vec<String> = messy(&facts, seed).iter().map(Value::to_string).collect();
    let step = (seed % 37 + 5) as usize;
    let mut at = step;
    let mut kind = 0;
    while at < lines.len() {
        let bad = match kind % 3 {
            0 => "not json at all".to_string(),
            1 => "{\"event_id\":\"x\",\"event_type\":\"no_such_type\"}".to_string(),
            _ => "[1,2,3]".to_string(),
        };
        lines.insert(at, bad);
        kind += 1;
        at += step * 7;
    }
    RawMessage::file_lines("history.jsonl", lines)
}

/// Later events for the same children: another history's facts under new
/// event ids.
fn later(seed: u64) -> Vec<RawMessage> {
    let mut events = random_history(seed ^ 0x1a7e, 90, 3);
    for event in &mut events {
        let id = event["event_id"].as_str().unwrap().to_string();
        event["event_id"] = Value::from(format!("later-{id}"));
    }
    RawMessage::file_lines("later.jsonl", events.iter().map(Value::to_string))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_bulk_rebuild_is_byte_identical_to_one_whole_batch(
        seed in any::<u64>(),
        piece in 1usize..400,
        in_memory in prop_oneof![1usize..60, Just(usize::MAX)],
        threads in prop_oneof![Just(0usize), Just(1usize)],
        small in 1usize..40,
    ) {
        let messages = arrivals(seed);
        let mut bulk = Engined::new(threads);
        let mut whole = Engined::new(1);
        bulk.rebuild(&messages, piece, in_memory);
        whole.batches(&messages, &[messages.len()]);
        prop_assert!(!whole.family(Family::Outbox).is_empty());
        for family in Family::ALL {
            prop_assert!(bulk.family(family) == whole.family(family),
                "{family:?} differs (seed {seed}, piece {piece}, in memory {in_memory}, threads {threads})");
        }
        prop_assert_eq!(bulk.engine.clock(), whole.engine.clock());
        prop_assert_eq!(bulk.engine.totals(), whole.engine.totals());
        // Then live: further events in small batches to both.
        let later = later(seed);
        bulk.batches(&later, &[small]);
        whole.batches(&later, &[small]);
        for family in Family::ALL {
            prop_assert!(bulk.family(family) == whole.family(family),
                "{family:?} differs after later events (seed {seed})");
        }
        prop_assert_eq!(bulk.scorecards(), whole.scorecards());
    }

    #[test]
    fn a_bulk_rebuild_reports_what_small_batches_report(
        seed in any::<u64>(),
        sizes in proptest::collection::vec(1usize..300, 1..6),
        in_memory in 1usize..200,
    ) {
        let messages = arrivals(seed);
        let mut bulk = Engined::new(0);
        let mut batches = Engined::new(1);
        bulk.rebuild(&messages, 97, in_memory);
        batches.batches(&messages, &sizes);
        for family in [Family::Ledger, Family::Owners, Family::Series] {
            prop_assert!(bulk.family(family) == batches.family(family),
                "{family:?} differs (seed {seed}, batches {sizes:?})");
        }
        prop_assert_eq!(bulk.engine.clock(), batches.engine.clock());
        let scorecards = bulk.scorecards();
        prop_assert!(!scorecards.is_empty());
        prop_assert_eq!(&scorecards, &batches.scorecards());
        let later = later(seed);
        bulk.batches(&later, &[7]);
        batches.batches(&later, &[7]);
        for family in [Family::Ledger, Family::Owners, Family::Series] {
            prop_assert!(bulk.family(family) == batches.family(family),
                "{family:?} differs after later events (seed {seed})");
        }
        prop_assert_eq!(bulk.scorecards(), batches.scorecards());
    }
}

#[test]
fn a_rebuild_stopped_before_it_finished_is_refused_at_open() {
    let messages = arrivals(11);
    let mut engined = Engined::new(1);
    let options = RebuildOptions {
        events_in_memory: 50,
        spill_dir: engined.directory.path().join("rebuild-spill"),
    };
    {
        let mut rebuild = engined.engine.begin_rebuild(options).unwrap();
        rebuild.feed(&messages).unwrap();
        // Dropped here: the process stopped before `finish`.
    }
    let directory = engined.directory;
    drop(engined.engine);
    match Engine::open(config(1), directory.path(), Mode::Replay) {
        Err(EngineError::InterruptedRebuild { path }) => {
            assert_eq!(path, directory.path().display().to_string())
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a half-written rebuild opened as a whole state"),
    }
}

#[test]
fn a_rebuild_needs_an_empty_state() {
    let messages = arrivals(5);
    let mut engined = Engined::new(1);
    engined.batches(&messages[..10], &[10]);
    assert!(!engined.engine.is_fresh());
    let options = RebuildOptions {
        events_in_memory: 50,
        spill_dir: engined.directory.path().join("rebuild-spill"),
    };
    assert!(engined.engine.begin_rebuild(options).is_err());
}
