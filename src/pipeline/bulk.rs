//! Bulk rebuild: the second driver of the same steps, for a replay into an
//! empty state.
//!
//! The batch driver re-folds every child a batch touches from its whole
//! history, so a child with events spread over a long file is folded once
//! per batch. A rebuild from nothing knows the whole history before it
//! folds anything, so it folds each child once:
//!
//! 1. [`Rebuild::feed`] decodes messages (on every core, as a batch does),
//!    writes dead letters to the outbox at once and holds the events,
//!    partitioned by the hash of their event id. Beyond
//!    `processing.rebuild_events_in_memory` events, every partition is
//!    appended to its own spill file and memory is emptied. Admitting and
//!    folding then hold a few partitions at a time (four per thread, at
//!    most eight, and no more than fit in the budget), read back whole:
//!    each about a 64th of the history (no partition is split further),
//!    so a rebuild holds about the budget, or a 64th of the history when
//!    that is more.
//! 2. [`Rebuild::finish`] applies the revision rules to each id partition
//!    on its own (partitions on every thread at once): they see every
//!    arrival of an id, in input order, as the batch driver's ledger does
//!    (a higher revision may move an event to another child, which is why
//!    the first partitioning is by id, not by child). The partitions'
//!    ledger entries are put to a bulk load, and their surviving events
//!    passed on, partitioned by the hash of their owner (again spilled
//!    beyond the budget), in partition order.
//! 3. Each owner partition (again on every thread at once) groups its
//!    events by child or unit, folds each once and encodes its record; in
//!    partition order, the records are put to a bulk load and the
//!    contributions added to the in-memory series.
//! 4. The shared steps then move the clock, close every month in one pass,
//!    compute live values and commit, as the last step of a batch does.
//!
//! The result equals the batch driver given the whole history as one batch,
//! byte for byte in every column family (`tests/bulk_rebuild.rs`).
//! Ledger entries and owner records are loaded in bulk ([`BulkLoad`]):
//! sorted runs written as table files and ingested by RocksDB, past the
//! memtable and the write-ahead log. A marker in the state says a rebuild
//! is under way until the last commit, so a state left by a crash
//! mid-rebuild is refused at open rather than read as whole.
//!
//! [`BulkLoad`]: crate::store::BulkLoad

use super::batch::{EventSpan, PhaseTimer, RefoldContext, Refolded};
use super::live_values::BatchCause;
use super::*;
use crate::config::LaIdx;
use crate::event::{Body, OwnerRef};
use crate::ledger::OwnerRecord;
use crate::store::{BulkLoad, EncodedPuts};
use std::hash::{Hash, Hasher};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

/// Partitions of the held events (by event id, then by owner): each is
/// admitted or folded on its own, so a few partitions' share of a spilled
/// history (see [`partitions_at_once`]) is what a rebuild holds in memory
/// at once.
const PARTITIONS: usize = 64;

/// Where a rebuild spills, and how much it holds in memory.
#[derive(Clone, Debug)]
pub struct RebuildOptions {
    /// Most decoded events held in memory at once.
    pub events_in_memory: usize,
    /// A directory for spill files (created when needed, removed at the end).
    pub spill_dir: PathBuf,
}

/// Items of one partition: those spilled to its file (in order), then
/// those in memory.
struct Partition<T> {
    held: Vec<T>,
    file: Option<BufWriter<std::fs::File>>,
    path: PathBuf,
    spilled: u64,
}

/// What a partition holds: single events, or one owner's events.
trait Held: Serialize + for<'de> Deserialize<'de> {
    /// The events it holds (what the memory budget counts).
    fn events(&self) -> usize;
}

impl Held for Event {
    fn events(&self) -> usize {
        1
    }
}

/// Partitions of items, in memory up to a budget of events and in spill
/// files beyond it.
struct Partitions<T> {
    parts: Vec<Partition<T>>,
    held: usize,
    /// Events held since the start, in memory or spilled.
    pushed: usize,
    budget: usize,
    spills: u64,
}

impl<T: Held> Partitions<T> {
    fn new(dir: &std::path::Path, stage: &str, budget: usize) -> Partitions<T> {
        Partitions {
            parts: (0..PARTITIONS)
                .map(|index| Partition {
                    held: Vec::new(),
                    file: None,
                    path: dir.join(format!("{stage}-{index:02}.events")),
                    spilled: 0,
                })
                .collect(),
            held: 0,
            pushed: 0,
            budget: budget.max(1),
            spills: 0,
        }
    }

    /// Holds `item` in partition `index`, spilling every partition when
    /// the budget is reached.
    fn push(&mut self, index: usize, item: T) -> Result<(), EngineError> {
        self.held += item.events();
        self.pushed += item.events();
        self.parts[index].held.push(item);
        if self.held >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Makes room at once for `events` in all (no more than the budget),
    /// spread as the hash spreads them, so that partitions are not grown
    /// step by step, each step copying what they hold into fresh memory.
    /// An estimate: a partition that gets more grows as usual.
    fn expect(&mut self, events: usize) {
        let each = events.min(self.budget).div_ceil(PARTITIONS);
        // Room for the hash's unevenness: a sixteenth more (with 16,000
        // events a partition, one standard deviation is about 125).
        let each = each + each / 16;
        for part in &mut self.parts {
            part.held.reserve(each.saturating_sub(part.held.len()));
        }
    }

    fn spill(&mut self) -> Result<(), EngineError> {
        let mut buffer = Vec::new();
        for part in &mut self.parts {
            if part.held.is_empty() {
                continue;
            }
            if part.file.is_none() {
                if let Some(parent) = part.path.parent() {
                    std::fs::create_dir_all(parent).map_err(|error| spill_error(parent, error))?;
                }
                let file = std::fs::File::create(&part.path)
                    .map_err(|error| spill_error(&part.path, error))?;
                part.file = Some(BufWriter::with_capacity(1 << 20, file));
            }
            let file = part.file.as_mut().expect("opened above");
            for item in part.held.drain(..) {
                buffer.clear();
                crate::ledger::encode_into(&item, &mut buffer);
                let length = u32::try_from(buffer.len()).expect("an item encodes below 4 GiB");
                file.write_all(&length.to_le_bytes())
                    .and_then(|()| file.write_all(&buffer))
                    .map_err(|error| spill_error(&part.path, error))?;
                part.spilled += 1;
            }
        }
        self.held = 0;
        self.spills += 1;
        Ok(())
    }

    /// Takes partition `index`'s items: the spilled ones in the order they
    /// were held, then those still in memory. Its spill file is removed.
    fn take(&mut self, index: usize) -> Result<Vec<T>, EngineError> {
        let part = &mut self.parts[index];
        let held = std::mem::take(&mut part.held);
        self.held -= held.iter().map(Held::events).sum::<usize>();
        let Some(file) = part.file.take() else {
            return Ok(held);
        };
        file.into_inner()
            .map_err(|error| spill_error(&part.path, error.into_error()))?;
        let mut items = Vec::with_capacity(part.spilled as usize + held.len());
        let file =
            std::fs::File::open(&part.path).map_err(|error| spill_error(&part.path, error))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut buffer = Vec::new();
        for _ in 0..part.spilled {
            let mut length = [0u8; 4];
            reader
                .read_exact(&mut length)
                .map_err(|error| spill_error(&part.path, error))?;
            buffer.resize(u32::from_le_bytes(length) as usize, 0);
            reader
                .read_exact(&mut buffer)
                .map_err(|error| spill_error(&part.path, error))?;
            let item: T = postcard::from_bytes(&buffer).map_err(|error| {
                spill_error(
                    &part.path,
                    std::io::Error::new(std::io::ErrorKind::InvalidData, error),
                )
            })?;
            items.push(item);
        }
        part.spilled = 0;
        let _ = std::fs::remove_file(&part.path);
        items.extend(held);
        Ok(items)
    }
}

fn spill_error(path: &std::path::Path, error: std::io::Error) -> EngineError {
    EngineError::Spill {
        path: path.display().to_string(),
        error,
    }
}

/// The partition of a hashable key (a fixed hash: runs are repeatable).
fn partition_of(key: impl Hash) -> usize {
    let mut hasher = rustc_hash::FxHasher::default();
    key.hash(&mut hasher);
    (hasher.finish() % PARTITIONS as u64) as usize
}

/// A bulk rebuild under way (see the module documentation).
pub struct Rebuild<'a> {
    engine: &'a mut Engine,
    options: RebuildOptions,
    by_id: Partitions<Event>,
    outcome: BatchOutcome,
    cause: BatchCause,
}

impl Engine {
    /// Whether the state holds nothing yet: no message was ever consumed.
    pub fn is_fresh(&self) -> bool {
        self.totals.consumed == 0 && self.positions.is_empty() && self.outbox_next == 0
    }

    /// Starts a bulk rebuild of this (fresh) state: feed it every message
    /// with [`Rebuild::feed`], then [`Rebuild::finish`].
    pub fn begin_rebuild(&mut self, options: RebuildOptions) -> Result<Rebuild<'_>, EngineError> {
        if !self.is_fresh() {
            return Err(EngineError::Internal(
                "a bulk rebuild needs an empty state".into(),
            ));
        }
        let mut batch = Batch::new();
        batch.put(Family::Meta, META_REBUILDING, b"1");
        self.store.write(&batch, Durability::Sync)?;
        let by_id = Partitions::new(&options.spill_dir, "by-id", options.events_in_memory);
        Ok(Rebuild {
            engine: self,
            options,
            by_id,
            outcome: BatchOutcome::default(),
            cause: BatchCause {
                last_input: None,
                messages: 0,
            },
        })
    }
}

impl Rebuild<'_> {
    /// The engine being rebuilt (for draining dead letters meanwhile).
    pub fn engine(&self) -> &Engine {
        self.engine
    }

    /// Messages fed so far.
    pub fn consumed(&self) -> u64 {
        self.outcome.consumed
    }

    /// Says about how many messages will be fed in all (a file's size over
    /// the bytes per line so far, say), so that memory for them is taken
    /// at once rather than grown step by step. Only an estimate: more or
    /// fewer may come.
    pub fn expect_messages(&mut self, messages: u64) {
        self.by_id
            .expect(usize::try_from(messages).unwrap_or(usize::MAX));
    }

    /// Decodes messages (dead letters go to the outbox at once) and holds
    /// their events for [`Rebuild::finish`].
    pub fn feed(&mut self, messages: &[RawMessage]) -> Result<(), EngineError> {
        let mut timer = PhaseTimer::start();
        let mut outputs = Vec::new();
        self.outcome.consumed += messages.len() as u64;
        let events =
            self.engine
                .decode_messages(messages, None, None, &mut self.outcome, &mut outputs);
        if !outputs.is_empty() {
            self.outcome.outputs += outputs.len() as u64;
            let mut batch = Batch::new();
            self.engine.put_outputs(&mut batch, outputs);
            self.engine.finish_write(&mut batch)?;
        }
        if let Some(message) = messages.last() {
            self.cause.last_input = Some(message.position.to_string());
        }
        self.cause.messages += messages.len();
        for event in events {
            let index = partition_of((event.la, event.id.as_str()));
            self.by_id.push(index, event)?;
        }
        timer.lap(&mut self.outcome, PHASE_DECODE);
        Ok(())
    }

    /// Admits, folds, closes every month and commits: the state is then
    /// what the batch driver makes of the whole history in one batch.
    pub fn finish(mut self) -> Result<BatchOutcome, EngineError> {
        let mut timer = PhaseTimer::start();
        let engine = &mut *self.engine;
        let budget = self.options.events_in_memory;
        let mut by_owner: Partitions<Event> =
            Partitions::new(&self.options.spill_dir, "by-owner", budget);
        // Every event held may survive.
        by_owner.expect(self.by_id.pushed);
        let mut span = EventSpan::default();
        let mut batch = Batch::new();

        // Ledger entries and owner records are loaded in bulk, each family
        // as sorted table files, not written through the memtable.
        let mut ledger = engine.store.bulk_load(
            Family::Ledger,
            self.options.spill_dir.join("tables"),
            budget,
        );
        // Ledger: each id partition on its own (a group of them at once,
        // on the pool's threads), in input order, by the revision rules of
        // `Ledger::admit`; then, in partition order, their entries go to
        // the load and their surviving facts to the owner partitions.
        let group = partitions_at_once(engine.pool.as_ref(), budget, self.by_id.pushed);
        for first in (0..PARTITIONS).step_by(group) {
            let mut parts = Vec::with_capacity(group);
            for index in first..(first + group).min(PARTITIONS) {
                parts.push(self.by_id.take(index)?);
            }
            let admitted = map_in_order(engine.pool.as_ref(), parts, admit_partition);
            for part in admitted {
                self.outcome.applied += part.applied;
                self.outcome.duplicates += part.duplicates;
                span.merge(part.span);
                ledger.put_all(part.ledger)?;
                for (event, to) in part.events.into_iter().zip(part.to_partition) {
                    if let Some(index) = to {
                        by_owner.push(usize::from(index), event)?;
                    }
                }
            }
        }
        timer.lap(&mut self.outcome, PHASE_LEDGER);

        // Fold: each owner once, with all its surviving events, while
        // another thread sorts the ledger entries and writes their table.
        let context = RefoldContext {
            config: &engine.config,
            catalogue: &engine.catalogue,
            fault: engine.fault.as_ref(),
        };
        let owners = OwnerFold {
            context: &context,
            pool: engine.pool.as_ref(),
            store: &engine.store,
            tables: self.options.spill_dir.join("tables"),
            budget,
            group,
        };
        let series = &mut engine.series;
        let config = &engine.config;
        let refolded_all = std::thread::scope(|scope| {
            let ledger_loaded = scope.spawn(move || ledger.finish());
            let folded = owners.fold(series, &mut by_owner, &mut self.outcome);
            let loaded = ledger_loaded
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            loaded?;
            let (refolded_all, deltas, owner_records) = folded?;
            timer.lap(&mut self.outcome, PHASE_FOLD);
            // The last run of owner records is sorted and written while
            // the last differences go into the series.
            let owners_loaded = scope.spawn(move || owner_records.finish());
            series.apply(config, &deltas);
            drop(deltas);
            owners_loaded
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            // The series phase also covers the owner records' last run,
            // written beside it.
            timer.lap(&mut self.outcome, PHASE_SERIES);
            Ok::<_, EngineError>(refolded_all)
        })?;
        if by_owner.spills + self.by_id.spills > 0 {
            tracing::info!(
                spills = by_owner.spills + self.by_id.spills,
                "bulk rebuild spilled events to disk"
            );
        }
        let _ = std::fs::remove_dir(self.options.spill_dir.join("tables"));
        let _ = std::fs::remove_dir(&self.options.spill_dir);

        // The shared last steps: clock, month close, live values, commit
        // (which also ends the rebuild).
        batch.delete(Family::Meta, META_REBUILDING);
        engine.advance(
            refolded_all,
            span,
            None,
            self.cause,
            Vec::new(),
            batch,
            &mut self.outcome,
            &mut timer,
        )?;
        // The ledger cache is empty and the store is not: later batches
        // read what they need.
        engine.ledger = Ledger::open(&engine.store, LEDGER_CACHE_CAPACITY)?;
        Ok(self.outcome)
    }
}

/// Most partitions worked on at once, whatever the cores.
const MOST_PARTITIONS_AT_ONCE: usize = 8;

/// Partitions worked on at once: four per thread, so that threads share
/// the work evenly, never more than [`MOST_PARTITIONS_AT_ONCE`], and no
/// more than fit in the memory budget of `budget` events when the history
/// holds `events` (at least one: a partition is never split).
fn partitions_at_once(pool: Option<&rayon::ThreadPool>, budget: usize, events: usize) -> usize {
    let by_threads = pool.map_or(1, |pool| {
        (pool.current_num_threads() * 4).clamp(1, MOST_PARTITIONS_AT_ONCE)
    });
    let per_partition = events.div_ceil(PARTITIONS).max(1);
    by_threads.min(budget / per_partition).max(1)
}

/// `work` on each item, on the pool's threads when there is one; results
/// in the order of the items.
fn map_in_order<T: Send, R: Send>(
    pool: Option<&rayon::ThreadPool>,
    items: Vec<T>,
    work: impl Fn(T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    match pool {
        Some(pool) if items.len() > 1 => pool.install(|| items.into_par_iter().map(work).collect()),
        _ => items.into_iter().map(work).collect(),
    }
}

/// What admitting one id partition gives.
struct AdmittedPartition {
    applied: u64,
    duplicates: u64,
    span: EventSpan,
    /// The ledger entry of every id, its surviving arrival's.
    ledger: EncodedPuts,
    /// The partition's events, in input order.
    events: Vec<Event>,
    /// The owner partition of each surviving fact (not a void); none for
    /// an event that does not go on.
    to_partition: Vec<Option<u8>>,
}

/// Admits one id partition's events, in input order: an event is applied
/// when its revision is above every earlier one of its id, and the last
/// applied revision survives.
fn admit_partition(events: Vec<Event>) -> AdmittedPartition {
    let mut admitted = AdmittedPartition {
        applied: 0,
        duplicates: 0,
        span: EventSpan::default(),
        ledger: EncodedPuts::default(),
        events: Vec::new(),
        to_partition: Vec::new(),
    };
    let mut survivors: FxHashMap<(LaIdx, &str), usize> = FxHashMap::default();
    survivors.reserve(events.len());
    for (position, event) in events.iter().enumerate() {
        let applied = match survivors.entry((event.la, event.id.as_str())) {
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(position);
                true
            }
            std::collections::hash_map::Entry::Occupied(mut held) => {
                if events[*held.get()].revision < event.revision {
                    held.insert(position);
                    true
                } else {
                    false
                }
            }
        };
        if applied {
            admitted.applied += 1;
            if !event.void && !matches!(event.body, Body::Commentary(..)) {
                admitted.span.include(event.date);
            }
        } else {
            admitted.duplicates += 1;
        }
    }
    let mut to_partition = vec![None; events.len()];
    // Entries go to the load in input order, where ids mostly rise: the
    // load's sorted run then reads them back in long ascending stretches,
    // not at random (at random, writing the ledger's table took about
    // twice as long).
    let mut surviving: Vec<usize> = survivors.into_values().collect();
    surviving.sort_unstable();
    for position in surviving {
        let event = &events[position];
        if !event.void {
            let index = u8::try_from(partition_of(event.owner_ref())).expect("64 partitions");
            to_partition[position] = Some(index);
        }
        admitted.ledger.put(
            &crate::ledger::entry_key(event.la, &event.id),
            |buffer| {
                crate::ledger::encode_entry(event.revision, event.owner_ref(), event.void, buffer)
            },
            1,
        );
    }
    admitted.events = events;
    admitted.to_partition = to_partition;
    admitted
}

/// What folding one owner partition gives.
struct FoldedPartition {
    /// Owners folded.
    owners: u64,
    refolded: Refolded,
    /// Each owner's record, encoded.
    records: EncodedPuts,
}

/// Groups one owner partition's events by owner (in the order owners first
/// appear), folds each owner once and encodes its record.
fn fold_partition(context: &RefoldContext<'_>, events: Vec<Event>) -> FoldedPartition {
    let mut folded = FoldedPartition {
        owners: 0,
        refolded: Refolded::default(),
        records: EncodedPuts::default(),
    };
    if events.is_empty() {
        return folded;
    }
    // Events are moved once (they are large), not sorted.
    let mut owners: Vec<(Owner, usize)> = Vec::new();
    let mut record_of: Vec<u32> = Vec::with_capacity(events.len());
    {
        let mut index_of: FxHashMap<OwnerRef<'_>, u32> = FxHashMap::default();
        for event in &events {
            let next = owners.len() as u32;
            let record = *index_of.entry(event.owner_ref()).or_insert_with(|| {
                owners.push((event.owner(), 0));
                next
            });
            owners[record as usize].1 += 1;
            record_of.push(record);
        }
    }
    let mut records: Vec<(Owner, OwnerRecord)> = owners
        .into_iter()
        .map(|(owner, count)| {
            let record = OwnerRecord {
                events: Vec::with_capacity(count),
                ..OwnerRecord::default()
            };
            (owner, record)
        })
        .collect();
    for (event, record) in events.into_iter().zip(record_of) {
        records[record as usize].1.events.push(event);
    }
    folded.owners = records.len() as u64;
    for (owner, record) in &mut records {
        context.refold(owner, record, &mut folded.refolded);
        folded.records.put(
            &crate::ledger::owner_key(owner),
            |buffer| crate::ledger::encode_into(&*record, buffer),
            record.events.len(),
        );
    }
    folded
}

/// The fold step of a rebuild: what it needs of the engine, borrowed apart
/// from the store's ledger load running beside it.
struct OwnerFold<'a> {
    context: &'a RefoldContext<'a>,
    pool: Option<&'a rayon::ThreadPool>,
    store: &'a Store,
    tables: PathBuf,
    budget: usize,
    /// Partitions folded at once.
    group: usize,
}

impl<'a> OwnerFold<'a> {
    /// Folds each owner of every partition once, puts the owner records to
    /// a bulk load and adds the contributions to the series; returns what
    /// the fold found, the differences not yet applied to the series and
    /// the owner records' load, to be finished.
    fn fold(
        self,
        series: &mut SeriesStore,
        by_owner: &mut Partitions<Event>,
        outcome: &mut BatchOutcome,
    ) -> Result<(Refolded, Vec<Point>, BulkLoad<'a>), EngineError> {
        let budget = self.budget;
        let mut refolded_all = Refolded::default();
        // Differences wait to be applied to the series together (applying
        // merges into every series they touch) until they number as many
        // as the events the budget allows (checked after each partition).
        let mut deltas: Vec<Point> = Vec::new();
        let mut owner_records = self.store.bulk_load(Family::Owners, self.tables, budget);
        let group = self.group;
        for first in (0..PARTITIONS).step_by(group) {
            let mut parts = Vec::with_capacity(group);
            for index in first..(first + group).min(PARTITIONS) {
                parts.push(by_owner.take(index)?);
            }
            let folded = map_in_order(self.pool, parts, |events| {
                fold_partition(self.context, events)
            });
            for part in folded {
                outcome.refolded += part.owners;
                let mut refolded = part.refolded;
                deltas.append(&mut refolded.deltas);
                if deltas.len() >= budget {
                    series.apply(self.context.config, &deltas);
                    deltas.clear();
                }
                refolded_all.absorb(refolded);
                owner_records.put_all(part.records)?;
            }
        }
        Ok((refolded_all, deltas, owner_records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_at_once_follow_the_threads_and_fit_the_budget() {
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let sixteen = rayon::ThreadPoolBuilder::new()
            .num_threads(16)
            .build()
            .unwrap();
        // One thread, no pool: one partition at a time.
        assert_eq!(partitions_at_once(None, usize::MAX, 1_000_000), 1);
        // Four per thread, at most eight, when the budget holds them.
        assert_eq!(partitions_at_once(Some(&two), 4_000_000, 1_000_000), 8);
        assert_eq!(partitions_at_once(Some(&sixteen), 4_000_000, 1_000_000), 8);
        // 86 million events: a 64th is 1,343,750; a budget of 4 million
        // holds two of them.
        assert_eq!(partitions_at_once(Some(&two), 4_000_000, 86_000_000), 2);
        // A budget below one partition still works through one at a time.
        assert_eq!(partitions_at_once(Some(&sixteen), 10, 1_000_000), 1);
        assert_eq!(partitions_at_once(Some(&two), 4_000_000, 0), 8);
    }
}
