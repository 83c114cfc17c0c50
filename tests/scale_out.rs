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
use common::engine::config_text;
use common::Rng;
use common::*;
use proptest::prelude::*;
use ragline::config::{fnv1a, Config, LaIdx};
use ragline::event::{Position, RawMessage};
use ragline::pipeline::{Clock, Engine, Mode};
use ragline::route::{authority_partition, partition_authorities, Route, Router};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The model's unit tree under authority "test" (the default) and a copy
/// of it, every id prefixed `o-`, under authority "other".
fn config() -> Arc<Config> {
    let tree = cfg();
    let mut text =
        config_text(&tree).replacen("root = \"la\"\n", "root = \"la\"\ndefault = true\n", 1);
    text.push_str("\n[[authority]]\nid = \"other\"\nname = \"Other\"\nroot = \"o-la\"\n\n");
    for unit in &tree.units {
        let _ = writeln!(
            text,
            "[[unit]]\nid = \"o-{}\"\nname = \"o-{}\"\nkind = \"{}\"",
            unit.id, unit.id, unit.kind
        );
        if let Some(parent) = &unit.parent {
            let _ = writeln!(text, "parent = \"o-{parent}\"");
        }
        text.push('\n');
    }
    Arc::new(Config::parse(&text, Path::new("test.toml")).expect("test config parses"))
}

/// Two authorities' messy histories, interleaved, with malformed lines
/// (dead letters) among them.
fn history(seed: u64) -> Vec<Vec<u8>> {
    let test = messy(&random_history(seed, 30, 10), seed);
    let other: Vec<Value> = messy(&random_history(seed ^ 0x07e5, 25, 10), seed ^ 1)
        .into_iter()
        .map(|mut event| {
            event["la"] = json!("other");
            if let Some(unit) = event.get("unit").and_then(Value::as_str) {
                event["unit"] = json!(format!("o-{unit}"));
            }
            event
        })
        .collect();
    let mut rng = Rng(seed ^ 0x5ca1e);
    let (mut left, mut right) = (test.into_iter().peekable(), other.into_iter().peekable());
    let mut lines = Vec::new();
    while left.peek().is_some() || right.peek().is_some() {
        let from_left = right.peek().is_none() || (left.peek().is_some() && rng.chance(55));
        let event = if from_left { left.next() } else { right.next() };
        lines.push(event.expect("one side has events").to_string().into_bytes());
        if rng.chance(2) {
            let bad = match rng.below(3) {
                0 => "not json at all".to_string(),
                1 => r#"{"event_id":"x","type":"referral","la":"nowhere","child_id":"c1","date":"2016-01-01","unit":"n-cswt"}"#.to_string(),
                _ => "[1,2,3]".to_string(),
            };
            lines.push(bad.into_bytes());
        }
    }
    lines
}

/// The producers' key: the child, else the unit, else the whole line.
fn producer_key(bytes: &[u8]) -> Vec<u8> {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    for field in ["child_id", "unit"] {
        if let Some(text) = value.get(field).and_then(Value::as_str) {
            return text.as_bytes().to_vec();
        }
    }
    bytes.to_vec()
}

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

/// The reading and rating of the last indicator value record of each key
/// in the outbox, for the keys whose reading is not empty. (A value is sent
/// when its reading or rating changes (`docs/outputs.md`), so when it was
/// last sent, and with it its date, its comparisons with a month and a year
/// before and its rolling-3-month reading, depend on arrival order.)
fn last_values(engine: &Engine) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    for (_, record) in engine.pending_outputs(usize::MAX).unwrap() {
        if record.topic == ragline::outbox::OutputTopic::Values {
            let payload: Value = serde_json::from_str(&record.payload).unwrap();
            let kept: serde_json::Map<String, Value> = ["num", "den", "value", "rag"]
                .iter()
                .filter_map(|field| Some((field.to_string(), payload.get(*field)?.clone())))
                .collect();
            values.insert(record.key, Value::Object(kept));
        }
    }
    // A value is first sent when it is not empty, so a value that has
    // become empty again was either sent empty last or never sent: both
    // say "empty", depending on whether a passing state was ever seen.
    let zero = |field: Option<&Value>| field.is_none_or(|value| value.as_f64() == Some(0.0));
    values.retain(|_, value| !(zero(value.get("num")) && zero(value.get("den"))));
    values
}

/// The month-end scorecard of one unit for every month `first..=last`.
fn unit_scorecards(engine: &Engine, unit: ragline::config::UnitIdx) -> Vec<String> {
    let clock = engine.clock();
    let (Some(mut month), Some(last)) = (clock.first_month, clock.last_closed) else {
        return Vec::new();
    };
    let reader = engine.reader();
    let mut out = Vec::new();
    while month <= last {
        out.push(ragline::report::report_json(&reader, &[unit], month).to_string());
        month = month.plus(1);
    }
    out
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
    let single_values = last_values(&single);
    let differing: Vec<String> = single_values
        .keys()
        .chain(scaled_values.keys())
        .filter(|key| single_values.get(*key) != scaled_values.get(*key))
        .map(|key| {
            format!(
                "{key}: scaled out {:?}, one engine {:?}",
                scaled_values.get(key),
                single_values.get(key)
            )
        })
        .collect();
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
