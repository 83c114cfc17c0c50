//! The live loop against librdkafka's in-process mock cluster: a messy
//! history keyed by child over several partitions, with garbage messages in
//! between, gives the same scorecards as a file replay; rejected messages
//! reach the dead-letter topic with reasons; a stop and restart mid-stream
//! neither loses nor double-counts anything; broker faults (down at start,
//! restarted mid-run, an output topic gone, input pruned by retention, a
//! broker that stops serving) are waited for, counted and recovered from,
//! or refused explicitly.

#[path = "common/kafka_topics.rs"]
mod kafka_topics;
#[path = "common/poison.rs"]
mod poison;
use kafka_topics::{create_output_topics, read_all};
use poison::{with_poison, POISON};
use ragline::calendar::Month;
use ragline::config::Config;
use ragline::generate::{generate, GenOptions, GenUnit, Scale};
use ragline::live::{self, LiveOptions, LiveSummary};
use ragline::pipeline::{Engine, Mode};
use ragline::report;
use ragline::source::kafka::PartitionLag;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn kent(brokers: &str, suffix: &str) -> Config {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml")).unwrap();
    let mut config = Config::parse(&text, Path::new("kent.toml")).unwrap();
    config.kafka.brokers = brokers.to_string();
    config.kafka.input_topic = format!("events-{suffix}");
    config.kafka.values_topic = format!("values-{suffix}");
    config.kafka.rag_changes_topic = format!("rag-{suffix}");
    config.kafka.scorecards_topic = format!("scorecards-{suffix}");
    config.kafka.restatements_topic = format!("restatements-{suffix}");
    config.kafka.dead_letters_topic = format!("dead-{suffix}");
    config.processing.batch_max_events = 700;
    config.processing.replay_batch_events = 700;
    config.processing.batch_max_millis = 50;
    config
}

/// Creates the input topic with `partitions` partitions, and the output
/// topics that ragline would create itself: the mock cluster has no
/// CreateTopics, so each attempt would wait out its 10 s request timeout.
fn create_topics(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    config: &Config,
    partitions: i32,
) {
    let kafka = &config.kafka;
    cluster
        .create_topic(&kafka.input_topic, partitions, 1)
        .unwrap();
    create_output_topics(cluster, kafka);
}

fn history(config: &Config, messy: bool) -> Vec<Vec<u8>> {
    let leaves = GenUnit::leaves_of(config);
    let options = GenOptions {
        seed: 23,
        start: ragline::calendar::Date::from_ymd(2016, 4, 1).unwrap(),
        months: 15,
        scale: Scale::Small,
        messy,
    };
    let mut bytes = Vec::new();
    generate(&options, &leaves, &mut bytes).unwrap();
    bytes
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Produces lines keyed by child (or unit) id, over the topic's partitions.
fn produce(brokers: &str, topic: &str, lines: &[Vec<u8>]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("message.max.bytes", "4000000")
        .create()
        .unwrap();
    for line in lines {
        let key = serde_json::from_slice::<Value>(line)
            .ok()
            .and_then(|event| {
                event
                    .get("child_id")
                    .or(event.get("unit"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "garbage".into());
        loop {
            match producer.send(BaseRecord::to(topic).key(&key).payload(line)) {
                Ok(()) => break,
                Err(_) => {
                    producer.poll(Duration::from_millis(20));
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

fn file_report(config: &Config, lines: &[Vec<u8>], month: Month) -> Value {
    let directory = tempfile::tempdir().unwrap();
    let mut engine =
        Engine::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let messages = ragline::event::RawMessage::file_lines("file", lines.iter().cloned());
    engine.run_batch(&messages, None).unwrap();
    let units = config.unit_indices();
    report::report_json(&engine.reader(), &units, month)
}

fn garbage() -> Vec<Vec<u8>> {
    vec![
        vec![0xff, 0xfe, 0x00, 0x41],
        b"{\"event_id\":\"x1\",\"type\":\"referral\",".to_vec(),
        b"{\"event_id\":\"x2\",\"type\":\"teleportation\",\"child_id\":\"c\",\"date\":\"2016-05-01\"}".to_vec(),
        b"[1,2,3]".to_vec(),
        {
            let mut huge = b"{\"event_id\":\"x3\",\"type\":\"visit\",\"pad\":\"".to_vec();
            huge.extend(std::iter::repeat_n(b'a', 1_100_000));
            huge.extend(b"\"}");
            huge
        },
    ]
}

/// The dead letters on `config`'s topic: as many as `rejected`, with a
/// reason for each kind of [`garbage`].
fn dead_letters_of_garbage(brokers: &str, config: &Config, rejected: u64) -> Vec<(String, Value)> {
    let dead = read_all(brokers, &config.kafka.dead_letters_topic);
    assert_eq!(dead.len() as u64, rejected);
    let reasons: Vec<&str> = dead
        .iter()
        .map(|(_, letter)| letter["code"].as_str().unwrap())
        .collect();
    for expected in [
        "not_utf8",
        "not_json",
        "unknown_type",
        "not_object",
        "too_large",
    ] {
        assert!(
            reasons.contains(&expected),
            "{expected} missing from {reasons:?}"
        );
    }
    dead
}

#[test]
fn topic_replay_equals_file_replay_and_dead_letters_carry_reasons() {
    let cluster = MockCluster::new(3).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "a");
    create_topics(&cluster, &config, 3);
    let clean = history(&config, false);
    let mut messy = history(&config, true);
    let bad = garbage();
    for (index, line) in bad.iter().enumerate() {
        messy.insert(index * 97 + 13, line.clone());
    }
    produce(&brokers, &config.kafka.input_topic, &messy);

    let directory = tempfile::tempdir().unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let summary = live::run(&shared, &options, &AtomicBool::new(false)).unwrap();
    assert_eq!(summary.consumed as usize, messy.len());
    assert!(summary.batches > 3, "bounded batches: {summary:?}");

    let month = Month::parse("2017-05").unwrap();
    let units = config.unit_indices();
    let live_report = {
        let engine = shared.engine.lock().unwrap();
        report::report_json(&engine.reader(), &units, month)
    };
    assert_eq!(live_report, file_report(&config, &clean, month));

    let dead = dead_letters_of_garbage(&brokers, &config, summary.rejected);
    for (_, letter) in &dead {
        assert!(letter["source"]["offset"].as_i64().is_some(), "{letter}");
        assert!(letter["reason"].as_str().unwrap().len() > 3);
    }

    // Values: one message per changed indicator and unit per batch, stable ids;
    // the last value per key equals the engine's live value.
    let values = read_all(&brokers, &config.kafka.values_topic);
    assert!(!values.is_empty());
    let mut ids = std::collections::HashSet::new();
    let mut last: HashMap<String, Value> = HashMap::new();
    for (key, value) in values {
        assert!(
            ids.insert(value["id"].as_str().unwrap().to_string()),
            "duplicate id {}",
            value["id"]
        );
        last.insert(key, value);
    }
    let engine = shared.engine.lock().unwrap();
    for (&(slot, unit), live) in engine.live_values() {
        let key = format!(
            "{}/{}",
            engine.catalogue().slots[slot as usize].id,
            config.unit(unit).id
        );
        let message = &last[&key];
        let def = engine.catalogue().slots[slot as usize].def;
        assert_eq!(
            message["num"],
            ragline::scorecard::amount_json(live.reading.num, def.num_scale),
            "{key}"
        );
    }
    let scorecards = read_all(&brokers, &config.kafka.scorecards_topic);
    assert!(scorecards.iter().any(|(key, _)| key == "kent/2017-05"));
}

/// A fresh state rebuilt from the topic in bulk (each owner folded once)
/// equals one replayed from the same topic batch by batch: every closed
/// month's report, dead letters with reasons, the last value delivered per
/// key; and both go on alike from where they stopped when more arrives.
#[test]
fn a_bulk_rebuild_from_the_topic_equals_the_batch_replay_and_goes_on_alike() {
    let cluster = MockCluster::new(3).unwrap();
    let brokers = cluster.bootstrap_servers();
    let bulk_config = kent(&brokers, "bulk");
    let batch_config = kent(&brokers, "batches");
    let mut messy = history(&bulk_config, true);
    for (index, line) in garbage().into_iter().enumerate() {
        messy.insert(index * 89 + 7, line);
    }
    let later = messy.split_off(messy.len() - 400);
    for config in [&bulk_config, &batch_config] {
        create_topics(&cluster, config, 3);
        produce(&brokers, &config.kafka.input_topic, &messy);
    }
    let replay = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let bulk_dir = tempfile::tempdir().unwrap();
    let bulk = live::open(Arc::new(bulk_config.clone()), bulk_dir.path(), Mode::Replay).unwrap();
    let options = ragline::pipeline::RebuildOptions {
        events_in_memory: 1_000,
        spill_dir: bulk_dir.path().join("spill"),
    };
    let rebuilt = {
        let bulk = bulk.clone();
        within(STALL_LIMIT, move || {
            live::rebuild_from_topic(&bulk, options)
        })
        .unwrap()
    };
    assert_eq!(rebuilt.consumed as usize, messy.len());
    let batch_dir = tempfile::tempdir().unwrap();
    let batches = live::open(
        Arc::new(batch_config.clone()),
        batch_dir.path(),
        Mode::Replay,
    )
    .unwrap();
    let replayed = live::run(&batches, &replay, &AtomicBool::new(false)).unwrap();
    assert!(replayed.batches > 3, "the batch path cut batches");
    assert_eq!(
        (rebuilt.consumed, rebuilt.applied, rebuilt.rejected),
        (replayed.consumed, replayed.applied, replayed.rejected)
    );

    let units = bulk_config.unit_indices();
    let same_reports = |stage: &str| {
        let bulk = bulk.engine.lock().unwrap();
        let batches = batches.engine.lock().unwrap();
        assert_eq!(bulk.clock(), batches.clock(), "{stage}: clock");
        let clock = bulk.clock();
        let mut month = clock.first_month.expect("events were applied");
        let last = clock.last_closed.expect("months closed");
        let mut months = 0;
        while month <= last {
            assert_eq!(
                report::report_json(&bulk.reader(), &units, month),
                report::report_json(&batches.reader(), &units, month),
                "{stage}: {month}"
            );
            month = month.plus(1);
            months += 1;
        }
        assert!(months >= 12, "{stage}: {months} months compared");
    };
    same_reports("rebuilt");

    // Dead letters with their reasons; the last value delivered per key is
    // the rebuilt engine's live value; the closed months' scorecards.
    dead_letters_of_garbage(&brokers, &bulk_config, rebuilt.rejected);
    // One value per indicator and unit, as of the end of the history; no
    // restatements: every month closed once all was known.
    let values = read_all(&brokers, &bulk_config.kafka.values_topic);
    let mut last: HashMap<String, Value> = HashMap::new();
    for (key, value) in &values {
        last.insert(key.clone(), value.clone());
    }
    assert_eq!(values.len(), last.len(), "one value per key");
    assert!(read_all(&brokers, &bulk_config.kafka.restatements_topic).is_empty());
    assert!(
        !read_all(&brokers, &batch_config.kafka.restatements_topic).is_empty(),
        "batch by batch, late events of the same history restate closed months"
    );
    {
        let engine = bulk.engine.lock().unwrap();
        assert!(!engine.live_values().is_empty());
        for (&(slot, unit), live) in engine.live_values() {
            let key = format!(
                "{}/{}",
                engine.catalogue().slots[slot as usize].id,
                bulk_config.unit(unit).id
            );
            let def = engine.catalogue().slots[slot as usize].def;
            assert_eq!(
                last[&key]["num"],
                ragline::scorecard::amount_json(live.reading.num, def.num_scale),
                "{key}"
            );
        }
        assert_eq!(engine.outbox_pending(), 0, "every output delivered");
    }
    let scorecards = read_all(&brokers, &bulk_config.kafka.scorecards_topic);
    assert!(scorecards.iter().any(|(key, _)| key == "kent/2017-05"));

    // More arrives: both go on from the offsets their states hold.
    for config in [&bulk_config, &batch_config] {
        produce(&brokers, &config.kafka.input_topic, &later);
    }
    let more_bulk = live::run(&bulk, &replay, &AtomicBool::new(false)).unwrap();
    let more_batches = live::run(&batches, &replay, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        more_bulk.consumed as usize,
        later.len(),
        "only what came later"
    );
    assert_eq!(
        more_bulk,
        LiveSummary {
            delivered: more_bulk.delivered,
            batches: more_bulk.batches,
            ..more_batches.clone()
        }
    );
    same_reports("went on");
}

/// A defect that makes the bulk rebuild panic (a fault injected at one
/// event) does not stop a replay from the topic: the state is emptied and
/// the topic replayed batch by batch, where the one message whose handling
/// fails is dead-lettered (`internal_error`) and every other event counts,
/// as in a file replay without that message.
#[test]
fn a_bulk_rebuild_that_fails_inside_ragline_is_replayed_batch_by_batch() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "defect");
    create_topics(&cluster, &config, 2);
    let lines = history(&config, false);
    let poisoned = with_poison(&lines);
    produce(&brokers, &config.kafka.input_topic, &poisoned);
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state");
    let bulk = ragline::pipeline::RebuildOptions {
        events_in_memory: 1_000,
        spill_dir: state.join("rebuild-spill"),
    };
    let replayed = live::replay_topic(&state, Some(bulk), || {
        let shared = live::open(Arc::new(config.clone()), &state, Mode::Replay)?;
        shared
            .engine
            .lock()
            .unwrap()
            .set_fault_injector(Some(Box::new(|event| event.id == POISON)));
        Ok(shared)
    })
    .unwrap();
    assert!(replayed.replayed_batch_by_batch);
    assert_eq!(replayed.summary.consumed as usize, poisoned.len());
    assert_eq!(replayed.summary.rejected, 1);
    assert_eq!(replayed.summary.applied as usize, lines.len());
    let dead = read_all(&brokers, &config.kafka.dead_letters_topic);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].1["code"], "internal_error");
    let month = Month::parse("2017-05").unwrap();
    let engine = replayed.shared.engine.lock().unwrap();
    assert_eq!(
        report::report_json(&engine.reader(), &config.unit_indices(), month),
        file_report(&config, &lines, month)
    );
}

/// A rebuild from a topic whose first records were deleted (retention)
/// is refused with the partition and its first offset, not built from
/// what is left.
#[test]
fn a_bulk_rebuild_from_a_topic_missing_its_start_is_refused() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "pruned");
    let topic = config.kafka.input_topic.clone();
    create_topics(&cluster, &config, 1);
    // More than the mock cluster keeps per partition (5 MB): the oldest
    // records are deleted.
    let padding = format!(
        "{{\"event_id\":\"pad\",\"type\":\"visit\",\"pad\":\"{}\"}}",
        "a".repeat(400_000)
    )
    .into_bytes();
    produce(&brokers, &topic, &vec![padding; 16]);
    let directory = tempfile::tempdir().unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let options = ragline::pipeline::RebuildOptions {
        events_in_memory: 1_000,
        spill_dir: directory.path().join("spill"),
    };
    match live::rebuild_from_topic(&shared, options) {
        Err(live::LiveError::HistoryGap { partition, first }) => {
            assert_eq!(partition, 0);
            assert!(first > 0, "{first}");
        }
        other => panic!("expected the gap refused, got {other:?}"),
    }
}

/// Longest a replay from a broker that serves nothing may take before the
/// test fails instead of waiting with it: the idle limit of 2 s, with
/// room to spare for a slow machine.
const STALL_LIMIT: Duration = Duration::from_secs(120);

/// Runs `replay` on a thread of its own and returns what it returns; one
/// still running after `limit` fails the test.
fn within<T: Send + 'static>(limit: Duration, replay: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(replay());
    });
    match result.recv_timeout(limit) {
        Ok(returned) => returned,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the replay was still reading after {limit:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the replay panicked")
        }
    }
}

/// `run` until caught up (a replay from the topic) on a thread of its own,
/// failing the test if it is still reading after [`STALL_LIMIT`].
fn catch_up(shared: &live::Shared) -> LiveSummary {
    let shared = shared.clone();
    let replay = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    within(STALL_LIMIT, move || {
        live::run(&shared, &replay, &AtomicBool::new(false))
    })
    .unwrap()
}

/// Replays `config`'s input topic into two fresh states, in bulk and then
/// batch by batch, each bounded like [`catch_up`]: each state (open), its
/// directory and what the replay did.
fn replay_both_ways(config: &Config) -> [(live::Shared, tempfile::TempDir, LiveSummary); 2] {
    let bulk_directory = tempfile::tempdir().unwrap();
    let bulk = live::open(
        Arc::new(config.clone()),
        bulk_directory.path(),
        Mode::Replay,
    )
    .unwrap();
    let options = ragline::pipeline::RebuildOptions {
        events_in_memory: 1_000,
        spill_dir: bulk_directory.path().join("spill"),
    };
    let rebuilt = {
        let bulk = bulk.clone();
        within(STALL_LIMIT, move || {
            live::rebuild_from_topic(&bulk, options)
        })
        .unwrap()
    };
    let batch_directory = tempfile::tempdir().unwrap();
    let batches = live::open(
        Arc::new(config.clone()),
        batch_directory.path(),
        Mode::Replay,
    )
    .unwrap();
    let replayed = catch_up(&batches);
    [
        (bulk, bulk_directory, rebuilt),
        (batches, batch_directory, replayed),
    ]
}

/// A broker that reports records but does not serve them (every fetch
/// fails): both replays from the topic, in bulk and batch by batch, stop
/// once nothing has arrived for `replay_idle_seconds`, naming the
/// partition, its next offset and the watermark, instead of waiting for
/// ever. Nothing is lost: once the broker serves again, `run` reads on
/// from where each stopped and reports what a file replay reports.
#[test]
fn a_replay_from_a_broker_that_serves_nothing_stops_short_and_loses_nothing() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let mut config = kent(&brokers, "stalled");
    config.processing.replay_idle_seconds = 2;
    let topic = config.kafka.input_topic.clone();
    create_topics(&cluster, &config, 1);
    let lines = history(&config, false);
    produce(&brokers, &topic, &lines);
    cluster.request_errors(
        RDKafkaApiKey::Fetch,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION; 1_000],
    );
    let everything = lines.len() as i64;
    let short = vec![PartitionLag {
        partition: 0,
        lag: everything,
        high_watermark: everything,
    }];
    let [(bulk, bulk_directory, rebuilt), (batches, batch_directory, replayed)] =
        replay_both_ways(&config);
    assert_eq!(rebuilt.stopped_short, short);
    assert_eq!(rebuilt.consumed, 0);
    assert_eq!(replayed.stopped_short, short);
    assert_eq!(replayed.consumed, 0);

    // The broker serves again; both states are opened again with the
    // shipped idle limit, so that a slow machine does not stop them short.
    cluster.clear_request_errors(RDKafkaApiKey::Fetch);
    drop((bulk, batches));
    let mut patient = config.clone();
    patient.processing.replay_idle_seconds = 60;
    let month = Month::parse("2017-05").unwrap();
    let expected = file_report(&config, &lines, month);
    let units = config.unit_indices();
    for directory in [&bulk_directory, &batch_directory] {
        let shared = live::open(Arc::new(patient.clone()), directory.path(), Mode::Replay).unwrap();
        let caught_up = catch_up(&shared);
        assert_eq!(caught_up.consumed as usize, lines.len());
        assert!(caught_up.stopped_short.is_empty(), "{caught_up:?}");
        let engine = shared.engine.lock().unwrap();
        assert_eq!(
            report::report_json(&engine.reader(), &units, month),
            expected
        );
    }
}

/// A partition whose watermarks cannot be read at the start (its leader is
/// down) is an error naming it, not a partition left out of what a replay
/// reads up to (it would end without it and call itself complete).
#[test]
fn a_replay_that_cannot_read_a_partitions_watermark_is_refused() {
    let cluster = MockCluster::new(2).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "leaderless");
    let topic = config.kafka.input_topic.clone();
    create_topics(&cluster, &config, 2);
    produce(&brokers, &topic, &history(&config, false)[..200]);
    cluster.partition_leader(&topic, 1, Some(2)).unwrap();
    cluster.broker_down(2).unwrap();
    let replay = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let directory = tempfile::tempdir().unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let refused = within(STALL_LIMIT, move || {
        live::run(&shared, &replay, &AtomicBool::new(false))
    });
    match refused {
        Err(live::LiveError::Source(error)) => {
            assert!(
                error.action.contains("watermarks of partition 1"),
                "{error}"
            );
        }
        other => panic!("expected the replay refused, got {other:?}"),
    }
}

/// A topic written to all the time is never found empty: a replay from it
/// still ends, once every partition is read up to the watermark found at
/// start (and a little on), in bulk and batch by batch; `run` then reads
/// the rest.
#[test]
fn a_replay_of_a_topic_written_to_all_the_time_ends() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "busy");
    let topic = config.kafka.input_topic.clone();
    create_topics(&cluster, &config, 2);
    let lines = history(&config, false);
    let (first, rest) = lines.split_at(lines.len() * 2 / 3);
    produce(&brokers, &topic, first);
    // A producer writes the rest, one message every 10 ms (longer than the
    // replay runs), while both replays read.
    let writing = {
        let (brokers, topic, rest) = (brokers.clone(), topic.clone(), rest.to_vec());
        std::thread::spawn(move || {
            for line in rest.chunks(1) {
                produce(&brokers, &topic, line);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let [(bulk, _bulk_directory, rebuilt), (batches, _batch_directory, replayed)] =
        replay_both_ways(&config);
    assert!(
        !writing.is_finished(),
        "the producer was still writing when both replays ended"
    );
    for summary in [&rebuilt, &replayed] {
        assert!(summary.stopped_short.is_empty(), "{summary:?}");
        assert!(summary.consumed as usize >= first.len(), "{summary:?}");
        assert!((summary.consumed as usize) < lines.len(), "{summary:?}");
    }
    writing.join().unwrap();
    // Then everything: both states go on to the same scorecards as a file
    // replay.
    let month = Month::parse("2017-05").unwrap();
    let expected = file_report(&config, &lines, month);
    for (shared, before) in [(&bulk, &rebuilt), (&batches, &replayed)] {
        let rest = catch_up(shared);
        assert_eq!((before.consumed + rest.consumed) as usize, lines.len());
        let engine = shared.engine.lock().unwrap();
        assert_eq!(
            report::report_json(&engine.reader(), &config.unit_indices(), month),
            expected
        );
    }
}

#[test]
fn a_stop_and_restart_mid_stream_loses_and_repeats_nothing() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "b");
    create_topics(&cluster, &config, 2);
    let clean = history(&config, false);
    let messy = history(&config, true);
    produce(&brokers, &config.kafka.input_topic, &messy);
    let directory = tempfile::tempdir().unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    // First run: stopped from outside after a short while.
    {
        let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let watched = shared.engine.clone();
        let stopper = std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(2));
            if watched.lock().unwrap().totals().consumed > 3000 {
                flag.store(true, Ordering::SeqCst);
                break;
            }
        });
        let first = live::run(&shared, &options, &stop).unwrap();
        stopper.join().unwrap();
        assert!(
            (first.consumed as usize) < messy.len(),
            "stopped before the end: {first:?}"
        );
    }
    // Second run resumes from the offsets stored with the state.
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let second = live::run(&shared, &options, &AtomicBool::new(false)).unwrap();
    let engine = shared.engine.lock().unwrap();
    assert_eq!(
        engine.totals().consumed as usize,
        messy.len(),
        "every message consumed exactly once"
    );
    assert!(second.consumed > 0);
    let month = Month::parse("2017-06").unwrap();
    let units = config.unit_indices();
    assert_eq!(
        report::report_json(&engine.reader(), &units, month),
        file_report(&config, &clean, month)
    );
}

/// A broker that refuses some outputs for good (here: larger than the
/// producer may send) does not hold the rest back: the refused records are
/// parked, counted and kept; once the cause is fixed, `retry_parked` puts
/// them back and they are delivered.
#[test]
fn outputs_refused_for_good_are_parked_and_delivered_after_a_retry() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let mut config = kent(&brokers, "parked");
    create_topics(&cluster, &config, 2);
    let lines = history(&config, false);
    produce(&brokers, &config.kafka.input_topic, &lines);
    // Scorecards (a whole unit's month, several kilobytes) exceed this;
    // indicator values do not.
    config
        .kafka
        .producer_properties
        .insert("message.max.bytes".into(), "3000".into());
    let directory = tempfile::tempdir().unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    {
        let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
        live::run(&shared, &options, &AtomicBool::new(false)).unwrap();
        let engine = shared.engine.lock().unwrap();
        assert_eq!(engine.outbox_pending(), 0, "nothing else is held back");
        let parked = engine.parked_records().unwrap();
        assert!(!parked.is_empty());
        assert_eq!(parked.len() as u64, engine.parked_outputs());
        for (_, record) in &parked {
            let record = ragline::outbox::OutboxRecord::decode(&record.record).unwrap();
            assert_eq!(record.topic, ragline::outbox::OutputTopic::Scorecards);
            assert!(record.payload.len() > 3000);
        }
        assert!(!read_all(&brokers, &config.kafka.values_topic).is_empty());
        assert!(read_all(&brokers, &config.kafka.scorecards_topic).is_empty());
    }
    // The limit is lifted; the parked records go back and are delivered.
    config.kafka.producer_properties.clear();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let (requeued, dropped) = shared.engine.lock().unwrap().retry_parked().unwrap();
    assert!(requeued > 0);
    assert_eq!(dropped, 0);
    live::run(&shared, &options, &AtomicBool::new(false)).unwrap();
    let engine = shared.engine.lock().unwrap();
    assert_eq!(engine.parked_outputs(), 0);
    assert_eq!(engine.outbox_pending(), 0);
    let scorecards = read_all(&brokers, &config.kafka.scorecards_topic);
    assert_eq!(scorecards.len() as u64, requeued);
    assert!(scorecards.iter().any(|(key, _)| key == "kent/2017-05"));
}

/// A broker that is down when ragline starts is waited for (counted as
/// `connect` errors, not ready meanwhile); once it is up, every event is
/// read and the scorecards equal a file replay's.
#[test]
fn a_broker_down_at_start_is_waited_for_and_nothing_is_lost() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "down");
    create_topics(&cluster, &config, 2);
    let lines = history(&config, false);
    produce(&brokers, &config.kafka.input_topic, &lines);
    cluster.broker_down(1).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let runner = {
        let shared = shared.clone();
        std::thread::spawn(move || live::run(&shared, &options, &AtomicBool::new(false)))
    };
    // Down for long enough that the first connection attempt fails.
    std::thread::sleep(Duration::from_secs(12));
    assert!(
        !shared.ready.load(Ordering::SeqCst),
        "not ready while the broker is down"
    );
    assert!(!runner.is_finished(), "still waiting for the broker");
    let errors = shared.telemetry.render();
    assert!(
        errors.lines().any(|line| line
            .starts_with("ragline_kafka_errors_total{kind=\"connect\"} ")
            && !line.ends_with(" 0")),
        "connect errors counted"
    );
    cluster.broker_up(1).unwrap();
    let summary = runner.join().unwrap().unwrap();
    assert_eq!(summary.consumed as usize, lines.len());
    let month = Month::parse("2017-05").unwrap();
    let engine = shared.engine.lock().unwrap();
    assert_eq!(
        report::report_json(&engine.reader(), &config.unit_indices(), month),
        file_report(&config, &lines, month)
    );
}

/// The value of one sample line of the metrics page, 0 when absent.
fn metric(shared: &live::Shared, sample: &str) -> f64 {
    shared
        .telemetry
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Every message of a topic keeps one content per id: a retry may repeat a
/// message, never change it.
fn one_content_per_id(messages: &[(String, Value)]) {
    let mut seen: HashMap<String, &Value> = HashMap::new();
    for (_, message) in messages {
        let id = message["id"].as_str().expect("every output has an id");
        if let Some(earlier) = seen.insert(id.to_string(), message) {
            assert_eq!(earlier, message, "id {id} delivered with two contents");
        }
    }
}

/// The broker goes away in the middle of a run and comes back: ragline
/// waits (consumer and delivery errors counted), then reads on from where
/// it was; every event is applied once and every output delivered.
#[test]
fn a_broker_restarted_mid_run_loses_and_repeats_nothing() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "restart");
    create_topics(&cluster, &config, 2);
    let lines = history(&config, true);
    produce(&brokers, &config.kafka.input_topic, &lines);
    let directory = tempfile::tempdir().unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let runner = {
        let shared = shared.clone();
        std::thread::spawn(move || live::run(&shared, &options, &AtomicBool::new(false)))
    };
    let started = Instant::now();
    while shared.engine.lock().unwrap().totals().consumed < 2000 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        if runner.is_finished() {
            panic!("the run ended early: {:?}", runner.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cluster.broker_down(1).unwrap();
    let consumed_when_down = shared.engine.lock().unwrap().totals().consumed;
    std::thread::sleep(Duration::from_secs(6));
    assert!(!runner.is_finished(), "waits for the broker");
    assert!(
        (consumed_when_down as usize) < lines.len(),
        "the broker went down mid-stream"
    );
    cluster.broker_up(1).unwrap();
    let summary = runner.join().unwrap().unwrap();
    assert_eq!(summary.consumed as usize, lines.len());
    let errors = metric(&shared, "ragline_kafka_errors_total{kind=\"consume\"}")
        + metric(&shared, "ragline_kafka_errors_total{kind=\"delivery\"}");
    assert!(errors > 0.0, "the outage is counted");
    let engine = shared.engine.lock().unwrap();
    assert_eq!(engine.totals().consumed as usize, lines.len());
    assert_eq!(engine.outbox_pending(), 0, "every output delivered");
    let clean = history(&config, false);
    for month in ["2016-09", "2017-06"] {
        let month = Month::parse(month).unwrap();
        assert_eq!(
            report::report_json(&engine.reader(), &config.unit_indices(), month),
            file_report(&config, &clean, month)
        );
    }
    drop(engine);
    one_content_per_id(&read_all(&brokers, &config.kafka.values_topic));
}

/// An output topic that the broker stops knowing (deleted under ragline:
/// produce requests answered "unknown topic or partition") holds its
/// records in the outbox, counted as delivery errors, and they are
/// delivered once the topic is back; input is not lost meanwhile.
#[test]
fn outputs_to_a_vanished_topic_wait_in_the_outbox_and_are_delivered() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let mut config = kent(&brokers, "vanished");
    // Records give up after 2 s, so that the outage reaches ragline as
    // failed deliveries rather than being retried inside librdkafka.
    config
        .kafka
        .producer_properties
        .insert("message.timeout.ms".into(), "2000".into());
    create_topics(&cluster, &config, 2);
    let lines = history(&config, false);
    produce(&brokers, &config.kafka.input_topic, &lines);
    let errors = vec![rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART; 400];
    cluster.request_errors(rdkafka::types::RDKafkaApiKey::Produce, &errors);
    let directory = tempfile::tempdir().unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let summary = live::run(&shared, &options, &AtomicBool::new(false)).unwrap();
    assert_eq!(summary.consumed as usize, lines.len());
    let engine = shared.engine.lock().unwrap();
    assert_eq!(engine.outbox_pending(), 0, "every output delivered");
    assert_eq!(engine.parked_outputs(), 0, "a missing topic is not parked");
    drop(engine);
    assert!(
        metric(&shared, "ragline_kafka_errors_total{kind=\"delivery\"}") > 0.0,
        "failed deliveries are counted"
    );
    let values = read_all(&brokers, &config.kafka.values_topic);
    one_content_per_id(&values);
    let month = Month::parse("2017-05").unwrap();
    let scorecards = read_all(&brokers, &config.kafka.scorecards_topic);
    assert!(scorecards.iter().any(|(key, _)| key == "kent/2017-05"));
    let engine = shared.engine.lock().unwrap();
    assert_eq!(
        report::report_json(&engine.reader(), &config.unit_indices(), month),
        file_report(&config, &lines, month)
    );
}

/// Input events deleted by retention before ragline read them are an
/// explicit error: the partition is set aside (metric, not ready, error
/// log), never skipped silently, while the other partitions are read on.
#[test]
fn a_retention_gap_is_refused_not_skipped() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = kent(&brokers, "gap");
    let topic = config.kafka.input_topic.clone();
    create_topics(&cluster, &config, 2);
    let lines = history(&config, false);
    let (first, rest) = lines.split_at(lines.len() / 2);
    produce(&brokers, &topic, first);
    let directory = tempfile::tempdir().unwrap();
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    {
        let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
        let summary = live::run(&shared, &options, &AtomicBool::new(false)).unwrap();
        assert_eq!(summary.consumed as usize, first.len());
    }
    // While ragline is away, partition 0 receives more than the broker
    // keeps (the mock cluster holds 5 MB per partition and deletes the
    // oldest beyond), partition 1 the rest of the history.
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let padding = format!(
        "{{\"event_id\":\"pad\",\"type\":\"visit\",\"pad\":\"{}\"}}",
        "a".repeat(400_000)
    );
    for _ in 0..16 {
        producer
            .send(
                BaseRecord::<str, str>::to(&topic)
                    .partition(0)
                    .payload(&padding),
            )
            .unwrap();
        producer.poll(Duration::ZERO);
    }
    for line in rest {
        loop {
            match producer.send(
                BaseRecord::<str, [u8]>::to(&topic)
                    .partition(1)
                    .payload(line),
            ) {
                Ok(()) => break,
                Err(_) => {
                    producer.poll(Duration::from_millis(20));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let probe: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let (low, _) = probe
        .fetch_watermarks(&topic, 0, Duration::from_secs(10))
        .unwrap();
    let shared = live::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let next =
        shared.engine.lock().unwrap().positions()[&ragline::source::kafka::position_key(&topic, 0)];
    assert!(
        low > next,
        "the broker deleted unread events: {low} > {next}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let shared = shared.clone();
        let stop = stop.clone();
        let options = LiveOptions {
            until_caught_up: false,
            ..options
        };
        std::thread::spawn(move || live::run(&shared, &options, &stop))
    };
    let started = Instant::now();
    while (shared.engine.lock().unwrap().totals().consumed as usize) < lines.len() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "partition 1 is read on"
        );
        if runner.is_finished() {
            panic!("the run ended early: {:?}", runner.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(!shared.ready.load(Ordering::SeqCst), "not ready with a gap");
    let gap = format!("ragline_input_retention_gap{{partition=\"0\",topic=\"{topic}\"}}");
    assert_eq!(metric(&shared, &gap), 1.0, "{}", shared.telemetry.render());
    assert!(metric(&shared, "ragline_kafka_errors_total{kind=\"offsets_lost\"}") >= 1.0);
    stop.store(true, Ordering::SeqCst);
    runner.join().unwrap().unwrap();
    let engine = shared.engine.lock().unwrap();
    assert_eq!(
        engine.totals().consumed as usize,
        lines.len(),
        "nothing of partition 0 was read past the gap"
    );
    assert_eq!(
        engine.positions()[&ragline::source::kafka::position_key(&topic, 0)],
        next,
        "the gapped partition's position is kept for an operator to see"
    );
}
