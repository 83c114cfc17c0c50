//! The ledger: which revision of every event survives, and each child's and
//! unit's surviving events.
//!
//! Rules (`spec/events.md`, clarifications C2 and C3): per `event_id` the
//! highest revision wins wholesale (it may even move the event to another
//! child); an equal or lower revision changes nothing, so for one
//! (`event_id`, `revision`) the first arrival is kept; a surviving revision
//! with `void: true` counts for nothing, and a later higher revision restores
//! the fact. The ledger keeps an index entry per event id and an
//! [`OwnerRecord`] per child or unit, cached in memory and backed by the
//! `ledger` and `owners` column families.

use crate::config::{LaIdx, UnitIdx};
use crate::contrib::Point;
use crate::event::{Event, Owner};
use crate::fold::Anomaly;
use crate::store::{Batch, Family, Store, StoreError};
use rustc_hash::{FxHashMap, FxHashSet};
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

/// The ledger with its caches.
pub struct Ledger {
    entries: FxHashMap<String, LedgerEntry>,
    owners: FxHashMap<Owner, OwnerRecord>,
    /// Every stored entry and owner is cached (a fresh state): misses need no read.
    complete: bool,
    dirty_entries: Vec<String>,
    touched: FxHashSet<Owner>,
    capacity: usize,
}

impl Ledger {
    /// A ledger over `store`; a fresh (empty) store needs no reads at all.
    pub fn open(store: &Store, capacity: usize) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            entries: FxHashMap::default(),
            owners: FxHashMap::default(),
            complete: store.is_empty(Family::Ledger)?,
            dirty_entries: Vec::new(),
            touched: FxHashSet::default(),
            capacity: capacity.max(1),
        })
    }

    /// Loads the entries and owner records a batch of events needs.
    pub fn prefetch(&mut self, store: &Store, events: &[&Event]) -> Result<(), LedgerError> {
        if self.complete {
            return Ok(());
        }
        let mut ids: Vec<&str> = events
            .iter()
            .map(|event| event.id.as_str())
            .filter(|id| !self.entries.contains_key(*id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| id.as_bytes().to_vec()).collect();
        for (id, value) in ids.iter().zip(store.multi_get(Family::Ledger, &keys)?) {
            if let Some(bytes) = value {
                self.entries
                    .insert(id.to_string(), decode("ledger", &bytes)?);
            }
        }
        let mut owners: Vec<Owner> = events.iter().map(|event| event.owner()).collect();
        owners.extend(
            events
                .iter()
                .filter_map(|event| self.entries.get(&event.id))
                .map(|entry| entry.owner.clone()),
        );
        owners.sort_unstable();
        owners.dedup();
        owners.retain(|owner| !self.owners.contains_key(owner));
        let keys: Vec<Vec<u8>> = owners.iter().map(owner_key).collect();
        for (owner, value) in owners
            .into_iter()
            .zip(store.multi_get(Family::Owners, &keys)?)
        {
            let record = match value {
                Some(bytes) => decode("owner", &bytes)?,
                None => OwnerRecord::default(),
            };
            self.owners.insert(owner, record);
        }
        Ok(())
    }

    /// Makes room for a batch of `events` new entries.
    pub fn reserve(&mut self, events: usize) {
        self.entries.reserve(events);
        self.dirty_entries.reserve(events);
    }

    /// Applies the revision rules to one event (after [`Ledger::prefetch`]).
    pub fn admit(&mut self, event: Event) -> Admission {
        let entry = LedgerEntry {
            revision: event.revision,
            owner: event.owner(),
            void: event.void,
        };
        match self.entries.get_mut(event.id.as_str()) {
            Some(held) => {
                if held.revision >= event.revision {
                    return Admission::Duplicate;
                }
                let previous = std::mem::replace(held, entry);
                if !previous.void {
                    if let Some(record) = self.owners.get_mut(&previous.owner) {
                        record.events.retain(|kept| kept.id != event.id);
                    }
                    self.touched.insert(previous.owner);
                }
            }
            None => {
                self.entries.insert(event.id.clone(), entry);
            }
        }
        self.dirty_entries.push(event.id.clone());
        let owner = &self.entries[event.id.as_str()].owner;
        if !self.touched.contains(owner) {
            self.touched.insert(owner.clone());
        }
        if !event.void {
            match self.owners.get_mut(owner) {
                Some(record) => record.events.push(event),
                None => {
                    let owner = owner.clone();
                    self.owners.insert(
                        owner,
                        OwnerRecord {
                            events: vec![event],
                            ..OwnerRecord::default()
                        },
                    );
                }
            }
        }
        Admission::Applied
    }

    /// The owners whose events changed since the last call, sorted.
    pub fn take_touched(&mut self) -> Vec<Owner> {
        let mut touched: Vec<Owner> = self.touched.drain().collect();
        touched.sort_unstable();
        touched
    }

    /// An owner record (cached by [`Ledger::prefetch`] or [`Ledger::admit`]).
    pub fn record_mut(&mut self, owner: &Owner) -> &mut OwnerRecord {
        self.owners.entry(owner.clone()).or_default()
    }

    /// A cached owner record.
    pub fn record(&self, owner: &Owner) -> Option<&OwnerRecord> {
        self.owners.get(owner)
    }

    /// Reads one owner record straight from the store (for listings).
    pub fn load_record(store: &Store, owner: &Owner) -> Result<Option<OwnerRecord>, LedgerError> {
        match store.get(Family::Owners, &owner_key(owner))? {
            Some(bytes) => Ok(Some(decode("owner", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Adds changed entries and the given owner records to the write batch.
    pub fn write(&mut self, owners: &[Owner], batch: &mut Batch) {
        for id in self.dirty_entries.drain(..) {
            let entry = &self.entries[id.as_str()];
            batch.put_encoded(Family::Ledger, id.as_bytes(), |buffer| {
                encode_into(entry, buffer)
            });
        }
        for owner in owners {
            let key = owner_key(owner);
            match self.owners.get(owner) {
                Some(record) if !record.events.is_empty() || !record.points.is_empty() => {
                    batch.put_encoded(Family::Owners, key, |buffer| encode_into(record, buffer))
                }
                _ => batch.delete(Family::Owners, key),
            }
        }
    }

    /// After a commit: drops the caches when they outgrow their bound, so
    /// memory stays bounded; later misses are read from the store.
    pub fn trim(&mut self) {
        if self.entries.len() > self.capacity || self.owners.len() > self.capacity {
            self.entries.clear();
            self.owners.clear();
            self.complete = false;
        }
    }

    /// Number of cached index entries and owner records.
    pub fn cached(&self) -> (usize, usize) {
        (self.entries.len(), self.owners.len())
    }
}
