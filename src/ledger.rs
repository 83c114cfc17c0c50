//! The ledger: which revision of every event survives, and each child's and
//! unit's surviving events.
//!
//! Rules (`docs/events.md`, decision D2 and decision D3): per `event_id` the
//! highest revision wins wholesale (it may even move the event to another
//! child); an equal or lower revision changes nothing, so for one
//! (`event_id`, `revision`) the first arrival is kept; a surviving revision
//! with `void: true` counts for nothing, and a later higher revision restores
//! the fact. The ledger keeps an index entry per event id and an
//! [`OwnerRecord`] per child or unit, cached in memory and backed by the
//! `ledger` and `owners` column families.

use crate::config::{LaIdx, UnitIdx};
use crate::contrib::Point;
use crate::event::{Event, Owner, OwnerRef};
use crate::fold::Anomaly;
use crate::store::{Batch, Family, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The surviving revision of one event id.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The highest revision seen.
    pub revision: u64,
    /// Its owner.
    pub owner: Owner,
    /// Whether that revision is a void.
    pub void: bool,
}

/// A child's or unit's surviving events and what they last contributed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OwnerRecord {
    /// Surviving, non-void events (any order).
    pub events: Vec<Event>,
    /// The normalised contribution points applied to the series.
    pub points: Vec<Point>,
    /// The anomalies of the last fold.
    pub anomalies: Vec<Anomaly>,
}

/// What admitting an event did.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Admission {
    /// A new event or a higher revision: owners touched.
    Applied,
    /// An equal or lower revision of a known event: nothing changes.
    Duplicate,
}

/// A state record that failed to decode.
#[derive(Debug, thiserror::Error)]
#[error("corrupt {what} record in the state store: {detail}")]
pub struct CorruptRecord {
    /// Which record kind.
    pub what: &'static str,
    /// The decoder's complaint.
    pub detail: String,
}

/// Errors reading ledger state.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record did not decode.
    #[error(transparent)]
    Corrupt(#[from] CorruptRecord),
}

/// The key of an owner record.
pub fn owner_key(owner: &Owner) -> Vec<u8> {
    match owner {
        Owner::Child(LaIdx(la), child) => {
            let mut key = Vec::with_capacity(3 + child.len());
            key.push(b'c');
            key.extend_from_slice(&la.to_be_bytes());
            key.extend_from_slice(child.as_bytes());
            key
        }
        Owner::Unit(UnitIdx(unit)) => {
            let mut key = vec![b'u'];
            key.extend_from_slice(&unit.to_be_bytes());
            key
        }
    }
}

/// The key of an event id's ledger entry: ids are scoped by authority, so
/// two authorities' ids never collide.
pub fn entry_key(la: LaIdx, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + id.len());
    write_entry_key(la, id, &mut key);
    key
}

fn write_entry_key(LaIdx(la): LaIdx, id: &str, key: &mut Vec<u8>) {
    key.clear();
    key.extend_from_slice(&la.to_be_bytes());
    key.extend_from_slice(id.as_bytes());
}

/// Adds the ledger entry of event id `id` of authority `la` to `batch`:
/// its surviving `revision`, owner and whether that revision is a void
/// (the encoding of [`LedgerEntry`]).
pub fn put_entry(
    batch: &mut Batch,
    la: LaIdx,
    id: &str,
    revision: u64,
    owner: OwnerRef<'_>,
    void: bool,
) {
    batch.put_encoded(Family::Ledger, entry_key(la, id), |buffer| {
        encode_entry(revision, owner, void, buffer)
    });
}

/// Appends the value of a ledger entry (see [`put_entry`]) to `buffer`.
pub fn encode_entry(revision: u64, owner: OwnerRef<'_>, void: bool, buffer: &mut Vec<u8>) {
    #[derive(Serialize)]
    struct Entry<'a> {
        revision: u64,
        owner: OwnerRef<'a>,
        void: bool,
    }
    let entry = Entry {
        revision,
        owner,
        void,
    };
    encode_into(&entry, buffer);
}

/// Appends the encoding of `value` to `buffer` (a write batch's arena).
pub(crate) fn encode_into<T: Serialize>(value: &T, buffer: &mut Vec<u8>) {
    let taken = std::mem::take(buffer);
    *buffer = postcard::to_extend(value, taken).expect("in-memory records always encode");
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

/// The surviving revision of one event id, as cached: the owner is an index
/// into the owner cache.
#[derive(Clone, Copy, Debug)]
struct CachedEntry {
    revision: u64,
    owner: u32,
    void: bool,
    /// Changed since the last [`Ledger::write`].
    dirty: bool,
}

/// [`LedgerEntry`] borrowing its owner, for writing (same encoding).
#[derive(Serialize)]
struct LedgerEntryRef<'a> {
    revision: u64,
    owner: &'a Owner,
    void: bool,
}

/// A cached owner record and whether it changed since the last write.
#[derive(Default)]
struct CachedOwner {
    record: OwnerRecord,
    touched: bool,
}

/// A handle on a cached owner, valid until the next [`Ledger::trim`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct OwnerId(u32);

type FxIndexMap<K, V> = indexmap::IndexMap<K, V, rustc_hash::FxBuildHasher>;

/// The ledger with its caches.
///
/// Entries and owners live in insertion-ordered maps, so an entry names its
/// owner by index and dirty or touched items are lists of indices: admitting
/// an event costs one lookup of its id and one of its owner, and allocates
/// only the cached copy of a new id.
pub struct Ledger {
    /// Keyed by [`entry_key`].
    entries: FxIndexMap<Box<[u8]>, CachedEntry>,
    owners: FxIndexMap<Owner, CachedOwner>,
    /// Every stored entry and owner is cached (a fresh state): misses need no read.
    complete: bool,
    dirty_entries: Vec<u32>,
    touched: Vec<OwnerId>,
    capacity: usize,
    /// Reused for the entry key of the event being admitted.
    key: Vec<u8>,
}

fn index(position: usize) -> u32 {
    u32::try_from(position).expect("ledger caches hold fewer than 2^32 items")
}

impl Ledger {
    /// A ledger over `store`; a fresh (empty) store needs no reads at all.
    pub fn open(store: &Store, capacity: usize) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            entries: FxIndexMap::default(),
            owners: FxIndexMap::default(),
            complete: store.is_empty(Family::Ledger)?,
            dirty_entries: Vec::new(),
            touched: Vec::new(),
            capacity: capacity.max(1),
            key: Vec::new(),
        })
    }

    /// Loads the entries and owner records a batch of events needs.
    pub fn prefetch(&mut self, store: &Store, events: &[&Event]) -> Result<(), LedgerError> {
        if self.complete {
            return Ok(());
        }
        let mut keys: Vec<Vec<u8>> = events
            .iter()
            .map(|event| entry_key(event.la, &event.id))
            .filter(|key| !self.entries.contains_key(key.as_slice()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut loaded: Vec<(Vec<u8>, LedgerEntry)> = Vec::new();
        let values = store.multi_get(Family::Ledger, &keys)?;
        for (key, value) in keys.into_iter().zip(values) {
            if let Some(bytes) = value {
                loaded.push((key, decode("ledger", &bytes)?));
            }
        }
        let mut owners: Vec<Owner> = events
            .iter()
            .map(|event| event.owner_ref())
            .filter(|owner| !self.owners.contains_key(owner))
            .map(OwnerRef::to_owner)
            .collect();
        owners.extend(
            loaded
                .iter()
                .filter(|(_, entry)| !self.owners.contains_key(&entry.owner))
                .map(|(_, entry)| entry.owner.clone()),
        );
        owners.sort_unstable();
        owners.dedup();
        let keys: Vec<Vec<u8>> = owners.iter().map(owner_key).collect();
        for (owner, value) in owners
            .into_iter()
            .zip(store.multi_get(Family::Owners, &keys)?)
        {
            let record = match value {
                Some(bytes) => decode("owner", &bytes)?,
                None => OwnerRecord::default(),
            };
            self.owners.insert(
                owner,
                CachedOwner {
                    record,
                    touched: false,
                },
            );
        }
        for (key, entry) in loaded {
            let owner = self
                .owners
                .get_index_of(&entry.owner)
                .expect("owners of loaded entries were just loaded");
            self.entries.insert(
                key.into_boxed_slice(),
                CachedEntry {
                    revision: entry.revision,
                    owner: index(owner),
                    void: entry.void,
                    dirty: false,
                },
            );
        }
        Ok(())
    }

    /// Makes room for a batch of `events` new entries.
    pub fn reserve(&mut self, events: usize) {
        self.entries.reserve(events);
        self.dirty_entries.reserve(events);
    }

    fn touch(&mut self, owner: u32) {
        let (_, cached) = self
            .owners
            .get_index_mut(owner as usize)
            .expect("entries name cached owners");
        if !cached.touched {
            cached.touched = true;
            self.touched.push(OwnerId(owner));
        }
    }

    /// Applies the revision rules to one event (after [`Ledger::prefetch`]).
    pub fn admit(&mut self, event: Event) -> Admission {
        let owner = match self.owners.get_index_of(&event.owner_ref()) {
            Some(position) => index(position),
            None => index(
                self.owners
                    .insert_full(event.owner(), CachedOwner::default())
                    .0,
            ),
        };
        let entry = CachedEntry {
            revision: event.revision,
            owner,
            void: event.void,
            dirty: true,
        };
        let mut key = std::mem::take(&mut self.key);
        write_entry_key(event.la, &event.id, &mut key);
        let found = self.entries.get_full_mut(key.as_slice());
        match found {
            Some((position, _, held)) => {
                if held.revision >= event.revision {
                    self.key = key;
                    return Admission::Duplicate;
                }
                let previous = std::mem::replace(held, entry);
                if !previous.dirty {
                    self.dirty_entries.push(index(position));
                }
                if !previous.void {
                    let (_, cached) = self
                        .owners
                        .get_index_mut(previous.owner as usize)
                        .expect("entries name cached owners");
                    cached.record.events.retain(|kept| kept.id != event.id);
                    self.touch(previous.owner);
                }
            }
            None => {
                let (position, _) = self.entries.insert_full(key.as_slice().into(), entry);
                self.dirty_entries.push(index(position));
            }
        }
        self.key = key;
        self.touch(owner);
        if !event.void {
            self.owners[owner as usize].record.events.push(event);
        }
        Admission::Applied
    }

    /// The owners whose events changed since the last write, in the order
    /// they were first touched.
    pub fn touched(&self) -> &[OwnerId] {
        &self.touched
    }

    /// A touched owner and its record (valid until the next [`Ledger::trim`]).
    pub fn owner_mut(&mut self, id: OwnerId) -> (&Owner, &mut OwnerRecord) {
        let (owner, cached) = self
            .owners
            .get_index_mut(id.0 as usize)
            .expect("owner ids come from this ledger");
        (owner, &mut cached.record)
    }

    /// Every touched owner and its record, in the order they were first
    /// touched (valid until the next [`Ledger::trim`]): disjoint borrows, so
    /// that owners can be re-folded on several threads.
    pub fn touched_records_mut(&mut self) -> Vec<(&Owner, &mut OwnerRecord)> {
        let rank: rustc_hash::FxHashMap<u32, usize> = self
            .touched
            .iter()
            .enumerate()
            .map(|(rank, OwnerId(index))| (*index, rank))
            .collect();
        let mut records: Vec<(usize, &Owner, &mut OwnerRecord)> = self
            .owners
            .iter_mut()
            .enumerate()
            .filter(|(_, (_, cached))| cached.touched)
            .map(|(index, (owner, cached))| (rank[&(index as u32)], owner, &mut cached.record))
            .collect();
        records.sort_unstable_by_key(|(rank, _, _)| *rank);
        records
            .into_iter()
            .map(|(_, owner, record)| (owner, record))
            .collect()
    }

    /// A cached owner record.
    pub fn record(&self, owner: &Owner) -> Option<&OwnerRecord> {
        self.owners.get(owner).map(|cached| &cached.record)
    }

    /// Reads one owner record straight from the store (for listings).
    pub fn load_record(store: &Store, owner: &Owner) -> Result<Option<OwnerRecord>, LedgerError> {
        match store.get(Family::Owners, &owner_key(owner))? {
            Some(bytes) => Ok(Some(decode("owner", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Adds changed entries and touched owner records to the write batch
    /// and forgets that they changed.
    pub fn write(&mut self, batch: &mut Batch) {
        self.write_entries(batch);
        self.write_owners(batch);
    }

    /// Adds changed entries to the write batch and forgets that they changed.
    fn write_entries(&mut self, batch: &mut Batch) {
        for position in self.dirty_entries.drain(..) {
            let (id, entry) = self
                .entries
                .get_index_mut(position as usize)
                .expect("dirty entries are cached");
            entry.dirty = false;
            let (owner, _) = self
                .owners
                .get_index(entry.owner as usize)
                .expect("entries name cached owners");
            let stored = LedgerEntryRef {
                revision: entry.revision,
                owner,
                void: entry.void,
            };
            batch.put_encoded(Family::Ledger, id, |buffer| encode_into(&stored, buffer));
        }
    }

    /// Adds touched owner records to the write batch and forgets that they
    /// were touched.
    fn write_owners(&mut self, batch: &mut Batch) {
        for OwnerId(position) in self.touched.drain(..) {
            let (owner, cached) = self
                .owners
                .get_index_mut(position as usize)
                .expect("touched owners are cached");
            cached.touched = false;
            let key = owner_key(owner);
            let record = &cached.record;
            if !record.events.is_empty() || !record.points.is_empty() {
                batch.put_encoded(Family::Owners, key, |buffer| encode_into(record, buffer))
            } else {
                batch.delete(Family::Owners, key)
            }
        }
    }

    /// After a commit: drops the caches when they outgrow their bound, so
    /// memory stays bounded; later misses are read from the store.
    pub fn trim(&mut self) {
        if self.entries.len() > self.capacity || self.owners.len() > self.capacity {
            self.entries = FxIndexMap::default();
            self.owners = FxIndexMap::default();
            self.complete = false;
        }
    }

    /// Number of cached index entries and owner records.
    pub fn cached(&self) -> (usize, usize) {
        (self.entries.len(), self.owners.len())
    }
}
