//! Secrets in configuration: values that never need to sit in a file.
//!
//! A setting's value may hold `${NAME}` references, replaced by the
//! environment variable `NAME` when the configuration is read (an unset
//! variable is an error naming the setting, never an empty secret). A Kafka
//! property written as `KEY_file = "PATH"` takes its value from the file at
//! `PATH` (Docker and Kubernetes secrets), without its trailing newline.
//!
//! Secrets never reach logs, errors or `check-config` output: every value
//! of a property whose name says it holds one is shown as
//! [`REDACTED`] (see [`is_secret_property`] and [`redacted`]).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What is shown instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// Suffix of a property whose value is read from a file.
pub const FILE_SUFFIX: &str = "_file";

/// Why a secret could not be resolved. Never holds the secret itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// `${NAME}` names a variable that is not set.
    #[error("{setting}: environment variable {variable} is not set")]
    UnsetVariable {
        /// The setting whose value holds the reference.
        setting: String,
        /// The variable.
        variable: String,
    },
    /// `${` without its closing brace, or an empty or malformed name.
    #[error("{setting}: malformed ${{...}} reference (names are letters, digits and _)")]
    MalformedReference {
        /// The setting.
        setting: String,
    },
    /// A `KEY_file` whose file cannot be read.
    #[error("{setting}: cannot read {path}: {reason}")]
    UnreadableFile {
        /// The setting.
        setting: String,
        /// The file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// Both `KEY` and `KEY_file` are given.
    #[error("{setting}: given both directly and as {setting}{FILE_SUFFIX}; keep one")]
    Twice {
        /// The property.
        setting: String,
    },
}

/// Replaces every `${NAME}` in `value` by the environment variable `NAME`.
/// `$$` stands for a literal `$`.
pub fn expand(setting: &str, value: &str) -> Result<String, SecretError> {
    expand_with(setting, value, |name| std::env::var(name).ok())
}

/// [`expand`] over any variable lookup (tests).
pub fn expand_with(
    setting: &str,
    value: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, SecretError> {
    let malformed = || SecretError::MalformedReference {
        setting: setting.to_string(),
    };
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail.find('}').ok_or_else(malformed)?;
            let name = &tail[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(malformed());
            }
            let found = lookup(name).ok_or_else(|| SecretError::UnsetVariable {
                setting: setting.to_string(),
                variable: name.to_string(),
            })?;
            out.push_str(&found);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads a secret from a file (path expanded like any value), without the
/// trailing line break editors and `echo` add.
pub fn read_file(setting: &str, path: &str) -> Result<String, SecretError> {
    let path = expand(setting, path)?;
    let text = std::fs::read_to_string(&path).map_err(|error| SecretError::UnreadableFile {
        setting: setting.to_string(),
        path: path.clone(),
        reason: error.to_string(),
    })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Resolves a table of Kafka properties: `${NAME}` expanded in every value,
/// `KEY_file` replaced by `KEY` with the file's content. `section` names
/// the table in errors (for example `kafka.properties`).
pub fn resolve_properties(
    section: &str,
    properties: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, SecretError> {
    let mut resolved = BTreeMap::new();
    for (key, value) in properties {
        let setting = format!("{section}.{key}");
        match key.strip_suffix(FILE_SUFFIX) {
            Some(property) if !property.is_empty() => {
                if properties.contains_key(property) {
                    return Err(SecretError::Twice {
                        setting: format!("{section}.{property}"),
                    });
                }
                resolved.insert(property.to_string(), read_file(&setting, value)?);
            }
            _ => {
                resolved.insert(key.clone(), expand(&setting, value)?);
            }
        }
    }
    Ok(resolved)
}

/// Whether a librdkafka property holds a secret (passwords, keys, tokens,
/// JAAS configurations, OAuth client secrets).
pub fn is_secret_property(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "jaas", "credential"]
        .iter()
        .any(|word| key.contains(word))
        || key.ends_with("key.pem")
        || key == "sasl.oauthbearer.config"
}

/// The properties with every secret value replaced by [`REDACTED`].
pub fn redacted(properties: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    properties
        .iter()
        .map(|(key, value)| {
            let shown = if is_secret_property(key) {
                REDACTED.to_string()
            } else {
                value.clone()
            };
            (key.clone(), shown)
        })
        .collect()
}

/// The SHA-256 of some bytes, as 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "KAFKA_PASSWORD" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_are_expanded_and_unset_ones_refused_by_setting() {
        let expand = |value: &str| expand_with("kafka.properties.sasl.password", value, lookup);
        assert_eq!(expand("${KAFKA_PASSWORD}").unwrap(), "s3cret");
        assert_eq!(expand("a-${KAFKA_PASSWORD}-b").unwrap(), "a-s3cret-b");
        assert_eq!(expand("${EMPTY}").unwrap(), "");
        assert_eq!(expand("cost $$5 and $x").unwrap(), "cost $5 and $x");
        assert_eq!(expand("plain").unwrap(), "plain");
        let unset = expand("${NOT_SET}").unwrap_err();
        assert_eq!(
            unset.to_string(),
            "kafka.properties.sasl.password: environment variable NOT_SET is not set"
        );
        for bad in ["${", "${}", "${A-B}", "x${OPEN"] {
            assert!(
                matches!(expand(bad), Err(SecretError::MalformedReference { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_properties_are_read_without_their_line_break_and_never_twice() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("password");
        std::fs::write(&path, "from-a-file\n").unwrap();
        let mut properties = BTreeMap::new();
        properties.insert("sasl.password_file".to_string(), path.display().to_string());
        properties.insert("sasl.username".to_string(), "ragline".to_string());
        let resolved = resolve_properties("kafka.properties", &properties).unwrap();
        assert_eq!(resolved["sasl.password"], "from-a-file");
        assert_eq!(resolved["sasl.username"], "ragline");
        assert!(!resolved.contains_key("sasl.password_file"));

        properties.insert("sasl.password".to_string(), "inline".to_string());
        assert_eq!(
            resolve_properties("kafka.properties", &properties)
                .unwrap_err()
                .to_string(),
            "kafka.properties.sasl.password: given both directly and as kafka.properties.sasl.password_file; keep one"
        );
        properties.remove("sasl.password");
        properties.insert(
            "sasl.password_file".to_string(),
            "/nonexistent/ragline-secret".to_string(),
        );
        let error = resolve_properties("kafka.properties", &properties).unwrap_err();
        assert!(error.to_string().starts_with(
            "kafka.properties.sasl.password_file: cannot read /nonexistent/ragline-secret"
        ));
    }

    #[test]
    fn secret_properties_are_redacted_and_others_shown() {
        let properties: BTreeMap<String, String> = [
            ("sasl.password", "p"),
            ("ssl.key.password", "p"),
            ("ssl.key.pem", "-----BEGIN"),
            ("sasl.oauthbearer.client.secret", "p"),
            ("sasl.jaas.config", "p"),
            ("security.protocol", "SASL_SSL"),
            ("sasl.username", "ragline"),
            ("ssl.ca.location", "/etc/ca.pem"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
        let shown = redacted(&properties);
        for key in [
            "sasl.password",
            "ssl.key.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "sasl.jaas.config",
        ] {
            assert_eq!(shown[key], REDACTED, "{key}");
        }
        assert_eq!(shown["security.protocol"], "SASL_SSL");
        assert_eq!(shown["sasl.username"], "ragline");
        assert_eq!(shown["ssl.ca.location"], "/etc/ca.pem");
    }

    #[test]
    fn sha256_matches_the_published_test_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
