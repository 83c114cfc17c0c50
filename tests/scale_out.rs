//! Scale-out (`docs/scale-out.md`) against one engine. Input is split over
//! partitions by the producers' key (child or unit), each message routed
//! by its authority onto a partition of the repartition topic, and each of
//! those partitions applied by its own engine that owns its authorities,
//! the engines sharing their clocks through the same topic. For random
//! messy histories of two authorities with malformed lines among them,
//! delivered in random interleavings, with records written twice (a
//! producer's retry) and partitions' state lost and rebuilt from their
//! log, every unit reports the same month-end scorecard for every closed
//! month as one engine given the whole history in order, the clocks agree,
//! and the dead letters are the same.

mod common;
#[allow(dead_code)]
mod model;
use common::scaled::{
    config, differing_values, history, last_values, producer_key, unit_scorecards,
};
use common::Rng;
use proptest::prelude::*;
use ragline::config::{fnv1a, Config, LaIdx};
use ragline::event::{Position, RawMessage};
use ragline::pipeline::{Clock, Engine, Mode};
use ragline::route::{authority_partition, partition_authorities, Route, Router};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

fn open_engine(config: &Arc<Config>, directory: &Path, owned: Option<&[LaIdx]>) -> Engine {
    let mut engine = Engine::open(config.clone(), directory, Mode::Replay).expect("engine opens");
    engine.set_emit_outputs(true);
    engine.set_owned_authorities(owned);
    engine
}

/// A record of the repartition topic.
#[derive(Clone)]
enum Internal {
    /// An input message, unchanged.
    Event(Vec<u8>),
    /// Another partition's clock.
    Clock(Clock),
}

/// One partition of the repartition topic and the engine applying it.
struct Partition {
    number: u32,
    authorities: Vec<LaIdx>,
    log: Vec<Internal>,
    engine: Engine,
    directory: tempfile::TempDir,
    /// Records of `log` applied.
    applied: usize,
    /// The clock this partition last shared.
    shared: (
        Option<ragline::calendar::Date>,
        Option<ragline::calendar::Month>,
    ),
}

impl Partition {
    fn new(config: &Arc<Config>, number: u32, partitions: u32) -> Partition {
        let authorities = partition_authorities(config, number, partitions);
        let directory = tempfile::tempdir().unwrap();
        let engine = open_engine(config, directory.path(), Some(&authorities));
        Partition {
            number,
            authorities,
            log: Vec::new(),
            engine,
            directory,
            applied: 0,
            shared: (None, None),
        }
    }

    /// Applies the next records of the log, up to `upto`, as one batch.
    fn apply(&mut self, upto: usize) {
        let mut messages = Vec::new();
        for offset in self.applied..upto {
            match &self.log[offset] {
                Internal::Event(bytes) => messages.push(RawMessage {
                    bytes: bytes.clone(),
                    position: Position::Kafka {
                        topic: "repartition".into(),
                        partition: self.number as i32,
                        offset: offset as i64,
                        key: None,
                    },
                }),
                Internal::Clock(clock) => self.engine.merge_clock(clock),
            }
        }
        self.engine
            .run_batch(&messages, None)
            .expect("batch commits");
        self.applied = upto;
    }

    /// Loses the state and rebuilds it from the log, in pieces of random
    /// sizes, up to where it was.
    fn fail_over(&mut self, config: &Arc<Config>, rng: &mut Rng) {
        let upto = self.applied;
        self.directory = tempfile::tempdir().unwrap();
        self.engine = open_engine(config, self.directory.path(), Some(&self.authorities));
        self.applied = 0;
        while self.applied < upto {
            let next = (self.applied + 1 + rng.below(200) as usize).min(upto);
            self.apply(next);
        }
    }

    /// The clock to share, if it moved since last shared.
    fn clock_to_share(&mut self) -> Option<Clock> {
        let clock = self.engine.clock();
        let now = (clock.latest_event, clock.first_month);
        (now != self.shared).then(|| {
            self.shared = now;
            clock
        })
    }
}

/// Runs the history through `inputs` input partitions and `partitions`
/// partitions of the repartition topic; returns the partitions and the
/// dead letters' reasons by code.
fn scaled_out(
    config: &Arc<Config>,
    lines: &[Vec<u8>],
    inputs: u32,
    partitions: u32,
    seed: u64,
) -> (Vec<Partition>, BTreeMap<String, u64>) {
    let mut rng = Rng(seed ^ 0xfa11);
    let mut input: Vec<Vec<Vec<u8>>> = vec![Vec::new(); inputs as usize];
    for line in lines {
        input[(fnv1a(&producer_key(line)) % u64::from(inputs)) as usize].push(line.clone());
    }
    let mut read = vec![0usize; inputs as usize];
    let mut parts: Vec<Partition> = (0..partitions)
        .map(|number| Partition::new(config, number, partitions))
        .collect();
    let router = Router::new(config, None, None, partitions);
    let mut dead: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        let unread: Vec<usize> = (0..inputs as usize)
            .filter(|&p| read[p] < input[p].len())
            .collect();
        let behind: Vec<usize> = (0..partitions as usize)
            .filter(|&q| parts[q].applied < parts[q].log.len())
            .collect();
        if unread.is_empty() && behind.is_empty() {
            break;
        }
        let roll = rng.below(100);
        if !unread.is_empty() && (roll < 50 || behind.is_empty()) {
            // The first stage reads a few messages of one input partition.
            let p = unread[rng.below(unread.len() as u64) as usize];
            let end = (read[p] + 1 + rng.below(40) as usize).min(input[p].len());
            for line in &input[p][read[p]..end] {
                match router.route(line) {
                    Route::Partition { partition, .. } => {
                        let log = &mut parts[partition as usize].log;
                        log.push(Internal::Event(line.clone()));
                        if rng.chance(4) {
                            log.push(Internal::Event(line.clone()));
                        }
                    }
                    Route::Rejected(rejection) => {
                        *dead.entry(rejection.code.as_str().to_string()).or_default() += 1;
                    }
                }
            }
            read[p] = end;
        } else if !behind.is_empty() && roll < 97 {
            // The second stage applies a few records of one partition and
            // shares its clock.
            let q = behind[rng.below(behind.len() as u64) as usize];
            let upto = (parts[q].applied + 1 + rng.below(60) as usize).min(parts[q].log.len());
            parts[q].apply(upto);
            if let Some(clock) = parts[q].clock_to_share() {
                for (other, part) in parts.iter_mut().enumerate() {
                    if other != q {
                        part.log.push(Internal::Clock(clock));
                    }
                }
            }
        } else {
            // A partition moves to an instance without its state.
            let q = rng.below(u64::from(partitions)) as usize;
            parts[q].fail_over(config, &mut rng);
        }
    }
    (parts, dead)
}

fn check(seed: u64, inputs: u32, partitions: u32, batch: usize) {
    let config = config();
    let lines = history(seed);
    let directory = tempfile::tempdir().unwrap();
    let mut single = open_engine(&config, directory.path(), None);
    let messages = RawMessage::file_lines(
        "history.jsonl",
        lines
            .iter()
            .map(|line| String::from_utf8_lossy(line).into_owned()),
    );
    for chunk in messages.chunks(batch) {
        single.run_batch(chunk, None).unwrap();
    }
    let (parts, dead) = scaled_out(&config, &lines, inputs, partitions, seed);

    let clock = single.clock();
    assert!(clock.last_closed.is_some(), "the history closes months");
    for part in &parts {
        let held = part.engine.clock();
        assert_eq!(
            (held.latest_event, held.first_month, held.last_closed),
            (clock.latest_event, clock.first_month, clock.last_closed),
            "partition {} clock",
            part.number
        );
        assert!(
            part.engine.totals().rejected.is_empty(),
            "only the router rejects"
        );
    }
    assert_eq!(dead, single.totals().rejected, "dead letters by reason");
    for part in &parts {
        let outputs = part.engine.pending_outputs(usize::MAX).unwrap();
        assert!(part.authorities.is_empty() || !outputs.is_empty());
        for (_, record) in outputs {
            let payload: Value = serde_json::from_str(&record.payload).unwrap();
            if let Some(unit) = payload.get("unit").and_then(Value::as_str) {
                let unit = config.unit_by_id(unit).expect("a configured unit");
                assert!(
                    part.authorities.contains(&config.unit(unit).la),
                    "partition {} reports unit {} of another authority",
                    part.number,
                    config.unit(unit).id
                );
            }
        }
    }
    // The last value of every indicator and unit (a compacted topic's
    // content) is the one engine's, and each comes from one partition.
    let mut scaled_values = BTreeMap::new();
    for part in &parts {
        for (key, value) in last_values(&part.engine) {
            assert!(scaled_values.insert(key, value).is_none());
        }
    }
    let differing = differing_values(&scaled_values, &last_values(&single));
    assert!(
        differing.is_empty(),
        "last indicator values differ:\n{}",
        differing.join("\n")
    );
    for unit in config.unit_indices() {
        let la = config.unit(unit).la;
        let part = &parts[authority_partition(&config, la, partitions) as usize];
        let expected = unit_scorecards(&single, unit);
        assert!(expected.len() > 12, "a year and more closed");
        let got = unit_scorecards(&part.engine, unit);
        for (index, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert!(
                got == expected,
                "unit {} month {index} after {:?}:\n  scaled out {got}\n  one engine {expected}",
                config.unit(unit).id,
                clock.first_month
            );
        }
        assert_eq!(got.len(), expected.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn scaled_out_reports_equal_one_engines(
        seed in 0u64..1_000_000,
        inputs in 1u32..=4,
        partitions in 1u32..=3,
        batch in 20usize..300,
    ) {
        check(seed, inputs, partitions, batch);
    }
}

/// Both authorities in different partitions, so that clocks must travel.
#[test]
fn two_authorities_in_two_partitions_share_one_clock() {
    let config = config();
    let spread = (2..8u32).find(|&partitions| {
        let test = authority_partition(&config, config.la_by_id("test").unwrap(), partitions);
        let other = authority_partition(&config, config.la_by_id("other").unwrap(), partitions);
        test != other
    });
    let partitions = spread.expect("some partition count separates the two authorities");
    check(11, 3, partitions, 50);
}
