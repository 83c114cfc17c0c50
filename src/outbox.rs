//! Output records waiting for delivery, with deterministic ids.
//!
//! Records are written to the `outbox` column family in the same batch as the
//! state change that caused them and removed only once a sink has delivered
//! them, so a crash loses no output. Each carries an id that is the same
//! however often it is produced, so consumers can drop redeliveries.

use crate::event::{Position, Rejection};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Which output a record goes to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, PartialOrd, Ord)]
pub enum OutputTopic {
    /// Live indicator values (compacted by `indicator/unit`).
    Values,
    /// Live RAG changes.
    RagChanges,
    /// Month-end scorecards.
    Scorecards,
    /// Changed values of closed months.
    Restatements,
    /// Rejected input.
    DeadLetters,
}

impl OutputTopic {
    /// Every topic.
    pub const ALL: [OutputTopic; 5] = [
        OutputTopic::Values,
        OutputTopic::RagChanges,
        OutputTopic::Scorecards,
        OutputTopic::Restatements,
        OutputTopic::DeadLetters,
    ];

    /// Lower-case name (metric label and file stem).
    pub fn as_str(self) -> &'static str {
        match self {
            OutputTopic::Values => "indicator_values",
            OutputTopic::RagChanges => "rag_changes",
            OutputTopic::Scorecards => "scorecards",
            OutputTopic::Restatements => "restatements",
            OutputTopic::DeadLetters => "dead_letters",
        }
    }
}

/// One pending output.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Destination.
    pub topic: OutputTopic,
    /// Message key (`indicator/unit`, `unit/month`, ...).
    pub key: String,
    /// Deterministic id.
    pub id: String,
    /// JSON payload (includes `id`).
    pub payload: String,
}

impl OutboxRecord {
    /// Builds a record; the payload must be a JSON object and gets `id` added first.
    pub fn new(topic: OutputTopic, key: String, id: String, payload: Value) -> OutboxRecord {
        let mut object = serde_json::Map::new();
        object.insert("id".into(), Value::String(id.clone()));
        if let Value::Object(fields) = payload {
            object.extend(fields);
        }
        OutboxRecord {
            topic,
            key,
            id,
            payload: Value::Object(object).to_string(),
        }
    }

    /// Encodes for the store.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("in-memory records always encode")
    }

    /// Decodes from the store.
    pub fn decode(bytes: &[u8]) -> Option<OutboxRecord> {
        postcard::from_bytes(bytes).ok()
    }
}

/// The outbox key of a sequence number.
pub fn outbox_key(sequence: u64) -> Vec<u8> {
    sequence.to_be_bytes().to_vec()
}

/// The sequence number of an outbox key.
pub fn outbox_sequence(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// Most bytes of a rejected message kept in its dead letter: with escaping
/// and base64 the record stays well under the output topics' message limit
/// ([`TOPIC_MAX_MESSAGE_BYTES`]). The letter says when it was cut and how long
/// the message was.
pub const DEAD_LETTER_RAW_MAX_BYTES: usize = 256 * 1024;

/// The largest message the producer sends and the output topics accept
/// (`message.max.bytes` of the producer, `max.message.bytes` of topics
/// ragline creates).
pub const TOPIC_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// A dead-letter record for a rejected message: where it was (file and
/// line, or topic, partition and offset), why it was refused, and the
/// SHA-256 and length of its bytes. The message itself (and its Kafka key,
/// usually a child id) only with `include_payload`
/// (`outputs.dead_letter_payloads`): otherwise child-level data stays in
/// the input, found again by its position.
pub fn dead_letter(
    raw: &[u8],
    position: &Position,
    rejection: &Rejection,
    include_payload: bool,
) -> OutboxRecord {
    let (source, key) = match position {
        Position::File { path, line } => (
            json!({"file": path, "line": line}),
            format!("{path}:{line}"),
        ),
        Position::Kafka {
            topic,
            partition,
            offset,
            key,
        } => {
            let mut source = json!({"topic": topic, "partition": partition, "offset": offset});
            if include_payload {
                source["key"] = json!(key);
            }
            (source, format!("{topic}/{partition}/{offset}"))
        }
    };
    let mut payload = json!({
        "source": source,
        "reason": rejection.to_string(),
        "code": rejection.code.as_str(),
        "field": rejection.field,
        "payload_sha256": crate::secrets::sha256_hex(raw),
        "raw_bytes": raw.len(),
    });
    if include_payload {
        let truncated = raw.len() > DEAD_LETTER_RAW_MAX_BYTES;
        let kept = if truncated {
            let mut end = DEAD_LETTER_RAW_MAX_BYTES;
            if std::str::from_utf8(raw).is_ok() {
                // Text is cut on a character boundary, so it stays text.
                while end > 0 && raw[end] & 0xC0 == 0x80 {
                    end -= 1;
                }
            }
            &raw[..end]
        } else {
            raw
        };
        match std::str::from_utf8(kept) {
            Ok(text) => payload["raw"] = Value::String(text.to_string()),
            Err(_) => {
                payload["raw_base64"] =
                    Value::String(base64::engine::general_purpose::STANDARD.encode(kept))
            }
        }
        if truncated {
            payload["raw_truncated"] = json!(true);
        }
    }
    OutboxRecord::new(
        OutputTopic::DeadLetters,
        key,
        format!("dead/{position}"),
        payload,
    )
}
