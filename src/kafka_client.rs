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

/// What to check when the brokers cannot be reached with the configured
/// security (named by setting, never showing a secret): empty for
/// plaintext.
pub fn security_hint(settings: &KafkaSettings) -> String {
    let protocol = settings
        .properties
        .get("security.protocol")
        .map(|protocol| protocol.to_ascii_uppercase())
        .unwrap_or_default();
    let mut checks = Vec::new();
    if protocol.contains("SSL") {
        checks.push(
            "TLS: kafka.properties ssl.ca.location must hold the CA of the brokers' certificates",
        );
    }
    if protocol.starts_with("SASL") {
        checks.push("SASL: kafka.properties sasl.mechanism, sasl.username and sasl.password");
    }
    if checks.is_empty() {
        String::new()
    } else {
        format!(" (check {})", checks.join("; "))
    }
}
