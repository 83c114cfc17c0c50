//! Kafka client configuration shared by the source (consumer) and the sink
//! (producer, admin client): brokers and the configured librdkafka
//! properties, then the client's own.

use crate::config::KafkaSettings;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use std::collections::BTreeMap;
use std::time::Duration;

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
        // librdkafka's default mechanism is GSSAPI.
        let mechanism = settings
            .properties
            .get("sasl.mechanism")
            .or(settings.properties.get("sasl.mechanisms"))
            .map(|mechanism| mechanism.to_ascii_uppercase())
            .unwrap_or_else(|| "GSSAPI".into());
        checks.push(match mechanism.as_str() {
            "GSSAPI" => "SASL: kafka.properties sasl.mechanism (GSSAPI when not set), sasl.kerberos.service.name, sasl.kerberos.principal and sasl.kerberos.keytab",
            "OAUTHBEARER" => "SASL: kafka.properties sasl.mechanism and the sasl.oauthbearer.* settings",
            _ => "SASL: kafka.properties sasl.mechanism, sasl.username and sasl.password (or sasl.password_file)",
        });
        if mechanism == "GSSAPI" && !cfg!(feature = "gssapi") {
            checks.push("GSSAPI: this ragline is built without it (cargo build --features gssapi)");
        }
    }
    if checks.is_empty() {
        String::new()
    } else {
        format!(" (check {})", checks.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(properties: &[(&str, &str)]) -> KafkaSettings {
        KafkaSettings {
            // Nothing listens on port 1: a client made here reaches no one.
            brokers: "127.0.0.1:1".into(),
            input_topic: "in".into(),
            group_id: "g".into(),
            values_topic: "values".into(),
            rag_changes_topic: "rag".into(),
            scorecards_topic: "scorecards".into(),
            restatements_topic: "restatements".into(),
            dead_letters_topic: "dead".into(),
            properties: properties
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
            consumer_properties: Default::default(),
            producer_properties: Default::default(),
        }
    }

    #[test]
    fn the_hint_names_the_settings_of_the_configured_security() {
        let tls =
            "TLS: kafka.properties ssl.ca.location must hold the CA of the brokers' certificates";
        let sasl = "SASL: kafka.properties sasl.mechanism, sasl.username and sasl.password (or sasl.password_file)";
        let kerberos = "SASL: kafka.properties sasl.mechanism (GSSAPI when not set), sasl.kerberos.service.name, sasl.kerberos.principal and sasl.kerberos.keytab";
        let kerberos = if cfg!(feature = "gssapi") {
            kerberos.to_string()
        } else {
            format!("{kerberos}; GSSAPI: this ragline is built without it (cargo build --features gssapi)")
        };
        let oauth = "SASL: kafka.properties sasl.mechanism and the sasl.oauthbearer.* settings";
        for (properties, hint) in [
            (vec![], String::new()),
            (vec![("security.protocol", "PLAINTEXT")], String::new()),
            (
                vec![("security.protocol", "SSL")],
                format!(" (check {tls})"),
            ),
            (
                vec![
                    ("security.protocol", "sasl_plaintext"),
                    ("sasl.mechanism", "SCRAM-SHA-512"),
                ],
                format!(" (check {sasl})"),
            ),
            (
                vec![
                    ("security.protocol", "SASL_SSL"),
                    ("sasl.mechanism", "PLAIN"),
                ],
                format!(" (check {tls}; {sasl})"),
            ),
            (
                vec![("security.protocol", "SASL_PLAINTEXT")],
                format!(" (check {kerberos})"),
            ),
            (
                vec![
                    ("security.protocol", "SASL_SSL"),
                    ("sasl.mechanisms", "gssapi"),
                ],
                format!(" (check {tls}; {kerberos})"),
            ),
            (
                vec![
                    ("security.protocol", "SASL_PLAINTEXT"),
                    ("sasl.mechanism", "OAUTHBEARER"),
                ],
                format!(" (check {oauth})"),
            ),
        ] {
            assert_eq!(
                security_hint(&settings(&properties)),
                hint,
                "{properties:?}"
            );
        }
    }

    /// librdkafka offers GSSAPI exactly when ragline is built with the
    /// `gssapi` feature: a client asking for it is made, or refused with
    /// librdkafka's reason and a hint that says which build is needed.
    #[test]
    fn gssapi_is_there_exactly_with_the_gssapi_feature() {
        let kerberos = settings(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "GSSAPI"),
            // No kinit at client creation: none may be installed here.
            ("sasl.kerberos.min.time.before.relogin", "0"),
        ]);
        let created = client_config(&kerberos).create::<rdkafka::consumer::BaseConsumer>();
        let hint = security_hint(&kerberos);
        if cfg!(feature = "gssapi") {
            assert!(created.is_ok(), "{:?}", created.err());
            assert!(!hint.contains("cargo build"), "{hint}");
        } else {
            let error = created.err().expect("GSSAPI refused").to_string();
            assert!(
                error.contains("No provider for SASL mechanism GSSAPI"),
                "{error}"
            );
            assert!(hint.contains("cargo build --features gssapi"), "{hint}");
        }
    }
}

/// A topic for [`create_missing_topics`] to create when it does not exist.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    /// The topic's name.
    pub name: String,
    /// Its partitions.
    pub partitions: i32,
    /// Its settings (`retention.ms`, `cleanup.policy`, ...).
    pub settings: Vec<(&'static str, String)>,
}

/// Why [`create_missing_topics`] could not look.
#[derive(Debug, thiserror::Error)]
pub enum TopicsError {
    /// The admin client could not be created (configuration).
    #[error("creating the admin client: {0}")]
    Client(#[source] KafkaError),
    /// The brokers' metadata could not be read (brokers down).
    #[error("reading the topics' metadata: {0}")]
    Metadata(#[source] KafkaError),
}

/// Creates those of `specs` that the brokers do not have, with the
/// brokers' default replication; returns the partition counts of those
/// that existed. A topic that cannot be created is logged at warning
/// level, not an error: it may be made on first use, with the brokers'
/// defaults. Requests are bounded (10 s): a broker that does not answer
/// CreateTopics must not hold the caller for the default minute.
pub fn create_missing_topics(
    settings: &KafkaSettings,
    specs: &[TopicSpec],
) -> Result<BTreeMap<String, usize>, TopicsError> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = client_config(settings)
        .create()
        .map_err(TopicsError::Client)?;
    let metadata = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(10))
        .map_err(TopicsError::Metadata)?;
    let existing: BTreeMap<String, usize> = metadata
        .topics()
        .iter()
        .filter(|topic| topic.error().is_none() && !topic.partitions().is_empty())
        .map(|topic| (topic.name().to_string(), topic.partitions().len()))
        .collect();
    let missing: Vec<NewTopic> = specs
        .iter()
        .filter(|spec| !existing.contains_key(&spec.name))
        .map(|spec| {
            spec.settings.iter().fold(
                NewTopic::new(&spec.name, spec.partitions, TopicReplication::Fixed(-1)),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();
    let found = specs
        .iter()
        .filter_map(|spec| Some((spec.name.clone(), *existing.get(&spec.name)?)))
        .collect();
    if missing.is_empty() {
        return Ok(found);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime always builds");
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    match runtime.block_on(admin.create_topics(&missing, &options)) {
        Ok(results) => {
            for result in results {
                match result {
                    Ok(name) => tracing::info!(topic = %name, "created topic"),
                    Err((name, error)) => {
                        tracing::warn!(topic = %name, %error, "could not create topic")
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not create topics"),
    }
    Ok(found)
}
