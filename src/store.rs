//! RocksDB: column families, key encoding helpers, the write batch.
//!
//! The only module that imports `rocksdb`. It knows no domain types: callers
//! hand it byte keys and values. One [`Batch`] is written atomically per
//! processed input batch, so state, input positions and pending outputs always
//! move together.
//!
//! Column families and key layout (format version [`FORMAT_VERSION`]):
//!
//! | family | key | value |
//! | --- | --- | --- |
//! | `meta` | ASCII name | postcard or UTF-8 |
//! | `ledger` | `event_id` bytes | revision, owner, void |
//! | `owners` | `c` + la (u16 BE) + child_id, or `u` + unit (u32 BE) | surviving events, contribution points, anomalies |
//! | `series` | slot (u16 BE) + unit (u32 BE) + month (i32 BE, sign flipped) | that month's dated deltas |
//! | `recorded` | month (i32 BE, sign flipped) + unit (u32 BE) + slot (u16 BE) | the closed month's recorded value |
//! | `live` | slot (u16 BE) + unit (u32 BE) | last live value emitted and its sequence |
//! | `outbox` | sequence (u64 BE) | a pending output record |

use rocksdb::{ColumnFamilyDescriptor, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use std::path::Path;

/// Bumped whenever a key or value layout changes; a state directory of
/// another version must be rebuilt by replay.
pub const FORMAT_VERSION: u32 = 1;

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
}

impl Family {
    const ALL: [Family; 7] = [
        Family::Meta,
        Family::Ledger,
        Family::Owners,
        Family::Series,
        Family::Recorded,
        Family::Live,
        Family::Outbox,
    ];

    fn name(self) -> &'static str {
        match self {
            Family::Meta => "meta",
            Family::Ledger => "ledger",
            Family::Owners => "owners",
            Family::Series => "series",
            Family::Recorded => "recorded",
            Family::Live => "live",
            Family::Outbox => "outbox",
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
    #[error("state store {path}: {source}")]
    Rocks {
        /// The state directory.
        path: String,
        /// The RocksDB error.
        source: rocksdb::Error,
    },
}

/// An open state directory.
pub struct Store {
    db: DB,
    path: String,
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

    /// Empties the batch, keeping its buffers for the next one (a replay's
    /// batches are hundreds of megabytes: fresh buffers would cost page
    /// faults on every batch).
    pub fn clear(&mut self) {
        self.arena.clear();
        self.operations.clear();
    }
}

/// Block cache shared by all column families.
const BLOCK_CACHE_BYTES: usize = 64 << 20;
/// Bloom filter bits per key (about 1 % false positives).
const BLOOM_BITS_PER_KEY: f64 = 10.0;

impl Store {
    /// Opens (creating if needed) a state directory.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        options.increase_parallelism(2);
        options.set_max_background_jobs(2);
        // Flushes of all column families are atomic, so that writes without
        // the write-ahead log (replay) still leave a consistent state.
        options.set_atomic_flush(true);
        // Live batches look up every new event id and child, most of them
        // absent: Bloom filters answer those misses without reading blocks.
        let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let families = Family::ALL.iter().map(|family| {
            let mut table = rocksdb::BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
            let mut family_options = Options::default();
            family_options.set_compression_type(rocksdb::DBCompressionType::Lz4);
            family_options.set_block_based_table_factory(&table);
            ColumnFamilyDescriptor::new(family.name(), family_options)
        });
        let display = path.display().to_string();
        let db = DB::open_cf_descriptors(&options, path, families).map_err(|source| {
            StoreError::Rocks {
                path: display.clone(),
                source,
            }
        })?;
        Ok(Store { db, path: display })
    }

    fn error(&self, source: rocksdb::Error) -> StoreError {
        StoreError::Rocks {
            path: self.path.clone(),
            source,
        }
    }

    fn handle(&self, family: Family) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(family.name())
            .expect("every column family is created at open")
    }

    /// Reads one value.
    pub fn get(&self, family: Family, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.handle(family), key)
            .map_err(|error| self.error(error))
    }

    /// Reads many values at once.
    pub fn multi_get(
        &self,
        family: Family,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let handle = self.handle(family);
        self.db
            .multi_get_cf(keys.iter().map(|key| (handle, key.as_slice())))
            .into_iter()
            .map(|result| result.map_err(|error| self.error(error)))
            .collect()
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
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        for item in self.db.iterator_cf(
            self.handle(family),
            IteratorMode::From(from, rocksdb::Direction::Forward),
        ) {
            let (key, value) = item.map_err(|error| self.error(error))?;
            if !visit(&key, &value) {
                break;
            }
        }
        Ok(())
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
        let mut write = WriteBatch::default();
        let arena = &batch.arena;
        for operation in &batch.operations {
            let handle = self.handle(operation.family);
            let key = &arena[operation.key.clone()];
            match &operation.value {
                Some(value) => write.put_cf(handle, key, &arena[value.clone()]),
                None => write.delete_cf(handle, key),
            }
        }
        let mut options = WriteOptions::default();
        options.set_sync(durability == Durability::Sync);
        options.disable_wal(durability == Durability::NoWal);
        self.db
            .write_opt(write, &options)
            .map_err(|error| self.error(error))
    }

    /// Approximate bytes on disk (live SST files plus memtables).
    pub fn size_bytes(&self) -> u64 {
        let mut total = 0u64;
        for family in Family::ALL {
            let handle = self.handle(family);
            for property in [
                "rocksdb.total-sst-files-size",
                "rocksdb.cur-size-all-mem-tables",
            ] {
                if let Ok(Some(value)) = self.db.property_int_value_cf(handle, property) {
                    total += value;
                }
            }
        }
        total
    }

    /// Flushes memtables to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        for family in Family::ALL {
            self.db
                .flush_cf(self.handle(family))
                .map_err(|error| self.error(error))?;
        }
        Ok(())
    }
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

    #[test]
    fn batches_are_atomic_and_readable() {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open(directory.path()).unwrap();
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
