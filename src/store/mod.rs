//! The state store: column families, key encoding helpers, the write batch.
//!
//! It knows no domain types: callers hand it byte keys and values. One
//! [`Batch`] is written atomically per processed input batch, so state, input
//! positions and pending outputs always move together.
//!
//! Two backends: RocksDB (`rocks`, the only module that imports `rocksdb`)
//! for every real state directory, and an in-memory store (`memory`) with
//! the same crash semantics, for deterministic fault simulation and fuzzing
//! (it can fail a chosen write and "crash", losing what RocksDB would lose).
//!
//! Column families and key layout (format version [`FORMAT_VERSION`]):
//!
//! | family | key | value |
//! | --- | --- | --- |
//! | `meta` | ASCII name | postcard or UTF-8 |
//! | `ledger` | la (u16 BE) + `event_id` bytes | revision, owner, void |
//! | `owners` | `c` + la (u16 BE) + child_id, or `u` + unit (u32 BE) | surviving events, contribution points, anomalies |
//! | `series` | slot (u16 BE) + unit (u32 BE) + month (i32 BE, sign flipped) | that month's dated deltas |
//! | `recorded` | month (i32 BE, sign flipped) + unit (u32 BE) + slot (u16 BE) | the closed month's recorded value |
//! | `live` | slot (u16 BE) + unit (u32 BE) | last live value emitted and its sequence |
//! | `outbox` | sequence (u64 BE) | a pending output record |
//! | `parked` | sequence (u64 BE) | an output record the broker refused for good, and why |

mod bulk_load;
mod memory;
#[cfg(feature = "rocksdb")]
mod rocks;

pub use bulk_load::{BulkLoad, EncodedPuts};
pub use memory::MemoryDisk;
#[cfg(feature = "rocksdb")]
use std::path::Path;

/// Bumped whenever a key or value layout changes; a state directory of
/// another version must be rebuilt by replay.
pub const FORMAT_VERSION: u32 = 2;

/// A column family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    /// Format version, configuration fingerprint, clock, input positions, counters.
    Meta,
    /// Revision index per event id.
    Ledger,
    /// Per child or unit: surviving events and last contributions.
    Owners,
    /// Per (slot, unit, month): dated deltas.
    Series,
    /// Recorded month-end values of closed months.
    Recorded,
    /// Last live values.
    Live,
    /// Pending output records.
    Outbox,
    /// Output records the broker refused for good, kept until retried.
    Parked,
}

impl Family {
    /// Every family, in a fixed order.
    pub const ALL: [Family; 8] = [
        Family::Meta,
        Family::Ledger,
        Family::Owners,
        Family::Series,
        Family::Recorded,
        Family::Live,
        Family::Outbox,
        Family::Parked,
    ];

    /// The column family's name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Meta => "meta",
            Family::Ledger => "ledger",
            Family::Owners => "owners",
            Family::Series => "series",
            Family::Recorded => "recorded",
            Family::Live => "live",
            Family::Outbox => "outbox",
            Family::Parked => "parked",
        }
    }
}

/// How a write reaches disk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Durability {
    /// Write-ahead log, synced before returning (live).
    Sync,
    /// Write-ahead log, not synced.
    Wal,
    /// No write-ahead log (replay).
    NoWal,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB refused an operation.
    #[cfg(feature = "rocksdb")]
    #[error("state store {path}: {source}")]
    Rocks {
        /// The state directory.
        path: String,
        /// The RocksDB error.
        source: rocksdb::Error,
    },
    /// A file of a bulk load could not be written.
    #[error("state store {path}: {error}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the file system said.
        error: std::io::Error,
    },
    /// A simulated disk failed a write on purpose.
    #[error("state store {path}: injected write failure")]
    Injected {
        /// The simulated disk's name.
        path: String,
    },
}

/// An open state store.
pub struct Store {
    backend: Backend,
}

enum Backend {
    #[cfg(feature = "rocksdb")]
    Rocks(rocks::RocksStore),
    Memory(MemoryDisk),
}

/// Writes to apply atomically.
///
/// Keys and values are laid end to end in one arena, so a batch of many
/// small records costs a few growing buffers rather than two allocations per
/// record; [`Batch::put_encoded`] serializes a value straight into it.
#[derive(Default)]
pub struct Batch {
    arena: Vec<u8>,
    operations: Vec<Operation>,
}

/// One write: the family and byte ranges of the key and value in the arena.
struct Operation {
    family: Family,
    key: std::ops::Range<usize>,
    /// `None` deletes the key.
    value: Option<std::ops::Range<usize>>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    fn push_key(&mut self, key: &[u8]) -> std::ops::Range<usize> {
        let start = self.arena.len();
        self.arena.extend_from_slice(key);
        start..self.arena.len()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, family: Family, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let key = self.push_key(key.as_ref());
        let start = self.arena.len();
        self.arena.extend_from_slice(value.as_ref());
        self.operations.push(Operation {
            family,
            key,
            value: Some(start..self.arena.len()),
        });
    }

    /// Sets `key` to the bytes `write` appends to the buffer it is given.
    pub fn put_encoded(
        &mut self,
        family: Family,
        key: impl AsRef<[u8]>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let key = self.push_key(key.as_ref());
        let start = self.arena.len();
        write(&mut self.arena);
        self.operations.push(Operation {
            family,
            key,
            value: Some(start..self.arena.len()),
        });
    }

    /// Deletes `key`.
    pub fn delete(&mut self, family: Family, key: impl AsRef<[u8]>) {
        let key = self.push_key(key.as_ref());
        self.operations.push(Operation {
            family,
            key,
            value: None,
        });
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Bytes of keys and values.
    pub fn bytes(&self) -> usize {
        self.arena.len()
    }

    /// Every operation: family, key and value (`None` deletes).
    fn operations(&self) -> impl Iterator<Item = (Family, &[u8], Option<&[u8]>)> + '_ {
        self.operations.iter().map(|operation| {
            (
                operation.family,
                &self.arena[operation.key.clone()],
                operation
                    .value
                    .as_ref()
                    .map(|value| &self.arena[value.clone()]),
            )
        })
    }

    /// Empties the batch, keeping its buffers for the next one (a replay's
    /// batches are hundreds of megabytes: fresh buffers would cost page
    /// faults on every batch).
    pub fn clear(&mut self) {
        self.arena.clear();
        self.operations.clear();
    }
}

impl Store {
    /// Opens (creating if needed) a RocksDB state directory.
    #[cfg(feature = "rocksdb")]
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Rocks(rocks::RocksStore::open(path)?),
        })
    }

    /// A store on a simulated disk (shared with every other store opened on it).
    pub fn in_memory(disk: &MemoryDisk) -> Store {
        Store {
            backend: Backend::Memory(disk.clone()),
        }
    }

    /// Reads one value.
    pub fn get(&self, family: Family, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(store) => store.get(family, key),
            Backend::Memory(disk) => Ok(disk.get(family, key)),
        }
    }

    /// Reads many values at once.
    pub fn multi_get(
        &self,
        family: Family,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        match &self.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(store) => store.multi_get(family, keys),
            Backend::Memory(disk) => Ok(keys.iter().map(|key| disk.get(family, key)).collect()),
        }
    }

    /// Calls `visit` for every key and value of a family, in key order.
    pub fn for_each(
        &self,
        family: Family,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        self.for_each_from(family, &[], visit)
    }

    /// Visits the keys of a family from `from` on, in key order, while
    /// `visit` returns true (a seek: deleted keys before `from` cost nothing).
    pub fn for_each_from(
        &self,
        family: Family,
        from: &[u8],
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        match &self.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(store) => store.for_each_from(family, from, visit),
            Backend::Memory(disk) => {
                disk.for_each_from(family, from, visit);
                Ok(())
            }
        }
    }

    /// Whether a family holds no key.
    pub fn is_empty(&self, family: Family) -> Result<bool, StoreError> {
        let mut empty = true;
        self.for_each(family, |_, _| {
            empty = false;
            false
        })?;
        Ok(empty)
    }

    /// Writes a batch atomically. `Durability::Sync` waits for the
    /// write-ahead log to reach disk; `Durability::NoWal` skips the log (a
    /// crash loses the batches since the last flush, as a whole: replay
    /// re-applies them).
    pub fn write(&self, batch: &Batch, durability: Durability) -> Result<(), StoreError> {
        match &self.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(store) => store.write(batch, durability),
            Backend::Memory(disk) => disk.write(batch, durability),
        }
    }

    /// Approximate bytes on disk (live SST files plus memtables).
    pub fn size_bytes(&self) -> u64 {
        match &self.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(store) => store.size_bytes(),
            Backend::Memory(disk) => disk.size_bytes(),
        }
    }

    /// Flushes memtables to disk.
    ///
    /// Every column family is flushed in one atomic flush, so the files on
    /// disk always hold the same batches in every family.
    pub fn flush(&self) -> Result<(), StoreError> {
        match &self.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(store) => store.flush(),
            Backend::Memory(disk) => {
                disk.flush();
                Ok(())
            }
        }
    }
}

/// Removes everything inside the state directory `path`, keeping the
/// directory itself: it may be a mount point (a container volume), which
/// cannot be removed.
pub fn empty_directory(path: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Encodes an `i32` so that byte order equals numeric order.
pub fn ordered_i32(value: i32) -> [u8; 4] {
    ((value as u32) ^ 0x8000_0000).to_be_bytes()
}

/// Decodes [`ordered_i32`].
pub fn from_ordered_i32(bytes: [u8; 4]) -> i32 {
    (u32::from_be_bytes(bytes) ^ 0x8000_0000) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_batches(store: &Store) {
        assert!(store.is_empty(Family::Ledger).unwrap());
        let mut batch = Batch::new();
        batch.put(Family::Ledger, b"a", b"1");
        batch.put(Family::Ledger, b"b", b"2");
        batch.put(Family::Meta, b"x", b"y");
        batch.delete(Family::Ledger, b"b");
        store.write(&batch, Durability::Wal).unwrap();
        assert_eq!(
            store.get(Family::Ledger, b"a").unwrap(),
            Some(b"1".to_vec())
        );
        assert_eq!(
            store
                .multi_get(Family::Ledger, &[b"a".to_vec(), b"b".to_vec()])
                .unwrap(),
            vec![Some(b"1".to_vec()), None]
        );
        let mut seen = Vec::new();
        store
            .for_each_from(Family::Ledger, b"a", |key, value| {
                seen.push((key.to_vec(), value.to_vec()));
                true
            })
            .unwrap();
        assert_eq!(seen, vec![(b"a".to_vec(), b"1".to_vec())]);
    }

    #[test]
    fn the_memory_store_behaves_like_rocksdb_and_crashes_like_it() {
        let disk = MemoryDisk::new("test");
        check_batches(&Store::in_memory(&disk));
        // Without the write-ahead log, a crash loses what was not flushed.
        let store = Store::in_memory(&disk);
        let mut batch = Batch::new();
        batch.put(Family::Meta, b"lost", b"1");
        store.write(&batch, Durability::NoWal).unwrap();
        disk.crash();
        assert_eq!(store.get(Family::Meta, b"lost").unwrap(), None);
        assert_eq!(store.get(Family::Meta, b"x").unwrap(), Some(b"y".to_vec()));
        store.write(&batch, Durability::NoWal).unwrap();
        store.flush().unwrap();
        disk.crash();
        assert_eq!(
            store.get(Family::Meta, b"lost").unwrap(),
            Some(b"1".to_vec())
        );
        // A chosen write fails and changes nothing.
        disk.fail_write(disk.writes() + 1);
        let mut batch = Batch::new();
        batch.put(Family::Meta, b"failed", b"1");
        assert!(store.write(&batch, Durability::Wal).is_err());
        assert_eq!(store.get(Family::Meta, b"failed").unwrap(), None);
        store.write(&batch, Durability::Wal).unwrap();
        assert_eq!(
            store.get(Family::Meta, b"failed").unwrap(),
            Some(b"1".to_vec())
        );
    }

    #[cfg(feature = "rocksdb")]
    #[test]
    fn batches_are_atomic_and_readable() {
        let directory = tempfile::tempdir().unwrap();
        check_batches(&Store::open(directory.path()).unwrap());
    }

    #[cfg(feature = "rocksdb")]
    #[test]
    fn batches_survive_reopening() {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open(directory.path()).unwrap();
        check_batches(&store);
        drop(store);
        let store = Store::open(directory.path()).unwrap();
        assert_eq!(store.get(Family::Meta, b"x").unwrap(), Some(b"y".to_vec()));
    }

    #[test]
    fn ordered_integers_sort_as_bytes() {
        let values = [-5, -1, 0, 1, 24_000];
        let encoded: Vec<[u8; 4]> = values.iter().map(|value| ordered_i32(*value)).collect();
        assert!(encoded.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(values
            .iter()
            .all(|value| from_ordered_i32(ordered_i32(*value)) == *value));
    }
}
