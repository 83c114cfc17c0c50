//! Kafka client configuration shared by the source (consumer) and the sink
//! (producer, admin client): brokers and the configured librdkafka
//! properties, then the client's own.

use crate::config::KafkaSettings;
use rdkafka::config::ClientConfig;

/// Builds a client configuration from settings plus extra properties.
pub fn client_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &settings.brokers);
    for (key, value) in &settings.properties {
        config.set(key, value);
    }
    config
}

/// [`client_config`] plus the consumer-only properties.
pub fn consumer_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = client_config(settings);
    for (key, value) in &settings.consumer_properties {
        config.set(key, value);
    }
    config
}
