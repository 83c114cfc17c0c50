//! Fail-over of a scaled-out deployment (`docs/scale-out.md`): the time
//! from the death (`kill -9`) of the instance applying an authority to
//! that authority's values flowing again from another instance.
//!
//! Two `ragline run` instances with `[scale_out] enabled` share a
//! six-partition input on librdkafka's mock cluster (in the bench
//! process: the test broker cannot serve a reader that resumes inside a
//! record batch). The mock cluster deletes a partition's older records
//! beyond a few MB, and an authority's whole history goes through one
//! partition of the repartition topic, so the history is a short one of
//! its own (`--failover-events`, the first events of a month), replayed
//! from its file as the ceiling. The
//! history is routed and applied, the second instance
//! joins and both catch up; then the one applying the default authority's
//! partition of the repartition topic is killed. The clock stops when the
//! survivor reports that partition caught up (`ragline_repartition_catching_up`
//! 0 on `/metrics`): from then on its values are current and new events
//! produce outputs. The time splits into detection and rebalance (the
//! group's `session.timeout.ms`, set to 6 s here, until the survivor owns
//! the partition) and the catch-up (the partition's history applied again
//! silently, from the repartition topic).

use crate::proc::Guard;
use crate::table::{Row, Section};
use crate::{
    free_port, generate, kafka, kafka_config, log, number_of, replay_into_empty_state, tail,
    write_config, Args, Topics,
};
use anyhow::{bail, Context, Result};
use ragline::calendar::Date;
use ragline::config::Config;
use rdkafka::mocking::MockCluster;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Partitions of the repartition topic.
const PARTITIONS: u32 = 4;
/// Partitions of the input topic.
const INPUT_PARTITIONS: i32 = 6;
/// The group's session timeout: how long a dead member goes unnoticed.
const SESSION_TIMEOUT_MS: &str = "6000";
/// The longest wait for any one step.
const STEP_LIMIT: Duration = Duration::from_secs(900);

/// One `ragline run` instance and its HTTP port.
struct Instance {
    guard: Guard,
    port: u16,
    log: std::path::PathBuf,
}

impl Instance {
    fn start(
        ragline: &Path,
        config_file: &Path,
        state: &Path,
        today: Date,
        log: std::path::PathBuf,
    ) -> Result<Instance> {
        let port = free_port()?;
        let guard = Guard::spawn(
            Command::new(ragline)
                .arg("run")
                .arg("--config")
                .arg(config_file)
                .arg("--state")
                .arg(state)
                .args(["--today", &today.to_string()])
                .env("RAGLINE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
                .env("RUST_LOG", "info,ragline::scale_out=debug"),
            "ragline run (scaled out)",
            &log,
        )?;
        Ok(Instance { guard, port, log })
    }

    /// Its metrics, if it answers.
    fn metrics(&self) -> Option<String> {
        crate::http_body(self.port, "/metrics")
    }

    /// The catching-up gauge of `partition`: `None` while the instance
    /// does not apply it.
    fn catching_up(&self, partition: u32) -> Option<i64> {
        gauge(
            &self.metrics()?,
            &format!("ragline_repartition_catching_up{{partition=\"{partition}\"}}"),
        )
    }

    fn check_running(&mut self) -> Result<()> {
        if !self.guard.running() {
            bail!("ragline run exited:\n{}", tail(&self.log, 20));
        }
        Ok(())
    }
}

/// The value of the sample `series` (name and labels) in a text exposition.
fn gauge(metrics: &str, series: &str) -> Option<i64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.trim();
        value.parse::<f64>().ok().map(|value| value as i64)
    })
}

/// Waits until `done`, checking the instances are alive.
fn wait(
    what: &str,
    instances: &mut [&mut Instance],
    mut done: impl FnMut(&[&mut Instance]) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + STEP_LIMIT;
    while !done(instances) {
        for instance in instances.iter_mut() {
            instance.check_running()?;
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Whether `instance` has applied everything it owns: ready, and its
/// applied offsets unchanged for `quiet`.
fn settled(instance: &Instance, last: &mut (String, Instant), quiet: Duration) -> bool {
    if crate::http_status(instance.port, "/readyz") != Some(200) {
        return false;
    }
    let offsets: String = instance
        .metrics()
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            line.starts_with("ragline_repartition_applied_offset")
                || line.starts_with("ragline_messages_consumed_total")
        })
        .collect::<Vec<_>>()
        .join("\n");
    if offsets != last.0 {
        *last = (offsets, Instant::now());
    }
    last.1.elapsed() >= quiet
}

/// The ceiling of a fail-over: a file replay of `events` into a fresh
/// `state` (removed afterwards), whole process. Returns its wall seconds,
/// the first day of the month after its last event (the instances'
/// `--today`) and the messages it read.
fn replay_ceiling(
    ragline: &Path,
    config_path: &Path,
    events: &Path,
    state: &Path,
) -> Result<(f64, Date, f64)> {
    let (replay, summary) =
        replay_into_empty_state(ragline, config_path, events, state, STEP_LIMIT)?;
    let _ = std::fs::remove_dir_all(state);
    let today = summary
        .get("current_date")
        .and_then(serde_json::Value::as_str)
        .and_then(Date::parse)
        .context("the replay's current date")?
        .month()
        .plus(1)
        .first_day();
    Ok((replay.wall, today, number_of(&summary, "messages")?))
}

/// Kills `dead` (SIGKILL) and waits until `survivor` reports `partition`
/// caught up: the seconds until it owned the partition, and in all.
fn kill_and_take_over(
    dead: &mut Instance,
    survivor: &mut Instance,
    partition: u32,
) -> Result<(f64, f64)> {
    dead.guard.kill();
    let killed = Instant::now();
    let mut owned_after = None;
    wait(
        "the survivor to take the partition over and catch up",
        &mut [survivor],
        |instances| match instances[0].catching_up(partition) {
            None => false,
            Some(state) => {
                owned_after.get_or_insert_with(|| killed.elapsed().as_secs_f64());
                state == 0
            }
        },
    )?;
    let total = killed.elapsed().as_secs_f64();
    Ok((owned_after.unwrap_or(total), total))
}

/// Measures a fail-over over a history of `--failover-events`.
/// Waits until both instances own partitions and their metrics have
/// settled (caught up).
fn wait_until_shared(first: &mut Instance, second: &mut Instance) -> Result<()> {
    let mut last = [
        (String::new(), Instant::now()),
        (String::new(), Instant::now()),
    ];
    wait(
        "both instances to share the partitions and catch up",
        &mut [first, second],
        |instances| {
            let owned = |instance: &Instance| {
                instance
                    .metrics()
                    .unwrap_or_default()
                    .lines()
                    .filter(|line| line.starts_with("ragline_repartition_catching_up{"))
                    .count()
            };
            let [last_first, last_second] = &mut last;
            owned(instances[0]) > 0
                && owned(instances[1]) > 0
                && settled(instances[0], last_first, Duration::from_secs(3))
                && settled(instances[1], last_second, Duration::from_secs(3))
        },
    )
}

/// A scaled-out configuration written for a fail-over run.
struct ScaledOut {
    /// The configuration file.
    file: PathBuf,
    /// Its Kafka topics.
    topics: Topics,
    /// Its repartition topic.
    repartition: String,
}

/// Writes the configuration of the scaled-out instances: Kafka on
/// `brokers` with topics named after `suffix`, a short consumer session (so
/// a killed instance's partitions move soon), and `[scale_out]` enabled with
/// `partitions` repartition partitions.
fn scaled_out_config(
    config: &Config,
    config_text: &str,
    brokers: &str,
    suffix: &str,
    partitions: u32,
    work: &Path,
) -> Result<ScaledOut> {
    let mut consumer_properties = config.kafka.consumer_properties.clone();
    consumer_properties.insert("session.timeout.ms".into(), SESSION_TIMEOUT_MS.into());
    consumer_properties.insert("heartbeat.interval.ms".into(), "500".into());
    let (text, topics) = kafka_config(
        config_text,
        brokers,
        suffix,
        0,
        &(
            config.kafka.properties.clone(),
            consumer_properties,
            config.kafka.producer_properties.clone(),
        ),
    )?;
    let repartition = format!("bench-repartition-{suffix}");
    let text = text.replacen(
        "[http]\n",
        &format!(
            "[scale_out]\nenabled = true\nrepartition_topic = \"{repartition}\"\npartitions = {partitions}\n\n[http]\n"
        ),
        1,
    );
    let file = write_config(work, &format!("bench-{suffix}"), &text)?;
    Ok(ScaledOut {
        file,
        topics,
        repartition,
    })
}

pub fn failover(
    ragline: &Path,
    config_path: &Path,
    config: &Config,
    config_text: &str,
    args: &Args,
    work: &Path,
    tag: &str,
) -> Result<Vec<Row>> {
    let month = work.join(format!("{}-1-{}.jsonl", args.scale, args.seed));
    generate(ragline, config_path, args, 1, &month)?;
    let lines: Vec<String> =
        std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&month)?))
            .take(args.failover_events)
            .collect::<std::io::Result<_>>()?;
    let events = work.join(format!("failover-{tag}.jsonl"));
    std::fs::write(&events, lines.join("\n") + "\n")?;
    let events_label = format!(
        "{} scale, the first {} events of a month",
        args.scale,
        lines.len()
    );
    // The ceiling: a file replay of the same history, whole process.
    let (replay_seconds, today, replayed) = replay_ceiling(
        ragline,
        config_path,
        &events,
        &work.join(format!("failover-{tag}-replay")),
    )?;
    log("fail-over: two scaled-out instances on the mock cluster, one killed");
    let cluster = MockCluster::new(1).context("starting the mock cluster")?;
    let servers = cluster.bootstrap_servers();
    let suffix = format!("failover-{tag}");
    let scaled = scaled_out_config(config, config_text, &servers, &suffix, PARTITIONS, work)?;
    let (config_file, topics, repartition) = (scaled.file, scaled.topics, scaled.repartition);
    cluster.create_topic(&topics.input, INPUT_PARTITIONS, 1)?;
    cluster.create_topic(&repartition, PARTITIONS as i32, 1)?;
    let (messages, _) = kafka::produce_file(&servers, &topics.input, &events)?;
    if messages as f64 != replayed {
        bail!("produced {messages} messages, the replay read {replayed}");
    }
    let la = config.default_la;
    let partition = ragline::route::authority_partition(config, la, PARTITIONS);
    let authority = &config.authorities[la.0 as usize].id;

    let states = [
        work.join(format!("{suffix}-a")),
        work.join(format!("{suffix}-b")),
    ];
    for state in &states {
        let _ = std::fs::remove_dir_all(state);
    }
    let mut first = Instance::start(
        ragline,
        &config_file,
        &states[0],
        today,
        work.join(format!("{suffix}-a.log")),
    )?;
    let started = Instant::now();
    let mut last = (String::new(), Instant::now());
    wait(
        "the first instance to route and apply the history",
        &mut [&mut first],
        |instances| {
            let metrics = instances[0].metrics().unwrap_or_default();
            gauge(&metrics, "ragline_messages_consumed_total").unwrap_or(0) as u64 >= messages
                && settled(instances[0], &mut last, Duration::from_secs(3))
        },
    )?;
    let first_apply = started.elapsed().as_secs_f64();
    let mut second = Instance::start(
        ragline,
        &config_file,
        &states[1],
        today,
        work.join(format!("{suffix}-b.log")),
    )?;
    wait_until_shared(&mut first, &mut second)?;
    let (mut dead, mut survivor) =
        match (first.catching_up(partition), second.catching_up(partition)) {
            (Some(_), None) => (first, second),
            (None, Some(_)) => (second, first),
            held => bail!("partition {partition} of the authority is not applied once: {held:?}"),
        };
    let (owned_after, total) = kill_and_take_over(&mut dead, &mut survivor, partition)?;
    survivor.guard.stop(Duration::from_secs(30));
    for state in &states {
        let _ = std::fs::remove_dir_all(state);
    }
    let _ = std::fs::remove_file(&events);
    Ok(vec![Row::new(
        Section::Failover,
        format!(
            "fail-over: kill -9 to values flowing again ({authority}, {events_label}, 2 instances, mock cluster)"
        ),
        total,
        "s",
    )
    .ceiling(replay_seconds, "file replay of the same history")
    .note(format!(
        "{total:.1} s = {owned_after:.1} s until the survivor owned partition {partition} (session.timeout.ms {SESSION_TIMEOUT_MS} ms, then the rebalance) + {:.1} s catching up (the partition's history applied again, silently); {messages} input messages, first routed and applied by one instance in {first_apply:.1} s",
        total - owned_after
    ))])
}

/// Measures a fail-over on a real broker over the whole history `events`
/// (the file replay's): two instances, the one applying the default
/// authority's partition killed while it is not the group's leader (tansu
/// 0.6.0 never replaces a leader that died), and the survivor holding no
/// state of that partition, so that it rebuilds it from the repartition
/// topic, with the configuration's number of repartition partitions. The
/// survivor's watermark-based "caught up" can come up to one
/// record batch early on tansu (its high watermark is the last batch's
/// first offset + 1).
#[allow(clippy::too_many_arguments)]
pub fn failover_on_broker(
    ragline: &Path,
    config_path: &Path,
    config: &Config,
    config_text: &str,
    broker: &str,
    events: &Path,
    work: &Path,
    tag: &str,
) -> Result<Vec<Row>> {
    let (replay_seconds, today, replayed) = replay_ceiling(
        ragline,
        config_path,
        events,
        &work.join(format!("failover-broker-{tag}-replay")),
    )?;
    log("fail-over: two scaled-out instances on the broker, one killed");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let suffix = format!("failover-{tag}-{}-{nanos}", std::process::id());
    // The configuration's own number of repartition partitions.
    let partitions = config.scale_out.partitions;
    let scaled = scaled_out_config(config, config_text, broker, &suffix, partitions, work)?;
    let (config_file, topics) = (scaled.file, scaled.topics);
    kafka::create_topic(broker, &topics.input, INPUT_PARTITIONS)?;
    let (messages, _) = kafka::produce_file(broker, &topics.input, events)?;
    if messages as f64 != replayed {
        bail!("produced {messages} messages, the replay read {replayed}");
    }
    let la = config.default_la;
    let partition = ragline::route::authority_partition(config, la, partitions);
    let authority = &config.authorities[la.0 as usize].id;
    let states = [
        work.join(format!("{suffix}-a")),
        work.join(format!("{suffix}-b")),
    ];
    let logs = [
        work.join(format!("{suffix}-a.log")),
        work.join(format!("{suffix}-b.log")),
    ];
    for state in &states {
        let _ = std::fs::remove_dir_all(state);
    }
    let start = |index: usize| {
        Instance::start(
            ragline,
            &config_file,
            &states[index],
            today,
            logs[index].clone(),
        )
    };
    // The first instance leads the groups; it routes and applies everything.
    let mut instances = [Some(start(0)?), None];
    let started = Instant::now();
    let mut last = (String::new(), Instant::now());
    wait(
        "the first instance to route and apply the history",
        &mut [instances[0].as_mut().expect("started")],
        |instances| {
            let metrics = instances[0].metrics().unwrap_or_default();
            gauge(&metrics, "ragline_messages_consumed_total").unwrap_or(0) as u64 >= messages
                && settled(instances[0], &mut last, Duration::from_secs(3))
        },
    )?;
    let first_apply = started.elapsed().as_secs_f64();
    let mut leader = 0;
    let mut joins = 0;
    // A second instance joins; while the partition stays with the leader,
    // the leader leaves (SIGTERM, a clean leave) and comes back with no
    // state, so that it joins as the follower.
    let follower = loop {
        let other = 1 - leader;
        if instances[other].is_none() {
            let _ = std::fs::remove_dir_all(&states[other]);
            instances[other] = Some(start(other)?);
            joins += 1;
        }
        let [a, b] = &mut instances;
        wait_until_shared(a.as_mut().expect("running"), b.as_mut().expect("running"))?;
        let holds = |index: usize| {
            instances[index]
                .as_ref()
                .and_then(|instance| instance.catching_up(partition))
                .is_some()
        };
        match (holds(leader), holds(other)) {
            (false, true) => break other,
            (true, false) if joins < 4 => {
                let mut leaving = instances[leader].take().expect("running");
                leaving.guard.stop(Duration::from_secs(60));
                leader = other;
                let mut last = (String::new(), Instant::now());
                wait(
                    "the remaining instance to own every partition",
                    &mut [instances[leader].as_mut().expect("running")],
                    |instances| {
                        instances[0].catching_up(partition) == Some(0)
                            && settled(instances[0], &mut last, Duration::from_secs(3))
                    },
                )?;
            }
            held => bail!(
                "partition {partition} of the authority: held by (leader, follower) {held:?} after {joins} joins"
            ),
        }
    };
    let survivor_index = 1 - follower;
    // The survivor keeps no state of the partition (it is closed while
    // another instance applies it): it rebuilds it from the topic.
    let _ = std::fs::remove_dir_all(states[survivor_index].join(format!("partition-{partition}")));
    let mut dead = instances[follower].take().expect("running");
    let mut survivor = instances[survivor_index].take().expect("running");
    let (owned_after, total) = kill_and_take_over(&mut dead, &mut survivor, partition)?;
    survivor.guard.stop(Duration::from_secs(30));
    for state in &states {
        let _ = std::fs::remove_dir_all(state);
    }
    Ok(vec![Row::new(
        Section::Failover,
        format!(
            "fail-over: kill -9 to values flowing again ({authority}, the whole history, {messages} events, 2 instances, broker)"
        ),
        total,
        "s",
    )
    .ceiling(replay_seconds, "file replay of the same history")
    .note(format!(
        "{total:.1} s = {owned_after:.1} s until the survivor owned partition {partition} (session.timeout.ms {SESSION_TIMEOUT_MS} ms, then the rebalance) + {:.1} s catching up (the partition rebuilt from the repartition topic, silently, with no local state); first routed and applied by one instance in {first_apply:.1} s; {joins} joins of a second instance until a follower applied the partition",
        total - owned_after
    ))])
}
