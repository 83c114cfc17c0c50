//! Kafka sink: drains the outbox to the output topics with an idempotent
//! producer and removes a record only after its delivery report.
//!
//! A crash between produce and acknowledgement re-sends the record after
//! restart with the same id, so delivery is at least once and consumers drop
//! duplicates by id.

use crate::config::KafkaSettings;
use crate::outbox::OutputTopic;
use crate::pipeline::{Engine, EngineError};
use crate::source::kafka::client_config;
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

/// Collects delivery reports: outbox sequence and success.
#[derive(Default)]
pub struct DeliveryReports {
    reports: Mutex<Vec<(u64, bool)>>,
}

impl ClientContext for DeliveryReports {}

impl ProducerContext for DeliveryReports {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, sequence: Self::DeliveryOpaque) {
        let ok = match result {
            Ok(_) => true,
            Err((error, _)) => {
                tracing::warn!(%error, sequence = *sequence, "output delivery failed; it stays in the outbox");
                false
            }
        };
        self.reports
            .lock()
            .expect("no panics while holding the lock")
            .push((*sequence, ok));
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
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            // Dead letters carry the raw message (up to the 1 MiB input cap,
            // base64 when not UTF-8) plus their envelope.
            .set("message.max.bytes", "4194304");
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
        for (sequence, record) in &pending {
            if self.in_flight.contains_key(sequence) {
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
                    tracing::warn!(%error, sequence, "could not queue an output; it stays in the outbox");
                    retry_from.get_or_insert(*sequence);
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
                .expect("no panics while holding the lock")
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
                .expect("no panics while holding the lock"),
        );
        let mut drained = Drained::default();
        let mut delivered = Vec::with_capacity(reports.len());
        for (sequence, ok) in reports {
            let topic = self.in_flight.remove(&sequence);
            if ok {
                delivered.push(sequence);
                if let Some(topic) = topic {
                    *drained.by_topic.entry(topic).or_default() += 1;
                }
            } else {
                drained.failed += 1;
                retry_from = Some(retry_from.map_or(sequence, |first| first.min(sequence)));
            }
        }
        if let Some(first) = retry_from {
            // Failed records stay in the outbox: read from them again next time.
            self.cursor = self.cursor.min(first);
        }
        drained.delivered = delivered.len() as u64;
        engine.acknowledge_outputs(&delivered)?;
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
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        use rdkafka::client::DefaultClientContext;
        let admin: AdminClient<DefaultClientContext> = client_config(settings)
            .create()
            .map_err(SinkError::Create)?;
        let metadata = match admin.inner().fetch_metadata(None, Duration::from_secs(10)) {
            Ok(metadata) => metadata,
            Err(error) => {
                tracing::warn!(%error, "could not list topics; output topics are not created");
                return Ok(());
            }
        };
        let existing: Vec<String> = metadata
            .topics()
            .iter()
            .map(|topic| topic.name().to_string())
            .collect();
        let missing: Vec<(&String, bool)> = self
            .topics
            .iter()
            .filter(|(_, name)| !existing.contains(name))
            .map(|(topic, name)| (name, *topic == OutputTopic::Values))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let new_topics: Vec<NewTopic> = missing
            .iter()
            .map(|(name, compacted)| {
                let topic = NewTopic::new(name, 1, TopicReplication::Fixed(-1));
                if *compacted {
                    topic.set("cleanup.policy", "compact")
                } else {
                    topic
                }
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime always builds");
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        match runtime.block_on(admin.create_topics(&new_topics, &options)) {
            Ok(results) => {
                for result in results {
                    match result {
                        Ok(name) => tracing::info!(topic = %name, "created output topic"),
                        Err((name, error)) => {
                            tracing::warn!(topic = %name, %error, "could not create output topic")
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not create output topics"),
        }
        Ok(())
    }
}
