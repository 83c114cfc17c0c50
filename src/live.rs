//! The live loop: Kafka in, batches through the engine, outbox out to Kafka.
//!
//! One thread runs the loop: poll a bounded batch (count and time), commit it
//! through [`Engine::run_batch`](crate::pipeline::Engine::run_batch) with the
//! wall-clock date, drain the outbox with delivery reports, commit offsets to
//! the consumer group for monitoring. The input positions that matter live in
//! RocksDB with the state, so a crash anywhere resumes exactly: the batch in
//! flight is read again, and outputs not yet acknowledged are sent again with
//! the same ids. Consumption pauses while the outbox is over its bound.

use crate::calendar::Date;
use crate::config::Config;
use crate::pipeline::{Engine, EngineError, Mode};
use crate::shared::now_seconds;
pub use crate::shared::Shared;
use crate::sink::kafka::{Drained, KafkaSink, SinkError, MAX_IN_FLIGHT};
use crate::source::kafka::{KafkaSource, LagProbe, PartitionLag, SourceError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod catch_up;
use catch_up::{CatchUp, CatchingUp};

/// Seconds in a day (today's date from the system clock).
const DAY_SECONDS: i64 = 86_400;
/// How often [`wait_or_stop`] looks at the shutdown flag.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// Wait between attempts to reach a broker that is down at start.
const CONNECT_RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// Longest wait for the high watermarks that a replay from a topic runs up to.
const CAUGHT_UP_WATERMARKS_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the lag thread measures consumer lag.
const LAG_PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// Longest wait for one measurement of consumer lag.
const LAG_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the lag thread, between measurements, looks at its stop flag.
const LAG_STOP_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// How often the loop shares its input offsets with the lag thread.
const LAG_OFFSETS_INTERVAL: Duration = Duration::from_millis(500);
/// Most outbox records handed to the sink in one drain.
const DRAIN_MAX_RECORDS: usize = 100_000;
/// Outputs in flight from which the loop waits for delivery reports
/// (backpressure) instead of polling at once.
const BACKPRESSURE_IN_FLIGHT: usize = MAX_IN_FLIGHT / 2;
/// Bounds of that wait, in milliseconds: `batch_max_millis` clamped to them.
const BACKPRESSURE_WAIT_MILLIS: (u64, u64) = (10, 1000);
/// Least time between checks (and re-creations) of the output topics after
/// failed deliveries.
const OUTPUT_TOPICS_CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// How often input offsets are committed to the consumer group (advisory,
/// for monitoring).
const ADVISORY_COMMIT_INTERVAL: Duration = Duration::from_secs(1);
/// At shutdown, the wait for delivery reports of each drain.
const SHUTDOWN_DRAIN_WAIT: Duration = Duration::from_millis(500);
/// At shutdown, the longest wait for the producer's queue to flush.
const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the partition assignment is refreshed (new partitions, gaps).
const ASSIGNMENT_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Longest wait for a refresh of the partition assignment.
const ASSIGNMENT_REFRESH_TIMEOUT: Duration = Duration::from_secs(5);
/// A live iteration slower than this is logged with its timings.
const SLOW_ITERATION: Duration = Duration::from_millis(250);

/// A failure of the live loop.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A rebuild from the input topic found part of its history deleted.
    #[error(
        "the input topic no longer holds the start of partition {partition}'s history (its first offset is {first}): a rebuild from it would miss events; the topic must keep its whole history (retention.ms -1)"
    )]
    HistoryGap {
        /// The partition.
        partition: i32,
        /// The partition's low watermark.
        first: i64,
    },
    /// A replay from the input topic found no partition to read.
    #[error(
        "the input topic {topic} has no partition to read (does it exist? is kafka.input_topic right?): a replay from it would read nothing"
    )]
    NoInputPartitions {
        /// The input topic.
        topic: String,
    },
    /// The state of a bulk rebuild that failed could not be emptied for the
    /// replay batch by batch.
    #[error("emptying {} to replay batch by batch", path.display())]
    Emptying {
        /// The state directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What [`replay_topic`] did.
pub struct TopicReplay {
    /// The state replayed into, open.
    pub shared: Shared,
    /// What the replay read, applied, rejected and delivered.
    pub summary: LiveSummary,
    /// The bulk rebuild failed inside ragline (a defect, not the input), so
    /// the state was emptied and the topic replayed batch by batch.
    pub replayed_batch_by_batch: bool,
}

/// Replays the whole input topic into the empty state directory `state`,
/// which `open` opens: in bulk with `bulk` ([`rebuild_from_topic`]), batch
/// by batch without ([`run`] until caught up). A bulk rebuild that panics
/// inside ragline does not stop the replay: the state is emptied, opened
/// again and replayed batch by batch, where the one message whose handling
/// fails is set aside (dead-lettered with reason `internal_error`).
pub fn replay_topic(
    state: &Path,
    bulk: Option<crate::pipeline::RebuildOptions>,
    open: impl Fn() -> Result<Shared, LiveError>,
) -> Result<TopicReplay, LiveError> {
    let mut shared = open()?;
    let mut replayed_batch_by_batch = false;
    if let Some(options) = bulk {
        let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rebuild_from_topic(&shared, options)
        }));
        match attempt {
            Ok(rebuilt) => {
                return Ok(TopicReplay {
                    shared,
                    summary: rebuilt?,
                    replayed_batch_by_batch,
                })
            }
            Err(_) => {
                tracing::error!(
                    "the bulk rebuild failed inside ragline; replaying the topic again batch by batch"
                );
                drop(shared);
                crate::store::empty_directory(state).map_err(|source| LiveError::Emptying {
                    path: state.to_path_buf(),
                    source,
                })?;
                shared = open()?;
                replayed_batch_by_batch = true;
            }
        }
    }
    let options = LiveOptions {
        mode: Mode::Replay,
        fixed_today: None,
        until_caught_up: true,
    };
    let summary = run(&shared, &options, &AtomicBool::new(false))?;
    Ok(TopicReplay {
        shared,
        summary,
        replayed_batch_by_batch,
    })
}

/// How the loop runs.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Live (today's date counts) or replay (event dates only).
    pub mode: Mode,
    /// A fixed "today" (tests); `None` reads the system clock in live mode.
    pub fixed_today: Option<Date>,
    /// A replay from the topic: read every partition up to the high
    /// watermarks found at start, or stop short of them once the partitions
    /// still to read have not moved for `processing.replay_idle_seconds`
    /// ([`LiveSummary::stopped_short`]); then deliver what the broker takes
    /// and stop. Refused: a topic with no partition, or whose history lost
    /// its start ([`LiveError::HistoryGap`]).
    pub until_caught_up: bool,
}

/// What the loop did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveSummary {
    /// Messages consumed.
    pub consumed: u64,
    /// Events applied.
    pub applied: u64,
    /// Messages rejected.
    pub rejected: u64,
    /// Outputs delivered.
    pub delivered: u64,
    /// Batches committed.
    pub batches: u64,
    /// Partitions a replay from the topic stopped reading short of the high
    /// watermarks found at start, because none of them moved within
    /// `processing.replay_idle_seconds`: each with how far short it stopped
    /// and the watermark. `run` reads on from there.
    pub stopped_short: Vec<PartitionLag>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

/// Today's date (UTC) from the system clock.
pub fn system_today() -> Date {
    Date::from_days((now_seconds().div_euclid(DAY_SECONDS)) as i32)
}

/// Opens the engine for a live run and the shared handles around it.
pub fn open(config: Arc<Config>, state: &Path, mode: Mode) -> Result<Shared, LiveError> {
    let mut engine = Engine::open(config, state, mode)?;
    engine.set_emit_outputs(true);
    engine.set_validation_today(Some(system_today()));
    Ok(Shared::new(engine, false))
}

/// Sets its flag when dropped, however the loop ends, so helper threads stop.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Sleeps up to `duration`, waking early when `shutdown` is set; true when
/// it was set.
fn wait_or_stop(shutdown: &AtomicBool, duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        if shutdown.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(STOP_CHECK_INTERVAL);
    }
    shutdown.load(Ordering::SeqCst)
}

/// Publishes the assignment: partitions read, retention gaps (each logged
/// once, as an error naming what to do), and readiness (at least one
/// partition read and no gap).
fn observe_assignment(shared: &Shared, source: &KafkaSource, topic: &str, known_gaps: &mut usize) {
    let telemetry = &shared.telemetry;
    telemetry
        .partitions_assigned
        .set(source.partitions() as i64);
    for (partition, (next, low)) in source.gaps() {
        telemetry
            .retention_gap
            .with_label_values(&[topic, &partition.to_string()])
            .set(1);
        if source.gaps().len() > *known_gaps {
            tracing::error!(
                topic,
                partition,
                next_offset = next,
                low_watermark = low,
                "input events were deleted by retention before ragline read them: this partition is not read; rebuild the state from a complete history (the input topic must keep its whole history)"
            );
        }
    }
    if source.gaps().len() > *known_gaps {
        telemetry
            .kafka_errors
            .with_label_values(&["offsets_lost"])
            .inc_by((source.gaps().len() - *known_gaps) as u64);
    }
    *known_gaps = source.gaps().len();
    let ready = source.partitions() > 0 && source.gaps().is_empty();
    let was_ready = shared.ready.swap(ready, Ordering::SeqCst);
    if was_ready != ready {
        if ready {
            tracing::info!(topic, partitions = source.partitions(), "ready");
        } else {
            tracing::warn!(
                topic,
                partitions = source.partitions(),
                gaps = source.gaps().len(),
                "not ready: no input partition is read (does the topic exist?), or one has a retention gap"
            );
        }
    }
}

/// Runs the loop until `shutdown` is set (or, with `until_caught_up`, the
/// topic is consumed), then finishes the batch, flushes outputs and returns.
pub fn run(
    shared: &Shared,
    options: &LiveOptions,
    shutdown: &AtomicBool,
) -> Result<LiveSummary, LiveError> {
    let lock = || {
        shared
            .engine
            .lock()
            .expect("the engine lock is never poisoned: panics stop the process")
    };
    let (settings, processing) = {
        let engine = lock();
        (
            engine.config().kafka.clone(),
            engine.config().processing.clone(),
        )
    };
    let telemetry = &shared.telemetry;
    // A broker that is down at start is waited for, not fatal.
    let mut source = loop {
        let positions = lock().positions().clone();
        match KafkaSource::connect(&settings, &positions) {
            Ok(source) => break source,
            Err(error) => {
                telemetry.kafka_errors.with_label_values(&["connect"]).inc();
                tracing::warn!(
                    %error,
                    brokers = %settings.brokers,
                    "cannot reach the input topic{}; retrying in {} s",
                    crate::kafka_client::security_hint(&settings),
                    CONNECT_RETRY_INTERVAL.as_secs()
                );
                if wait_or_stop(shutdown, CONNECT_RETRY_INTERVAL) {
                    // Stopped before ever connecting: the exit message
                    // names the settings to check too.
                    let action = format!(
                        "{}{}",
                        error.action,
                        crate::kafka_client::security_hint(&settings)
                    );
                    return Err(SourceError { action, ..error }.into());
                }
            }
        }
    };
    let mut sink = KafkaSink::connect(&settings)?;
    sink.ensure_topics(&settings)?;
    let mut known_gaps = 0;
    observe_assignment(shared, &source, &settings.input_topic, &mut known_gaps);
    let mut last_topics_check = Instant::now();
    let mut summary = LiveSummary::default();
    let idle_limit = Duration::from_secs(processing.replay_idle_seconds);
    let mut catching_up = match options.until_caught_up {
        true => Some(CatchingUp::new(replay_targets(&source)?, idle_limit)),
        false => None,
    };
    // A replay from the topic has read enough: it stops as at shutdown,
    // delivering what it can.
    let mut caught_up = false;
    let mut last_today: Option<Date> = None;
    // Consumer lag is measured every LAG_PROBE_INTERVAL by a thread of its
    // own, from the offsets the loop shares every LAG_OFFSETS_INTERVAL.
    let next_offsets = Arc::new(Mutex::new(source.next_offsets().clone()));
    let mut last_positions = Instant::now();
    let lag_stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    let _lag_thread = match LagProbe::connect(&settings) {
        Ok(probe) => {
            let next_offsets = Arc::clone(&next_offsets);
            let telemetry = Arc::clone(&shared.telemetry);
            let stop = Arc::clone(&lag_stop.0);
            let topic = settings.input_topic.clone();
            Some(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let next = next_offsets.lock().expect("never poisoned").clone();
                    for lag in probe.lag(&next, LAG_PROBE_TIMEOUT) {
                        telemetry
                            .consumer_lag
                            .with_label_values(&[&topic, &lag.partition.to_string()])
                            .set(lag.lag);
                    }
                    let checks =
                        LAG_PROBE_INTERVAL.as_millis() / LAG_STOP_CHECK_INTERVAL.as_millis();
                    for _ in 0..checks {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(LAG_STOP_CHECK_INTERVAL);
                    }
                }
            }))
        }
        Err(error) => {
            tracing::warn!(%error, "consumer lag will not be measured");
            None
        }
    };
    let wait = Duration::from_millis(processing.batch_max_millis.max(1));
    let batch_events = match options.mode {
        Mode::Live => processing.batch_max_events,
        Mode::Replay => processing.replay_batch_events,
    };
    let shutdown_timeout = Duration::from_secs(processing.shutdown_drain_seconds);
    let mut last_commit = Instant::now();
    loop {
        let stopping = caught_up || shutdown.load(Ordering::SeqCst);
        let today = match options.mode {
            Mode::Live => Some(options.fixed_today.unwrap_or_else(system_today)),
            Mode::Replay => None,
        };
        let iteration = Instant::now();
        let over_bound = lock().outbox_pending() as usize >= processing.outbox_max_records;
        let polling = !(stopping || over_bound);
        let polled = if polling {
            source.next_batch(batch_events, wait)?
        } else {
            Default::default()
        };
        let new_day = today.is_some() && today != last_today;
        // (the poll's own wait for a first message is expected)
        let poll_seconds = iteration.elapsed().as_secs_f64();
        let mut batch_seconds = 0.0;
        let mut refresh_seconds = 0.0;
        if !polled.messages.is_empty() || new_day {
            let started = Instant::now();
            let mut engine = lock();
            let outcome = engine.run_batch(&polled.messages, today)?;
            batch_seconds = started.elapsed().as_secs_f64();
            telemetry.observe_batch(&outcome, batch_seconds);
            let refreshing = Instant::now();
            telemetry.refresh(&engine, now_seconds());
            refresh_seconds = refreshing.elapsed().as_secs_f64();
            summary.consumed += outcome.consumed;
            summary.applied += outcome.applied;
            summary.rejected += outcome.rejected.values().sum::<u64>();
            summary.batches += 1;
            last_today = today;
        }
        let drained = {
            let engine = lock();
            // Queue outputs and take the delivery reports already in. The
            // loop waits in the next poll, unless many outputs are in flight:
            // then it waits for delivery reports (backpressure).
            let drain_wait = if sink.in_flight() >= BACKPRESSURE_IN_FLIGHT {
                let (least, most) = BACKPRESSURE_WAIT_MILLIS;
                Duration::from_millis(processing.batch_max_millis.clamp(least, most))
            } else {
                Duration::ZERO
            };
            let drained = sink.drain(&engine, DRAIN_MAX_RECORDS, drain_wait)?;
            telemetry.outbox_pending.set(engine.outbox_pending() as i64);
            telemetry.outbox_parked.set(engine.parked_outputs() as i64);
            drained
        };
        summary.delivered += drained.delivered;
        observe_drained(telemetry, &drained);
        if drained.failed > 0 {
            // An output topic deleted under ragline is created again; the
            // records stay in the outbox until they are delivered.
            if last_topics_check.elapsed() >= OUTPUT_TOPICS_CHECK_INTERVAL {
                last_topics_check = Instant::now();
                if let Err(error) = sink.ensure_topics(&settings) {
                    telemetry.kafka_errors.with_label_values(&["topics"]).inc();
                    tracing::warn!(%error, "could not check the output topics");
                }
            }
        }
        if polled.errors > 0 {
            telemetry
                .kafka_errors
                .with_label_values(&["consume"])
                .inc_by(polled.errors);
        }
        if drained.failed == 0 {
            let delivered_at = now_millis();
            for stamp in &polled.timestamps_millis {
                telemetry
                    .event_to_output_latency
                    .observe(((delivered_at - stamp).max(0) as f64) / 1000.0);
            }
        }
        let drained_at = iteration.elapsed().as_secs_f64();
        // Advisory commits (monitoring only) once a second
        // (ADVISORY_COMMIT_INTERVAL): committing every
        // batch queues OffsetCommit requests ahead of fetches on the
        // coordinator's connection and delays input.
        if last_commit.elapsed() >= ADVISORY_COMMIT_INTERVAL {
            last_commit = Instant::now();
            source.commit_advisory();
        }
        let committed_at = iteration.elapsed().as_secs_f64();
        if last_positions.elapsed() >= LAG_OFFSETS_INTERVAL {
            last_positions = Instant::now();
            *next_offsets.lock().expect("never poisoned") = source.next_offsets().clone();
        }
        if stopping {
            if caught_up {
                // A replay: delivers while the broker takes outputs.
                summary.delivered += deliver_while_taken(
                    &mut sink,
                    lock,
                    telemetry,
                    Duration::from_secs(processing.shutdown_drain_seconds),
                )?;
            } else {
                // A shutdown: within the orchestrator's grace period.
                let deadline = Instant::now() + shutdown_timeout;
                while lock().outbox_pending() > 0 && Instant::now() < deadline {
                    let engine = lock();
                    let drained = sink.drain(&engine, DRAIN_MAX_RECORDS, SHUTDOWN_DRAIN_WAIT)?;
                    observe_drained(telemetry, &drained);
                    summary.delivered += drained.delivered;
                }
                sink.flush(SHUTDOWN_FLUSH_TIMEOUT);
            }
            if lock().outbox_pending() > 0 {
                tracing::warn!(
                    pending = lock().outbox_pending(),
                    "outputs left undelivered: the next run delivers them"
                );
            }
            source.commit_advisory();
            break;
        }
        if let Some(catching_up) = &mut catching_up {
            // Records deleted while the replay reads (retention): a
            // replay that went on would miss them.
            if let Some((&partition, &(_, first))) = source.gaps().iter().next() {
                return Err(LiveError::HistoryGap { partition, first });
            }
            match catching_up.after_poll(&source, polling.then_some(polled.messages.len())) {
                CatchUp::Reading => {}
                CatchUp::Reached => caught_up = true,
                CatchUp::StoppedShort(short) => {
                    summary.stopped_short = short;
                    caught_up = true;
                }
            }
        }
        let mut refreshed = false;
        if source.refresh_due(ASSIGNMENT_REFRESH_INTERVAL) {
            refreshed = true;
            let positions = lock().positions().clone();
            if let Err(error) = source.refresh_assignment(&positions, ASSIGNMENT_REFRESH_TIMEOUT) {
                telemetry.kafka_errors.with_label_values(&["connect"]).inc();
                tracing::warn!(%error, "could not refresh the partition assignment");
            }
        }
        if refreshed || source.gaps().len() != known_gaps {
            observe_assignment(shared, &source, &settings.input_topic, &mut known_gaps);
        }
        if options.mode == Mode::Live && iteration.elapsed() >= SLOW_ITERATION {
            tracing::warn!(
                messages = polled.messages.len(),
                poll_seconds,
                batch_seconds,
                refresh_seconds,
                drained_at,
                committed_at,
                total_seconds = iteration.elapsed().as_secs_f64(),
                "slow live iteration"
            );
        }
    }
    Ok(summary)
}

/// The targets of a replay from the input topic: the high watermarks of
/// every partition now. Refused: a topic with no partition to read, a
/// partition set aside for a retention gap, and a partition not yet read
/// whose first records were deleted (reading from the earliest offset left
/// would miss events silently).
fn replay_targets(source: &KafkaSource) -> Result<Vec<PartitionLag>, LiveError> {
    if let Some((&partition, &(_, first))) = source.gaps().iter().next() {
        return Err(LiveError::HistoryGap { partition, first });
    }
    if source.partitions() == 0 {
        return Err(LiveError::NoInputPartitions {
            topic: source.topic().to_string(),
        });
    }
    let watermarks = source.watermarks(CAUGHT_UP_WATERMARKS_TIMEOUT)?;
    if let Some(pruned) = source.deleted_start(&watermarks) {
        return Err(LiveError::HistoryGap {
            partition: pruned.partition,
            first: pruned.first,
        });
    }
    Ok(source.targets(&watermarks))
}

/// Counts one drain's deliveries by topic and its failed deliveries.
fn observe_drained(telemetry: &crate::telemetry::Telemetry, drained: &Drained) {
    telemetry.observe_delivered(&drained.by_topic);
    if drained.failed > 0 {
        telemetry
            .kafka_errors
            .with_label_values(&["delivery"])
            .inc_by(drained.failed);
    }
}

/// Delivers pending outputs until the outbox is empty or the broker has
/// taken none for `patience` (a replay may end with hundreds of thousands
/// of them, so a fixed deadline would cut a healthy delivery short), then
/// flushes; returns how many were delivered. The rest stay in the outbox.
fn deliver_while_taken<E: std::ops::Deref<Target = Engine>>(
    sink: &mut KafkaSink,
    engine: impl Fn() -> E,
    telemetry: &crate::telemetry::Telemetry,
    patience: Duration,
) -> Result<u64, LiveError> {
    let mut delivered = 0;
    let mut progress = Instant::now();
    while engine().outbox_pending() > 0 && progress.elapsed() < patience {
        let drained = sink.drain(&engine(), DRAIN_MAX_RECORDS, SHUTDOWN_DRAIN_WAIT)?;
        observe_drained(telemetry, &drained);
        if drained.delivered > 0 {
            delivered += drained.delivered;
            progress = Instant::now();
        }
    }
    sink.flush(SHUTDOWN_FLUSH_TIMEOUT);
    Ok(delivered)
}

/// Rebuilds a fresh state from the whole input topic by the bulk rebuild
/// ([`Engine::begin_rebuild`]), which folds each owner once instead of
/// batch by batch: reads every partition up to the high watermarks found
/// at start (as [`LiveOptions::until_caught_up`] says), delivering dead
/// letters as they are
/// found, then closes every month and delivers the values and scorecards.
/// The state then holds each partition's next offset, so `run` goes on from
/// there.
pub fn rebuild_from_topic(
    shared: &Shared,
    options: crate::pipeline::RebuildOptions,
) -> Result<LiveSummary, LiveError> {
    let mut engine = shared
        .engine
        .lock()
        .expect("the engine lock is never poisoned: panics stop the process");
    let settings = engine.config().kafka.clone();
    let processing = engine.config().processing.clone();
    let mut source = KafkaSource::connect(&settings, engine.positions())?;
    let targets = replay_targets(&source)?;
    let mut sink = KafkaSink::connect(&settings)?;
    sink.ensure_topics(&settings)?;
    let wait = Duration::from_millis(processing.batch_max_millis.max(1));
    let mut summary = LiveSummary::default();
    let mut rebuild = engine.begin_rebuild(options)?;
    rebuild.expect_messages(
        targets
            .iter()
            .map(|target| target.high_watermark.max(0) as u64)
            .sum(),
    );
    let idle_limit = Duration::from_secs(processing.replay_idle_seconds);
    let mut catching_up = CatchingUp::new(targets, idle_limit);
    loop {
        let polled = source.next_batch(processing.replay_batch_events, wait)?;
        // Records deleted while the rebuild reads (retention): the source
        // finds the offset gone and sets the partition aside.
        if let Some((&partition, &(_, first))) = source.gaps().iter().next() {
            return Err(LiveError::HistoryGap { partition, first });
        }
        if !polled.messages.is_empty() {
            rebuild.feed(&polled.messages)?;
            summary.batches += 1;
            // Dead letters, as they are found.
            let drained = sink.drain(rebuild.engine(), DRAIN_MAX_RECORDS, Duration::ZERO)?;
            observe_drained(&shared.telemetry, &drained);
            summary.delivered += drained.delivered;
        }
        match catching_up.after_poll(&source, Some(polled.messages.len())) {
            CatchUp::Reading => {}
            CatchUp::Reached => break,
            // What was read is rebuilt; the state holds each partition's
            // next offset, so `run` reads on from there.
            CatchUp::StoppedShort(short) => {
                summary.stopped_short = short;
                break;
            }
        }
    }
    let outcome = rebuild.finish()?;
    summary.consumed = outcome.consumed;
    summary.applied = outcome.applied;
    summary.rejected = outcome.rejected.values().sum();
    // Everything else once every month is closed; what the broker does not
    // take stays in the outbox for `run`.
    summary.delivered += deliver_while_taken(
        &mut sink,
        || &*engine,
        &shared.telemetry,
        Duration::from_secs(processing.shutdown_drain_seconds),
    )?;
    if engine.outbox_pending() > 0 {
        tracing::warn!(
            pending = engine.outbox_pending(),
            "outputs left undelivered after the rebuild: the next run delivers them"
        );
    }
    engine.flush()?;
    Ok(summary)
}
