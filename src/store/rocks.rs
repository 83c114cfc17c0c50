//! The RocksDB backend: one column family per [`Family`].

use super::{Batch, Durability, Family, StoreError};
use rocksdb::{
    ColumnFamilyDescriptor, IngestExternalFileOptions, IteratorMode, Options, SstFileWriter,
    WriteBatch, WriteOptions, DB,
};
use std::path::{Path, PathBuf};

/// An open RocksDB state directory.
pub(super) struct RocksStore {
    db: DB,
    path: String,
}

/// Block cache shared by all column families.
const BLOCK_CACHE_BYTES: usize = 64 << 20;
/// Bloom filter bits per key (about 1 % false positives).
const BLOOM_BITS_PER_KEY: f64 = 10.0;

/// The options of every column family (and of the table files a bulk load
/// writes for one): LZ4 blocks with Bloom filters.
fn family_options(cache: Option<&rocksdb::Cache>) -> Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    if let Some(cache) = cache {
        table.set_block_cache(cache);
    }
    table.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
    let mut options = Options::default();
    options.set_compression_type(rocksdb::DBCompressionType::Lz4);
    options.set_block_based_table_factory(&table);
    options
}

impl RocksStore {
    /// Opens (creating if needed) a state directory.
    pub(super) fn open(path: &Path) -> Result<RocksStore, StoreError> {
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
        let families = Family::ALL
            .iter()
            .map(|family| ColumnFamilyDescriptor::new(family.name(), family_options(Some(&cache))));
        let display = path.display().to_string();
        let db = DB::open_cf_descriptors(&options, path, families).map_err(|source| {
            StoreError::Rocks {
                path: display.clone(),
                source,
            }
        })?;
        Ok(RocksStore { db, path: display })
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

    pub(super) fn get(&self, family: Family, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.handle(family), key)
            .map_err(|error| self.error(error))
    }

    pub(super) fn multi_get(
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

    pub(super) fn for_each_from(
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

    pub(super) fn write(&self, batch: &Batch, durability: Durability) -> Result<(), StoreError> {
        let mut write = WriteBatch::default();
        for (family, key, value) in batch.operations() {
            let handle = self.handle(family);
            match value {
                Some(value) => write.put_cf(handle, key, value),
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

    /// Writes `pairs` (in strictly increasing key order) as a table file at
    /// `path`, with the options every column family has.
    pub(super) fn write_table<'p>(
        &self,
        path: &Path,
        pairs: impl Iterator<Item = (&'p [u8], &'p [u8])>,
    ) -> Result<(), StoreError> {
        let options = family_options(None);
        let mut writer = SstFileWriter::create(&options);
        writer.open(path).map_err(|error| self.error(error))?;
        for (key, value) in pairs {
            writer.put(key, value).map_err(|error| self.error(error))?;
        }
        writer.finish().map_err(|error| self.error(error))
    }

    /// Ingests table files written by [`RocksStore::write_table`] into
    /// `family`, moving them into the state directory.
    pub(super) fn ingest(&self, family: Family, paths: &[PathBuf]) -> Result<(), StoreError> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut options = IngestExternalFileOptions::default();
        options.set_move_files(true);
        self.db
            .ingest_external_file_cf_opts(self.handle(family), &options, paths.to_vec())
            .map_err(|error| self.error(error))
    }

    pub(super) fn size_bytes(&self) -> u64 {
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

    pub(super) fn flush(&self) -> Result<(), StoreError> {
        let handles: Vec<&rocksdb::ColumnFamily> = Family::ALL
            .iter()
            .map(|family| self.handle(*family))
            .collect();
        let mut options = rocksdb::FlushOptions::default();
        options.set_wait(true);
        self.db
            .flush_cfs_opt(&handles, &options)
            .map_err(|error| self.error(error))
    }
}
