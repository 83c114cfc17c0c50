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

/// The producer and the topic of each output.
pub struct KafkaSink {
    producer: BaseProducer<DeliveryReports>,
    topics: HashMap<OutputTopic, String>,
}

impl KafkaSink {
    /// Creates an idempotent producer.
    pub fn connect(settings: &KafkaSettings) -> Result<KafkaSink, SinkError> {
        let producer: BaseProducer<DeliveryReports> = client_config(settings)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            // Dead letters carry the raw message (up to the 1 MiB input cap,
            // base64 when not UTF-8) plus their envelope.
            .set("message.max.bytes", "4194304")
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
        Ok(KafkaSink { producer, topics })
    }

    /// Produces up to `limit` pending records, waits up to `timeout` for
    /// their delivery reports, and acknowledges the delivered ones.
    pub fn drain(
        &self,
        engine: &Engine,
        limit: usize,
        timeout: Duration,
    ) -> Result<Drained, SinkError> {
        let pending = engine.pending_outputs(limit)?;
        if pending.is_empty() {
            return Ok(Drained::default());
        }
        let deadline = Instant::now() + timeout;
        let mut topic_of = HashMap::with_capacity(pending.len());
        for (sequence, record) in &pending {
            topic_of.insert(*sequence, record.topic);
            let topic = &self.topics[&record.topic];
            loop {
                let message = BaseRecord::with_opaque_to(topic, Box::new(*sequence))
                    .key(record.key.as_str())
                    .payload(record.payload.as_str());
                match self.producer.send(message) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                        if Instant::now() < deadline =>
                    {
                        self.producer.poll(Duration::from_millis(50));
                    }
                    Err((error, _)) => {
                        tracing::warn!(%error, sequence, "could not queue an output; it stays in the outbox");
                        break;
                    }
                }
            }
        }
        let _ = self
            .producer
            .flush(deadline.saturating_duration_since(Instant::now()));
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
            if ok {
                delivered.push(sequence);
                if let Some(topic) = topic_of.get(&sequence) {
                    *drained.by_topic.entry(*topic).or_default() += 1;
                }
            }
        }
        drained.failed = pending.len() as u64 - delivered.len() as u64;
        drained.delivered = delivered.len() as u64;
        engine.acknowledge_outputs(&delivered)?;
        Ok(drained)
    }

    /// Waits for queued messages (on shutdown).
    pub fn flush(&self, timeout: Duration) {
        let _ = self.producer.flush(timeout);
    }
}
