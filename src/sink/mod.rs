//! Where outputs go: files (replay), Kafka topics, Prometheus metrics, HTTP.
//!
//! Sinks read only the outbox and committed state; a record leaves the outbox
//! only after its sink has delivered it.

pub mod files;
#[cfg(feature = "kafka")]
pub mod http;
#[cfg(feature = "kafka")]
pub mod kafka;
