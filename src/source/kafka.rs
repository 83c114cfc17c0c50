//! Kafka source: every partition of the input topic, assigned manually from
//! the positions stored in RocksDB.
//!
//! The state directory, not the consumer group, decides where reading
//! resumes: offsets are committed in the same RocksDB batch as the state they
//! produced. Offsets are also committed to the consumer group, for lag
//! monitoring only. Manual assignment (no group join) suits a processor whose
//! state is local, and avoids slow group joins on some brokers.

use crate::config::KafkaSettings;
use crate::event::{Position, RawMessage};
use crate::kafka_client::consumer_config;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A Kafka failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("kafka: {action}: {source}")]
pub struct SourceError {
    /// What failed.
    pub action: String,
    /// The client error.
    pub source: KafkaError,
}

fn failed(action: impl Into<String>) -> impl FnOnce(KafkaError) -> SourceError {
    let action = action.into();
    move |source| SourceError { action, source }
}

/// The input topic's consumer.
pub struct KafkaSource {
    consumer: BaseConsumer,
    topic: String,
    assigned: BTreeMap<i32, i64>,
    /// Partitions whose next unread events were deleted by retention: the
    /// next offset the state holds and the partition's low watermark. They
    /// are not read: skipping the gap silently would lose events.
    gaps: BTreeMap<i32, (i64, i64)>,
    last_refresh: Instant,
}

/// One partition's watermarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watermarks {
    /// Partition.
    pub partition: i32,
    /// The first offset still on the broker (the low watermark).
    pub first: i64,
    /// The offset after the last record (the high watermark).
    pub high: i64,
}

/// One partition's lag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionLag {
    /// Partition.
    pub partition: i32,
    /// Messages between the next offset to read and the high watermark.
    pub lag: i64,
    /// The high watermark.
    pub high_watermark: i64,
}

/// Where a Kafka message sits: its topic, partition, offset and key.
pub fn position_of(message: &impl Message) -> Position {
    Position::Kafka {
        topic: message.topic().to_string(),
        partition: message.partition(),
        offset: message.offset(),
        key: message
            .key()
            .map(|key| String::from_utf8_lossy(key).into_owned()),
    }
}

/// The key under which `pipeline` stores a partition's next offset.
pub fn position_key(topic: &str, partition: i32) -> String {
    format!("position/kafka/{topic}/{partition}")
}

impl KafkaSource {
    /// Connects and assigns every partition of the input topic, starting at
    /// the stored next offsets (`positions`, as kept by the engine) or at the
    /// beginning.
    pub fn connect(
        settings: &KafkaSettings,
        positions: &BTreeMap<String, i64>,
    ) -> Result<KafkaSource, SourceError> {
        let consumer: BaseConsumer = consumer_config(settings)
            .set("group.id", &settings.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // An offset that is no longer on the broker is an error, never a
            // silent jump to the earliest or latest offset.
            .set("auto.offset.reset", "error")
            .set("enable.partition.eof", "false")
            .create()
            .map_err(failed("creating the consumer"))?;
        let mut source = KafkaSource {
            consumer,
            topic: settings.input_topic.clone(),
            assigned: BTreeMap::new(),
            gaps: BTreeMap::new(),
            last_refresh: Instant::now(),
        };
        source.refresh_assignment(positions, Duration::from_secs(10))?;
        Ok(source)
    }

    /// Assigns any partition of the topic not yet assigned (new partitions).
    pub fn refresh_assignment(
        &mut self,
        positions: &BTreeMap<String, i64>,
        timeout: Duration,
    ) -> Result<bool, SourceError> {
        self.last_refresh = Instant::now();
        let metadata = self
            .consumer
            .fetch_metadata(Some(&self.topic), timeout)
            .map_err(failed(format!("reading metadata of {}", self.topic)))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|topic| topic.name() == self.topic && topic.error().is_none())
            .flat_map(|topic| topic.partitions().iter().map(|partition| partition.id()))
            .collect();
        if partitions.iter().all(|partition| {
            self.assigned.contains_key(partition) || self.gaps.contains_key(partition)
        }) {
            return Ok(false);
        }
        for partition in partitions {
            if self.assigned.contains_key(&partition) || self.gaps.contains_key(&partition) {
                continue;
            }
            let next = positions
                .get(&position_key(&self.topic, partition))
                .copied()
                .unwrap_or(0);
            match self.retention_gap(partition, next, timeout) {
                Some(low) => {
                    self.gaps.insert(partition, (next, low));
                }
                None => {
                    self.assigned.insert(partition, next);
                }
            }
        }
        self.assign()?;
        Ok(true)
    }

    /// The partition's low watermark when it is above `next` (events the
    /// state has not read were deleted); `None` when nothing is missing or
    /// the watermarks cannot be read now (the consumer reports an
    /// out-of-range offset later, see [`KafkaSource::next_batch`]).
    fn retention_gap(&self, partition: i32, next: i64, timeout: Duration) -> Option<i64> {
        if next <= 0 {
            return None;
        }
        match self
            .consumer
            .fetch_watermarks(&self.topic, partition, timeout)
        {
            Ok((low, _)) if low > next => Some(low),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, partition, "could not read the partition's watermarks");
                None
            }
        }
    }

    /// Each assigned partition's watermarks (first offset, and the offset
    /// after the last record), every one read now: a partition whose
    /// watermarks cannot be read within `timeout` is an error, never left
    /// out (a read up to the watermarks would stop before it).
    pub fn watermarks(&self, timeout: Duration) -> Result<Vec<Watermarks>, SourceError> {
        self.assigned
            .keys()
            .map(|&partition| {
                let (first, high) = self
                    .consumer
                    .fetch_watermarks(&self.topic, partition, timeout)
                    .map_err(failed(format!(
                        "reading the watermarks of partition {partition} of {}",
                        self.topic
                    )))?;
                Ok(Watermarks {
                    partition,
                    first,
                    high,
                })
            })
            .collect()
    }

    /// The targets of a read up to `watermarks` (their high watermarks),
    /// each with the distance from the next offset to read.
    pub fn targets(&self, watermarks: &[Watermarks]) -> Vec<PartitionLag> {
        watermarks
            .iter()
            .map(|marks| {
                let next = self.assigned.get(&marks.partition).copied().unwrap_or(0);
                PartitionLag {
                    partition: marks.partition,
                    lag: (marks.high - next).max(0),
                    high_watermark: marks.high,
                }
            })
            .collect()
    }

    /// A partition not yet read at all (next offset 0) whose first offset
    /// in `watermarks` is above 0: the start of its history was deleted
    /// (retention), and reading from the earliest offset left would miss
    /// events silently.
    pub fn deleted_start(&self, watermarks: &[Watermarks]) -> Option<Watermarks> {
        watermarks.iter().copied().find(|marks| {
            marks.first > 0 && self.assigned.get(&marks.partition).copied() == Some(0)
        })
    }

    /// Partitions whose unread events were deleted by retention: next offset
    /// held by the state and the partition's low watermark.
    pub fn gaps(&self) -> &BTreeMap<i32, (i64, i64)> {
        &self.gaps
    }

    /// Re-checks every assigned partition for a retention gap (after the
    /// consumer reported an offset out of range), setting gapped ones aside.
    fn find_gaps(&mut self) -> Result<(), SourceError> {
        let found: Vec<(i32, i64, i64)> = self
            .assigned
            .iter()
            .filter_map(|(partition, next)| {
                self.retention_gap(*partition, *next, Duration::from_secs(5))
                    .map(|low| (*partition, *next, low))
            })
            .collect();
        if found.is_empty() {
            return Ok(());
        }
        for (partition, next, low) in found {
            self.assigned.remove(&partition);
            self.gaps.insert(partition, (next, low));
        }
        self.assign()
    }

    fn assign(&mut self) -> Result<(), SourceError> {
        let mut list = TopicPartitionList::new();
        for (partition, next) in &self.assigned {
            let offset = if *next > 0 {
                Offset::Offset(*next)
            } else {
                Offset::Beginning
            };
            list.add_partition_offset(&self.topic, *partition, offset)
                .map_err(failed("building the assignment"))?;
        }
        self.consumer
            .assign(&list)
            .map_err(failed("assigning partitions"))?;
        Ok(())
    }

    /// Whether partitions were refreshed less than `every` ago.
    pub fn refresh_due(&self, every: Duration) -> bool {
        self.last_refresh.elapsed() >= every
    }

    /// Number of assigned partitions.
    pub fn partitions(&self) -> usize {
        self.assigned.len()
    }

    /// Polls up to `max` messages: waits at most `wait` for the first, then
    /// takes whatever else is already fetched.
    pub fn next_batch(&mut self, max: usize, wait: Duration) -> Result<PolledBatch, SourceError> {
        let deadline = Instant::now() + wait;
        let mut batch = PolledBatch::default();
        while batch.messages.len() < max {
            let timeout = if batch.messages.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            match self.consumer.poll(timeout) {
                None => break,
                Some(Err(error)) => {
                    batch.errors += 1;
                    if matches!(
                        &error,
                        KafkaError::MessageConsumption(RDKafkaErrorCode::AutoOffsetReset)
                            | KafkaError::MessageConsumption(RDKafkaErrorCode::OffsetOutOfRange)
                    ) {
                        tracing::error!(%error, "an input offset is no longer on the broker");
                        self.find_gaps()?;
                    } else {
                        tracing::warn!(%error, "kafka consumer error");
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                Some(Ok(message)) => {
                    let partition = message.partition();
                    let offset = message.offset();
                    self.assigned.insert(partition, offset + 1);
                    if let Some(millis) = message.timestamp().to_millis() {
                        batch.timestamps_millis.push(millis);
                    }
                    batch.messages.push(RawMessage {
                        bytes: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                        position: position_of(&message),
                    });
                }
            }
        }
        if tracing::enabled!(tracing::Level::DEBUG) && !batch.messages.is_empty() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis() as i64)
                .unwrap_or(0);
            tracing::debug!(
                messages = batch.messages.len(),
                oldest_age_ms = batch
                    .timestamps_millis
                    .iter()
                    .min()
                    .map(|stamp| now - stamp),
                newest_age_ms = batch
                    .timestamps_millis
                    .iter()
                    .max()
                    .map(|stamp| now - stamp),
                "polled"
            );
        }
        Ok(batch)
    }

    /// Commits the given next offsets to the consumer group (advisory, for
    /// lag monitoring); failures are logged, not fatal.
    pub fn commit_advisory(&self) {
        let mut list = TopicPartitionList::new();
        for (partition, next) in &self.assigned {
            if *next > 0
                && list
                    .add_partition_offset(&self.topic, *partition, Offset::Offset(*next))
                    .is_err()
            {
                return;
            }
        }
        if list.count() > 0 {
            if let Err(error) = self.consumer.commit(&list, CommitMode::Async) {
                tracing::debug!(%error, "advisory offset commit failed");
            }
        }
    }

    /// The partitions not yet read up to `targets` (high watermarks taken
    /// at some earlier point), each with its next offset's distance from its
    /// target (`lag`) and the target.
    pub fn short_of(&self, targets: &[PartitionLag]) -> Vec<PartitionLag> {
        let read = self.read_up_to();
        targets
            .iter()
            .filter_map(|target| {
                let next = read.get(&target.partition).copied().unwrap_or(0);
                (next < target.high_watermark).then_some(PartitionLag {
                    partition: target.partition,
                    lag: target.high_watermark - next,
                    high_watermark: target.high_watermark,
                })
            })
            .collect()
    }

    /// How far each assigned partition has been read. The client reads
    /// records it never hands over (transaction markers, and the records
    /// of aborted transactions): past those, its own position is ahead of
    /// the offset after the last message, and a high watermark that ends
    /// in a marker is reached only by the position.
    fn read_up_to(&self) -> BTreeMap<i32, i64> {
        let mut read = self.assigned.clone();
        if let Ok(positions) = self.consumer.position() {
            for element in positions.elements_for_topic(&self.topic) {
                if let (Offset::Offset(position), Some(next)) =
                    (element.offset(), read.get_mut(&element.partition()))
                {
                    *next = (*next).max(position);
                }
            }
        }
        read
    }

    /// The next offset to read per assigned partition.
    pub fn next_offsets(&self) -> &BTreeMap<i32, i64> {
        &self.assigned
    }

    /// The input topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// Measures consumer lag from a separate client, so that the (blocking)
/// watermark queries never hold up the processing loop.
pub struct LagProbe {
    client: BaseConsumer,
    topic: String,
}

impl LagProbe {
    /// A client of its own for `settings`' brokers.
    pub fn connect(settings: &KafkaSettings) -> Result<LagProbe, SourceError> {
        let client: BaseConsumer = consumer_config(settings)
            .set("group.id", format!("{}-lag", settings.group_id))
            .set("enable.auto.commit", "false")
            .create()
            .map_err(failed("creating the lag client"))?;
        Ok(LagProbe {
            client,
            topic: settings.input_topic.clone(),
        })
    }

    /// Lag per partition of the given next offsets.
    pub fn lag(&self, next: &BTreeMap<i32, i64>, timeout: Duration) -> Vec<PartitionLag> {
        partition_lags(&self.client, &self.topic, next, timeout)
    }
}

/// High watermark minus next offset for each partition of `next` whose
/// watermarks `client` can fetch within `timeout`.
fn partition_lags(
    client: &BaseConsumer,
    topic: &str,
    next: &BTreeMap<i32, i64>,
    timeout: Duration,
) -> Vec<PartitionLag> {
    next.iter()
        .filter_map(|(partition, next)| {
            let (_, high) = client.fetch_watermarks(topic, *partition, timeout).ok()?;
            Some(PartitionLag {
                partition: *partition,
                lag: (high - *next).max(0),
                high_watermark: high,
            })
        })
        .collect()
}

/// Messages polled in one go, with their producer timestamps (the start of
/// event-to-output latency).
#[derive(Debug, Default)]
pub struct PolledBatch {
    /// The messages, in poll order.
    pub messages: Vec<RawMessage>,
    /// Producer timestamps in milliseconds, where the broker gave one.
    pub timestamps_millis: Vec<i64>,
    /// Consumer errors seen while polling (logged).
    pub errors: u64,
}
