//! More than one instance on librdkafka's mock cluster (`docs/scale-out.md`).
//! Two authorities' messy history, with malformed messages among it, keyed
//! by child over a six-partition input topic, is run by one, two and three
//! instances (consumer groups with cooperative sticky assignment, a
//! four-partition repartition topic): the last value of every indicator and
//! unit on the values topic, the dead letters, every partition's clock and
//! the month-end scorecard of every unit and closed month equal one engine
//! given the whole history. When one of three instances stops mid-stream,
//! the others take over its partitions, rebuild them from the repartition
//! topic, and end with the same scorecards.
//!
//! The `ragline run` process tests (one, two and three processes; `kill -9`
//! of one and its restart; a rolling restart) run on the mock cluster and,
//! when `RAGLINE_BROKER` names one (`scripts/test.sh` starts tansu), on the
//! real test broker as well. tansu 0.6.0's group coordinator never replaces
//! a group leader that died without leaving (README, "Known limits of the
//! test broker"), so there the instance killed is one that joined last; on
//! the mock cluster it is any.

mod common;
#[path = "common/kafka_topics.rs"]
mod kafka_topics;
use kafka_topics::{assert_one_content_per_id, create_output_topics, read_all};
#[path = "common/http_client.rs"]
mod http_client;
#[allow(dead_code)]
mod model;
use common::scaled::{differing_values, history, last_readings, last_values, producer_key};
use common::scaled::{two_authorities_text, unit_scorecards};
use ragline::config::{Config, ScaleOutSettings};
use ragline::event::RawMessage;
use ragline::pipeline::{Engine, Mode};
use ragline::route::partition_authorities;
use ragline::scale_out::{ScaleOutOptions, ScaleOutProgress, ScaleOutSummary};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PARTITIONS: u32 = 4;

fn config(brokers: &str, suffix: &str) -> Arc<Config> {
    let mut config = Config::parse(&two_authorities_text(), Path::new("test.toml")).unwrap();
    let kafka = &mut config.kafka;
    kafka.brokers = brokers.to_string();
    kafka.input_topic = format!("events-{suffix}");
    kafka.group_id = format!("ragline-{suffix}");
    kafka.values_topic = format!("values-{suffix}");
    kafka.rag_changes_topic = format!("rag-{suffix}");
    kafka.scorecards_topic = format!("scorecards-{suffix}");
    kafka.restatements_topic = format!("restatements-{suffix}");
    kafka.dead_letters_topic = format!("dead-{suffix}");
    for (key, value) in [
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "500"),
    ] {
        kafka
            .consumer_properties
            .insert(key.to_string(), value.to_string());
    }
    config.processing.batch_max_events = 200;
    config.scale_out = ScaleOutSettings {
        enabled: true,
        repartition_topic: format!("repartition-{suffix}"),
        partitions: PARTITIONS,
        producer_properties: Default::default(),
    };
    Arc::new(config)
}

/// One instance running on a thread of its own.
struct Instance {
    handle: Option<JoinHandle<ScaleOutSummary>>,
    stop: Arc<AtomicBool>,
    progress: Arc<ScaleOutProgress>,
    directory: tempfile::TempDir,
}

impl Instance {
    fn start(config: &Arc<Config>) -> Instance {
        let directory = tempfile::tempdir().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(ScaleOutProgress::default());
        let options = ScaleOutOptions {
            mode: Mode::Replay,
            fixed_today: None,
            progress: progress.clone(),
            telemetry: Some(Arc::new(ragline::telemetry::Telemetry::new(config))),
        };
        let (config, state, flag) = (config.clone(), directory.path().to_path_buf(), stop.clone());
        let handle = std::thread::spawn(move || {
            ragline::scale_out::run(config, &state, &options, &flag).expect("the instance runs")
        });
        Instance {
            handle: Some(handle),
            stop,
            progress,
            directory,
        }
    }

    fn owned(&self) -> Vec<i32> {
        self.progress.owned.lock().unwrap().clone()
    }

    fn stop(&mut self) -> ScaleOutSummary {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().expect("no panic")
    }
}

/// The six-partition input topic, and the repartition and output topics
/// that ragline would create itself (the mock cluster has no CreateTopics:
/// each attempt would wait out its 10 s request timeout).
fn create_topics(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    config: &Config,
) {
    let kafka = &config.kafka;
    cluster.create_topic(&kafka.input_topic, 6, 1).unwrap();
    cluster
        .create_topic(&config.scale_out.repartition_topic, PARTITIONS as i32, 1)
        .unwrap();
    create_output_topics(cluster, kafka);
}

/// Asserts that no output id was delivered with two contents.
fn assert_ids_unique(brokers: &str, config: &Config) {
    let kafka = &config.kafka;
    let count = assert_one_content_per_id(
        brokers,
        &[
            &kafka.values_topic,
            &kafka.rag_changes_topic,
            &kafka.scorecards_topic,
            &kafka.restatements_topic,
        ],
    );
    assert!(count > 0, "outputs were delivered");
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until every partition is owned by exactly one running instance.
fn wait_for_assignment(instances: &[&Instance]) {
    wait_for(
        "every partition to be assigned once",
        Duration::from_secs(60),
        || {
            let mut owned: Vec<i32> = instances
                .iter()
                .flat_map(|instance| instance.owned())
                .collect();
            owned.sort_unstable();
            owned == (0..PARTITIONS as i32).collect::<Vec<_>>()
        },
    );
}

/// Input messages the instances have routed or dead-lettered so far.
fn routed(instances: &[&Instance]) -> u64 {
    instances
        .iter()
        .map(|instance| {
            instance.progress.routed.load(Ordering::SeqCst)
                + instance.progress.rejected.load(Ordering::SeqCst)
        })
        .sum()
}

/// Waits until the instances have routed `messages` in all and applied
/// nothing new for a while.
fn wait_until_quiet(instances: &[&Instance], messages: u64) {
    let routed = || routed(instances);
    wait_for(
        "every input message to be routed",
        Duration::from_secs(120),
        || routed() >= messages,
    );
    let applied = || {
        instances
            .iter()
            .map(|instance| instance.progress.applied.load(Ordering::SeqCst))
            .sum::<u64>()
    };
    let mut last = (applied(), Instant::now());
    wait_for("applying to finish", Duration::from_secs(120), || {
        let now = applied();
        if now != last.0 {
            last = (now, Instant::now());
        }
        last.1.elapsed() > Duration::from_secs(3)
    });
}

/// Produces `lines`, keyed by child, one record per record batch: tansu
/// returns nothing from a fetch that starts inside a record batch, and its
/// high watermark is the last batch's first offset + 1.
fn produce(brokers: &str, topic: &str, lines: &[Vec<u8>]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "0")
        .set("batch.num.messages", "1")
        .create()
        .unwrap();
    for line in lines {
        let key = producer_key(line);
        let mut record = BaseRecord::to(topic).key(&key).payload(line);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(20));
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    // (flush can report a spurious timeout with one record per batch; wait
    // for the delivery reports instead.)
    let deadline = Instant::now() + Duration::from_secs(60);
    while producer.in_flight_count() > 0 && Instant::now() < deadline {
        producer.poll(Duration::from_millis(50));
    }
    assert_eq!(producer.in_flight_count(), 0, "input not delivered in time");
}

/// One engine given the whole history, in order.
fn one_engine(config: &Arc<Config>, lines: &[Vec<u8>], directory: &Path) -> Engine {
    let mut engine = Engine::open(config.clone(), directory, Mode::Replay).unwrap();
    engine.set_emit_outputs(true);
    let messages = RawMessage::file_lines(
        "history.jsonl",
        lines
            .iter()
            .map(|line| String::from_utf8_lossy(line).into_owned()),
    );
    for chunk in messages.chunks(200) {
        engine.run_batch(chunk, None).unwrap();
    }
    engine
}

/// Compares the partitions' states (opened from the instances that own
/// them) with one engine: clocks and the month-end scorecards of every unit.
fn compare_states(config: &Arc<Config>, owners: &[(i32, &Path)], single: &Engine) {
    compare_states_in(config, owners, single, Mode::Replay)
}

/// [`compare_states`] for states written in `mode`. A partition whose state
/// more than one instance holds (it moved while they stopped one after the
/// other, or during a rebalance before) is compared in the state that
/// applied it furthest.
fn compare_states_in(config: &Arc<Config>, owners: &[(i32, &Path)], single: &Engine, mode: Mode) {
    let mut furthest: std::collections::BTreeMap<i32, (i64, Engine)> =
        std::collections::BTreeMap::new();
    for (partition, state) in owners {
        let directory = state.join(format!("partition-{partition}"));
        let engine = Engine::open(config.clone(), &directory, mode).unwrap();
        let key =
            ragline::source::kafka::position_key(&config.scale_out.repartition_topic, *partition);
        let position = engine.positions().get(&key).copied().unwrap_or(-1);
        if furthest
            .get(partition)
            .is_none_or(|(held, _)| *held < position)
        {
            furthest.insert(*partition, (position, engine));
        }
    }
    assert_eq!(
        furthest.keys().copied().collect::<Vec<_>>(),
        (0..PARTITIONS as i32).collect::<Vec<_>>(),
        "every partition is applied"
    );
    let clock = single.clock();
    assert!(clock.last_closed.is_some());
    for (partition, (_, engine)) in &furthest {
        let held = engine.clock();
        assert_eq!(
            (held.latest_event, held.first_month, held.last_closed),
            (clock.latest_event, clock.first_month, clock.last_closed),
            "partition {partition}'s clock"
        );
        for la in partition_authorities(config, *partition as u32, PARTITIONS) {
            for unit in config.unit_indices() {
                if config.unit(unit).la != la {
                    continue;
                }
                let (got, expected) =
                    (unit_scorecards(engine, unit), unit_scorecards(single, unit));
                assert_eq!(got.len(), expected.len());
                for (month, (got, expected)) in got.iter().zip(&expected).enumerate() {
                    if got == expected {
                        continue;
                    }
                    let got: Value = serde_json::from_str(got).unwrap();
                    let expected: Value = serde_json::from_str(expected).unwrap();
                    let unit_id = &config.unit(unit).id;
                    let rows = |value: &Value| {
                        value[unit_id.as_str()]
                            .as_object()
                            .cloned()
                            .unwrap_or_default()
                    };
                    let (got_rows, expected_rows) = (rows(&got), rows(&expected));
                    let differing: Vec<String> = expected_rows
                        .iter()
                        .filter(|(indicator, row)| got_rows.get(*indicator) != Some(row))
                        .map(|(indicator, row)| {
                            format!(
                                "{indicator}: scaled out {:?} one engine {row}",
                                got_rows.get(indicator)
                            )
                        })
                        .take(4)
                        .collect();
                    panic!(
                        "unit {unit_id} (partition {partition}), month {month} after the first: {}",
                        differing.join("\n")
                    );
                }
            }
        }
    }
}

#[test]
fn one_two_and_three_instances_agree_with_one_engine() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let lines = history(5);
    let directory = tempfile::tempdir().unwrap();
    let single = one_engine(&common::scaled::config(), &lines, directory.path());
    let rejected: u64 = single.totals().rejected.values().sum();
    assert!(rejected > 0, "the history holds malformed messages");
    for count in 1..=3 {
        let suffix = format!("n{count}");
        let config = config(&brokers, &suffix);
        create_topics(&cluster, &config);
        let mut instances: Vec<Instance> = (0..count).map(|_| Instance::start(&config)).collect();
        wait_for_assignment(&instances.iter().collect::<Vec<_>>());
        if count > 1 {
            assert!(
                instances
                    .iter()
                    .all(|instance| !instance.owned().is_empty()),
                "{count} instances share the partitions"
            );
        }
        produce(&brokers, &config.kafka.input_topic, &lines);
        wait_until_quiet(&instances.iter().collect::<Vec<_>>(), lines.len() as u64);
        let owners: Vec<(i32, std::path::PathBuf)> = instances
            .iter()
            .flat_map(|instance| {
                let state = instance.directory.path().to_path_buf();
                instance
                    .owned()
                    .into_iter()
                    .map(move |partition| (partition, state.clone()))
            })
            .collect();
        let summaries: Vec<ScaleOutSummary> = instances.iter_mut().map(Instance::stop).collect();
        assert_eq!(
            summaries
                .iter()
                .map(|summary| summary.rejected)
                .sum::<u64>(),
            rejected,
            "{count} instances: dead letters"
        );
        assert_eq!(
            read_all(&brokers, &config.kafka.dead_letters_topic).len() as u64,
            rejected
        );
        let values = last_readings(read_all(&brokers, &config.kafka.values_topic).into_iter());
        let differing = differing_values(&values, &last_values(&single));
        assert!(
            differing.is_empty(),
            "{count} instances: last values differ:\n{}",
            differing.join("\n")
        );
        let owners: Vec<(i32, &Path)> = owners
            .iter()
            .map(|(partition, state)| (*partition, state.as_path()))
            .collect();
        compare_states(&config, &owners, &single);
        assert_ids_unique(&brokers, &config);
    }
}

#[test]
fn an_instance_that_stops_mid_stream_hands_its_partitions_over() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let lines = history(8);
    let directory = tempfile::tempdir().unwrap();
    let single = one_engine(&common::scaled::config(), &lines, directory.path());
    let config = config(&brokers, "failover");
    create_topics(&cluster, &config);
    let mut instances: Vec<Instance> = (0..3).map(|_| Instance::start(&config)).collect();
    wait_for_assignment(&instances.iter().collect::<Vec<_>>());
    let leaving = instances
        .iter()
        .position(|instance| !instance.owned().is_empty())
        .unwrap();
    let half = lines.len() / 2;
    produce(&brokers, &config.kafka.input_topic, &lines[..half]);
    wait_until_quiet(&instances.iter().collect::<Vec<_>>(), half as u64);
    let handed_over = instances[leaving].owned();
    let mut gone = instances.remove(leaving);
    gone.stop();
    let staying: Vec<&Instance> = instances.iter().collect();
    wait_for_assignment(&staying);
    let before = routed(&staying);
    produce(&brokers, &config.kafka.input_topic, &lines[half..]);
    wait_until_quiet(&staying, before + (lines.len() - half) as u64);
    let owners: Vec<(i32, std::path::PathBuf)> = instances
        .iter()
        .flat_map(|instance| {
            let state = instance.directory.path().to_path_buf();
            instance
                .owned()
                .into_iter()
                .map(move |partition| (partition, state.clone()))
        })
        .collect();
    assert!(
        handed_over
            .iter()
            .all(|partition| owners.iter().any(|(owned, _)| owned == partition)),
        "the partitions of the instance that left are taken over"
    );
    for instance in &mut instances {
        instance.stop();
    }
    let owners: Vec<(i32, &Path)> = owners
        .iter()
        .map(|(partition, state)| (*partition, state.as_path()))
        .collect();
    compare_states(&config, &owners, &single);
    assert_ids_unique(&brokers, &config);
    drop(gone);
}

/// `ragline run` processes with `[scale_out] enabled`, on the mock cluster.
struct Process {
    child: std::process::Child,
    state: Option<tempfile::TempDir>,
    log: std::path::PathBuf,
}

impl Process {
    fn start(config_path: &Path, today: &str, logs: &Path, index: usize) -> Process {
        Process::start_in(
            config_path,
            today,
            logs,
            index,
            tempfile::tempdir().unwrap(),
        )
    }

    /// Starts an instance over a state it had before.
    fn start_in(
        config_path: &Path,
        today: &str,
        logs: &Path,
        index: usize,
        state: tempfile::TempDir,
    ) -> Process {
        let log = logs.join(format!("instance-{index}.log"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(["run", "--config"])
            .arg(config_path)
            .arg("--state")
            .arg(state.path())
            .args(["--today", today])
            .env("RUST_LOG", "info,ragline::scale_out=debug")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Process {
            child,
            state: Some(state),
            log,
        }
    }

    /// The repartition partitions its log says it was ever assigned.
    fn assigned(&self) -> std::collections::BTreeSet<i32> {
        self.assignments().into_iter().collect()
    }

    /// The repartition partitions its log says it holds: assigned and not
    /// revoked since.
    fn held(&self) -> std::collections::BTreeSet<i32> {
        let mut last = std::collections::BTreeMap::new();
        for catch_up in self.catch_ups() {
            last.insert(catch_up.partition, catch_up.revoked);
        }
        last.into_iter()
            .filter(|(_, revoked)| !revoked)
            .map(|(partition, _)| partition)
            .collect()
    }

    /// Every assignment of a repartition partition its log holds, in order.
    fn assignments(&self) -> Vec<i32> {
        self.catch_ups()
            .iter()
            .map(|catch_up| catch_up.partition)
            .collect()
    }

    /// Its log without colours.
    fn plain_log(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut plain = String::with_capacity(log.len());
        let mut escape = false;
        for character in log.chars() {
            match (escape, character) {
                (false, '\u{1b}') => escape = true,
                (true, 'm') => escape = false,
                (true, _) => {}
                (false, _) => plain.push(character),
            }
        }
        plain
    }

    /// What its log says of each assignment of a repartition partition, in
    /// order: the batches applied until the partition was caught up.
    fn catch_ups(&self) -> Vec<CatchUp> {
        let field = |line: &str, name: &str| -> Option<String> {
            let (_, rest) = line.split_once(&format!(" {name}="))?;
            Some(rest.split_whitespace().next()?.to_string())
        };
        let mut catch_ups: Vec<CatchUp> = Vec::new();
        for line in self.plain_log().lines() {
            let Some(partition) = field(line, "partition").and_then(|text| text.parse().ok())
            else {
                continue;
            };
            if line.contains("repartition partition revoked") {
                if let Some(last) = catch_ups
                    .iter_mut()
                    .rev()
                    .find(|catch_up| catch_up.partition == partition)
                {
                    last.revoked = true;
                }
            }
            let open = catch_ups
                .iter_mut()
                .rev()
                .find(|catch_up| catch_up.partition == partition && !catch_up.ended);
            if line.contains("repartition partition assigned") {
                catch_ups.push(CatchUp {
                    partition,
                    silent: Vec::new(),
                    caught_up: false,
                    ended: false,
                    revoked: false,
                });
            } else if let Some(open) = open {
                if line.contains("applying a decided batch") {
                    open.silent
                        .push(field(line, "silent").as_deref() == Some("true"));
                } else if line.contains("repartition partition caught up") {
                    (open.caught_up, open.ended) = (true, true);
                } else if line.contains("repartition partition revoked") {
                    open.ended = true;
                }
            }
        }
        catch_ups
    }

    /// The port its `/metrics`, `/healthz` and `/readyz` listen on.
    fn http_port(&self) -> u16 {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let line = log
            .lines()
            .find(|line| line.contains("serving /metrics, /healthz, /readyz on http://"))
            .unwrap_or_else(|| panic!("no listening line in {log}"));
        line.rsplit_once(':').unwrap().1.trim().parse().unwrap()
    }

    /// Its metrics, once it is ready (every partition it applies is
    /// current) and its metrics say so per partition; otherwise why not.
    fn ready_metrics(&self) -> Result<String, String> {
        let port = self.http_port();
        let (status, body) = http_client::http_get(port, "/readyz")
            .ok_or_else(|| format!("{}: /readyz did not answer", self.log.display()))?;
        if (status, body.trim()) != (200, "ready") {
            return Err(format!("{}: /readyz {status} {body}", self.log.display()));
        }
        let (status, metrics) = http_client::http_get(port, "/metrics")
            .ok_or_else(|| format!("{}: /metrics did not answer", self.log.display()))?;
        assert_eq!(status, 200);
        let catching_up: Vec<&str> = metrics
            .lines()
            .filter(|line| line.starts_with("ragline_repartition_catching_up{"))
            .collect();
        if catching_up.is_empty() || !catching_up.iter().all(|line| line.ends_with(" 0")) {
            return Err(format!(
                "{}: per-partition gauges {catching_up:?}",
                self.log.display()
            ));
        }
        Ok(metrics)
    }

    /// Its metrics when it is ready (every partition it applies is caught
    /// up) and no output waits in its outbox.
    fn settled_metrics(&self) -> Option<String> {
        self.ready_metrics().ok().filter(|metrics| {
            metrics
                .lines()
                .any(|line| line.trim() == "ragline_outbox_pending_records 0")
        })
    }

    /// SIGTERM, then the partitions it applied when it stopped. Waits
    /// first until the instance has started (its signal handlers are in
    /// place once it listens).
    fn stop(mut self) -> (Vec<i32>, tempfile::TempDir) {
        wait_for("the instance to start", Duration::from_secs(60), || {
            std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .contains("serving /metrics, /healthz, /readyz")
        });
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&self.log).unwrap();
                assert!(status.success(), "instance failed: {log}");
                let line = log
                    .lines()
                    .find(|line| line.contains("repartition partitions applied at stop"))
                    .unwrap_or_else(|| panic!("no stop line in {log}"));
                let list = line.rsplit_once('[').unwrap().1.trim_end_matches(']');
                let owned = list
                    .split(", ")
                    .filter(|text| !text.is_empty())
                    .map(|text| text.parse().unwrap())
                    .collect();
                return (owned, self.state.take().unwrap());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("instance did not stop");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            // What the instance was doing when the test failed.
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!("--- last lines of {} ---", self.log.display());
            for line in tail {
                eprintln!("{line}");
            }
        }
    }
}

/// One assignment of a repartition partition to an instance, from its log.
struct CatchUp {
    partition: i32,
    /// Whether each batch applied while it caught up was applied silently.
    silent: Vec<bool>,
    /// Whether it was caught up (rather than revoked or still catching up).
    caught_up: bool,
    /// Caught up or revoked: later batches are live ones.
    ended: bool,
    /// Revoked since it was assigned (caught up first or not).
    revoked: bool,
}

/// Where a group stands on each partition of a topic: (partition, its
/// committed offset, or `None` when nothing is committed, and the end of
/// the partition).
type Positions = Vec<(i32, Option<i64>, i64)>;

/// Where `group` stands on each partition of `topic`, or why the broker
/// did not say.
fn group_positions(brokers: &str, group: &str, topic: &str) -> Result<Positions, String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .map_err(|error| format!("{topic}: metadata: {error}"))?;
    let mut list = rdkafka::TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        list.add_partition(topic, partition.id());
    }
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(5))
        .map_err(|error| format!("{group} on {topic}: committed offsets: {error}"))?;
    committed
        .elements()
        .iter()
        .map(|element| {
            let (_, high) = consumer
                .fetch_watermarks(topic, element.partition(), Duration::from_secs(5))
                .map_err(|error| {
                    format!("{topic} [{}]: watermarks: {error}", element.partition())
                })?;
            let committed = match element.offset() {
                rdkafka::Offset::Offset(offset) => Some(offset),
                _ => None,
            };
            Ok((element.partition(), committed, high))
        })
        .collect()
}

/// Waits until routing has committed the whole input and applying the
/// whole repartition topic, and it stays so for a while (clock records
/// written after a partition's last batch land on the others). Fails when
/// neither group's offsets nor the topics' ends have moved for
/// [`STALL_LIMIT`] (on the test broker, with other tests loading the
/// machine, routing a few thousand events has taken over four minutes, still
/// progressing: the limit is for a stall, not for a slow broker), saying
/// where each group stands.
fn wait_for_quiet_outputs(brokers: &str, config: &Config) {
    const STALL_LIMIT: Duration = Duration::from_secs(240);
    const OVERALL_LIMIT: Duration = Duration::from_secs(900);
    let group = &config.kafka.group_id;
    let apply_group = format!("{group}-apply");
    let groups = [
        (group.as_str(), config.kafka.input_topic.as_str()),
        (
            apply_group.as_str(),
            config.scale_out.repartition_topic.as_str(),
        ),
    ];
    let started = Instant::now();
    let mut quiet_since: Option<Instant> = None;
    let mut last: (String, Instant) = (String::new(), Instant::now());
    loop {
        let positions: Vec<Result<Positions, String>> = groups
            .iter()
            .map(|(group, topic)| group_positions(brokers, group, topic))
            .collect();
        let done = positions.iter().all(|positions| {
            positions.as_ref().is_ok_and(|positions| {
                positions
                    .iter()
                    .all(|(_, committed, high)| committed.unwrap_or(0) == *high)
            })
        });
        if done {
            if quiet_since.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(3) {
                return;
            }
        } else {
            quiet_since = None;
        }
        let seen = groups
            .iter()
            .zip(&positions)
            .map(|((group, topic), positions)| match positions {
                Ok(positions) => format!(
                    "{group} on {topic} (partition: committed/end): {}",
                    positions
                        .iter()
                        .map(|(partition, committed, high)| match committed {
                            Some(committed) => format!("{partition}: {committed}/{high}"),
                            None => format!("{partition}: none/{high}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(error) => format!("{group}: {error}"),
            })
            .collect::<Vec<_>>()
            .join("\n");
        if seen != last.0 {
            last = (seen, Instant::now());
        }
        assert!(
            last.1.elapsed() < STALL_LIMIT && started.elapsed() < OVERALL_LIMIT,
            "timed out waiting for routing and applying to finish ({} s, nothing moved for {} s):\n{}",
            started.elapsed().as_secs(),
            last.1.elapsed().as_secs(),
            last.0
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits, before stopping `processes`, until every partition is caught up
/// by its current owner (the group's lag is the last owner's, and a
/// partition may just have moved), every partition has exactly one owner
/// (during a rebalance an instance not yet told of the new assignment may
/// still apply a partition another was given) and every output is
/// delivered (what is not waits in the state for the next start, unseen by
/// a reader of the topics). Returns each process's metrics of that moment.
fn wait_until_settled(processes: &[&Process]) -> Vec<String> {
    let mut settled = Vec::new();
    wait_for(
        "every instance to be caught up, each partition applied once, every output delivered",
        Duration::from_secs(120),
        || {
            let Some(metrics) = processes
                .iter()
                .map(|process| process.settled_metrics())
                .collect::<Option<Vec<String>>>()
            else {
                return false;
            };
            let owners = |partition: u32| {
                let gauge = format!("ragline_repartition_catching_up{{partition=\"{partition}\"}}");
                metrics
                    .iter()
                    .filter(|text| text.lines().any(|line| line.starts_with(&gauge)))
                    .count()
            };
            if (0..PARTITIONS).all(|partition| owners(partition) == 1) {
                settled = metrics;
                true
            } else {
                false
            }
        },
    );
    settled
}

/// Each partition state the stopped processes keep, with the state
/// directory that holds it: those they applied when they stopped and those
/// revoked from them before. Processes stop one after the other, and each
/// stop moves partitions: one revoked from a process keeps its state there,
/// while the process given it may stop before it has caught up, or before
/// a slow group join has given it anything. [`compare_states_in`] takes
/// each partition's furthest state.
fn states_of_stopped(stopped: &[(Vec<i32>, tempfile::TempDir)]) -> Vec<(i32, &Path)> {
    let mut states = Vec::new();
    for (_, state) in stopped {
        for entry in std::fs::read_dir(state.path()).unwrap() {
            let name = entry.unwrap().file_name();
            if let Some(partition) = name
                .to_str()
                .and_then(|name| name.strip_prefix("partition-"))
                .and_then(|number| number.parse::<i32>().ok())
            {
                states.push((partition, state.path()));
            }
        }
    }
    states
}

/// One engine, live at `today`, given the whole history in order.
fn live_engine(config: &Arc<Config>, lines: &[Vec<u8>], today: &str, directory: &Path) -> Engine {
    let mut engine = Engine::open(config.clone(), directory, Mode::Live).unwrap();
    engine.set_emit_outputs(true);
    let today = ragline::calendar::Date::parse(today).unwrap();
    let messages = RawMessage::file_lines(
        "history.jsonl",
        lines
            .iter()
            .map(|line| String::from_utf8_lossy(line).into_owned()),
    );
    for chunk in messages.chunks(200) {
        engine.run_batch(chunk, Some(today)).unwrap();
    }
    engine
}

/// Writes `config`'s Kafka and scale-out settings to a configuration file
/// for `ragline run`.
fn write_config(
    config: &Config,
    brokers: &str,
    directory: &Path,
    repartition_producer_properties: &str,
) -> std::path::PathBuf {
    let config_path = directory.join("ragline.toml");
    let text = format!(
        "{}\n[kafka]\nbrokers = \"{brokers}\"\ninput_topic = \"{}\"\ngroup_id = \"{}\"\nvalues_topic = \"{}\"\nrag_changes_topic = \"{}\"\nscorecards_topic = \"{}\"\nrestatements_topic = \"{}\"\ndead_letters_topic = \"{}\"\n\n[kafka.consumer_properties]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"500\"\n\n[processing]\nbatch_max_events = 200\n\n[http]\nlisten = \"127.0.0.1:0\"\n\n[scale_out]\nenabled = true\nrepartition_topic = \"{}\"\npartitions = {PARTITIONS}\n\n[scale_out.producer_properties]\n{producer_properties}",
        two_authorities_text(),
        config.kafka.input_topic,
        config.kafka.group_id,
        config.kafka.values_topic,
        config.kafka.rag_changes_topic,
        config.kafka.scorecards_topic,
        config.kafka.restatements_topic,
        config.kafka.dead_letters_topic,
        config.scale_out.repartition_topic,
        producer_properties = repartition_producer_properties,
    );
    std::fs::write(&config_path, text).unwrap();
    config_path
}

/// Where the `ragline run` processes meet: librdkafka's mock cluster, or
/// the real test broker.
enum TestBroker {
    Mock(MockCluster<'static, rdkafka::producer::DefaultProducerContext>),
    Real(String),
}

impl TestBroker {
    fn mock() -> TestBroker {
        TestBroker::Mock(MockCluster::new(1).unwrap())
    }

    /// The broker `RAGLINE_BROKER` names, with a lock that runs the tests
    /// on it one at a time (each runs three processes against one broker
    /// on a shared machine). Unset, the test does not run (`None`), except
    /// under CI (`CI=true`), where it must.
    fn real() -> Option<(TestBroker, std::sync::MutexGuard<'static, ()>)> {
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let broker = std::env::var("RAGLINE_BROKER")
            .ok()
            .filter(|value| !value.is_empty());
        if broker.is_none() && std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("CI=true but RAGLINE_BROKER is not set: scripts/test.sh sets it");
        }
        if broker.is_none() {
            eprintln!("RAGLINE_BROKER not set: the test on the real broker does not run");
        }
        let broker = broker?;
        let turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some((TestBroker::Real(broker), turn))
    }

    fn brokers(&self) -> String {
        match self {
            TestBroker::Mock(cluster) => cluster.bootstrap_servers(),
            TestBroker::Real(brokers) => brokers.clone(),
        }
    }

    /// `name`, made unique on a real broker (which keeps topics and groups
    /// from earlier tests and runs).
    fn unique(&self, name: &str) -> String {
        match self {
            TestBroker::Mock(_) => name.to_string(),
            TestBroker::Real(_) => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos();
                format!("{name}-{}-{nanos}", std::process::id())
            }
        }
    }

    /// The six-partition input topic; on a real broker ragline creates the
    /// repartition topic itself.
    fn create_topics(&self, config: &Config) {
        match self {
            TestBroker::Mock(cluster) => create_topics(cluster, config),
            TestBroker::Real(brokers) => {
                kafka_topics::create_topic(brokers, &config.kafka.input_topic, 6)
            }
        }
    }

    /// What ragline's repartition producer needs on this broker: on tansu,
    /// one record per record batch (see [`produce`]; an instance resumes
    /// applying a repartition partition at any offset).
    fn producer_properties(&self) -> &'static str {
        match self {
            TestBroker::Mock(_) => "",
            TestBroker::Real(_) => "\"linger.ms\" = \"0\"\n\"batch.num.messages\" = \"1\"\n",
        }
    }
}

/// The input topic on `broker`, and a configuration file for `ragline run`
/// processes: (broker, its address, work directory, file, the
/// configuration as the processes read it).
fn processes_setup(
    suffix: &str,
    broker: TestBroker,
) -> (
    TestBroker,
    String,
    tempfile::TempDir,
    std::path::PathBuf,
    Arc<Config>,
) {
    let brokers = broker.brokers();
    let config = config(&brokers, &broker.unique(suffix));
    broker.create_topics(&config);
    let work = tempfile::tempdir().unwrap();
    let config_path = write_config(&config, &brokers, work.path(), broker.producer_properties());
    let config = Arc::new(Config::load(&config_path).unwrap());
    (broker, brokers, work, config_path, config)
}

/// Starts `count` processes one after the other, each once the one before
/// applies a partition: the first to join leads both groups.
fn start_processes(config_path: &Path, today: &str, logs: &Path, count: usize) -> Vec<Process> {
    let mut processes: Vec<Process> = Vec::new();
    for index in 0..count {
        processes.push(Process::start(config_path, today, logs, index));
        wait_for(
            "the new process to be given partitions",
            Duration::from_secs(90),
            || {
                processes
                    .iter()
                    .all(|process| !process.assigned().is_empty())
            },
        );
    }
    processes
}

#[test]
fn on_the_test_broker_one_two_and_three_processes_agree_with_one_engine() {
    let Some((broker, _turn)) = TestBroker::real() else {
        return;
    };
    let today = "2019-01-20";
    let lines = history(5);
    let directory = tempfile::tempdir().unwrap();
    let mut broker = Some(broker);
    let mut single: Option<Engine> = None;
    for count in 1..=3 {
        let (back, brokers, work, config_path, config) =
            processes_setup(&format!("n{count}"), broker.take().unwrap());
        broker = Some(back);
        let single =
            single.get_or_insert_with(|| live_engine(&config, &lines, today, directory.path()));
        let rejected: u64 = single.totals().rejected.values().sum();
        assert!(rejected > 0, "the history holds malformed messages");
        let processes = start_processes(&config_path, today, work.path(), count);
        produce(&brokers, &config.kafka.input_topic, &lines);
        wait_for_quiet_outputs(&brokers, &config);
        wait_until_settled(&processes.iter().collect::<Vec<_>>());
        let stopped: Vec<(Vec<i32>, tempfile::TempDir)> =
            processes.into_iter().map(Process::stop).collect();
        // The states first: what was applied, whatever reached the topics.
        let owners = states_of_stopped(&stopped);
        compare_states_in(&config, &owners, single, Mode::Live);
        // A message routed again (its input partition moved before its
        // offset was committed) gives the same dead letter again: counted
        // by key, each key with one content.
        let mut letters: std::collections::BTreeMap<String, Value> = Default::default();
        for (key, letter) in read_all(&brokers, &config.kafka.dead_letters_topic) {
            let held = letters.entry(key.clone()).or_insert_with(|| letter.clone());
            assert_eq!(*held, letter, "dead letter {key} with two contents");
        }
        assert_eq!(
            letters.len() as u64,
            rejected,
            "{count} processes: dead letters"
        );
        let values = last_readings(read_all(&brokers, &config.kafka.values_topic).into_iter());
        let differing = differing_values(&values, &last_values(single));
        assert!(
            differing.is_empty(),
            "{count} processes: last values differ:\n{}",
            differing.join("\n")
        );
        assert_ids_unique(&brokers, &config);
    }
}

#[test]
fn a_killed_instance_is_replaced_and_nothing_is_lost_or_counted_twice() {
    killed_instance_is_replaced(TestBroker::mock());
}

#[test]
fn on_the_test_broker_a_killed_instance_is_replaced_and_nothing_is_lost_or_counted_twice() {
    if let Some((broker, _turn)) = TestBroker::real() {
        killed_instance_is_replaced(broker);
    }
}

fn killed_instance_is_replaced(broker: TestBroker) {
    let (_broker, brokers, work, config_path, config) = processes_setup("kill", broker);
    let today = "2019-01-20";
    let lines = history(13);

    let mut processes = start_processes(&config_path, today, work.path(), 3);
    let half = lines.len() / 2;
    produce(&brokers, &config.kafka.input_topic, &lines[..half]);
    wait_for_quiet_outputs(&brokers, &config);
    // kill -9 one instance mid-stream: the last to join.
    let mut killed = processes.pop().unwrap();
    wait_for(
        "the instance to be killed to hold partitions",
        Duration::from_secs(90),
        || !killed.held().is_empty(),
    );
    let before: Vec<usize> = processes
        .iter()
        .map(|process| process.assignments().len())
        .collect();
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    // What it held when it died, from its log, complete now: a rebalance
    // just before the kill may have moved a partition it had held to a
    // survivor, which then has nothing to take over.
    let lost = killed.held();
    assert!(!lost.is_empty(), "the killed instance held partitions");
    let three_quarters = lines.len() * 3 / 4;
    produce(
        &brokers,
        &config.kafka.input_topic,
        &lines[half..three_quarters],
    );
    let taken_over = |processes: &[Process]| -> std::collections::BTreeSet<i32> {
        processes
            .iter()
            .zip(&before)
            .flat_map(|(process, &before)| process.assignments().split_off(before))
            .collect()
    };
    wait_for(
        "the survivors to take the killed instance's partitions over",
        Duration::from_secs(90),
        || lost.is_subset(&taken_over(&processes)),
    );
    wait_for_quiet_outputs(&brokers, &config);
    // Restarted later over its state, it takes some partitions back and
    // catches up on what it missed.
    let state = killed.state.take().unwrap();
    let restarted = Process::start_in(&config_path, today, work.path(), 3, state);
    wait_for(
        "the restarted instance to be given partitions",
        Duration::from_secs(90),
        || !restarted.assigned().is_empty(),
    );
    processes.push(restarted);
    produce(
        &brokers,
        &config.kafka.input_topic,
        &lines[three_quarters..],
    );
    wait_for_quiet_outputs(&brokers, &config);
    // Ready, each: a partition that moved in a last rebalance may still be
    // catching up for a moment.
    let metrics = wait_until_settled(&processes.iter().collect::<Vec<_>>());
    let counter = |name: &str| -> f64 {
        metrics
            .iter()
            .flat_map(|text| text.lines())
            .filter_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .sum()
    };
    assert!(counter("ragline_batch_decisions_written_total ") > 0.0);
    // Each partition the killed instance applied was taken over and caught
    // up; whenever catching up applied batches, every one but the last was
    // repeated silently (its outputs were delivered: a later decision
    // follows it). How many there are depends on how the group assigned
    // the partitions, so the count is compared with the logs, not with a
    // number.
    let catch_ups: Vec<Vec<CatchUp>> = processes.iter().map(Process::catch_ups).collect();
    for partition in &lost {
        assert!(
            catch_ups.iter().zip(&before).any(|(catch_ups, &before)| {
                catch_ups[before..]
                    .iter()
                    .any(|catch_up| catch_up.partition == *partition && catch_up.caught_up)
            }),
            "partition {partition} of the killed instance was taken over and caught up"
        );
    }
    let killed_catch_ups = killed.catch_ups();
    let every = processes.iter().zip(&catch_ups);
    for (process, catch_ups) in every.chain([(&killed, &killed_catch_ups)]) {
        for catch_up in catch_ups {
            let repeated = catch_up.silent.len().saturating_sub(1);
            assert!(
                catch_up.silent[..repeated].iter().all(|&silent| silent),
                "{}: catching partition {} up applied a batch that a later decision follows with its outputs: {:?}",
                process.log.display(),
                catch_up.partition,
                catch_up.silent
            );
        }
    }
    let silent: usize = catch_ups
        .iter()
        .flatten()
        .map(|catch_up| catch_up.silent.iter().filter(|&&silent| silent).count())
        .sum();
    assert_eq!(
        counter("ragline_batches_repeated_total ") as usize,
        silent,
        "the metric counts the batches repeated silently"
    );
    for (la, authority) in config.authorities.iter().enumerate() {
        // Each authority's live values are gauges of the one instance
        // applying its partition, and of no other.
        let la = ragline::config::LaIdx(la as u16);
        let partition = ragline::route::authority_partition(&config, la, PARTITIONS);
        let owner = format!("ragline_repartition_catching_up{{partition=\"{partition}\"}}");
        let label = format!("la=\"{}\"", authority.id);
        let mut owners = 0;
        for text in &metrics {
            let owns = text.lines().any(|line| line.starts_with(&owner));
            let gauges = text.lines().any(|line| {
                line.starts_with("scorecard_indicator_value{") && line.contains(&label)
            });
            assert_eq!(
                owns, gauges,
                "indicator gauges of {} on an instance that owns its partition: {owns}",
                authority.id
            );
            owners += usize::from(owns);
        }
        assert_eq!(owners, 1, "one instance applies {}", authority.id);
    }
    let stopped: Vec<(Vec<i32>, tempfile::TempDir)> =
        processes.into_iter().map(Process::stop).collect();
    let mut owned: Vec<i32> = stopped
        .iter()
        .flat_map(|(owned, _)| owned.clone())
        .collect();
    owned.sort_unstable();
    owned.dedup();
    assert_eq!(
        owned,
        (0..PARTITIONS as i32).collect::<Vec<_>>(),
        "the instances apply every partition"
    );

    // One engine, live at the same date, given the whole history.
    let directory = tempfile::tempdir().unwrap();
    let single = live_engine(&config, &lines, today, directory.path());
    let owners = states_of_stopped(&stopped);
    compare_states_in(&config, &owners, &single, Mode::Live);
    assert_ids_unique(&brokers, &config);
    drop(killed);
}

#[test]
fn a_rolling_restart_loses_and_repeats_nothing() {
    rolling_restart(TestBroker::mock());
}

#[test]
fn on_the_test_broker_a_rolling_restart_loses_and_repeats_nothing() {
    if let Some((broker, _turn)) = TestBroker::real() {
        rolling_restart(broker);
    }
}

fn rolling_restart(broker: TestBroker) {
    let (_broker, brokers, work, config_path, config) = processes_setup("rolling", broker);
    let today = "2019-01-20";
    let lines = history(21);
    let mut processes: Vec<Option<Process>> = start_processes(&config_path, today, work.path(), 3)
        .into_iter()
        .map(Some)
        .collect();
    let pieces: Vec<&[Vec<u8>]> = lines.chunks(lines.len() / 4 + 1).collect();
    produce(&brokers, &config.kafka.input_topic, pieces[0]);
    // Each instance in turn stops (SIGTERM) and starts again over its
    // state, while the next part of the history arrives.
    for (turn, piece) in pieces[1..].iter().enumerate() {
        let (_, state) = processes[turn].take().unwrap().stop();
        produce(&brokers, &config.kafka.input_topic, piece);
        processes[turn] = Some(Process::start_in(
            &config_path,
            today,
            work.path(),
            10 + turn,
            state,
        ));
    }
    wait_for_quiet_outputs(&brokers, &config);
    wait_until_settled(&processes.iter().flatten().collect::<Vec<_>>());
    let stopped: Vec<(Vec<i32>, tempfile::TempDir)> = processes
        .into_iter()
        .map(|process| process.unwrap().stop())
        .collect();
    let directory = tempfile::tempdir().unwrap();
    let single = live_engine(&config, &lines, today, directory.path());
    let owners = states_of_stopped(&stopped);
    compare_states_in(&config, &owners, &single, Mode::Live);
    assert_ids_unique(&brokers, &config);
}

/// Offset commits the broker refuses (as it does during a rebalance) are
/// made again: both groups' lag reaches 0 with no further input.
#[test]
fn refused_offset_commits_are_made_again() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = config(&brokers, "refused");
    create_topics(&cluster, &config);
    let lines = history(3);
    let instance = Instance::start(&config);
    wait_for_assignment(&[&instance]);
    let (last, earlier) = lines.split_last().unwrap();
    produce(&brokers, &config.kafka.input_topic, earlier);
    wait_for_quiet_outputs(&brokers, &config);
    // The next commits are refused, and one last message arrives: the
    // commits that carry it are refused too.
    cluster.request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS; 10],
    );
    produce(
        &brokers,
        &config.kafka.input_topic,
        std::slice::from_ref(last),
    );
    wait_for_quiet_outputs(&brokers, &config);
    let mut instance = instance;
    instance.stop();
}

#[test]
fn a_broker_down_at_start_is_waited_for() {
    let cluster = MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let config = config(&brokers, "down");
    create_topics(&cluster, &config);
    let lines = history(34);
    produce(&brokers, &config.kafka.input_topic, &lines);
    cluster.broker_down(1).unwrap();
    let mut instance = Instance::start(&config);
    // Down for long enough that the first attempt fails.
    std::thread::sleep(Duration::from_secs(12));
    assert!(
        !instance.handle.as_ref().unwrap().is_finished(),
        "still waiting for the broker"
    );
    assert!(instance.owned().is_empty());
    cluster.broker_up(1).unwrap();
    wait_for_assignment(&[&instance]);
    wait_until_quiet(&[&instance], lines.len() as u64);
    let owned = instance.owned();
    let state = instance.directory.path().to_path_buf();
    instance.stop();
    let directory = tempfile::tempdir().unwrap();
    let single = one_engine(&common::scaled::config(), &lines, directory.path());
    let owners: Vec<(i32, &Path)> = owned
        .iter()
        .map(|partition| (*partition, state.as_path()))
        .collect();
    compare_states(&config, &owners, &single);
    assert_ids_unique(&brokers, &config);
}
