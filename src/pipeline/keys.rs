//! The state's record keys and encodings owned by the engine: series,
//! recorded month ends, live values, meta entries and input positions
//! (the byte layout is documented in `store`).

use super::*;

/// Length of a series key: slot (2 bytes), unit (4), month (4).
pub(super) const SERIES_KEY_LEN: usize = 10;
/// Length of a recorded-scorecard key: month (4 bytes), unit (4), slot (2).
pub(super) const RECORDED_KEY_LEN: usize = 10;
/// Length of a live-value key: slot (2 bytes), unit (4).
pub(super) const LIVE_KEY_LEN: usize = 6;

pub(super) const META_FORMAT: &[u8] = b"format_version";
pub(super) const META_FINGERPRINT: &[u8] = b"config_fingerprint";
pub(super) const META_CLOCK: &[u8] = b"clock";
pub(super) const META_TOTALS: &[u8] = b"totals";
pub(super) const META_OUTBOX_NEXT: &[u8] = b"outbox_next";
/// Present while a bulk rebuild writes the state (removed by its last commit).
pub(super) const META_REBUILDING: &[u8] = b"rebuilding";
pub(super) const POSITION_PREFIX: &str = "position/";

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("in-memory records always encode")
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, CorruptRecord> {
    postcard::from_bytes(bytes).map_err(|error| CorruptRecord {
        what,
        detail: error.to_string(),
    })
}

pub(super) fn series_key(slot: Slot, unit: UnitIdx, month: Month) -> Vec<u8> {
    let mut key = Vec::with_capacity(SERIES_KEY_LEN);
    key.extend_from_slice(&slot.to_be_bytes());
    key.extend_from_slice(&unit.0.to_be_bytes());
    key.extend_from_slice(&store::ordered_i32(month.index()));
    key
}

pub(super) fn recorded_key(month: Month, unit: UnitIdx, slot: Slot) -> Vec<u8> {
    let mut key = Vec::with_capacity(RECORDED_KEY_LEN);
    key.extend_from_slice(&store::ordered_i32(month.index()));
    key.extend_from_slice(&unit.0.to_be_bytes());
    key.extend_from_slice(&slot.to_be_bytes());
    key
}

pub(super) fn live_key(slot: Slot, unit: UnitIdx) -> Vec<u8> {
    let mut key = Vec::with_capacity(LIVE_KEY_LEN);
    key.extend_from_slice(&slot.to_be_bytes());
    key.extend_from_slice(&unit.0.to_be_bytes());
    key
}

/// Whether two positions are in the same input (file, or topic partition).
pub(super) fn same_input(one: &Position, other: &Position) -> bool {
    match (one, other) {
        (Position::File { path, .. }, Position::File { path: other, .. }) => {
            std::sync::Arc::ptr_eq(path, other) || path == other
        }
        (
            Position::Kafka {
                topic, partition, ..
            },
            Position::Kafka {
                topic: other_topic,
                partition: other_partition,
                ..
            },
        ) => partition == other_partition && topic == other_topic,
        _ => false,
    }
}

/// The stored offset of a position (see [`position_key`]).
pub(super) fn position_offset(position: &Position) -> i64 {
    match position {
        Position::File { line, .. } => *line as i64,
        Position::Kafka { offset, .. } => *offset + 1,
    }
}

pub(super) fn position_key(position: &Position) -> (String, i64) {
    match position {
        Position::File { path, line } => (format!("{POSITION_PREFIX}file/{path}"), *line as i64),
        Position::Kafka {
            topic,
            partition,
            offset,
            ..
        } => (
            format!("{POSITION_PREFIX}kafka/{topic}/{partition}"),
            *offset + 1,
        ),
    }
}
