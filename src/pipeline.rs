//! One batch through the whole engine, committed in one RocksDB write.
//!
//! `run_batch`: decode, ledger, re-fold the touched children and units, diff
//! their contributions, apply the difference to the series, move the clock,
//! close months, detect restatements, compute changed live values, and write
//! state, input positions and pending outputs in one batch. Synchronous: tokio
//! lives in `source`, `sink` and `main`. Crash recovery and file replay are
//! this same path with another source.

use crate::calendar::{Date, Month, Window};
use crate::config::{Config, ConfigError, UnitIdx};
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

/// Length of a series key: slot (2 bytes), unit (4), month (4).
const SERIES_KEY_LEN: usize = 10;
/// Length of a recorded-scorecard key: month (4 bytes), unit (4), slot (2).
const RECORDED_KEY_LEN: usize = 10;
/// Length of a live-value key: slot (2 bytes), unit (4).
const LIVE_KEY_LEN: usize = 6;

const META_FORMAT: &[u8] = b"format_version";
const META_FINGERPRINT: &[u8] = b"config_fingerprint";
const META_CLOCK: &[u8] = b"clock";
const META_TOTALS: &[u8] = b"totals";
const META_OUTBOX_NEXT: &[u8] = b"outbox_next";
const POSITION_PREFIX: &str = "position/";
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
    schema: Option<jsonschema::Validator>,
    /// The wall clock's date for input validation in replay (live batches
    /// pass today's date to [`Engine::run_batch`]).
    validation_today: Option<Date>,
    fault: Option<FaultInjector>,
    /// The last batch's buffers, emptied, for the next batch.
    spare_batch: Batch,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("in-memory records always encode")
}

fn decode<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, CorruptRecord> {
    postcard::from_bytes(bytes).map_err(|error| CorruptRecord {
        what,
        detail: error.to_string(),
    })
}

fn series_key(slot: Slot, unit: UnitIdx, month: Month) -> Vec<u8> {
    let mut key = Vec::with_capacity(SERIES_KEY_LEN);
    key.extend_from_slice(&slot.to_be_bytes());
    key.extend_from_slice(&unit.0.to_be_bytes());
    key.extend_from_slice(&store::ordered_i32(month.index()));
    key
}

fn recorded_key(month: Month, unit: UnitIdx, slot: Slot) -> Vec<u8> {
    let mut key = Vec::with_capacity(RECORDED_KEY_LEN);
    key.extend_from_slice(&store::ordered_i32(month.index()));
    key.extend_from_slice(&unit.0.to_be_bytes());
    key.extend_from_slice(&slot.to_be_bytes());
    key
}

fn live_key(slot: Slot, unit: UnitIdx) -> Vec<u8> {
    let mut key = Vec::with_capacity(LIVE_KEY_LEN);
    key.extend_from_slice(&slot.to_be_bytes());
    key.extend_from_slice(&unit.0.to_be_bytes());
    key
}

/// Whether two positions are in the same input (file, or topic partition).
fn same_input(one: &Position, other: &Position) -> bool {
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
fn position_offset(position: &Position) -> i64 {
    match position {
        Position::File { line, .. } => *line as i64,
        Position::Kafka { offset, .. } => *offset + 1,
    }
}

fn position_key(position: &Position) -> (String, i64) {
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

impl Engine {
    /// Opens (or creates) the state directory for a configuration.
    #[cfg(feature = "rocksdb")]
    pub fn open(config: Arc<Config>, state: &Path, mode: Mode) -> Result<Engine, EngineError> {
        std::fs::create_dir_all(state).map_err(|error| EngineError::Incompatible {
            path: state.display().to_string(),
            problem: format!("cannot create: {error}"),
        })?;
        let store = Store::open(state)?;
        Engine::open_store(config, store, &state.display().to_string(), mode)
    }

    /// Opens the engine over an open store (`name` says where it is, in
    /// messages): a RocksDB directory, or a simulated disk.
    pub fn open_store(
        config: Arc<Config>,
        store: Store,
        name: &str,
        mode: Mode,
    ) -> Result<Engine, EngineError> {
        let catalogue = Catalogue::from_config(&config)?;
        let fingerprint = config.state_fingerprint();
        let incompatible = |problem: String| EngineError::Incompatible {
            path: name.to_string(),
            problem,
        };
        match store.get(Family::Meta, META_FORMAT)? {
            None => {
                if !store.is_empty(Family::Ledger)? {
                    return Err(incompatible("state without a format version".into()));
                }
                let mut batch = Batch::new();
                batch.put(
                    Family::Meta,
                    META_FORMAT,
                    store::FORMAT_VERSION.to_string().into_bytes(),
                );
                batch.put(
                    Family::Meta,
                    META_FINGERPRINT,
                    fingerprint.clone().into_bytes(),
                );
                store.write(&batch, Durability::Sync)?;
            }
            Some(version) => {
                let version = String::from_utf8_lossy(&version).to_string();
                if version != store::FORMAT_VERSION.to_string() {
                    return Err(incompatible(format!(
                        "state format {version}, this build reads {}; rebuild it by replay into a fresh directory",
                        store::FORMAT_VERSION
                    )));
                }
                let stored = store
                    .get(Family::Meta, META_FINGERPRINT)?
                    .map(|bytes| String::from_utf8_lossy(&bytes).to_string())
                    .unwrap_or_default();
                if stored != fingerprint {
                    return Err(incompatible(format!(
                        "built with another configuration (units, indicators or calendar differ: {stored} vs {fingerprint}); replay into a fresh state directory"
                    )));
                }
            }
        }
        let ledger = Ledger::open(&store, LEDGER_CACHE_CAPACITY)?;
        let config_schema_validation = config.processing.schema_validation;
        let mut engine = Engine {
            config,
            catalogue,
            store,
            ledger,
            series: SeriesStore::new(),
            clock: Clock::default(),
            recorded: FxHashMap::default(),
            live: FxHashMap::default(),
            totals: Totals::default(),
            positions: BTreeMap::new(),
            outbox_next: 0,
            outbox_pending: std::sync::atomic::AtomicU64::new(0),
            parked: std::sync::atomic::AtomicU64::new(0),
            mode,
            emit_live: true,
            schema: if config_schema_validation {
                Some(crate::event::schema::validator().map_err(EngineError::Schema)?)
            } else {
                None
            },
            validation_today: None,
            fault: None,
            spare_batch: Batch::new(),
        };
        engine.load()?;
        Ok(engine)
    }

    /// Forgets everything held in memory and loads it again from the
    /// committed state (after a batch panicked half-way).
    fn reload(&mut self) -> Result<(), EngineError> {
        self.ledger = Ledger::open(&self.store, LEDGER_CACHE_CAPACITY)?;
        self.series = SeriesStore::new();
        self.clock = Clock::default();
        self.recorded.clear();
        self.live.clear();
        self.totals = Totals::default();
        self.positions.clear();
        self.outbox_next = 0;
        self.spare_batch = Batch::new();
        self.load()
    }

    /// The wall clock's date, for refusing event dates too far in the future
    /// in replay (`validation.future_days`).
    pub fn set_validation_today(&mut self, today: Option<Date>) {
        self.validation_today = today;
    }

    /// Makes handling panic whenever a re-folded owner holds an event that
    /// `fault` matches: for fault-isolation tests and simulations only.
    #[doc(hidden)]
    pub fn set_fault_injector(&mut self, fault: Option<FaultInjector>) {
        self.fault = fault;
    }

    fn load(&mut self) -> Result<(), EngineError> {
        let mut failure: Option<CorruptRecord> = None;
        let series = &mut self.series;
        self.store.for_each(Family::Series, |key, value| {
            if key.len() != SERIES_KEY_LEN {
                failure = Some(CorruptRecord {
                    what: "series",
                    detail: "bad key length".into(),
                });
                return false;
            }
            let slot = u16::from_be_bytes([key[0], key[1]]);
            let unit = UnitIdx(u32::from_be_bytes([key[2], key[3], key[4], key[5]]));
            let month =
                Month::from_index(store::from_ordered_i32([key[6], key[7], key[8], key[9]]));
            match decode::<Vec<(u8, Sums)>>("series", value) {
                Ok(points) => {
                    series.load_chunk((slot, unit), month, &points);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            }
        })?;
        // Loading marks nothing as changed.
        let _ = self.series.take_changes();
        let recorded = &mut self.recorded;
        self.store.for_each(Family::Recorded, |key, value| {
            if key.len() != RECORDED_KEY_LEN {
                failure = Some(CorruptRecord {
                    what: "recorded",
                    detail: "bad key length".into(),
                });
                return false;
            }
            let month =
                Month::from_index(store::from_ordered_i32([key[0], key[1], key[2], key[3]]));
            let unit = UnitIdx(u32::from_be_bytes([key[4], key[5], key[6], key[7]]));
            let slot = u16::from_be_bytes([key[8], key[9]]);
            match decode::<Recorded>("recorded", value) {
                Ok(record) => {
                    recorded.insert((month, unit, slot), record);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            }
        })?;
        let live = &mut self.live;
        self.store.for_each(Family::Live, |key, value| {
            if key.len() != LIVE_KEY_LEN {
                failure = Some(CorruptRecord {
                    what: "live",
                    detail: "bad key length".into(),
                });
                return false;
            }
            let slot = u16::from_be_bytes([key[0], key[1]]);
            let unit = UnitIdx(u32::from_be_bytes([key[2], key[3], key[4], key[5]]));
            match decode::<Live>("live", value) {
                Ok(record) => {
                    live.insert((slot, unit), record);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            }
        })?;
        if let Some(error) = failure {
            return Err(error.into());
        }
        if let Some(bytes) = self.store.get(Family::Meta, META_CLOCK)? {
            self.clock = decode("clock", &bytes)?;
        }
        if let Some(bytes) = self.store.get(Family::Meta, META_TOTALS)? {
            self.totals = decode("totals", &bytes)?;
        }
        if let Some(bytes) = self.store.get(Family::Meta, META_OUTBOX_NEXT)? {
            self.outbox_next = decode("outbox sequence", &bytes)?;
        }
        let mut pending = 0u64;
        self.store.for_each(Family::Outbox, |_, _| {
            pending += 1;
            true
        })?;
        *self.outbox_pending.get_mut() = pending;
        let mut parked = 0u64;
        self.store.for_each(Family::Parked, |_, _| {
            parked += 1;
            true
        })?;
        *self.parked.get_mut() = parked;
        let positions = &mut self.positions;
        let mut failure: Option<CorruptRecord> = None;
        self.store.for_each(Family::Meta, |key, value| {
            if let Ok(name) = std::str::from_utf8(key) {
                if name.starts_with(POSITION_PREFIX) {
                    match <[u8; 8]>::try_from(value) {
                        Ok(bytes) => {
                            positions.insert(name.to_string(), i64::from_be_bytes(bytes));
                        }
                        Err(_) => {
                            failure = Some(CorruptRecord {
                                what: "input position",
                                detail: format!("{} bytes, not 8", value.len()),
                            });
                            return false;
                        }
                    }
                }
            }
            true
        })?;
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }

    /// Whether live values, RAG changes, scorecards and restatements are
    /// produced (dead letters always are). Replay without an outputs
    /// directory turns this off for speed.
    pub fn set_emit_outputs(&mut self, emit: bool) {
        self.emit_live = emit;
    }

    /// Also validates every message against the JSON Schemas (set at open
    /// from `processing.schema_validation`).
    pub fn set_schema_validator(&mut self, validator: Option<jsonschema::Validator>) {
        self.schema = validator;
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

    /// Processes one batch of raw messages and commits it. `today` is the
    /// wall-clock date when live (`None` in replay).
    ///
    /// A panic while handling the batch never escapes: the state in memory is
    /// reloaded from the last commit and the batch is split in halves until
    /// the one message whose handling panics is found; that message is
    /// dead-lettered with reason `internal_error` (and the panic's text), and
    /// every other message is processed as usual, in order.
    pub fn run_batch(
        &mut self,
        messages: &[RawMessage],
        today: Option<Date>,
    ) -> Result<BatchOutcome, EngineError> {
        let mut total = BatchOutcome::default();
        self.run_isolated(messages, today, &mut total)?;
        Ok(total)
    }

    fn run_isolated(
        &mut self,
        messages: &[RawMessage],
        today: Option<Date>,
        total: &mut BatchOutcome,
    ) -> Result<(), EngineError> {
        match self.attempt(messages, today, None) {
            Ok(outcome) => {
                total.absorb(outcome);
                Ok(())
            }
            Err(Attempt::Failed(error)) => {
                // Memory may hold what the store refused: start again from
                // what it holds (the caller decides whether to go on).
                let _ = self.reload();
                Err(error)
            }
            Err(Attempt::Panicked(text)) => {
                self.reload()?;
                if messages.len() > 1 {
                    let (first, second) = messages.split_at(messages.len() / 2);
                    self.run_isolated(first, today, total)?;
                    return self.run_isolated(second, today, total);
                }
                tracing::error!(
                    position = %messages.first().map(|message| message.position.to_string()).unwrap_or_default(),
                    "internal error while handling a message: dead-lettered with reason internal_error"
                );
                match self.attempt(messages, today, Some(&text)) {
                    Ok(outcome) => {
                        total.absorb(outcome);
                        Ok(())
                    }
                    Err(Attempt::Failed(error)) => Err(error),
                    Err(Attempt::Panicked(again)) => {
                        self.reload()?;
                        Err(EngineError::Internal(again))
                    }
                }
            }
        }
    }

    /// One attempt at a batch, catching panics. With `set_aside`, every
    /// message is dead-lettered as an internal error with that text.
    fn attempt(
        &mut self,
        messages: &[RawMessage],
        today: Option<Date>,
        set_aside: Option<&str>,
    ) -> Result<BatchOutcome, Attempt> {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.process(messages, today, set_aside)
        }));
        match result {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(Attempt::Failed(error)),
            Err(payload) => Err(Attempt::Panicked(panic_text(payload.as_ref()))),
        }
    }

    fn process(
        &mut self,
        messages: &[RawMessage],
        today: Option<Date>,
        set_aside: Option<&str>,
    ) -> Result<BatchOutcome, EngineError> {
        let mut outcome = BatchOutcome {
            consumed: messages.len() as u64,
            ..BatchOutcome::default()
        };
        let mut outputs: Vec<OutboxRecord> = Vec::new();
        let mut phase_start = std::time::Instant::now();
        let mut lap = |outcome: &mut BatchOutcome, phase: usize| {
            let now = std::time::Instant::now();
            outcome.phase_seconds[phase] += (now - phase_start).as_secs_f64();
            phase_start = now;
        };

        // 1. Decode.
        let decoder = Decoder::new(&self.config, self.schema.as_ref())
            .with_today(today.or(self.validation_today));
        let mut events: Vec<Event> = Vec::with_capacity(messages.len());
        // The furthest message of each input in this batch (its key is
        // formatted once per batch, not per message).
        let mut furthest: Vec<(&Position, i64)> = Vec::new();
        for message in messages {
            let decoded = match set_aside {
                Some(text) => Err(Rejection::new(
                    RejectionCode::InternalError,
                    None,
                    format!(
                        "handling it failed inside ragline: {}",
                        truncate_chars(text, INTERNAL_ERROR_TEXT_CHARS)
                    ),
                )),
                None => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    decoder.decode(&message.bytes)
                }))
                .unwrap_or_else(|payload| {
                    Err(Rejection::new(
                        RejectionCode::InternalError,
                        None,
                        format!(
                            "decoding it failed inside ragline: {}",
                            truncate_chars(
                                &panic_text(payload.as_ref()),
                                INTERNAL_ERROR_TEXT_CHARS
                            )
                        ),
                    ))
                }),
            };
            match decoded {
                Ok(event) => events.push(event),
                Err(rejection) => {
                    *outcome.rejected.entry(rejection.code).or_default() += 1;
                    outputs.push(outbox::dead_letter(
                        &message.bytes,
                        &message.position,
                        &rejection,
                        self.config.outputs.dead_letter_payloads,
                    ));
                }
            }
            let offset = position_offset(&message.position);
            match furthest
                .iter_mut()
                .find(|(held, _)| same_input(held, &message.position))
            {
                Some((held, top)) if offset > *top => (*held, *top) = (&message.position, offset),
                Some(_) => {}
                None => furthest.push((&message.position, offset)),
            }
        }
        for (position, _) in furthest {
            let (key, offset) = position_key(position);
            let entry = self.positions.entry(key).or_insert(offset);
            *entry = (*entry).max(offset);
        }

        lap(&mut outcome, PHASE_DECODE);

        // 2. Ledger.
        let references: Vec<&Event> = events.iter().collect();
        self.ledger.prefetch(&self.store, &references)?;
        self.ledger.reserve(references.len());
        let mut latest = self.clock.latest_event;
        let mut earliest: Option<Date> = None;
        for event in events {
            // Only admitted facts move the clock: a duplicate was counted when
            // it first arrived, and a void counts for nothing.
            let (date, void) = (event.date, event.void);
            match self.ledger.admit(event) {
                Admission::Applied => {
                    outcome.applied += 1;
                    if !void {
                        latest = Some(latest.map_or(date, |held: Date| held.max(date)));
                        earliest = Some(earliest.map_or(date, |held: Date| held.min(date)));
                    }
                }
                Admission::Duplicate => outcome.duplicates += 1,
            }
        }

        // 3. Re-fold touched owners, diff, apply.
        let touched = self.ledger.touched().to_vec();
        lap(&mut outcome, PHASE_LEDGER);
        outcome.refolded = touched.len() as u64;
        let mut deltas: Vec<Point> = Vec::new();
        let mut points: Vec<Point> = Vec::new();
        let mut anomalies = Vec::new();
        let mut anomaly_change: BTreeMap<AnomalyReason, i64> = BTreeMap::new();
        for &id in &touched {
            let (owner, record) = self.ledger.owner_mut(id);
            if let Some(fault) = &self.fault {
                if record.events.iter().any(fault) {
                    panic!("injected fault while re-folding an owner");
                }
            }
            fold::sort_events(&mut record.events);
            points.clear();
            anomalies.clear();
            match owner {
                Owner::Child(la, _) => {
                    let facts = fold::fold_child(&record.events, &mut anomalies);
                    let root = self.config.root_of(*la);
                    self.catalogue
                        .contribute_child(&self.config, root, &facts, &mut points);
                }
                Owner::Unit(unit) => {
                    let facts = fold::fold_unit(&record.events);
                    self.catalogue
                        .contribute_unit(&self.config, *unit, &facts, &mut points);
                }
            }
            contrib::normalise(&mut points);
            contrib::diff(&record.points, &points, &mut deltas);
            for anomaly in &record.anomalies {
                *anomaly_change.entry(anomaly.reason).or_default() -= 1;
            }
            for anomaly in &anomalies {
                *anomaly_change.entry(anomaly.reason).or_default() += 1;
            }
            record.points.clone_from(&points);
            record.anomalies.clone_from(&anomalies);
        }
        lap(&mut outcome, PHASE_FOLD);
        self.series.apply(&self.config, &deltas);
        let (changed, dirty_months) = self.series.take_changes();
        lap(&mut outcome, PHASE_SERIES);

        // 4. Clock.
        let before = self.clock;
        self.clock.latest_event = latest;
        if let Some(today) = today {
            self.clock.today = Some(self.clock.today.map_or(today, |held| held.max(today)));
        }
        let previously_closed = self.closed_range();
        if let Some(earliest) = earliest {
            let month = earliest.month();
            self.clock.first_month =
                Some(self.clock.first_month.map_or(month, |held| held.min(month)));
        }
        let mut batch = std::mem::take(&mut self.spare_batch);

        // 5. Restatements of months closed before this batch.
        if let Some((first, last)) = previously_closed {
            let checks = self.restatement_checks(&changed, first);
            for (slot, unit, from) in checks {
                let mut month = from.max(first);
                while month <= last {
                    if let Some(record) =
                        self.restate(slot, unit, month, &mut outputs, &mut outcome)
                    {
                        batch.put(
                            Family::Recorded,
                            recorded_key(month, unit, slot),
                            encode(&record),
                        );
                    }
                    month = month.plus(1);
                }
            }
        }

        // 6. Close months.
        if let Some(current) = self.clock.current() {
            let grace = match self.mode {
                Mode::Replay => self.config.processing.grace_days_replay,
                Mode::Live => self.config.processing.grace_days_live,
            };
            let closeable = current.add_days(-(grace as i32)).month().plus(-1);
            if let Some(first) = self.clock.first_month {
                let mut month = first;
                while month <= closeable {
                    let already =
                        previously_closed.is_some_and(|(from, to)| from <= month && month <= to);
                    if !already {
                        self.close_month(month, &mut batch, &mut outputs);
                        outcome.months_closed.push(month);
                    }
                    month = month.plus(1);
                }
                if first <= closeable {
                    self.clock.last_closed =
                        Some(closeable.max(self.clock.last_closed.unwrap_or(closeable)));
                }
            }
        }

        // 7. Live values.
        if self.emit_live {
            if let Some(current) = self.clock.current() {
                let all = before.current() != Some(current);
                self.live_updates(current, all, &changed, messages, &mut batch, &mut outputs);
            }
        }

        lap(&mut outcome, PHASE_SCORECARD);

        // 8. Commit: state, positions, outputs, in one batch.
        self.ledger.write(&mut batch);
        for ((slot, unit), month) in dirty_months {
            let key = series_key(slot, unit, month);
            let points = self
                .series
                .get((slot, unit))
                .map(|series| series.month_points(month))
                .unwrap_or_default();
            if points.is_empty() {
                batch.delete(Family::Series, key);
            } else {
                batch.put_encoded(Family::Series, key, |buffer| {
                    crate::ledger::encode_into(&points, buffer)
                });
            }
        }
        self.totals.consumed += outcome.consumed;
        self.totals.applied += outcome.applied;
        self.totals.duplicates += outcome.duplicates;
        for (code, count) in &outcome.rejected {
            *self
                .totals
                .rejected
                .entry(code.as_str().to_string())
                .or_default() += count;
        }
        for (reason, change) in anomaly_change {
            *self
                .totals
                .anomalies
                .entry(reason.as_str().to_string())
                .or_default() += change;
        }
        self.totals.restatements += outcome.restatements;
        outcome.outputs = outputs.len() as u64;
        self.outbox_pending
            .fetch_add(outcome.outputs, std::sync::atomic::Ordering::Relaxed);
        for record in outputs {
            *self
                .totals
                .outputs
                .entry(record.topic.as_str().to_string())
                .or_default() += 1;
            batch.put(
                Family::Outbox,
                outbox::outbox_key(self.outbox_next),
                record.encode(),
            );
            self.outbox_next += 1;
        }
        batch.put(Family::Meta, META_OUTBOX_NEXT, encode(&self.outbox_next));
        batch.put(Family::Meta, META_CLOCK, encode(&self.clock));
        batch.put(Family::Meta, META_TOTALS, encode(&self.totals));
        for (key, offset) in &self.positions {
            batch.put(Family::Meta, key.clone().into_bytes(), offset.to_be_bytes());
        }
        tracing::debug!(
            operations = batch.len(),
            bytes = batch.bytes(),
            "committing batch"
        );
        self.store.write(&batch, self.durability())?;
        batch.clear();
        self.spare_batch = batch;
        self.ledger.trim();
        lap(&mut outcome, PHASE_COMMIT);
        Ok(outcome)
    }

    fn durability(&self) -> Durability {
        match self.mode {
            Mode::Live if self.config.processing.sync_commits => Durability::Sync,
            Mode::Live => Durability::Wal,
            Mode::Replay => Durability::NoWal,
        }
    }

    /// Flushes everything to disk (end of a replay, shutdown).
    pub fn flush(&self) -> Result<(), EngineError> {
        self.store.flush()?;
        Ok(())
    }

    fn closed_range(&self) -> Option<(Month, Month)> {
        match (self.clock.first_month, self.clock.last_closed) {
            (Some(first), Some(last)) if first <= last => Some((first, last)),
            _ => None,
        }
    }

    /// Which reported (slot, unit) pairs to re-check, from which month.
    fn restatement_checks(
        &self,
        changed: &FxHashMap<(Slot, UnitIdx), Date>,
        first: Month,
    ) -> Vec<(Slot, UnitIdx, Month)> {
        let mut checks: FxHashMap<(Slot, UnitIdx), Month> = FxHashMap::default();
        let mut caseload_from: Option<Month> = None;
        for (&(slot, unit), date) in changed {
            let month = date.month().max(first);
            let def = self.catalogue.slots[slot as usize].def;
            if Some(slot) == self.catalogue.gate || matches!(def.query, Query::Caseload { .. }) {
                caseload_from = Some(caseload_from.map_or(month, |held| held.min(month)));
            } else if self.catalogue.slots[slot as usize].entry.is_some() {
                checks
                    .entry((slot, unit))
                    .and_modify(|held| *held = (*held).min(month))
                    .or_insert(month);
            }
        }
        if let Some(month) = caseload_from {
            for (slot, slot_def) in self.catalogue.reported() {
                if matches!(slot_def.def.query, Query::Caseload { .. }) {
                    for unit in 0..self.config.units.len() {
                        checks.insert((slot, UnitIdx(unit as u32)), month);
                    }
                }
            }
        }
        let mut list: Vec<(Slot, UnitIdx, Month)> = checks
            .into_iter()
            .map(|((slot, unit), month)| (slot, unit, month))
            .collect();
        list.sort_unstable();
        list
    }

    fn readings(&self, slot: Slot, unit: UnitIdx, month: Month) -> (Reading, Reading) {
        let reader = self.reader();
        let def = self.catalogue.slots[slot as usize].def;
        let date = month.last_day();
        let main = reader.reading(slot, unit, date, def.window);
        let r3m = if def.window == Window::R12M {
            reader.reading(slot, unit, date, Window::R3M)
        } else {
            Reading::default()
        };
        (main, r3m)
    }

    /// Re-reads a closed month; returns the updated record when it changed.
    fn restate(
        &mut self,
        slot: Slot,
        unit: UnitIdx,
        month: Month,
        outputs: &mut Vec<OutboxRecord>,
        outcome: &mut BatchOutcome,
    ) -> Option<Recorded> {
        let (main, r3m) = self.readings(slot, unit, month);
        let old = self
            .recorded
            .get(&(month, unit, slot))
            .copied()
            .unwrap_or(Recorded {
                main: Reading::default(),
                r3m: Reading::default(),
                restatements: 0,
            });
        if old.main == main && old.r3m == r3m {
            return None;
        }
        let record = Recorded {
            main,
            r3m,
            restatements: old.restatements + 1,
        };
        self.recorded.insert((month, unit, slot), record);
        if old.main != main {
            outcome.restatements += 1;
            if self.emit_live {
                let reader = self.reader();
                let def = reader.def(slot);
                let target = reader.target(slot, month.last_day());
                let old_value = crate::scorecard::value_of(def, old.main);
                let new_value = crate::scorecard::value_of(def, main);
                let id = &self.catalogue.slots[slot as usize].id;
                let unit_id = &self.config.unit(unit).id;
                let key = format!("{id}/{unit_id}/{month}");
                let mut payload = json!({
                    "indicator": id,
                    "unit": unit_id,
                    "month": month.to_string(),
                    "old_value": crate::scorecard::value_json(def, old_value),
                    "new_value": crate::scorecard::value_json(def, new_value),
                    "old_num": crate::scorecard::amount_json(old.main.num, def.num_scale),
                    "num": crate::scorecard::amount_json(main.num, def.num_scale),
                    "rag": crate::scorecard::rag(def, target, main, new_value).map(Rag::as_str),
                });
                if def.kind != crate::indicators::Kind::Count {
                    payload["old_den"] = crate::scorecard::amount_json(old.main.den, def.den_scale);
                    payload["den"] = crate::scorecard::amount_json(main.den, def.den_scale);
                }
                outputs.push(OutboxRecord::new(
                    OutputTopic::Restatements,
                    key.clone(),
                    format!("{key}/{}", record.restatements),
                    payload,
                ));
            }
        }
        Some(record)
    }

    fn close_month(&mut self, month: Month, batch: &mut Batch, outputs: &mut Vec<OutboxRecord>) {
        let slots: Vec<Slot> = self.catalogue.reported().map(|(slot, _)| slot).collect();
        for unit in 0..self.config.units.len() {
            let unit = UnitIdx(unit as u32);
            for &slot in &slots {
                let (main, r3m) = self.readings(slot, unit, month);
                let record = Recorded {
                    main,
                    r3m,
                    restatements: self
                        .recorded
                        .get(&(month, unit, slot))
                        .map(|record| record.restatements)
                        .unwrap_or(0),
                };
                self.recorded.insert((month, unit, slot), record);
                batch.put(
                    Family::Recorded,
                    recorded_key(month, unit, slot),
                    encode(&record),
                );
            }
            if self.emit_live {
                let reader = self.reader();
                let rows = report::unit_rows(&reader, unit, month);
                let unit_id = self.config.unit(unit).id.clone();
                let key = format!("{unit_id}/{month}");
                outputs.push(OutboxRecord::new(
                    OutputTopic::Scorecards,
                    key.clone(),
                    key,
                    json!({
                        "unit": unit_id,
                        "month": month.to_string(),
                        "scorecard": report::unit_json(&reader, &rows),
                    }),
                ));
            }
        }
    }

    fn live_updates(
        &mut self,
        current: Date,
        all: bool,
        changed: &FxHashMap<(Slot, UnitIdx), Date>,
        messages: &[RawMessage],
        batch: &mut Batch,
        outputs: &mut Vec<OutboxRecord>,
    ) {
        let mut pairs: Vec<(Slot, UnitIdx)> = Vec::new();
        let caseload_touched = changed.keys().any(|(slot, _)| {
            Some(*slot) == self.catalogue.gate
                || matches!(
                    self.catalogue.slots[*slot as usize].def.query,
                    Query::Caseload { .. }
                )
        });
        for (slot, slot_def) in self.catalogue.reported() {
            let caseload = matches!(slot_def.def.query, Query::Caseload { .. });
            for unit in 0..self.config.units.len() {
                let unit = UnitIdx(unit as u32);
                if all || (caseload && caseload_touched) || changed.contains_key(&(slot, unit)) {
                    pairs.push((slot, unit));
                }
            }
        }
        let cause = messages.last().map(|message| message.position.to_string());
        let month = current.month();
        let mut updates: Vec<((Slot, UnitIdx), Live, Option<Rag>)> = Vec::new();
        {
            let reader = self.reader();
            let mut emitted: FxHashSet<(Slot, UnitIdx)> = FxHashSet::default();
            for (slot, unit) in pairs {
                if !emitted.insert((slot, unit)) {
                    continue;
                }
                let row = reader.row_at(slot, unit, current, month);
                let previous = self.live.get(&(slot, unit)).copied();
                if previous
                    .is_some_and(|live| live.reading == row.now.reading && live.rag == row.now.rag)
                {
                    continue;
                }
                if previous.is_none() && row.now.reading == Reading::default() {
                    continue;
                }
                let sequence = previous.map_or(1, |live| live.sequence + 1);
                let id = &self.catalogue.slots[slot as usize].id;
                let unit_id = &self.config.unit(unit).id;
                let key = format!("{id}/{unit_id}");
                let mut payload = report::row_json(&reader, &row);
                if let serde_json::Value::Object(object) = &mut payload {
                    object.insert("indicator".into(), json!(id));
                    object.insert("unit".into(), json!(unit_id));
                    object.insert("as_of".into(), json!(current.to_string()));
                    object.insert("sequence".into(), json!(sequence));
                    if self.config.outputs.value_causes {
                        object.insert(
                            "cause".into(),
                            json!({"last_input": cause, "batch_messages": messages.len()}),
                        );
                    }
                }
                outputs.push(OutboxRecord::new(
                    OutputTopic::Values,
                    key.clone(),
                    format!("{key}/{current}/{sequence}"),
                    payload,
                ));
                let old_rag = previous.and_then(|live| live.rag);
                if previous.is_some() && old_rag != row.now.rag
                    || previous.is_none() && row.now.rag.is_some()
                {
                    let def = reader.def(slot);
                    outputs.push(OutboxRecord::new(
                        OutputTopic::RagChanges,
                        key.clone(),
                        format!("{key}/{current}/{sequence}"),
                        json!({
                            "indicator": id,
                            "unit": unit_id,
                            "as_of": current.to_string(),
                            "from": old_rag.map(Rag::as_str),
                            "to": row.now.rag.map(Rag::as_str),
                            "value": crate::scorecard::value_json(def, row.now.value),
                            "num": crate::scorecard::amount_json(row.now.reading.num, def.num_scale),
                            "den": crate::scorecard::amount_json(row.now.reading.den, def.den_scale),
                        }),
                    ));
                }
                updates.push((
                    (slot, unit),
                    Live {
                        sequence,
                        reading: row.now.reading,
                        rag: row.now.rag,
                    },
                    old_rag,
                ));
            }
        }
        for ((slot, unit), live, _) in updates {
            self.live.insert((slot, unit), live);
            batch.put(Family::Live, live_key(slot, unit), encode(&live));
        }
    }

    /// The last live values (slot, unit) emitted.
    pub fn live_values(&self) -> &FxHashMap<(Slot, UnitIdx), Live> {
        &self.live
    }

    /// Pending outbox records, oldest first, at most `limit`.
    pub fn pending_outputs(&self, limit: usize) -> Result<Vec<(u64, OutboxRecord)>, EngineError> {
        self.pending_outputs_from(0, limit)
    }

    /// Pending outbox records with a sequence of at least `from`, oldest
    /// first, at most `limit`.
    pub fn pending_outputs_from(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, OutboxRecord)>, EngineError> {
        let mut records = Vec::new();
        if limit == 0 {
            return Ok(records);
        }
        let mut failure = None;
        let start = outbox::outbox_key(from);
        self.store
            .for_each_from(Family::Outbox, &start, |key, value| {
                match (outbox::outbox_sequence(key), OutboxRecord::decode(value)) {
                    (Some(sequence), Some(record)) => records.push((sequence, record)),
                    _ => {
                        failure = Some(CorruptRecord {
                            what: "outbox",
                            detail: "undecodable record".into(),
                        });
                        return false;
                    }
                }
                records.len() < limit
            })?;
        if let Some(error) = failure {
            return Err(error.into());
        }
        Ok(records)
    }

    /// Moves outbox records that the broker refused for good (a record
    /// larger than the topic accepts, no permission to write, ...) to the
    /// parked records, with the broker's reason: kept in state, counted, and
    /// put back by [`Engine::retry_parked`]. Retrying them forever would hold
    /// every later record of their topic back.
    pub fn park_outputs(&self, refused: &[(u64, String)]) -> Result<(), EngineError> {
        if refused.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new();
        let mut moved = 0u64;
        for (sequence, reason) in refused {
            let key = outbox::outbox_key(*sequence);
            let Some(record) = self.store.get(Family::Outbox, &key)? else {
                continue;
            };
            batch.delete(Family::Outbox, &key);
            batch.put(
                Family::Parked,
                &key,
                encode(&ParkedRecord {
                    reason: reason.clone(),
                    record,
                }),
            );
            moved += 1;
        }
        self.store.write(&batch, self.durability())?;
        self.outbox_pending
            .fetch_sub(moved, std::sync::atomic::Ordering::Relaxed);
        self.parked
            .fetch_add(moved, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Output records parked so far and not retried.
    pub fn parked_outputs(&self) -> u64 {
        self.parked.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The parked records, oldest first: sequence, reason and record.
    pub fn parked_records(&self) -> Result<Vec<(u64, ParkedRecord)>, EngineError> {
        let mut records = Vec::new();
        let mut failure = None;
        self.store.for_each(Family::Parked, |key, value| {
            match (
                outbox::outbox_sequence(key),
                decode::<ParkedRecord>("parked", value),
            ) {
                (Some(sequence), Ok(record)) => {
                    records.push((sequence, record));
                    true
                }
                (_, Err(error)) => {
                    failure = Some(error);
                    false
                }
                (None, Ok(_)) => {
                    failure = Some(CorruptRecord {
                        what: "parked",
                        detail: "bad key length".into(),
                    });
                    false
                }
            }
        })?;
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(records),
        }
    }

    /// Puts every parked record back at the end of the outbox, except
    /// indicator values that a later value of the same key supersedes (they
    /// are dropped: sending them would put an old value after a newer one).
    /// Returns (records put back, values dropped).
    pub fn retry_parked(&mut self) -> Result<(u64, u64), EngineError> {
        let parked = self.parked_records()?;
        let mut batch = Batch::new();
        let (mut requeued, mut dropped) = (0u64, 0u64);
        for (sequence, parked) in parked {
            batch.delete(Family::Parked, outbox::outbox_key(sequence));
            let record = OutboxRecord::decode(&parked.record).ok_or(CorruptRecord {
                what: "parked",
                detail: "undecodable output record".into(),
            })?;
            if self.output_superseded(&record) {
                dropped += 1;
                continue;
            }
            batch.put(
                Family::Outbox,
                outbox::outbox_key(self.outbox_next),
                parked.record,
            );
            self.outbox_next += 1;
            requeued += 1;
        }
        batch.put(Family::Meta, META_OUTBOX_NEXT, encode(&self.outbox_next));
        self.store.write(&batch, Durability::Sync)?;
        self.outbox_pending
            .fetch_add(requeued, std::sync::atomic::Ordering::Relaxed);
        self.parked.store(0, std::sync::atomic::Ordering::Relaxed);
        Ok((requeued, dropped))
    }

    /// Removes delivered outbox records.
    pub fn acknowledge_outputs(&self, sequences: &[u64]) -> Result<(), EngineError> {
        if sequences.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new();
        for sequence in sequences {
            batch.delete(Family::Outbox, outbox::outbox_key(*sequence));
        }
        // Not synced: a deletion lost in a crash only delivers the record
        // again, under its stable id; the next synced commit persists it.
        let durability = match self.mode {
            Mode::Live => Durability::Wal,
            Mode::Replay => Durability::NoWal,
        };
        self.store.write(&batch, durability)?;
        self.outbox_pending
            .fetch_sub(sequences.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Output records waiting for delivery.
    pub fn outbox_pending(&self) -> u64 {
        self.outbox_pending
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}
