//! Scale-out (`docs/scale-out.md`) against one engine. Input is split over
//! partitions by the producers' key (child or unit), each message routed
//! by its authority onto a partition of the repartition topic, and each of
//! those partitions applied by its own engine that owns its authorities,
//! the engines sharing their clocks through the same topic. For random
//! messy histories of two authorities with malformed lines among them,
//! delivered in random interleavings, with records written twice (a
//! producer's retry) and partitions' state lost and rebuilt from their
//! log, restarted over their state or given back to an instance whose
//! state is older than another owner's progress, every unit reports the same
//! month-end scorecard for every closed month as one engine given the
//! whole history in order, the clocks agree, and the dead letters are the
//! same. Owners cut batches by writing decisions into their partition
//! (some lost and proposed again), and leave outputs undelivered when
//! they go: no output id is ever delivered with two contents, and the
//! last value delivered for every indicator and unit is the one engine's.

mod common;
#[allow(dead_code)]
mod model;
use common::scaled::{
    config, differing_values, history, last_readings, last_values, producer_key, unit_scorecards,
};
use common::Rng;
use proptest::prelude::*;
use ragline::config::{fnv1a, Config, LaIdx};
use ragline::event::{Position, RawMessage};
use ragline::outbox::OutputTopic;
use ragline::pipeline::{Clock, Engine, Mode};
use ragline::route::{authority_partition, partition_authorities, Route, Router};
use ragline::scale_out::apply_batch;
use ragline::scale_out::decisions::{Decision, Decisions, Record};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn open_engine(config: &Arc<Config>, directory: &Path, owned: Option<&[LaIdx]>) -> Engine {
    let mut engine = Engine::open(config.clone(), directory, Mode::Replay).expect("engine opens");
    engine.set_emit_outputs(true);
    engine.set_owned_authorities(owned);
    engine
}

/// Instances that may own a partition, each keeping its own state of it.
const INSTANCES: usize = 3;

/// A record of the repartition topic.
#[derive(Clone)]
enum Internal {
    /// An input message, unchanged.
    Event(Vec<u8>),
    /// Another partition's clock.
    Clock(Clock),
    /// A batch decision.
    Decision(Decision),
}

/// The output topics: every record delivered, in order, and the content
/// first delivered under each id.
#[derive(Default)]
struct Delivered {
    records: Vec<(String, Value)>,
    by_id: BTreeMap<String, String>,
}

impl Delivered {
    /// Delivers what `engine`'s outbox holds; an id delivered before must
    /// come with the same content.
    fn drain(&mut self, engine: &Engine) {
        let pending = engine.pending_outputs(usize::MAX).unwrap();
        let mut sequences = Vec::new();
        for (sequence, record) in pending {
            sequences.push(sequence);
            if record.topic == OutputTopic::DeadLetters {
                continue; // the router's, not the partitions'
            }
            let held = self
                .by_id
                .entry(record.id.clone())
                .or_insert_with(|| record.payload.clone());
            assert!(
                *held == record.payload,
                "output id {} delivered with two contents:\n  {held}\n  {}",
                record.id,
                record.payload
            );
            if record.topic == OutputTopic::Values {
                self.records
                    .push((record.key, serde_json::from_str(&record.payload).unwrap()));
            }
        }
        engine.acknowledge_outputs(&sequences).unwrap();
    }
}

/// One partition of the repartition topic and its owner.
struct Partition {
    number: u32,
    authorities: Vec<LaIdx>,
    log: Vec<Internal>,
    engine: Engine,
    /// Each instance's state of this partition (kept when the partition
    /// moves away, as an instance's state directory is).
    instances: Vec<tempfile::TempDir>,
    /// The instance that owns it now.
    owner: usize,
    /// Outputs the owner's state held undelivered when it opened (those
    /// with a sequence below this), held back until the catch-up says
    /// whether a later owner delivered them (as the applier does).
    held_back: Option<u64>,
    /// Outputs held back and then dropped, over the run.
    dropped: u64,
    /// Records of `log` read by the owner.
    read: usize,
    /// What was read and not yet applied.
    decisions: Decisions,
    /// Catching up after opening.
    catching_up: bool,
    /// The log's end when the owner opened it: reading up to it ends the
    /// catch-up.
    end_at_open: usize,
    /// The clock this partition last shared.
    shared: (
        Option<ragline::calendar::Date>,
        Option<ragline::calendar::Month>,
    ),
}

fn today() -> ragline::calendar::Date {
    ragline::calendar::Date::from_ymd(2030, 1, 1).unwrap()
}

impl Partition {
    fn new(config: &Arc<Config>, number: u32, partitions: u32) -> Partition {
        let authorities = partition_authorities(config, number, partitions);
        let instances: Vec<tempfile::TempDir> = (0..INSTANCES)
            .map(|_| tempfile::tempdir().unwrap())
            .collect();
        let engine = open_engine(config, instances[0].path(), Some(&authorities));
        Partition {
            number,
            authorities,
            log: Vec::new(),
            engine,
            instances,
            owner: 0,
            held_back: None,
            dropped: 0,
            read: 0,
            decisions: Decisions::new(None),
            catching_up: true,
            end_at_open: 0,
            shared: (None, None),
        }
    }

    fn position(&self) -> Option<i64> {
        self.engine
            .positions()
            .get(&ragline::source::kafka::position_key(
                "repartition",
                self.number as i32,
            ))
            .copied()
    }

    /// The record at `offset` of the log, as read from the topic.
    fn record(&self, offset: usize, record: &Internal) -> Record {
        match record {
            Internal::Event(bytes) => Record::Message(RawMessage {
                bytes: bytes.clone(),
                position: Position::Kafka {
                    topic: "repartition".into(),
                    partition: self.number as i32,
                    offset: offset as i64,
                    key: None,
                },
            }),
            Internal::Clock(clock) => Record::Clock(*clock),
            Internal::Decision(decision) => Record::Decision(*decision),
        }
    }

    /// Whether the owner has work left: records to read, batches to
    /// decide or apply, outputs to deliver.
    fn busy(&self) -> bool {
        self.read < self.log.len()
            || self.decisions.undecided() > 0
            || self.decisions.decided_len() > 0
            || self.engine.outbox_pending() > 0
            || self.catching_up
    }

    /// The owner reads up to `upto` records of its log, applies the
    /// batches decided (silently those a later decision follows while it
    /// catches up; caught up once it has read up to the log's end when it
    /// opened it), delivers its
    /// outputs unless `deliver` is false, and proposes the next decision
    /// (sometimes lost on its way) once its outputs are delivered. Returns
    /// the clock to share, if it moved.
    fn step(
        &mut self,
        upto: usize,
        deliver: bool,
        delivered: &mut Delivered,
        rng: &mut Rng,
    ) -> Option<Clock> {
        while self.read < upto {
            let record = self.record(self.read, &self.log[self.read]);
            self.decisions.push(self.read as i64, record);
            self.read += 1;
        }
        let caught_up = self.read >= self.end_at_open;
        let mut moved = false;
        loop {
            let later = self.decisions.decided_len() > 1;
            if self.catching_up && !caught_up && !later {
                break;
            }
            let Some(batch) = self.decisions.take_decided() else {
                break;
            };
            if let Some(before) = self.held_back.take() {
                // A batch after the stored position was decided: its
                // decider delivered the outputs held back.
                self.dropped += self.engine.drop_outputs_before(before).unwrap();
            }
            let silent = self.catching_up && later;
            apply_batch(
                &mut self.engine,
                "repartition",
                self.number as i32,
                Mode::Replay,
                batch,
                silent,
            )
            .expect("batch commits");
            moved |= !silent;
        }
        if self.catching_up && caught_up {
            self.catching_up = false;
            self.held_back = None;
            self.shared = (None, None);
            moved = true;
        }
        if deliver && self.held_back.is_none() {
            delivered.drain(&self.engine);
        }
        if !self.catching_up && self.engine.outbox_pending() == 0 {
            // Retried at once when not yet read back: a second proposal
            // for the same start is ignored when both arrive.
            if let Some(decision) = self.decisions.propose(
                today(),
                1 + rng.below(80) as usize,
                Instant::now(),
                Duration::ZERO,
            ) {
                if !rng.chance(8) {
                    self.log.push(Internal::Decision(decision));
                }
            }
        }
        let clock = self.engine.clock();
        let now = (clock.latest_event, clock.first_month);
        if !moved {
            self.shared = now;
            return None;
        }
        (now != self.shared && now != (None, None)).then(|| {
            self.shared = now;
            clock
        })
    }

    /// The owner changes to instance `to`, which has its own state of the
    /// partition: the latest (a restart), an older one (it owned the
    /// partition before another instance moved it on) or none (`wipe`: a
    /// new machine), and reads from its stored position. What the old
    /// owner had not delivered stays in its state, undelivered.
    fn fail_over(&mut self, config: &Arc<Config>, to: usize, wipe: bool) {
        // The old owner's engine closes before the new one opens.
        let spare = tempfile::tempdir().unwrap();
        drop(std::mem::replace(
            &mut self.engine,
            open_engine(config, spare.path(), None),
        ));
        if wipe {
            self.instances[to] = tempfile::tempdir().unwrap();
        }
        self.owner = to;
        self.engine = open_engine(config, self.instances[to].path(), Some(&self.authorities));
        self.held_back = (self.engine.outbox_pending() > 0).then(|| self.engine.outbox_next());
        let stored = self.position();
        self.read = stored.unwrap_or(0) as usize;
        self.decisions = Decisions::new(stored);
        self.catching_up = true;
        self.end_at_open = self.log.len();
    }
}

/// Runs the history through `inputs` input partitions and `partitions`
/// partitions of the repartition topic; returns the partitions, the dead
/// letters' reasons by code and the outputs delivered.
fn scaled_out(
    config: &Arc<Config>,
    lines: &[Vec<u8>],
    inputs: u32,
    partitions: u32,
    seed: u64,
) -> (Vec<Partition>, BTreeMap<String, u64>, Delivered) {
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
    let mut delivered = Delivered::default();
    loop {
        let unread: Vec<usize> = (0..inputs as usize)
            .filter(|&p| read[p] < input[p].len())
            .collect();
        let busy: Vec<usize> = (0..partitions as usize)
            .filter(|&q| parts[q].busy())
            .collect();
        if unread.is_empty() && busy.is_empty() {
            break;
        }
        let roll = rng.below(100);
        if !unread.is_empty() && (roll < 40 || busy.is_empty()) {
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
        } else if !busy.is_empty() && roll < 97 {
            // The owner of one partition reads a few records, applies what
            // is decided, delivers (mostly) and shares its clock.
            let q = busy[rng.below(busy.len() as u64) as usize];
            let upto = (parts[q].read + rng.below(60) as usize).min(parts[q].log.len());
            let deliver = !rng.chance(20);
            if let Some(clock) = parts[q].step(upto, deliver, &mut delivered, &mut rng) {
                for (other, part) in parts.iter_mut().enumerate() {
                    if other != q {
                        part.log.push(Internal::Clock(clock));
                    }
                }
            }
        } else {
            // A partition moves to another instance, over whatever state
            // that one kept of it or none, or its instance restarts.
            let q = rng.below(u64::from(partitions)) as usize;
            let to = rng.below(INSTANCES as u64) as usize;
            let wipe = rng.chance(25);
            parts[q].fail_over(config, to, wipe);
        }
    }
    (parts, dead, delivered)
}

/// Checks the scaled-out run of `seed`'s history against one engine's;
/// returns how many outputs were held back and then dropped as stale.
fn check(seed: u64, inputs: u32, partitions: u32, batch: usize) -> u64 {
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
    let (parts, dead, delivered) = scaled_out(&config, &lines, inputs, partitions, seed);

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
    for (key, payload) in &delivered.records {
        let unit = payload["unit"].as_str().expect("a value names its unit");
        let unit = config.unit_by_id(unit).expect("a configured unit");
        let part = authority_partition(&config, config.unit(unit).la, partitions);
        assert!(
            parts[part as usize]
                .authorities
                .contains(&config.unit(unit).la),
            "value {key} from the partition of another authority"
        );
    }
    // The last value delivered for every indicator and unit (a compacted
    // topic's content) is the one engine's.
    let scaled_values = last_readings(delivered.records.iter().cloned());
    let differing = differing_values(&scaled_values, &last_values(&single));
    assert!(
        differing.is_empty(),
        "last indicator values differ:\n{}",
        differing.join("\n")
    );
    // Month-end scorecards were delivered for every unit and closed month.
    let months = unit_scorecards(&single, config.unit_indices()[0]).len();
    let scorecards = delivered
        .by_id
        .keys()
        .filter(|id| id.matches('/').count() == 1)
        .count();
    assert_eq!(
        scorecards,
        months * config.units.len(),
        "scorecards delivered"
    );
    // Every output that one owner applying each partition's decided log
    // without interruption produces was delivered, under the same id with
    // the same content, and nothing else.
    let mut uninterrupted = Delivered::default();
    for part in &parts {
        let directory = tempfile::tempdir().unwrap();
        let mut engine = open_engine(&config, directory.path(), Some(&part.authorities));
        let mut decisions = Decisions::new(None);
        for (offset, record) in part.log.iter().enumerate() {
            decisions.push(offset as i64, part.record(offset, record));
        }
        assert_eq!(decisions.undecided(), 0, "every record was decided");
        while let Some(batch) = decisions.take_decided() {
            let number = part.number as i32;
            apply_batch(
                &mut engine,
                "repartition",
                number,
                Mode::Replay,
                batch,
                false,
            )
            .unwrap();
        }
        uninterrupted.drain(&engine);
    }
    let missing: Vec<&String> = uninterrupted
        .by_id
        .keys()
        .filter(|id| !delivered.by_id.contains_key(*id))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "outputs never delivered: {missing:?}");
    assert_eq!(uninterrupted.by_id, delivered.by_id);
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
    parts.iter().map(|part| part.dropped).sum()
}

/// A partition given back to an instance whose state is older than what
/// another owner has since applied and delivered: the outputs that state
/// still held undelivered are dropped, not sent after the newer values
/// (with them sent, the last values of this run differ from one engine's).
#[test]
fn a_partition_given_back_to_an_older_state_sends_none_of_its_stale_outputs() {
    let dropped = check(0, 2, 2, 60);
    assert!(
        dropped > 0,
        "this run gives a partition back to an older state"
    );
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

/// A batch whose handling panics is split to find the message at fault;
/// the halves commit their own positions. The stored position must still
/// be the decision's end, or a restart would resume inside the decided
/// chain and cut batches of its own.
#[test]
fn a_batch_split_to_isolate_a_panic_still_ends_at_its_decision() {
    let config = config();
    let router = Router::new(&config, None, None, 1);
    let lines: Vec<Vec<u8>> = history(3)
        .into_iter()
        .filter(|line| matches!(router.route(line), Route::Partition { .. }))
        .take(6)
        .collect();
    let poison: Value = serde_json::from_slice(&lines[2]).unwrap();
    let poison = poison["event_id"].as_str().unwrap().to_string();
    let directory = tempfile::tempdir().unwrap();
    let mut engine = open_engine(&config, directory.path(), None);
    engine.set_fault_injector(Some(Box::new(move |event| event.id == poison)));
    let mut decisions = Decisions::new(None);
    let mut offset = 0i64;
    for line in &lines {
        let message = RawMessage {
            bytes: line.clone(),
            position: Position::Kafka {
                topic: "repartition".into(),
                partition: 0,
                offset,
                key: None,
            },
        };
        decisions.push(offset, Record::Message(message));
        offset += 1;
    }
    // The batch ends with another partition's clock.
    decisions.push(offset, Record::Clock(Clock::default()));
    let end = offset + 1;
    decisions.push(
        end,
        Record::Decision(Decision {
            from: 0,
            to: end,
            today: today(),
        }),
    );
    let batch = decisions.take_decided().expect("decided");
    let outcome = apply_batch(&mut engine, "repartition", 0, Mode::Replay, batch, false).unwrap();
    assert_eq!(
        outcome
            .rejected
            .get(&ragline::event::RejectionCode::InternalError),
        Some(&1),
        "the message at fault is set aside"
    );
    drop(engine);
    let engine = open_engine(&config, directory.path(), None);
    assert_eq!(
        engine
            .positions()
            .get(&ragline::source::kafka::position_key("repartition", 0)),
        Some(&end),
        "the stored position is the decision's end"
    );
}
