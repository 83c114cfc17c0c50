//! Where raw messages come from: JSON Lines files (replay) and Kafka (live).
//!
//! A source yields [`RawMessage`](crate::event::RawMessage)s with their
//! position, in bounded batches; it never interprets their content.

pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;
