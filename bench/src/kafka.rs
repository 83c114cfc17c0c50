//! The broker side of the bench: topics, producing a file, a bare consumer (the ceiling of
//! the Kafka replay), and paced producers with latency receivers (the
//! live-latency measurement).

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Creates a topic (infinite retention, as `bench/baselines/produce.py` does
/// for Quix's sake on tansu).
/// A broker's address and, for librdkafka's mock cluster (which has no
/// CreateTopics), the cluster itself to create topics in.
#[derive(Clone, Copy)]
pub struct BrokerRef<'a> {
    /// `host:port` list.
    pub address: &'a str,
    /// The mock cluster behind `address`, if it is one.
    pub mock: Option<&'a MockCluster<'static, DefaultProducerContext>>,
}

impl BrokerRef<'_> {
    /// Creates a topic of `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        match self.mock {
            Some(cluster) => cluster
                .create_topic(topic, partitions, 1)
                .with_context(|| format!("creating topic {topic} in the mock cluster")),
            None => create_topic(self.address, topic, partitions),
        }
    }
}

pub fn create_topic(broker: &str, topic: &str, partitions: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .create()
        .context("creating the admin client")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1))
        .set("retention.ms", "-1")
        .set("retention.bytes", "-1");
    let results = runtime
        .block_on(admin.create_topics(
            &[new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        ))
        .with_context(|| format!("creating topic {topic}"))?;
    for result in results {
        if let Err((name, error)) = result {
            bail!("creating topic {name}: {error}");
        }
    }
    Ok(())
}

/// The message key ragline's producers use: the child id, else the unit.
pub fn key_of(line: &[u8]) -> &[u8] {
    field(line, b"\"child_id\":\"")
        .or_else(|| field(line, b"\"unit\":\""))
        .unwrap_or(b"none")
}

/// The string value after `prefix` (compact JSON, no escapes in ids).
pub fn field<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let start = line
        .windows(prefix.len())
        .position(|window| window == prefix)?
        + prefix.len();
    let length = line[start..].iter().position(|byte| *byte == b'"')?;
    Some(&line[start..start + length])
}

fn send_retrying(producer: &BaseProducer, record: BaseRecord<'_, [u8], [u8]>) -> Result<()> {
    let mut record = record;
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(5));
            }
            Err((error, _)) => return Err(anyhow!("producing: {error}")),
        }
    }
}

/// Produces every line of a file (keyed like ragline's producers); returns
/// (messages, seconds).
pub fn produce_file(broker: &str, topic: &str, path: &Path) -> Result<(u64, f64)> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create()
        .context("creating the producer")?;
    let started = Instant::now();
    let mut reader = std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(path).with_context(|| format!("{}", path.display()))?,
    );
    let mut line = Vec::new();
    let mut count = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let key = key_of(&line).to_vec();
        send_retrying(
            &producer,
            BaseRecord::to(topic).key(&key[..]).payload(&line[..]),
        )?;
        count += 1;
        if count % 1000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .context("flushing the producer")?;
    Ok((count, started.elapsed().as_secs_f64()))
}

/// A bare consumer reading every partition of a topic from the beginning
/// until `expected` messages are read (tansu under-reports the high
/// watermark, so the count, not the watermark, ends it). Returns
/// (messages, payload bytes, seconds from creating the consumer).
pub fn bare_consume(
    broker: &str,
    topic: &str,
    expected: u64,
    timeout: Duration,
) -> Result<(u64, u64, f64)> {
    let started = Instant::now();
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("group.id", format!("bench-bare-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .context("creating the consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(20))
        .context("reading topic metadata")?;
    let mut list = TopicPartitionList::new();
    for partition in metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions())
    {
        list.add_partition_offset(topic, partition.id(), Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    let (mut count, mut bytes) = (0u64, 0u64);
    while count < expected {
        if started.elapsed() > timeout {
            bail!("bare consumer read {count} of {expected} messages in {timeout:?}");
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                count += 1;
                bytes += message.payload().map_or(0, <[u8]>::len) as u64;
            }
            Some(Err(error)) => eprintln!("bench: bare consumer: {error}"),
            None => {}
        }
    }
    Ok((count, bytes, started.elapsed().as_secs_f64()))
}

/// A latency producer: no lingering, idempotent (ordered).
pub fn latency_producer(broker: &str) -> Result<BaseProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("linger.ms", "0")
        .set("enable.idempotence", "true")
        .create()
        .context("creating the producer")
}

/// Sends `rate * seconds` messages at a steady rate (in 1 ms ticks);
/// `make(k)` gives key and payload of the k-th. Returns the send instant of each.
pub fn paced_send(
    producer: &BaseProducer,
    topic: &str,
    rate: u64,
    seconds: f64,
    mut make: impl FnMut(usize) -> (String, String),
) -> Result<Vec<Instant>> {
    let total = (rate as f64 * seconds).round() as usize;
    let mut sent = Vec::with_capacity(total);
    let start = Instant::now();
    let mut k = 0;
    while k < total {
        let due = start + Duration::from_secs_f64(k as f64 / rate as f64);
        let now = Instant::now();
        if now < due {
            producer.poll(Duration::ZERO);
            std::thread::sleep((due - now).min(Duration::from_millis(1)));
            continue;
        }
        let (key, payload) = make(k);
        sent.push(Instant::now());
        send_retrying(
            producer,
            BaseRecord::to(topic)
                .key(key.as_bytes())
                .payload(payload.as_bytes()),
        )?;
        producer.poll(Duration::ZERO);
        k += 1;
    }
    producer.flush(Duration::from_secs(30))?;
    Ok(sent)
}

/// Receives messages of one topic in a thread, keeping (instant, key, payload)
/// of those that pass `keep`.
pub struct Receiver {
    stop: Arc<AtomicBool>,
    /// What was received.
    pub received: Arc<Mutex<Vec<(Instant, String)>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// Starts reading partition 0.. of `topic` from the beginning; keeps the
    /// payloads of messages whose key is `key` (any key when `None`).
    /// `fetch_wait_ms` is the consumer's `fetch.wait.max.ms` (tansu answers
    /// a fetch only when that wait is over, even when data arrives sooner).
    pub fn start(
        broker: &str,
        topic: &str,
        key: Option<String>,
        fetch_wait_ms: u32,
    ) -> Result<Receiver> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", broker)
            .set("group.id", format!("bench-latency-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", fetch_wait_ms.to_string())
            .set("fetch.min.bytes", "1")
            .create()
            .context("creating the consumer")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let partitions = loop {
            let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(5))?;
            let ids: Vec<i32> = metadata
                .topics()
                .iter()
                .filter(|t| t.name() == topic && t.error().is_none())
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect();
            if !ids.is_empty() {
                break ids;
            }
            if Instant::now() > deadline {
                bail!("topic {topic} does not exist");
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let mut list = TopicPartitionList::new();
        for partition in partitions {
            list.add_partition_offset(topic, partition, Offset::Beginning)?;
        }
        consumer.assign(&list)?;
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (flag, store) = (stop.clone(), received.clone());
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Some(Ok(message)) = consumer.poll(Duration::from_millis(20)) {
                    let at = Instant::now();
                    let matches = match &key {
                        Some(key) => message.key() == Some(key.as_bytes()),
                        None => true,
                    };
                    if matches {
                        let payload =
                            String::from_utf8_lossy(message.payload().unwrap_or_default())
                                .into_owned();
                        store
                            .lock()
                            .expect("no panics while holding the lock")
                            .push((at, payload));
                    }
                }
            }
        });
        Ok(Receiver {
            stop,
            received,
            handle: Some(handle),
        })
    }

    /// A copy of what was received so far.
    pub fn snapshot(&self) -> Vec<(Instant, String)> {
        self.received
            .lock()
            .expect("no panics while holding the lock")
            .clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    /// Messages sent.
    pub sent: usize,
    /// Messages whose effect was seen.
    pub seen: usize,
    /// Achieved send rate (messages/s).
    pub rate: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

/// Percentiles (nearest rank) of latencies in milliseconds.
pub fn latency_of(sent: &[Instant], latencies: &mut [f64]) -> Latency {
    latencies.sort_by(f64::total_cmp);
    let rank = |q: f64| {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index]
    };
    let rate = match (sent.first(), sent.last()) {
        (Some(first), Some(last)) if sent.len() > 1 => {
            (sent.len() - 1) as f64 / (*last - *first).as_secs_f64().max(1e-9)
        }
        _ => 0.0,
    };
    Latency {
        sent: sent.len(),
        seen: latencies.len(),
        rate,
        p50: rank(0.50),
        p99: rank(0.99),
        max: latencies.last().copied().unwrap_or(f64::NAN),
    }
}

/// The broker alone: produce numbered messages at `rate` to an echo topic
/// and time each until a consumer with `fetch.wait.max.ms = fetch_wait_ms`
/// sees it (after a warm-up of 20 messages).
pub fn echo_latency(
    broker: BrokerRef<'_>,
    topic: &str,
    rate: u64,
    seconds: f64,
    fetch_wait_ms: u32,
) -> Result<Latency> {
    broker.create_topic(topic, 1)?;
    let broker = broker.address;
    let receiver = Receiver::start(broker, topic, None, fetch_wait_ms)?;
    let producer = latency_producer(broker)?;
    let warm = paced_send(&producer, topic, 50, 0.4, |_| {
        ("echo".into(), "warm-up".into())
    })?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.snapshot().len() < warm.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = paced_send(&producer, topic, rate, seconds, |k| {
        ("echo".to_string(), k.to_string())
    })?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if receiver.snapshot().len() >= warm.len() + sent.len() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut latencies = Vec::with_capacity(sent.len());
    for (at, payload) in receiver.snapshot() {
        if let Some(sent_at) = payload.parse::<usize>().ok().and_then(|k| sent.get(k)) {
            latencies.push(at.saturating_duration_since(*sent_at).as_secs_f64() * 1000.0);
        }
    }
    Ok(latency_of(&sent, &mut latencies))
}
