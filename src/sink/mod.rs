//! Where outputs go: files (replay), Kafka topics, Prometheus metrics, HTTP.
//!
//! Sinks read only the outbox and committed state; a record leaves the outbox
//! only after its sink has delivered it.

pub mod files;
pub mod http;
pub mod kafka;
