//! One batch through the whole engine, committed in one RocksDB write.
//!
//! `run_batch`: decode, ledger, re-fold the touched children and units, diff
//! their contributions, apply the difference to the series, move the clock,
//! close months, detect restatements, compute changed live values, and write
//! state, input positions and pending outputs in one batch. Synchronous: tokio
//! lives in `source`, `sink` and `main`. Crash recovery and file replay are
//! this same path with another source.

use crate::calendar::{Date, Month, Window};
use crate::config::{Config, ConfigError, LaIdx, UnitIdx};
use crate::contrib::{self, Point, Slot};
use crate::event::{Decoder, Event, Owner, Position, RawMessage, Rejection, RejectionCode};
use crate::fold::{self, AnomalyReason};
use crate::indicators::{Catalogue, Query};
use crate::ledger::{Admission, CorruptRecord, Ledger, LedgerError};
use crate::outbox::{self, OutboxRecord, OutputTopic};
use crate::report;
use crate::scorecard::{Rag, Reader, Reading};
use crate::series::{SeriesStore, Sums};
use crate::store::{self, Batch, Durability, Family, Store, StoreError};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
#[cfg(feature = "rocksdb")]
use std::path::Path;
use std::sync::Arc;

mod batch;
mod bulk;
mod close;
mod keys;
mod live_values;
mod open;
mod outbox_queue;

pub use bulk::{Rebuild, RebuildOptions};
use keys::*;

/// Whether the engine replays history or runs live (grace periods differ).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// File or topic replay: the current date is the latest event date.
    Replay,
    /// Live: the current date is also at least today.
    Live,
}

/// Engine failures (never caused by input content).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record did not decode.
    #[error(transparent)]
    Corrupt(#[from] CorruptRecord),
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The embedded JSON Schemas did not load (`processing.schema_validation`).
    #[error("loading the JSON Schemas: {0}")]
    Schema(String),
    /// Handling failed inside ragline even with every message of the batch
    /// set aside: a defect outside any one message (the batch is not
    /// committed; a restart resumes before it).
    #[error("internal error outside any one message: {0}")]
    Internal(String),
    /// A bulk rebuild's spill file could not be written or read back.
    #[error("bulk rebuild spill file {path}: {error}")]
    Spill {
        /// The file.
        path: String,
        /// What failed.
        #[source]
        error: std::io::Error,
    },
    /// A bulk rebuild into the state stopped before it finished: what the
    /// state holds is not a whole history.
    #[error("state directory {path}: a bulk rebuild into it stopped before it finished; delete the directory and replay again")]
    InterruptedRebuild {
        /// The directory.
        path: String,
    },
    /// The state directory belongs to another format or configuration.
    #[error("state directory {path}: {problem}")]
    Incompatible {
        /// The directory.
        path: String,
        /// What does not match.
        problem: String,
    },
}

impl From<LedgerError> for EngineError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::Store(error) => EngineError::Store(error),
            LedgerError::Corrupt(error) => EngineError::Corrupt(error),
        }
    }
}

/// The processor's notion of time (`docs/scorecard.md`, "Live values" and
/// "Month close").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Latest event date seen.
    pub latest_event: Option<Date>,
    /// Today's date when running live.
    pub today: Option<Date>,
    /// Month of the earliest event date seen.
    pub first_month: Option<Month>,
    /// Months `first_month..=last_closed` are closed.
    pub last_closed: Option<Month>,
}

impl Clock {
    /// The current date: the later of the latest event date and today.
    pub fn current(&self) -> Option<Date> {
        match (self.latest_event, self.today) {
            (Some(event), Some(today)) => Some(event.max(today)),
            (event, today) => event.or(today),
        }
    }
}

/// Recorded value of a closed month for one slot and unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The reading over the indicator's window.
    pub main: Reading,
    /// The rolling-3-month reading (R12M indicators).
    pub r3m: Reading,
    /// Restatements so far (for deterministic restatement ids).
    pub restatements: u32,
}

/// Last live value emitted for one slot and unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    /// Sequence number of the last update.
    pub sequence: u64,
    /// Its reading.
    pub reading: Reading,
    /// Its rating.
    pub rag: Option<Rag>,
}

/// An output record the broker refused for good, kept until retried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedRecord {
    /// The broker's reason.
    pub reason: String,
    /// The record, encoded as in the outbox.
    pub record: Vec<u8>,
}

/// Running totals kept in state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Messages read.
    pub consumed: u64,
    /// Events that changed state (new facts, revisions, voids).
    pub applied: u64,
    /// Equal or lower revisions.
    pub duplicates: u64,
    /// Rejections by code.
    pub rejected: BTreeMap<String, u64>,
    /// Current anomalies by reason.
    pub anomalies: BTreeMap<String, i64>,
    /// Outputs produced by topic.
    pub outputs: BTreeMap<String, u64>,
    /// Restatements produced.
    pub restatements: u64,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// Messages in the batch.
    pub consumed: u64,
    /// Events applied.
    pub applied: u64,
    /// Duplicates.
    pub duplicates: u64,
    /// Rejections by code.
    pub rejected: BTreeMap<RejectionCode, u64>,
    /// Owners re-folded.
    pub refolded: u64,
    /// Months closed by this batch.
    pub months_closed: Vec<Month>,
    /// Restatements.
    pub restatements: u64,
    /// Output records written to the outbox.
    pub outputs: u64,
    /// Seconds spent per phase, indexed by [`PHASE_DECODE`] ... [`PHASE_COMMIT`]
    /// (names in [`PHASES`]).
    pub phase_seconds: [f64; PHASE_COUNT],
}

impl BatchOutcome {
    /// Adds what another batch did.
    pub fn absorb(&mut self, other: BatchOutcome) {
        self.consumed += other.consumed;
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        for (code, count) in other.rejected {
            *self.rejected.entry(code).or_default() += count;
        }
        self.refolded += other.refolded;
        self.months_closed.extend(other.months_closed);
        self.restatements += other.restatements;
        self.outputs += other.outputs;
        for (total, phase) in self.phase_seconds.iter_mut().zip(other.phase_seconds) {
            *total += phase;
        }
    }
}

/// The number of phases of a batch.
pub const PHASE_COUNT: usize = 6;
/// Phase of a batch: decoding and validating the messages.
pub const PHASE_DECODE: usize = 0;
/// Phase of a batch: recording the events in the ledger.
pub const PHASE_LEDGER: usize = 1;
/// Phase of a batch: folding each touched child into indicator points.
pub const PHASE_FOLD: usize = 2;
/// Phase of a batch: applying the points to the monthly series.
pub const PHASE_SERIES: usize = 3;
/// Phase of a batch: the clock, restatements, month closing (scorecards) and
/// live values.
pub const PHASE_SCORECARD: usize = 4;
/// Phase of a batch: the RocksDB commit of state, positions and outputs.
pub const PHASE_COMMIT: usize = 5;

/// Names of the phases of [`BatchOutcome::phase_seconds`], by index.
pub const PHASES: [&str; PHASE_COUNT] =
    ["decode", "ledger", "fold", "series", "scorecard", "commit"];

/// Longest text of a panic or set-aside reason quoted in a rejection, in characters.
const INTERNAL_ERROR_TEXT_CHARS: usize = 500;

/// Most ledger entries and owner records kept in memory between batches.
const LEDGER_CACHE_CAPACITY: usize = 2_000_000;

/// Why one attempt at a batch did not commit.
enum Attempt {
    /// The store or a stored record failed: the caller stops.
    Failed(EngineError),
    /// Handling panicked (the panic's text): nothing was committed.
    Panicked(String),
}

/// A fault for tests and simulations: handling panics whenever a re-folded
/// owner holds an event it matches.
pub type FaultInjector = Box<dyn Fn(&Event) -> bool + Send + Sync>;

/// At most `max` characters of `text`.
fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The text of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic without a message".to_string()
    }
}

/// The engine: configuration, catalogue, state and caches.
pub struct Engine {
    config: Arc<Config>,
    catalogue: Catalogue,
    store: Store,
    ledger: Ledger,
    series: SeriesStore,
    clock: Clock,
    recorded: FxHashMap<(Month, UnitIdx, Slot), Recorded>,
    live: FxHashMap<(Slot, UnitIdx), Live>,
    totals: Totals,
    positions: BTreeMap<String, i64>,
    outbox_next: u64,
    outbox_pending: std::sync::atomic::AtomicU64,
    /// Records in the parked family.
    parked: std::sync::atomic::AtomicU64,
    mode: Mode,
    emit_live: bool,
    /// Outputs are computed (live values numbered, restatements counted)
    /// but not queued: they were delivered before.
    silenced: bool,
    schema: Option<jsonschema::Validator>,
    /// The wall clock's date for input validation in replay (live batches
    /// pass today's date to [`Engine::run_batch`]).
    validation_today: Option<Date>,
    fault: Option<FaultInjector>,
    /// The last batch's buffers, emptied, for the next batch.
    spare_batch: Batch,
    /// Threads for decoding and re-folding large batches
    /// (`processing.threads`); none when that is 1.
    pool: Option<rayon::ThreadPool>,
    /// The authorities whose units this engine closes, restates and
    /// reports (one partition of a scaled-out deployment); `None`: all.
    owned: Option<FxHashSet<LaIdx>>,
    /// Clock readings shared by the other partitions of a scaled-out
    /// deployment, merged into the clock by the next batch.
    shared_span: batch::EventSpan,
}

impl Engine {
    /// Whether live values, RAG changes, scorecards and restatements are
    /// produced (dead letters always are). Replay without an outputs
    /// directory turns this off for speed.
    pub fn set_emit_outputs(&mut self, emit: bool) {
        self.emit_live = emit;
    }

    /// Computes every output as usual, keeping what numbers them (live
    /// values' sequences, restatement counts), but does not queue them: a
    /// partition of a scaled-out deployment rebuilt from its log repeats
    /// batches whose outputs were delivered before (`docs/scale-out.md`).
    pub fn set_outputs_silenced(&mut self, silenced: bool) {
        self.silenced = silenced;
    }

    /// Also validates every message against the JSON Schemas (set at open
    /// from `processing.schema_validation`).
    pub fn set_schema_validator(&mut self, validator: Option<jsonschema::Validator>) {
        self.schema = validator;
    }

    /// Makes this engine one partition of a scaled-out deployment
    /// (`docs/scale-out.md`): it closes months, restates them and emits
    /// live values and scorecards for the units of `authorities` only
    /// (`None`: every authority, the single-instance default). Events of
    /// other authorities must not reach it.
    pub fn set_owned_authorities(&mut self, authorities: Option<&[LaIdx]>) {
        self.owned = authorities.map(|list| list.iter().copied().collect());
    }

    /// Whether this engine reports `unit` (see [`Engine::set_owned_authorities`]).
    pub(super) fn owns(&self, unit: UnitIdx) -> bool {
        self.owned
            .as_ref()
            .is_none_or(|owned| owned.contains(&self.config.unit(unit).la))
    }

    /// Merges the clock of another partition of a scaled-out deployment
    /// (its latest admitted fact and first month): the next batch moves
    /// this engine's clock as if it had admitted those facts itself, and
    /// closes the months that makes closeable. Merging is idempotent and
    /// commutative, so clock records may arrive twice and in any order.
    pub fn merge_clock(&mut self, other: &Clock) {
        if let Some(latest) = other.latest_event {
            self.shared_span.include(latest);
        }
        if let Some(first) = other.first_month {
            self.shared_span.include(first.first_day());
        }
    }

    /// Moves the stored input position past `position`, a record with no
    /// event to apply (a clock record of a scaled-out deployment), so that
    /// a restart does not read it again; committed with the next batch.
    pub fn skip_position(&mut self, position: &Position) {
        let (key, offset) = position_key(position);
        let entry = self.positions.entry(key).or_insert(offset);
        *entry = (*entry).max(offset);
    }

    /// Stores the input positions held in memory (moved by
    /// [`Engine::skip_position`] since the last commit), in a write of
    /// their own.
    pub fn store_positions(&mut self) -> Result<(), EngineError> {
        let mut batch = Batch::new();
        self.put_positions(&mut batch);
        self.finish_write(&mut batch)
    }

    /// Adds the input positions held in memory to `batch`.
    pub(super) fn put_positions(&self, batch: &mut Batch) {
        for (key, offset) in &self.positions {
            batch.put(Family::Meta, key.clone().into_bytes(), offset.to_be_bytes());
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The indicator slots.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// A reader over the current series.
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            config: &self.config,
            catalogue: &self.catalogue,
            series: &self.series,
        }
    }

    /// The clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Running totals.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Stored input positions: source key to the next offset (Kafka) or last line (file).
    pub fn positions(&self) -> &BTreeMap<String, i64> {
        &self.positions
    }

    /// The last line of the file at `path` that this state holds, if any.
    pub fn file_position(&self, path: &str) -> Option<u64> {
        self.positions
            .get(&format!("{POSITION_PREFIX}file/{path}"))
            .and_then(|line| u64::try_from(*line).ok())
    }

    /// Whether an indicator-value record (`key` "indicator/unit", its update
    /// `sequence`) is superseded by a later update of the same key: that
    /// update is delivered or still in the outbox, so sending the older one
    /// now could only put an old value after a newer one on the compacted
    /// values topic.
    pub fn value_superseded(&self, key: &str, sequence: u64) -> bool {
        let Some((indicator, unit)) = key.split_once('/') else {
            return false;
        };
        match (
            self.catalogue.slot_of(indicator),
            self.config.unit_by_id(unit),
        ) {
            (Some(slot), Some(unit)) => self
                .live
                .get(&(slot, unit))
                .is_some_and(|live| live.sequence > sequence),
            _ => false,
        }
    }

    /// Whether an output record is an indicator value superseded by a later
    /// update of its key (see [`Engine::value_superseded`]); the update number
    /// is the last part of the record's id.
    pub fn output_superseded(&self, record: &OutboxRecord) -> bool {
        record.topic == OutputTopic::Values
            && record
                .id
                .rsplit('/')
                .next()
                .and_then(|text| text.parse::<u64>().ok())
                .is_some_and(|update| self.value_superseded(&record.key, update))
    }

    /// The state store (for sinks draining the outbox).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Number of series and dated points, and cached ledger entries and owners.
    pub fn state_size(&self) -> (usize, usize, usize, usize) {
        let (series, points) = self.series.size();
        let (entries, owners) = self.ledger.cached();
        (series, points, entries, owners)
    }

    /// The anomalies of one child, read from the state.
    pub fn child_anomalies(
        &self,
        la: &str,
        child_id: &str,
    ) -> Result<Option<Vec<fold::Anomaly>>, EngineError> {
        let Some(la) = self.config.la_by_id(la) else {
            return Ok(None);
        };
        let owner = Owner::Child(la, child_id.to_string());
        if let Some(record) = self.ledger.record(&owner) {
            return Ok(Some(record.anomalies.clone()));
        }
        Ok(Ledger::load_record(&self.store, &owner)?.map(|record| record.anomalies))
    }
}
