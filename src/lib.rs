//! ragline: a stream processor that turns children's social care case events
//! into live performance scorecards.
//!
//! Data path, one module per step:
//!
//! ```text
//! source -> event::decode -> ledger -> fold (per child) -> indicators -> contrib (dated, diffed)
//!   -> series -> scorecard (windows, RAG, DOT, month close) -> outbox -> sink
//! ```
//!
//! The invariant everything serves: every value reported for a unit and date
//! equals a from-scratch computation over the surviving events, whatever the
//! arrival order, duplicates, revisions and voids. See `ARCHITECTURE.md`.

#![warn(missing_docs)]

pub mod calendar;
pub mod config;
pub mod contrib;
pub mod disclosure;
pub mod event;
pub mod fold;
pub mod generate;
pub mod harness;
pub mod history;
pub mod import;
pub mod indicators;
pub mod json_object;
#[cfg(feature = "kafka")]
pub mod kafka_client;
pub mod ledger;
#[cfg(feature = "kafka")]
pub mod live;
pub mod outbox;
pub mod pack;
pub mod pipeline;
pub mod report;
pub mod route;
#[cfg(feature = "kafka")]
pub mod scale_out;
pub mod scorecard;
pub mod secrets;
pub mod series;
#[cfg(feature = "kafka")]
pub mod shared;
pub mod sink;
pub mod source;
pub mod store;
pub mod telemetry;
