//! `ragline run` as one of several instances (`[scale_out] enabled`,
//! `docs/scale-out.md`): both stages in one loop.
//!
//! - **Routing.** A consumer in the group `kafka.group_id` (cooperative
//!   sticky assignment) reads the input partitions Kafka gives it, routes
//!   each message ([`crate::route`]) to its authority's partition of the
//!   repartition topic, unchanged, or dead-letters it, and commits the
//!   input offsets to the group once the broker has every record. A crash
//!   in between sends some records again: the applying engines count them
//!   as the duplicates they are.
//! - **Applying.** A second consumer, in the group `<group_id>-apply`, only
//!   learns which partitions of the repartition topic this instance owns
//!   (it never fetches: its partitions are paused). Each owned partition
//!   gets its own engine and state directory (`<state>/partition-<n>`), so
//!   revoking a partition drops exactly its state; a third consumer reads
//!   the owned partitions from the offsets each engine stored with its
//!   state (exactly-once effect, as for a single instance), or from the
//!   beginning when this instance has no state for it yet: a partition
//!   moved from a dead instance is rebuilt from the repartition topic, which
//!   must therefore keep its whole history. After a batch that moved a
//!   partition's clock, the clock is written to every other partition.
//! - **Decisions.** An owner cuts a partition into batches by writing each
//!   batch's decision into the partition and applying it once read back
//!   ([`decisions`]), so that a new owner rebuilding the partition cuts the
//!   same batches and repeats the same outputs under the same ids. While a
//!   partition is caught up after opening, every batch that a later
//!   decision follows is applied silently (its outputs were delivered:
//!   an owner decides a batch only once the previous one's outputs are).

pub mod decisions;

use crate::calendar::{Date, Month};
use crate::config::{Config, KafkaSettings};
use crate::event::{Position, RawMessage};
use crate::kafka_client::{
    client_config, consumer_config, create_missing_topics, TopicSpec, TopicsError,
};
use crate::outbox;
use crate::pipeline::{Clock, Engine, EngineError, Mode};
use crate::route::{partition_authorities, Route, Router};
use crate::sink::kafka::{KafkaSink, SinkError};
use crate::source::kafka::{position_key, position_of};
use decisions::{DecidedBatch, Decisions, Record, DECISION_HEADER};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The header that marks a record of the repartition topic as a clock (its
/// value: the JSON of a [`Clock`]); records without it are input messages.
/// Only ragline writes it: input headers are not forwarded.
pub const CLOCK_HEADER: &str = "ragline-clock";

/// How long routing waits for the broker to take a batch's records.
const ROUTE_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a revoked partition's outputs may take to leave its outbox.
const REVOKE_DRAIN_WAIT: Duration = Duration::from_secs(5);
/// Most output records drained per partition per loop.
const DRAIN_MAX_RECORDS: usize = 20_000;
/// Least time between two consumer errors logged at warning level.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);
/// How long to wait before trying unreachable brokers again.
const CONNECT_RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// How long each poll of routing and applying waits for a first message.
const POLL_WAIT: Duration = Duration::from_millis(20);
/// How long a batch decision may take to come back before it is written
/// again.
const PROPOSAL_RETRY: Duration = Duration::from_secs(5);
/// How often a partition's end is asked for again when the brokers did
/// not answer.
const WATERMARK_RETRY: Duration = Duration::from_secs(5);
/// How often the state gauges (size, messages, clock) are set.
const STATE_OBSERVE_INTERVAL: Duration = Duration::from_secs(5);
/// How often every owned partition's applied offset is committed again,
/// moved or not: a commit refused during a rebalance would otherwise leave
/// the group's lag stale until the partition's next record.
const APPLIED_COMMIT_REFRESH: Duration = Duration::from_secs(5);
/// How often routed input offsets whose commit was refused (during a
/// rebalance) are committed again while no new input arrives.
const ROUTED_COMMIT_RETRY: Duration = Duration::from_secs(1);

/// A failure that stops the instance.
#[derive(Debug, thiserror::Error)]
pub enum ScaleOutError {
    /// A Kafka client could not be created or configured.
    #[error("kafka: {action}: {error}")]
    Kafka {
        /// What was being done.
        action: String,
        /// The client's error.
        #[source]
        error: KafkaError,
    },
    /// A partition's engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A partition's outputs could not be drained.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The JSON Schemas did not load.
    #[error("loading the JSON Schemas: {0}")]
    Schema(String),
    /// The brokers' topics could not be read.
    #[error(transparent)]
    Topics(#[from] TopicsError),
}

fn kafka(action: &str) -> impl FnOnce(KafkaError) -> ScaleOutError + '_ {
    move |error| ScaleOutError::Kafka {
        action: action.to_string(),
        error,
    }
}

/// How an instance runs.
#[derive(Clone)]
pub struct ScaleOutOptions {
    /// Live (today's date counts) or replay (event dates only).
    pub mode: Mode,
    /// A fixed "today" (tests); `None` reads the system clock in live mode.
    pub fixed_today: Option<Date>,
    /// Where the instance shows what it has done so far.
    pub progress: Arc<ScaleOutProgress>,
    /// The metrics to keep (served on `/metrics`); `None`: none kept.
    pub telemetry: Option<Arc<crate::telemetry::Telemetry>>,
}

/// What an instance has done so far, readable while it runs.
#[derive(Debug, Default)]
pub struct ScaleOutProgress {
    /// Input messages routed to the repartition topic.
    pub routed: AtomicU64,
    /// Input messages dead-lettered by routing.
    pub rejected: AtomicU64,
    /// Records of the repartition topic applied.
    pub applied: AtomicU64,
    /// The partitions of the repartition topic this instance applies.
    pub owned: std::sync::Mutex<Vec<i32>>,
    /// Those of them still catching up with their partition (rebuilding it
    /// from the topic, or reading what arrived while the instance was
    /// away): their values are not yet current.
    pub catching_up: std::sync::Mutex<Vec<i32>>,
    /// Whether the instance applies at least one partition and every one
    /// it applies is current (what `/readyz` answers).
    pub ready: Arc<AtomicBool>,
}

/// What an instance did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScaleOutSummary {
    /// Input messages routed to the repartition topic.
    pub routed: u64,
    /// Input messages dead-lettered by routing.
    pub rejected: u64,
    /// Records of the repartition topic applied (events and clocks).
    pub applied: u64,
    /// Clock records written to other partitions.
    pub clocks_shared: u64,
    /// Batch decisions written.
    pub decisions_written: u64,
    /// Batches applied silently while catching up (their outputs were
    /// delivered before).
    pub batches_repeated: u64,
    /// Partitions opened (assigned, or taken over).
    pub partitions_opened: u64,
    /// Outputs delivered.
    pub delivered: u64,
    /// The partitions of the repartition topic applied when it stopped.
    pub owned_at_stop: Vec<i32>,
}

/// Counts the records the broker did not take.
#[derive(Default)]
struct Failures(AtomicU64);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            tracing::warn!(%error, "a record for the repartition or dead-letter topic was not delivered");
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// One owned partition of the repartition topic.
struct Applier {
    engine: Engine,
    sink: KafkaSink,
    /// The clock last shared with the other partitions.
    shared: (Option<Date>, Option<Month>),
    /// Records read and not yet applied, and the batches decided.
    decisions: Decisions,
    /// Catching up after opening: a batch that a later decision follows is
    /// applied silently.
    catching_up: bool,
    /// The partition's end when it was opened (its high watermark):
    /// reading up to it ends the catch-up. `None` while it could not be
    /// read (asked again every [`WATERMARK_RETRY`]).
    end_at_open: Option<i64>,
    /// When the end was last asked for.
    end_asked: Instant,
    /// Whether a gap in the partition's history was reported.
    gap_reported: bool,
    /// The applied offset last committed to the applying group.
    committed: Option<i64>,
    /// Outputs its state held undelivered when it was opened (those with a
    /// sequence below this), held back until the catch-up says whether
    /// they are stale: if a batch after the stored position was decided,
    /// whoever decided it had delivered its own copy of them first (an
    /// owner decides a batch only once the previous one's outputs are
    /// delivered), and delivering this copy now would put old values after
    /// newer ones: they are dropped. Otherwise they are delivered.
    held_back: Option<u64>,
}

impl Applier {
    /// Whether its outputs may be delivered now (none are held back).
    fn may_deliver(&self) -> bool {
        self.held_back.is_none()
    }
}

/// The instance: its clients and the engines of its partitions.
struct Instance<'a> {
    config: &'a Arc<Config>,
    state: PathBuf,
    mode: Mode,
    /// The JSON Schemas, when `processing.schema_validation` is on.
    schema: Option<&'a jsonschema::Validator>,
    /// When a consumer error was last logged at warning level.
    last_warning: std::cell::Cell<Option<Instant>>,
    route_consumer: BaseConsumer,
    /// Input offsets routed and delivered whose commit was refused, by
    /// input partition: committed again until the broker takes them, or
    /// dropped once the partition is no longer this instance's.
    routed_uncommitted: BTreeMap<i32, i64>,
    /// When the routed offsets were last committed or tried.
    routed_commit_tried: Option<Instant>,
    membership: BaseConsumer,
    data: BaseConsumer,
    producer: BaseProducer<Failures>,
    appliers: BTreeMap<i32, Applier>,
    summary: ScaleOutSummary,
    telemetry: Option<Arc<crate::telemetry::Telemetry>>,
    /// When the state gauges were last set.
    state_observed: Option<Instant>,
    /// When every owned partition's applied offset was last committed.
    applied_committed_at: Option<Instant>,
    /// Every anomaly reason shown so far (one that no partition holds any
    /// more shows 0).
    anomaly_reasons: BTreeSet<String>,
}

/// Runs one instance until `shutdown` is set.
pub fn run(
    config: Arc<Config>,
    state: &Path,
    options: &ScaleOutOptions,
    shutdown: &AtomicBool,
) -> Result<ScaleOutSummary, ScaleOutError> {
    let settings = &config.kafka;
    let scale = &config.scale_out;
    let schema = if config.processing.schema_validation {
        Some(crate::event::schema::validator().map_err(ScaleOutError::Schema)?)
    } else {
        None
    };
    let today = || match options.mode {
        Mode::Live => Some(
            options
                .fixed_today
                .unwrap_or_else(crate::live::system_today),
        ),
        Mode::Replay => None,
    };
    // A broker that is down at start is waited for, not fatal.
    loop {
        let ready = ensure_repartition_topic(settings, &scale.repartition_topic, scale.partitions)
            // Before routing writes dead letters: a topic made on first use
            // gets the broker's defaults.
            .and_then(|()| Ok(KafkaSink::connect(settings)?.ensure_topics(settings)?));
        match ready {
            Ok(()) => break,
            Err(error) => {
                tracing::warn!(
                    %error,
                    brokers = %settings.brokers,
                    "cannot reach the brokers{}; retrying in {} s",
                    crate::kafka_client::security_hint(settings),
                    CONNECT_RETRY_INTERVAL.as_secs()
                );
                let deadline = Instant::now() + CONNECT_RETRY_INTERVAL;
                while Instant::now() < deadline {
                    if shutdown.load(Ordering::SeqCst) {
                        return Err(error);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    let route_consumer = group_consumer(settings, &settings.group_id)?;
    route_consumer
        .subscribe(&[&settings.input_topic])
        .map_err(kafka("subscribing to the input topic"))?;
    let membership = group_consumer(settings, &format!("{}-apply", settings.group_id))?;
    membership
        .subscribe(&[&scale.repartition_topic])
        .map_err(kafka("subscribing to the repartition topic"))?;
    let data: BaseConsumer = consumer_config(settings)
        .set("group.id", format!("{}-apply-data", settings.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(kafka("creating the repartition reader"))?;
    let mut producer_config = client_config(settings);
    for (key, value) in settings
        .producer_properties
        .iter()
        .chain(&scale.producer_properties)
    {
        producer_config.set(key, value);
    }
    let producer: BaseProducer<Failures> = producer_config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set(
            "message.max.bytes",
            crate::outbox::TOPIC_MAX_MESSAGE_BYTES.to_string(),
        )
        .create_with_context(Failures::default())
        .map_err(kafka("creating the repartition producer"))?;
    let mut instance = Instance {
        config: &config,
        state: state.to_path_buf(),
        mode: options.mode,
        schema: schema.as_ref(),
        last_warning: std::cell::Cell::new(None),
        route_consumer,
        routed_uncommitted: BTreeMap::new(),
        routed_commit_tried: None,
        membership,
        data,
        producer,
        appliers: BTreeMap::new(),
        summary: ScaleOutSummary::default(),
        telemetry: options.telemetry.clone(),
        state_observed: None,
        applied_committed_at: None,
        anomaly_reasons: BTreeSet::new(),
    };
    let progress = &options.progress;
    while !shutdown.load(Ordering::SeqCst) {
        // Event dates are bounded by today's date, read again for every
        // batch so that a long run does not keep its first day's bound.
        instance.route_some(today().or_else(|| Some(crate::live::system_today())))?;
        instance.follow_membership()?;
        instance.apply_some(
            options
                .fixed_today
                .unwrap_or_else(crate::live::system_today),
        )?;
        let summary = &instance.summary;
        progress.routed.store(summary.routed, Ordering::SeqCst);
        progress.rejected.store(summary.rejected, Ordering::SeqCst);
        progress.applied.store(summary.applied, Ordering::SeqCst);
        *progress
            .owned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            instance.appliers.keys().copied().collect();
        *progress
            .catching_up
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = instance
            .appliers
            .iter()
            .filter(|(_, applier)| applier.catching_up)
            .map(|(partition, _)| *partition)
            .collect();
        progress.ready.store(
            !instance.appliers.is_empty()
                && instance
                    .appliers
                    .values()
                    .all(|applier| !applier.catching_up),
            Ordering::SeqCst,
        );
        instance.observe();
    }
    progress.ready.store(false, Ordering::SeqCst);
    instance.summary.owned_at_stop = instance.appliers.keys().copied().collect();
    instance.close_all()?;
    Ok(instance.summary)
}

/// A consumer in `group` with cooperative sticky assignment and offsets
/// committed by hand.
fn group_consumer(settings: &KafkaSettings, group: &str) -> Result<BaseConsumer, ScaleOutError> {
    consumer_config(settings)
        .set("group.id", group)
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(kafka("creating a group consumer"))
}

impl Instance<'_> {
    /// Logs a consumer error: at warning level at most every
    /// [`WARNING_INTERVAL`] (a missing topic answers every poll), else at
    /// debug level.
    fn consumer_error(&self, stage: &str, error: &KafkaError) {
        let due = self
            .last_warning
            .get()
            .is_none_or(|last| last.elapsed() >= WARNING_INTERVAL);
        if due {
            self.last_warning.set(Some(Instant::now()));
            tracing::warn!(%error, stage, "kafka consumer error");
        } else {
            tracing::debug!(%error, stage, "kafka consumer error");
        }
    }

    /// Routes the input messages at hand and commits their offsets once the
    /// broker holds what they became.
    fn route_some(&mut self, today: Option<Date>) -> Result<(), ScaleOutError> {
        let settings = &self.config.kafka;
        let scale = &self.config.scale_out;
        let router = Router::new(self.config, self.schema, today, scale.partitions);
        let max = self.config.processing.batch_max_events;
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        let mut count = 0usize;
        while count < max {
            let wait = if count == 0 {
                POLL_WAIT
            } else {
                Duration::ZERO
            };
            let message = match self.route_consumer.poll(wait) {
                None => break,
                Some(Err(error)) => {
                    self.consumer_error("routing", &error);
                    break;
                }
                Some(Ok(message)) => message,
            };
            count += 1;
            if let Some(telemetry) = &self.telemetry {
                telemetry.messages_consumed.inc();
            }
            next.insert(message.partition(), message.offset() + 1);
            let bytes = message.payload().unwrap_or_default();
            let key = message.key();
            match router.route(bytes) {
                Route::Partition { partition, .. } => {
                    let mut record = BaseRecord::to(&scale.repartition_topic)
                        .partition(partition as i32)
                        .payload(bytes);
                    if let Some(key) = key {
                        record = record.key(key);
                    }
                    send(&self.producer, record);
                    self.summary.routed += 1;
                    if let Some(telemetry) = &self.telemetry {
                        telemetry.messages_routed.inc();
                    }
                }
                Route::Rejected(rejection) => {
                    let position = position_of(&message);
                    let letter = outbox::dead_letter(
                        bytes,
                        &position,
                        &rejection,
                        self.config.outputs.dead_letter_payloads,
                    );
                    send(
                        &self.producer,
                        BaseRecord::to(&settings.dead_letters_topic)
                            .key(letter.key.as_str())
                            .payload(letter.payload.as_str()),
                    );
                    self.summary.rejected += 1;
                    if let Some(telemetry) = &self.telemetry {
                        telemetry
                            .events_rejected
                            .with_label_values(&[rejection.code.as_str()])
                            .inc();
                    }
                }
            }
        }
        if count == 0 {
            self.commit_routed(BTreeMap::new());
            return Ok(());
        }
        let flushed = self.producer.flush(ROUTE_FLUSH_TIMEOUT);
        let failed = self.producer.context().0.swap(0, Ordering::SeqCst);
        if flushed.is_err() || failed > 0 {
            // Not committed: read again from the last committed offsets.
            tracing::warn!(
                failed,
                "routed records were not all delivered; reading them again"
            );
            self.rewind_routing()?;
            return Ok(());
        }
        self.commit_routed(next);
        Ok(())
    }

    /// Commits the input offsets just routed (`next`, by partition) with
    /// those refused before. A refused commit (during a rebalance) is
    /// harmless to the values, since what is read again is a duplicate
    /// downstream, but it would leave the group's lag stale: without new
    /// input it is tried again every [`ROUTED_COMMIT_RETRY`] while the
    /// partition is owned.
    fn commit_routed(&mut self, next: BTreeMap<i32, i64>) {
        let retry = next.is_empty();
        let held = !self.routed_uncommitted.is_empty();
        if retry
            && (!held
                || self
                    .routed_commit_tried
                    .is_some_and(|at| at.elapsed() < ROUTED_COMMIT_RETRY))
        {
            return;
        }
        let input = &self.config.kafka.input_topic;
        if held {
            // Offsets refused earlier are dropped for partitions no longer
            // this instance's (those just routed are its own).
            let owned: BTreeSet<i32> = self
                .route_consumer
                .assignment()
                .map(|assignment| {
                    assignment
                        .elements()
                        .iter()
                        .filter(|element| element.topic() == input)
                        .map(|element| element.partition())
                        .collect()
                })
                .unwrap_or_default();
            self.routed_uncommitted
                .retain(|partition, _| owned.contains(partition));
        }
        for (partition, offset) in next {
            let held = self.routed_uncommitted.entry(partition).or_insert(offset);
            *held = (*held).max(offset);
        }
        self.routed_commit_tried = Some(Instant::now());
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in &self.routed_uncommitted {
            if let Err(error) =
                offsets.add_partition_offset(input, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(%error, "could not build the routed offsets to commit");
                return;
            }
        }
        if offsets.count() == 0 {
            return;
        }
        match self.route_consumer.commit(&offsets, CommitMode::Sync) {
            Ok(()) => self.routed_uncommitted.clear(),
            Err(error) if retry => {
                tracing::debug!(%error, "could not commit the routed input offsets again")
            }
            Err(error) => {
                tracing::warn!(%error, "could not commit the routed input offsets; trying again")
            }
        }
    }

    /// Seeks every routed partition back to its committed offset.
    fn rewind_routing(&mut self) -> Result<(), ScaleOutError> {
        let assignment = self
            .route_consumer
            .assignment()
            .map_err(kafka("reading the routing assignment"))?;
        let committed = self
            .route_consumer
            .committed_offsets(assignment, Duration::from_secs(10))
            .map_err(kafka("reading the committed input offsets"))?;
        for element in committed.elements() {
            let offset = match element.offset() {
                Offset::Offset(offset) => Offset::Offset(offset),
                _ => Offset::Beginning,
            };
            if let Err(error) = self.route_consumer.seek(
                element.topic(),
                element.partition(),
                offset,
                Duration::from_secs(10),
            ) {
                tracing::warn!(%error, partition = element.partition(), "could not rewind routing");
            }
        }
        Ok(())
    }

    /// Opens an engine for every partition newly assigned to this instance
    /// and closes those revoked; then reads the owned partitions from their
    /// stored offsets.
    fn follow_membership(&mut self) -> Result<(), ScaleOutError> {
        let topic = &self.config.scale_out.repartition_topic;
        // Heartbeats and rebalances happen inside poll; the partitions are
        // paused, so nothing (or a prefetched message, ignored) comes back.
        let _ = self.membership.poll(Duration::ZERO);
        let assignment = self
            .membership
            .assignment()
            .map_err(kafka("reading the applying assignment"))?;
        if assignment.count() > 0 {
            let _ = self.membership.pause(&assignment);
        }
        let owned: BTreeSet<i32> = assignment
            .elements()
            .iter()
            .filter(|element| element.topic() == topic)
            .map(|element| element.partition())
            .collect();
        let held: BTreeSet<i32> = self.appliers.keys().copied().collect();
        if owned == held {
            return Ok(());
        }
        for partition in held.difference(&owned) {
            if let Some(mut applier) = self.appliers.remove(partition) {
                if applier.may_deliver() {
                    let _ =
                        applier
                            .sink
                            .drain(&applier.engine, DRAIN_MAX_RECORDS, REVOKE_DRAIN_WAIT);
                }
                applier.engine.flush()?;
                tracing::info!(partition, "repartition partition revoked");
                if let Some(telemetry) = &self.telemetry {
                    telemetry.forget_indicators(&applier.engine);
                    let label = partition.to_string();
                    let _ = telemetry
                        .repartition_catching_up
                        .remove_label_values(&[&label]);
                    let _ = telemetry
                        .repartition_applied_offset
                        .remove_label_values(&[&label]);
                }
            }
        }
        for &partition in owned.difference(&held) {
            let applier = self.open_partition(partition)?;
            self.appliers.insert(partition, applier);
            self.summary.partitions_opened += 1;
        }
        let mut list = TopicPartitionList::new();
        for (partition, applier) in &self.appliers {
            let offset = applier
                .engine
                .positions()
                .get(&position_key(topic, *partition))
                .map_or(Offset::Beginning, |next| Offset::Offset(*next));
            list.add_partition_offset(topic, *partition, offset)
                .map_err(kafka("building the repartition assignment"))?;
        }
        self.data
            .assign(&list)
            .map_err(kafka("assigning the repartition partitions"))?;
        Ok(())
    }

    fn open_partition(&self, partition: i32) -> Result<Applier, ScaleOutError> {
        let scale = &self.config.scale_out;
        let directory = self.state.join(format!("partition-{partition}"));
        let fresh = !directory.exists();
        let mut engine = Engine::open(self.config.clone(), &directory, self.mode)?;
        engine.set_emit_outputs(true);
        let authorities = partition_authorities(self.config, partition as u32, scale.partitions);
        engine.set_owned_authorities(Some(&authorities));
        let end_at_open = self
            .data
            .fetch_watermarks(&scale.repartition_topic, partition, Duration::from_secs(5))
            .map(|(_, high)| high)
            .ok();
        let stored = engine
            .positions()
            .get(&position_key(&scale.repartition_topic, partition))
            .copied();
        tracing::info!(
            partition,
            authorities = authorities.len(),
            rebuilding = fresh,
            from = stored.unwrap_or(0),
            end = end_at_open.unwrap_or(-1),
            "repartition partition assigned{}",
            if fresh {
                "; no local state: rebuilding it from the repartition topic"
            } else {
                "; catching up from its stored position"
            }
        );
        // The output topics were made at start, before routing began.
        let sink = KafkaSink::connect(&self.config.kafka)?;
        let clock = engine.clock();
        let held_back = (engine.outbox_pending() > 0).then(|| engine.outbox_next());
        Ok(Applier {
            engine,
            sink,
            shared: (clock.latest_event, clock.first_month),
            decisions: Decisions::new(stored),
            catching_up: true,
            end_at_open,
            end_asked: Instant::now(),
            gap_reported: false,
            committed: None,
            held_back,
        })
    }

    /// Reads the records at hand, applies every decided batch, shares moved
    /// clocks, drains every partition's outputs and writes the next batch
    /// decisions (dated `date`: today when live, the bound of event dates
    /// in replay).
    fn apply_some(&mut self, date: Date) -> Result<(), ScaleOutError> {
        let topic = self.config.scale_out.repartition_topic.clone();
        let max = self.config.processing.batch_max_events;
        let mut count = 0usize;
        if !self.appliers.is_empty() {
            while count < max {
                let wait = if count == 0 {
                    POLL_WAIT
                } else {
                    Duration::ZERO
                };
                let message = match self.data.poll(wait) {
                    None => break,
                    Some(Err(error)) => {
                        self.consumer_error("applying", &error);
                        break;
                    }
                    Some(Ok(message)) => message,
                };
                count += 1;
                let Some(applier) = self.appliers.get_mut(&message.partition()) else {
                    continue; // revoked meanwhile
                };
                let header = |name: &str| {
                    message
                        .headers()
                        .is_some_and(|headers| headers.iter().any(|header| header.key == name))
                };
                let payload = message.payload().unwrap_or_default();
                let record = if header(CLOCK_HEADER) {
                    Record::Clock(serde_json::from_slice(payload).unwrap_or_else(|error| {
                        tracing::warn!(%error, "a clock record did not decode; ignored");
                        Clock::default() // merges to nothing
                    }))
                } else if header(DECISION_HEADER) {
                    match serde_json::from_slice(payload) {
                        Ok(decision) => Record::Decision(decision),
                        Err(error) => {
                            tracing::warn!(%error, "a batch decision did not decode; ignored");
                            continue;
                        }
                    }
                } else {
                    Record::Message(RawMessage {
                        bytes: payload.to_vec(),
                        position: position_of(&message),
                    })
                };
                applier.decisions.push(message.offset(), record);
            }
        }
        let partitions: Vec<i32> = self.appliers.keys().copied().collect();
        for partition in partitions {
            self.apply_decided(partition)?;
        }
        self.producer.poll(Duration::ZERO);
        self.commit_applied(&topic);
        for applier in self.appliers.values_mut() {
            if !applier.may_deliver() {
                continue;
            }
            let drained = applier
                .sink
                .drain(&applier.engine, DRAIN_MAX_RECORDS, Duration::ZERO)?;
            self.summary.delivered += drained.delivered;
            if let Some(telemetry) = &self.telemetry {
                telemetry.observe_delivered(&drained.by_topic);
            }
        }
        let now = Instant::now();
        for (partition, applier) in &mut self.appliers {
            // The next batch is decided only once the last one's outputs
            // are delivered: a new owner repeats silently every batch that
            // a later decision follows.
            if applier.catching_up || applier.engine.outbox_pending() > 0 {
                continue;
            }
            if let Some(decision) = applier.decisions.propose(date, max, now, PROPOSAL_RETRY) {
                tracing::debug!(
                    partition,
                    from = decision.from,
                    to = decision.to,
                    "writing a batch decision"
                );
                let payload = serde_json::to_vec(&decision).expect("a decision always encodes");
                send_marked(
                    &self.producer,
                    &topic,
                    *partition,
                    DECISION_HEADER,
                    &payload,
                );
                self.summary.decisions_written += 1;
                if let Some(telemetry) = &self.telemetry {
                    telemetry.batch_decisions.inc();
                }
            }
        }
        self.producer.poll(Duration::ZERO);
        Ok(())
    }

    /// Applies `partition`'s decided batches: while it catches up, those
    /// a later decision follows silently, the last once caught up (read up
    /// to the partition's end when it was opened).
    fn apply_decided(&mut self, partition: i32) -> Result<(), ScaleOutError> {
        let topic = self.config.scale_out.repartition_topic.clone();
        let mode = self.mode;
        let Some(applier) = self.appliers.get_mut(&partition) else {
            return Ok(());
        };
        if let Some((expected, found)) = applier.decisions.gap() {
            // Never applied: its values would be those of part of its
            // history. It stays catching up, so the instance is not ready.
            if !applier.gap_reported {
                applier.gap_reported = true;
                tracing::error!(
                    partition,
                    expected,
                    found,
                    "records of the repartition partition were deleted before they were applied: it cannot be applied; the repartition topic must keep its whole history (retention.ms -1)"
                );
                if let Some(telemetry) = &self.telemetry {
                    telemetry
                        .retention_gap
                        .with_label_values(&[topic.as_str(), &partition.to_string()])
                        .set(1);
                }
            }
            return Ok(());
        }
        if applier.catching_up
            && applier.end_at_open.is_none()
            && applier.end_asked.elapsed() >= WATERMARK_RETRY
        {
            applier.end_asked = Instant::now();
            applier.end_at_open = self
                .data
                .fetch_watermarks(&topic, partition, Duration::from_secs(1))
                .map(|(_, high)| high)
                .ok();
        }
        let caught_up = applier
            .end_at_open
            .is_some_and(|end| applier.decisions.read_position() >= end);
        let mut moved = false;
        loop {
            let later = applier.decisions.decided_len() > 1;
            if applier.catching_up && !caught_up && !later {
                break; // the last decision read may not have been applied
            }
            let Some(batch) = applier.decisions.take_decided() else {
                break;
            };
            if let Some(before) = applier.held_back.take() {
                // A batch after the stored position was decided: the
                // outputs held back were delivered by its decider.
                let dropped = applier.engine.drop_outputs_before(before)?;
                tracing::info!(
                    partition,
                    dropped,
                    "outputs left undelivered in the state dropped: a later owner delivered them"
                );
            }
            let silent = applier.catching_up && later;
            let records = (batch.messages.len() + batch.clocks.len()) as u64;
            tracing::debug!(
                partition,
                from = batch.decision.from,
                to = batch.decision.to,
                records,
                silent,
                "applying a decided batch"
            );
            let started = Instant::now();
            let outcome = apply_batch(&mut applier.engine, &topic, partition, mode, batch, silent)?;
            self.summary.applied += records;
            if silent {
                self.summary.batches_repeated += 1;
            } else {
                moved = true;
            }
            if let Some(telemetry) = &self.telemetry {
                if silent {
                    telemetry.batches_repeated.inc();
                } else {
                    telemetry.events_applied.inc_by(outcome.applied);
                    telemetry.events_duplicate.inc_by(outcome.duplicates);
                    telemetry.restatements.inc_by(outcome.restatements);
                    telemetry.batches.inc();
                    telemetry
                        .batch_duration
                        .observe(started.elapsed().as_secs_f64());
                    telemetry
                        .commit_duration
                        .observe(outcome.phase_seconds[crate::pipeline::PHASE_COMMIT]);
                }
            }
        }
        if applier.catching_up && caught_up {
            applier.catching_up = false;
            // No batch after the stored position: nobody else delivered the
            // outputs held back.
            applier.held_back = None;
            applier.engine.set_outputs_silenced(false);
            // What a dead owner may not have shared yet.
            applier.shared = (None, None);
            moved = true;
            tracing::info!(
                partition,
                position = applier.decisions.read_position(),
                "repartition partition caught up: its values are current"
            );
        }
        if !moved {
            let clock = applier.engine.clock();
            applier.shared = (clock.latest_event, clock.first_month);
            return Ok(());
        }
        if let Some(telemetry) = &self.telemetry {
            // Not while catching up: those values are the past repeated.
            telemetry.refresh_indicators(&applier.engine);
        }
        let clock = applier.engine.clock();
        let now = (clock.latest_event, clock.first_month);
        if now != applier.shared && now != (None, None) {
            applier.shared = now;
            self.share_clock(partition, clock);
        }
        Ok(())
    }

    /// Sets the per-partition gauges, and every few seconds the state
    /// gauges over every owned partition.
    fn observe(&mut self) {
        let Some(telemetry) = &self.telemetry else {
            return;
        };
        let mut pending = 0;
        for (partition, applier) in &self.appliers {
            let label = partition.to_string();
            telemetry
                .repartition_catching_up
                .with_label_values(&[&label])
                .set(i64::from(applier.catching_up));
            telemetry
                .repartition_applied_offset
                .with_label_values(&[&label])
                .set(applier.decisions.settled_to());
            pending += applier.engine.outbox_pending() as i64;
        }
        telemetry.outbox_pending.set(pending);
        telemetry.partitions_assigned.set(
            self.route_consumer
                .assignment()
                .map_or(0, |assignment| assignment.count() as i64),
        );
        if self
            .state_observed
            .is_some_and(|at| at.elapsed() < STATE_OBSERVE_INTERVAL)
        {
            return;
        }
        self.state_observed = Some(Instant::now());
        let mut clock: Option<Clock> = None;
        let (mut consumed, mut size) = (0u64, 0u64);
        let mut anomalies: BTreeMap<String, i64> = BTreeMap::new();
        for applier in self
            .appliers
            .values()
            .filter(|applier| !applier.catching_up)
        {
            let engine = &applier.engine;
            consumed += engine.totals().consumed;
            size += engine.store().size_bytes();
            for (reason, count) in &engine.totals().anomalies {
                *anomalies.entry(reason.clone()).or_default() += *count;
            }
            let held = engine.clock();
            clock = Some(match clock {
                None => held,
                // The shared clock: the latest fact, the earliest close.
                Some(merged) => Clock {
                    latest_event: merged.latest_event.max(held.latest_event),
                    today: merged.today.max(held.today),
                    first_month: merged.first_month.min(held.first_month),
                    last_closed: merged.last_closed.min(held.last_closed),
                },
            });
        }
        telemetry.state_messages.set(consumed as i64);
        telemetry.state_size.set(size as i64);
        self.anomaly_reasons.extend(anomalies.keys().cloned());
        for reason in &self.anomaly_reasons {
            let count = anomalies.get(reason).copied().unwrap_or(0);
            telemetry.anomalies.with_label_values(&[reason]).set(count);
        }
        if let Some(clock) = clock {
            telemetry.observe_clock(&clock, crate::shared::now_seconds());
        }
    }

    /// Writes `clock` to every partition but `partition`.
    fn share_clock(&mut self, partition: i32, clock: Clock) {
        let topic = &self.config.scale_out.repartition_topic;
        let shared = Clock {
            today: None,
            last_closed: None,
            ..clock
        };
        let payload = serde_json::to_vec(&shared).expect("a clock always encodes");
        for other in
            (0..self.config.scale_out.partitions as i32).filter(|other| *other != partition)
        {
            send_marked(&self.producer, topic, other, CLOCK_HEADER, &payload);
            self.summary.clocks_shared += 1;
        }
    }

    /// Commits how far each owned partition is applied to the applying
    /// group, for monitoring (lag) only: an instance resumes from its state.
    /// A partition is committed when its applied offset moved, and every
    /// partition every [`APPLIED_COMMIT_REFRESH`] (an asynchronous commit
    /// may have been refused).
    fn commit_applied(&mut self, topic: &str) {
        let refresh = self
            .applied_committed_at
            .is_none_or(|at| at.elapsed() >= APPLIED_COMMIT_REFRESH);
        let mut offsets = TopicPartitionList::new();
        for (partition, applier) in &mut self.appliers {
            let next = applier.decisions.settled_to();
            if refresh || applier.committed != Some(next) {
                applier.committed = Some(next);
                let _ = offsets.add_partition_offset(topic, *partition, Offset::Offset(next));
            }
        }
        if refresh {
            self.applied_committed_at = Some(Instant::now());
        }
        if offsets.count() > 0 {
            if let Err(error) = self.membership.commit(&offsets, CommitMode::Async) {
                tracing::debug!(%error, "could not commit the applied offsets (monitoring only)");
            }
        }
    }

    /// Delivers what every partition still holds and closes the states.
    fn close_all(&mut self) -> Result<(), ScaleOutError> {
        let _ = self.producer.flush(ROUTE_FLUSH_TIMEOUT);
        let deadline = Instant::now() + REVOKE_DRAIN_WAIT;
        for applier in self.appliers.values_mut() {
            while applier.may_deliver()
                && applier.engine.outbox_pending() > 0
                && Instant::now() < deadline
            {
                let drained = applier.sink.drain(
                    &applier.engine,
                    DRAIN_MAX_RECORDS,
                    Duration::from_millis(200),
                )?;
                self.summary.delivered += drained.delivered;
            }
            applier.sink.flush(REVOKE_DRAIN_WAIT);
            applier.engine.flush()?;
        }
        let pending: u64 = self
            .appliers
            .values()
            .map(|applier| applier.engine.outbox_pending())
            .sum();
        if pending > 0 {
            tracing::warn!(
                pending,
                "outputs not delivered at stop: they wait in the state and are delivered at the next start"
            );
        }
        self.appliers.clear();
        Ok(())
    }
}

/// Applies one decided batch of `partition` to its engine, with the
/// decision's date, and stores the position after it; `silent`: its
/// outputs were delivered before (see [`Engine::set_outputs_silenced`]).
/// Returns what the batch did.
pub fn apply_batch(
    engine: &mut Engine,
    topic: &str,
    partition: i32,
    mode: Mode,
    batch: DecidedBatch,
    silent: bool,
) -> Result<crate::pipeline::BatchOutcome, EngineError> {
    let DecidedBatch {
        decision,
        messages,
        clocks,
    } = batch;
    engine.set_outputs_silenced(silent);
    for clock in &clocks {
        engine.merge_clock(clock);
    }
    // The batch may end with a clock or an ignored decision.
    let end = Position::Kafka {
        topic: topic.to_string(),
        partition,
        offset: decision.to - 1,
        key: None,
    };
    engine.skip_position(&end);
    let result = match mode {
        Mode::Live => engine.run_batch(&messages, Some(decision.today)),
        Mode::Replay => {
            engine.set_validation_today(Some(decision.today));
            engine.run_batch(&messages, None)
        }
    };
    engine.set_outputs_silenced(false);
    let outcome = result?;
    // A batch split to isolate a panic commits its halves from the stored
    // state, without the skip above: the next batch must still start at
    // the decision's end, or a restart would leave the decided chain.
    let key = position_key(topic, partition);
    if engine.positions().get(&key) < Some(&decision.to) {
        engine.skip_position(&end);
        engine.store_positions()?;
    }
    Ok(outcome)
}

/// Queues a record of ragline's own (a clock or a batch decision) for
/// `partition` of the repartition topic, marked by `header`.
fn send_marked(
    producer: &BaseProducer<Failures>,
    topic: &str,
    partition: i32,
    header: &str,
    payload: &[u8],
) {
    let headers = OwnedHeaders::new().insert(Header {
        key: header,
        value: Some("1"),
    });
    send(
        producer,
        BaseRecord::<(), [u8]>::to(topic)
            .partition(partition)
            .payload(payload)
            .headers(headers),
    );
}

/// Queues a record, waiting while the producer's queue is full.
fn send<K, P>(producer: &BaseProducer<Failures>, mut record: BaseRecord<'_, K, P>)
where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(10));
            }
            Err((error, _)) => {
                tracing::warn!(%error, "could not queue a record");
                producer.context().0.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Creates the repartition topic with its partitions if it does not exist,
/// keeping its whole history (a partition that moves is rebuilt from it).
fn ensure_repartition_topic(
    settings: &KafkaSettings,
    topic: &str,
    partitions: u32,
) -> Result<(), ScaleOutError> {
    let spec = TopicSpec {
        name: topic.to_string(),
        partitions: partitions as i32,
        settings: vec![
            ("retention.ms", "-1".to_string()),
            (
                "max.message.bytes",
                crate::outbox::TOPIC_MAX_MESSAGE_BYTES.to_string(),
            ),
        ],
    };
    let found = create_missing_topics(settings, &[spec])?;
    if let Some(count) = found
        .get(topic)
        .filter(|count| **count != partitions as usize)
    {
        tracing::error!(
            topic,
            found = count,
            configured = partitions,
            "the repartition topic's partitions differ from scale_out.partitions"
        );
    }
    Ok(())
}
