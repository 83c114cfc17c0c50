//! Reading a whole topic back, for the Kafka tests.

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Every message of a topic, partition after partition: (key, payload).
pub fn read_all(brokers: &str, topic: &str) -> Vec<(String, Value)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{topic}"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut assignment = rdkafka::TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        assignment
            .add_partition_offset(topic, partition.id(), rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut idle = 0;
    while Instant::now() < deadline && idle < 10 {
        match consumer.poll(Duration::from_millis(300)) {
            Some(Ok(message)) => {
                idle = 0;
                let key = String::from_utf8_lossy(message.key().unwrap_or_default()).to_string();
                let payload =
                    serde_json::from_slice(message.payload().unwrap_or_default()).unwrap();
                messages.push((key, payload));
            }
            _ => idle += 1,
        }
    }
    messages
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
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
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
