//! Reading a whole topic back, and creating topics on the mock cluster,
//! for the Kafka tests.

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One message read back: partition, offset, key and payload.
#[allow(dead_code)] // not every test file that shares this module reads every field
pub struct ReadBack {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub payload: Vec<u8>,
}

/// How long a topic must stay quiet, once every partition is read up to the
/// high watermark found at the start, before it counts as read.
const QUIET: Duration = Duration::from_secs(3);

/// Longest time to read a topic.
const READ_LIMIT: Duration = Duration::from_secs(120);

/// Every message of a topic, reading each partition from the start.
pub fn read_raw(brokers: &str, topic: &str) -> Vec<ReadBack> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{topic}"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(20))
        .unwrap();
    let mut assignment = rdkafka::TopicPartitionList::new();
    let mut ends = HashMap::new();
    for partition in metadata.topics()[0].partitions() {
        let (_, high) = consumer
            .fetch_watermarks(topic, partition.id(), Duration::from_secs(20))
            .unwrap();
        ends.insert(partition.id(), high);
        assignment
            .add_partition_offset(topic, partition.id(), rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut messages = Vec::new();
    let mut next: HashMap<i32, i64> = HashMap::new();
    // A real broker in the tests (tansu) reports the base offset of the
    // last batch + 1 as the high watermark, so reaching the watermark is
    // only a lower bound: keep reading until the topic has been quiet.
    let deadline = Instant::now() + READ_LIMIT;
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        let reached = ends
            .iter()
            .all(|(partition, high)| next.get(partition).copied().unwrap_or(0) >= *high);
        if reached && quiet_since.elapsed() > QUIET {
            break;
        }
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(300)) {
            quiet_since = Instant::now();
            next.insert(message.partition(), message.offset() + 1);
            messages.push(ReadBack {
                partition: message.partition(),
                offset: message.offset(),
                key: String::from_utf8_lossy(message.key().unwrap_or_default()).to_string(),
                payload: message.payload().unwrap_or_default().to_vec(),
            });
        }
    }
    messages
}

/// Every message of a topic of JSON records: (key, payload).
pub fn read_all(brokers: &str, topic: &str) -> Vec<(String, Value)> {
    read_raw(brokers, topic)
        .into_iter()
        .map(|read| (read.key, serde_json::from_slice(&read.payload).unwrap()))
        .collect()
}

#[allow(dead_code)] // not every test file that shares this module uses it
/// Reads `topics` back and asserts that no output id was delivered with
/// two different contents (an id may come again, as a redelivery, with
/// the same content). Returns how many records carried an id.
pub fn assert_one_content_per_id(brokers: &str, topics: &[&str]) -> usize {
    let mut seen: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    let mut count = 0;
    for topic in topics {
        for (_, payload) in read_all(brokers, topic) {
            let id = payload["id"]
                .as_str()
                .unwrap_or_else(|| panic!("a record of {topic} without an id: {payload}"))
                .to_string();
            count += 1;
            let held = seen
                .entry(format!("{topic} {id}"))
                .or_insert_with(|| payload.clone());
            assert!(
                *held == payload,
                "{topic}: id {id} delivered with two contents:\n  {held}\n  {payload}"
            );
        }
    }
    count
}

#[allow(dead_code)] // not every test file that shares this module uses it
/// Creates `topic` with `partitions` partitions on a real broker.
pub fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    create_topic_with(brokers, topic, partitions, &[]);
}

#[allow(dead_code)] // not every test file that shares this module uses it
/// [`create_topic`] with extra client properties (TLS, SASL).
pub fn create_topic_with(brokers: &str, topic: &str, partitions: i32, properties: &[(&str, &str)]) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    for (key, value) in properties {
        config.set(*key, *value);
    }
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = config.create().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(admin.create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        ))
        .unwrap();
    for result in results {
        if let Err((name, error)) = result {
            panic!("creating {name}: {error}");
        }
    }
}

/// Creates the output topics that ragline would create itself on the mock
/// cluster, which has no CreateTopics (each attempt would wait out its 10 s
/// request timeout): four partitions each, as the mock gives a topic
/// created on first use (it keeps 5 MB a partition).
#[allow(dead_code)] // the tests on the test broker let ragline create them
pub fn create_output_topics(
    cluster: &rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    kafka: &ragline::config::KafkaSettings,
) {
    for output in [
        &kafka.values_topic,
        &kafka.rag_changes_topic,
        &kafka.scorecards_topic,
        &kafka.restatements_topic,
        &kafka.dead_letters_topic,
    ] {
        cluster.create_topic(output, 4, 1).unwrap();
    }
}
