//! Kafka sink: drains the outbox to the output topics with an idempotent
//! producer and removes a record only after its delivery report.
//!
//! A crash between produce and acknowledgement re-sends the record after
//! restart with the same id, so delivery is at least once and consumers drop
//! duplicates by id.

use crate::config::KafkaSettings;
use crate::kafka_client::{client_config, create_missing_topics, TopicSpec, TopicsError};
use crate::outbox::OutputTopic;
use crate::pipeline::{Engine, EngineError};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sink failure.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The producer could not be created.
    #[error("kafka: creating the producer: {0}")]
    Create(KafkaError),
    /// The engine failed reading or acknowledging the outbox.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// How one output record fared.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Delivery {
    /// On the topic.
    Delivered,
    /// Not delivered this time (broker down, timeout, ...): it stays in the
    /// outbox and is sent again.
    Failed,
    /// Refused for good (the broker's reason): it is parked.
    Refused(String),
}

/// Errors no retry can cure: the record is parked instead.
fn is_permanent(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord
            | RDKafkaErrorCode::MessageBatchTooLarge
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::PolicyViolation
    )
}

fn delivery_of(error: &KafkaError) -> Delivery {
    match error.rdkafka_error_code() {
        Some(code) if is_permanent(code) => Delivery::Refused(error.to_string()),
        _ => Delivery::Failed,
    }
}

/// Collects delivery reports: outbox sequence and outcome.
#[derive(Default)]
pub struct DeliveryReports {
    reports: Mutex<Vec<(u64, Delivery)>>,
}

impl ClientContext for DeliveryReports {}

impl ProducerContext for DeliveryReports {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, sequence: Self::DeliveryOpaque) {
        let outcome = match result {
            Ok(_) => Delivery::Delivered,
            Err((error, _)) => {
                let outcome = delivery_of(error);
                if outcome == Delivery::Failed {
                    tracing::warn!(%error, sequence = *sequence, "output delivery failed; it stays in the outbox");
                } else {
                    tracing::error!(%error, sequence = *sequence, "the broker refused an output for good; it is parked (ragline outbox --retry-parked)");
                }
                outcome
            }
        };
        self.reports
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((*sequence, outcome));
    }
}

/// What one drain did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Records delivered and removed from the outbox.
    pub delivered: u64,
    /// Records that failed and stay in the outbox.
    pub failed: u64,
    /// Delivered records by topic.
    pub by_topic: HashMap<OutputTopic, u64>,
    /// Indicator values not sent because a later value of the same key
    /// supersedes them (removed from the outbox).
    pub superseded: u64,
    /// Records the broker refused for good, moved to the parked records.
    pub parked: u64,
}

/// Most output records queued in the producer and not yet reported.
pub const MAX_IN_FLIGHT: usize = 50_000;

/// The producer, the topic of each output, and the records in flight.
pub struct KafkaSink {
    producer: BaseProducer<DeliveryReports>,
    topics: HashMap<OutputTopic, String>,
    in_flight: HashMap<u64, OutputTopic>,
    /// The lowest outbox sequence that may still need queuing: everything
    /// below it is delivered or in flight, so the outbox is read from here
    /// (not from its start, past records in flight and deletions).
    cursor: u64,
}

impl KafkaSink {
    /// Creates an idempotent producer.
    pub fn connect(settings: &KafkaSettings) -> Result<KafkaSink, SinkError> {
        let mut config = client_config(settings);
        config
            .set("message.timeout.ms", "30000")
            // Dead letters carry the raw message (up to the 1 MiB input cap,
            // base64 when not UTF-8) plus their envelope.
            .set(
                "message.max.bytes",
                crate::outbox::TOPIC_MAX_MESSAGE_BYTES.to_string(),
            );
        for (key, value) in &settings.producer_properties {
            config.set(key, value);
        }
        let producer: BaseProducer<DeliveryReports> = config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .create_with_context(DeliveryReports::default())
            .map_err(SinkError::Create)?;
        let topics = HashMap::from([
            (OutputTopic::Values, settings.values_topic.clone()),
            (OutputTopic::RagChanges, settings.rag_changes_topic.clone()),
            (OutputTopic::Scorecards, settings.scorecards_topic.clone()),
            (
                OutputTopic::Restatements,
                settings.restatements_topic.clone(),
            ),
            (
                OutputTopic::DeadLetters,
                settings.dead_letters_topic.clone(),
            ),
        ]);
        Ok(KafkaSink {
            producer,
            topics,
            in_flight: HashMap::new(),
            cursor: 0,
        })
    }

    /// Queues pending records that are not already in flight (at most
    /// `limit`), waits up to `wait` for delivery reports, and acknowledges
    /// the delivered ones. Records that fail are sent again by a later call;
    /// a broker that is down never blocks the caller for longer than `wait`.
    pub fn drain(
        &mut self,
        engine: &Engine,
        limit: usize,
        wait: Duration,
    ) -> Result<Drained, SinkError> {
        // Read only what can be queued: records beyond the in-flight bound
        // would be read (and decoded) again on every call.
        let room = MAX_IN_FLIGHT.saturating_sub(self.in_flight.len());
        let pending = engine.pending_outputs_from(self.cursor, limit.min(room))?;
        let mut retry_from: Option<u64> = None;
        let mut superseded: Vec<u64> = Vec::new();
        let mut refused: Vec<(u64, String)> = Vec::new();
        for (sequence, record) in &pending {
            if self.in_flight.contains_key(sequence) {
                self.cursor = sequence + 1;
                continue;
            }
            if engine.output_superseded(record) {
                // A later value of the key is delivered or on its way: this
                // one (a retry, or one not yet sent) would only land after it
                // on the compacted topic.
                superseded.push(*sequence);
                self.cursor = sequence + 1;
                continue;
            }
            let message =
                BaseRecord::with_opaque_to(&self.topics[&record.topic], Box::new(*sequence))
                    .key(record.key.as_str())
                    .payload(record.payload.as_str());
            match self.producer.send(message) {
                Ok(()) => {
                    self.in_flight.insert(*sequence, record.topic);
                    self.cursor = sequence + 1;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => break,
                Err((error, _)) => {
                    if let Delivery::Refused(reason) = delivery_of(&error) {
                        tracing::error!(%error, sequence, "an output cannot be sent at all; it is parked (ragline outbox --retry-parked)");
                        refused.push((*sequence, reason));
                    } else {
                        tracing::warn!(%error, sequence, "could not queue an output; it stays in the outbox");
                        retry_from.get_or_insert(*sequence);
                    }
                    self.cursor = sequence + 1;
                }
            }
        }
        let deadline = Instant::now() + wait;
        loop {
            self.producer.poll(Duration::from_millis(1));
            if self.in_flight.is_empty() || Instant::now() >= deadline {
                break;
            }
            let done = self
                .producer
                .context()
                .reports
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .len();
            if done >= self.in_flight.len() {
                break;
            }
            self.producer.poll(Duration::from_millis(5));
        }
        let reports = std::mem::take(
            &mut *self
                .producer
                .context()
                .reports
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let mut drained = Drained::default();
        let mut delivered = Vec::with_capacity(reports.len());
        for (sequence, outcome) in reports {
            let topic = self.in_flight.remove(&sequence);
            match outcome {
                Delivery::Delivered => {
                    delivered.push(sequence);
                    if let Some(topic) = topic {
                        *drained.by_topic.entry(topic).or_default() += 1;
                    }
                }
                Delivery::Failed => {
                    drained.failed += 1;
                    retry_from = Some(retry_from.map_or(sequence, |first| first.min(sequence)));
                }
                Delivery::Refused(reason) => refused.push((sequence, reason)),
            }
        }
        if let Some(first) = retry_from {
            // Failed records stay in the outbox: read from them again next time.
            self.cursor = self.cursor.min(first);
        }
        drained.delivered = delivered.len() as u64;
        drained.superseded = superseded.len() as u64;
        drained.parked = refused.len() as u64;
        delivered.extend(superseded);
        engine.acknowledge_outputs(&delivered)?;
        engine.park_outputs(&refused)?;
        Ok(drained)
    }

    /// Records queued but not yet reported.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Waits for queued messages (on shutdown).
    pub fn flush(&self, timeout: Duration) {
        let _ = self.producer.flush(timeout);
    }

    /// Creates the output topics that do not exist yet (the values topic
    /// compacted), so that a fresh broker works out of the box.
    pub fn ensure_topics(&self, settings: &KafkaSettings) -> Result<(), SinkError> {
        let max_message_bytes = crate::outbox::TOPIC_MAX_MESSAGE_BYTES.to_string();
        let specs: Vec<TopicSpec> = self
            .topics
            .iter()
            .map(|(topic, name)| {
                let mut settings = vec![("max.message.bytes", max_message_bytes.clone())];
                if *topic == OutputTopic::Values {
                    settings.push(("cleanup.policy", "compact".to_string()));
                }
                TopicSpec {
                    name: name.clone(),
                    partitions: 1,
                    settings,
                }
            })
            .collect();
        match create_missing_topics(settings, &specs) {
            Ok(_) => Ok(()),
            Err(TopicsError::Client(error)) => Err(SinkError::Create(error)),
            Err(TopicsError::Metadata(error)) => {
                tracing::warn!(%error, "could not list topics; output topics are not created");
                Ok(())
            }
        }
    }
}
