//! Bulk loading a column family: puts gathered in memory, sorted by key and
//! handed to the store whole, past the memtable and the write-ahead log.
//!
//! RocksDB writes each sorted run as a table file (`SstFileWriter`) and
//! ingests the files of a load together at [`BulkLoad::finish`], instead of
//! putting millions of keys one by one into the memtable and flushing it
//! (the replay benchmark against the build before this, in
//! `bench/results.md`: 3.50 s against 4.96 s).
//! The in-memory store applies the runs as durable writes, as ingested
//! files are.

use super::{Backend, Batch, Durability, Family, Store, StoreError};
use std::path::PathBuf;

/// Puts to one column family, loaded into the store at [`BulkLoad::finish`].
///
/// Puts arrive encoded ([`EncodedPuts`], made on any thread) and are
/// gathered into the run in memory up to a budget of weight (the caller's
/// unit: events, say); a full run is sorted, written out and freed. A run
/// ends after the puts that reach the budget, so it may go over it by one
/// [`EncodedPuts`]. A key is put at most once in a load: runs may overlap
/// in key range, never in keys. Nothing is visible in the store before
/// `finish`.
pub struct BulkLoad<'a> {
    store: &'a Store,
    family: Family,
    dir: PathBuf,
    run: EncodedPuts,
    budget: usize,
    runs: Vec<Run>,
}

/// A run written out: a table file, or (in-memory store) a batch.
enum Run {
    #[cfg(feature = "rocksdb")]
    File(PathBuf),
    Held(Batch),
}

impl Store {
    /// Starts a bulk load of `family`, with table files under `dir`
    /// (created when needed, on the state's file system so that files are
    /// moved, not copied) and runs of about `budget` weight in memory.
    pub fn bulk_load(&self, family: Family, dir: PathBuf, budget: usize) -> BulkLoad<'_> {
        BulkLoad {
            store: self,
            family,
            dir,
            run: EncodedPuts::default(),
            budget: budget.max(1),
            runs: Vec::new(),
        }
    }
}

impl BulkLoad<'_> {
    /// Adds `puts` to the run in memory, counting their weight against the
    /// budget. They are copied: the run's chunks are filled to the end,
    /// and the worker's buffers go back to the allocator at once, to hold
    /// the next puts it encodes (keeping them in the run instead measured
    /// 1.05 times slower with a higher peak: `bench/results.md`).
    pub fn put_all(&mut self, puts: EncodedPuts) -> Result<(), StoreError> {
        for (key, value) in puts.iter() {
            self.run
                .put(key, |buffer| buffer.extend_from_slice(value), 0);
        }
        self.run.weight += puts.weight;
        if self.run.weight >= self.budget {
            self.end_run()?;
        }
        Ok(())
    }

    /// Writes the run in memory out, sorted by key.
    fn end_run(&mut self) -> Result<(), StoreError> {
        self.run.weight = 0;
        if self.run.is_empty() {
            return Ok(());
        }
        match &self.store.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(rocks) => {
                let path =
                    self.dir
                        .join(format!("{}-{:04}.sst", self.family.name(), self.runs.len()));
                if let Err(error) = std::fs::create_dir_all(&self.dir) {
                    return Err(StoreError::Io {
                        path: self.dir.display().to_string(),
                        error,
                    });
                }
                rocks.write_table(&path, sorted(&self.run))?;
                self.runs.push(Run::File(path));
            }
            Backend::Memory(_) => {
                let mut batch = Batch::new();
                for (key, value) in self.run.iter() {
                    batch.put(self.family, key, value);
                }
                self.runs.push(Run::Held(batch));
            }
        }
        self.run = EncodedPuts::default();
        Ok(())
    }

    /// Loads every run into the store: afterwards every put is readable
    /// and durable.
    pub fn finish(mut self) -> Result<(), StoreError> {
        self.end_run()?;
        let runs = std::mem::take(&mut self.runs);
        match &self.store.backend {
            #[cfg(feature = "rocksdb")]
            Backend::Rocks(rocks) => {
                let paths: Vec<PathBuf> = runs
                    .into_iter()
                    .filter_map(|run| match run {
                        Run::File(path) => Some(path),
                        Run::Held(_) => None,
                    })
                    .collect();
                let result = rocks.ingest(self.family, &paths);
                for path in &paths {
                    let _ = std::fs::remove_file(path);
                }
                result
            }
            Backend::Memory(disk) => {
                for run in runs {
                    if let Run::Held(batch) = run {
                        disk.write(&batch, Durability::Sync)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl Drop for BulkLoad<'_> {
    /// A load abandoned (an error) leaves no table file behind.
    fn drop(&mut self) {
        for run in &self.runs {
            #[cfg(feature = "rocksdb")]
            if let Run::File(path) = run {
                let _ = std::fs::remove_file(path);
            }
            #[cfg(not(feature = "rocksdb"))]
            let _ = run;
        }
    }
}

/// Bytes of keys and values per chunk of [`EncodedPuts`].
const CHUNK_BYTES: usize = 1 << 20;

/// Puts for a [`BulkLoad`], encoded end to end (each key, then its value)
/// in chunks of about `CHUNK_BYTES` (1 MiB), with their total weight. A worker
/// thread fills one and hands it to [`BulkLoad::put_all`]; a load holds
/// its run in one. Puts grow chunk by chunk instead of being copied into
/// ever larger buffers.
#[derive(Default)]
pub struct EncodedPuts {
    chunks: Vec<Vec<u8>>,
    spans: Vec<PutSpan>,
    weight: usize,
}

/// Where one put lies: its chunk, where its key starts there and the
/// lengths of key and value (the value follows the key).
struct PutSpan {
    chunk: usize,
    start: usize,
    key: usize,
    value: usize,
}

impl EncodedPuts {
    /// Adds a put of `key` with the value `write` appends to the buffer it
    /// is given, weighing `weight`.
    pub fn put(&mut self, key: &[u8], write: impl FnOnce(&mut Vec<u8>), weight: usize) {
        if self
            .chunks
            .last()
            .is_none_or(|chunk| chunk.len() >= CHUNK_BYTES)
        {
            // Room for a put that goes over the chunk's size.
            self.chunks
                .push(Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4));
        }
        let chunk = self.chunks.len() - 1;
        let bytes = &mut self.chunks[chunk];
        let start = bytes.len();
        bytes.extend_from_slice(key);
        write(bytes);
        self.spans.push(PutSpan {
            chunk,
            start,
            key: key.len(),
            value: bytes.len() - start - key.len(),
        });
        self.weight += weight;
    }

    /// True when no put is held.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn key(&self, span: &PutSpan) -> &[u8] {
        &self.chunks[span.chunk][span.start..span.start + span.key]
    }

    fn value(&self, span: &PutSpan) -> &[u8] {
        let start = span.start + span.key;
        &self.chunks[span.chunk][start..start + span.value]
    }

    /// The puts in the order they were made: key, value.
    fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.spans
            .iter()
            .map(|span| (self.key(span), self.value(span)))
    }
}

/// The puts of `run` in key order; of equal keys, the last put.
#[cfg_attr(not(feature = "rocksdb"), allow(dead_code))]
fn sorted(run: &EncodedPuts) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
    // The first sixteen bytes of each key beside it, so that most
    // comparisons read no key from the chunks (an event id's key shares
    // its first eight bytes with thousands of others); the put's position
    // breaks ties, so the later of equal keys sorts later.
    let mut order: Vec<(u128, u32)> = run
        .spans
        .iter()
        .enumerate()
        .map(|(index, span)| {
            let key = run.key(span);
            let mut prefix = [0u8; 16];
            let length = key.len().min(16);
            prefix[..length].copy_from_slice(&key[..length]);
            let index = u32::try_from(index).expect("a run holds fewer than 2^32 puts");
            (u128::from_be_bytes(prefix), index)
        })
        .collect();
    let key_of = |index: u32| run.key(&run.spans[index as usize]);
    // Keys of at most sixteen bytes are whole in their prefix.
    let whole = |index: u32| run.spans[index as usize].key <= 16;
    order.sort_unstable_by(|one, other| {
        one.0
            .cmp(&other.0)
            .then_with(|| {
                if whole(one.1) && whole(other.1) {
                    run.spans[one.1 as usize]
                        .key
                        .cmp(&run.spans[other.1 as usize].key)
                } else {
                    key_of(one.1).cmp(key_of(other.1))
                }
            })
            .then(one.1.cmp(&other.1))
    });
    let last_of_key: Vec<u32> = order
        .iter()
        .enumerate()
        .filter(|&(at, &(prefix, index))| {
            order.get(at + 1).is_none_or(|&(next_prefix, next)| {
                next_prefix != prefix || key_of(next) != key_of(index)
            })
        })
        .map(|(_, &(_, index))| index)
        .collect();
    last_of_key.into_iter().map(move |index| {
        let span = &run.spans[index as usize];
        (run.key(span), run.value(span))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryDisk;

    fn family_contents(store: &Store, family: Family) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut items = Vec::new();
        store
            .for_each(family, |key, value| {
                items.push((key.to_vec(), value.to_vec()));
                true
            })
            .unwrap();
        items
    }

    /// Keys in a scrambled order, several runs, one key put twice in a run:
    /// the store holds what one batch of the same puts would.
    fn load_equals_a_batch(store: &Store, dir: PathBuf) {
        let keys: Vec<Vec<u8>> = (0u32..500)
            .map(|n| {
                (n.wrapping_mul(2_654_435_761) % 1000)
                    .to_be_bytes()
                    .to_vec()
            })
            .collect();
        // Seven puts at a time, so that a run of 64 holds several parts.
        let mut load = store.bulk_load(Family::Ledger, dir.join("ledger"), 64);
        let mut batch = Batch::new();
        for group in keys.chunks(7).enumerate() {
            let (first, group) = group;
            let mut puts = EncodedPuts::default();
            for (n, key) in group.iter().enumerate() {
                let value = format!("v{}", first * 7 + n);
                puts.put(key, |buffer| buffer.extend_from_slice(value.as_bytes()), 1);
                batch.put(Family::Owners, key, value.as_bytes());
            }
            load.put_all(puts).unwrap();
        }
        // Within one run, the later of two puts of a key wins, in one part
        // or in two.
        let mut load_again = store.bulk_load(Family::Recorded, dir.join("recorded"), 10);
        let mut puts = EncodedPuts::default();
        for value in [b"first".as_slice(), b"second"] {
            puts.put(b"k", |buffer| buffer.extend_from_slice(value), 1);
        }
        load_again.put_all(puts).unwrap();
        let mut puts = EncodedPuts::default();
        puts.put(b"j", |buffer| buffer.extend_from_slice(b"one"), 1);
        load_again.put_all(puts).unwrap();
        let mut puts = EncodedPuts::default();
        puts.put(b"j", |buffer| buffer.extend_from_slice(b"two"), 1);
        load_again.put_all(puts).unwrap();
        load_again.finish().unwrap();
        assert!(
            family_contents(store, Family::Ledger).is_empty(),
            "nothing before finish"
        );
        load.finish().unwrap();
        store.write(&batch, Durability::Sync).unwrap();
        assert_eq!(keys.len(), 500);
        let loaded = family_contents(store, Family::Ledger);
        assert_eq!(loaded.len(), 500);
        assert_eq!(loaded, family_contents(store, Family::Owners));
        assert_eq!(
            family_contents(store, Family::Recorded),
            vec![
                (b"j".to_vec(), b"two".to_vec()),
                (b"k".to_vec(), b"second".to_vec())
            ]
        );
    }

    /// Keys over a two-byte alphabet (a zero byte and a letter), 0 to 40
    /// bytes long, so that many share their first sixteen bytes, many are
    /// prefixes of others (also where the longer one goes on in zeros, as
    /// the sixteen-byte prefixes are padded) and many are put twice, in one
    /// chunk of the run or in two: `sorted` gives what a map keeping the
    /// last put of each key gives, in the map's (byte) order.
    #[test]
    fn sorted_gives_byte_order_and_the_last_put_of_each_key() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Parts of 1 to 300 puts.
        let mut run = EncodedPuts::default();
        let mut expected = std::collections::BTreeMap::new();
        for n in 0..5_000u32 {
            let length = (next() % 41) as usize;
            let key: Vec<u8> = (0..length)
                .map(|at| {
                    if at < 10 {
                        b'a'
                    } else {
                        b'a' * (next() % 2) as u8
                    }
                })
                .collect();
            // Values of 4 to 600 bytes, so that the run takes several chunks.
            let mut value = n.to_be_bytes().to_vec();
            value.resize(4 + (next() % 597) as usize, b'v');
            run.put(&key, |buffer| buffer.extend_from_slice(&value), 1);
            expected.insert(key, value);
        }
        let got: Vec<(Vec<u8>, Vec<u8>)> = sorted(&run)
            .map(|(key, value)| (key.to_vec(), value.to_vec()))
            .collect();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = expected.into_iter().collect();
        assert!(expected.len() > 1_000, "{} distinct keys", expected.len());
        assert!(run.chunks.len() > 1, "{} chunks", run.chunks.len());
        assert_eq!(got, expected);
    }

    #[test]
    fn a_bulk_load_in_memory_holds_what_a_batch_holds() {
        let disk = MemoryDisk::new("bulk");
        let store = Store::in_memory(&disk);
        // The in-memory store writes no file: the directory is never made.
        load_equals_a_batch(&store, PathBuf::from("/nonexistent/ragline-bulk-load"));
        // Loaded runs are durable: a crash keeps them.
        disk.crash();
        assert_eq!(family_contents(&store, Family::Ledger).len(), 500);
    }

    #[cfg(feature = "rocksdb")]
    #[test]
    fn a_bulk_load_into_rocksdb_holds_what_a_batch_holds_and_leaves_no_files() {
        let directory = tempfile::tempdir().unwrap();
        let tables = directory.path().join("tables");
        {
            let store = Store::open(&directory.path().join("state")).unwrap();
            load_equals_a_batch(&store, tables.clone());
        }
        let reopened = Store::open(&directory.path().join("state")).unwrap();
        assert_eq!(family_contents(&reopened, Family::Ledger).len(), 500);
        for family in ["ledger", "recorded"] {
            let left = std::fs::read_dir(tables.join(family))
                .map(|entries| entries.count())
                .unwrap_or(0);
            assert_eq!(left, 0, "table files are removed once ingested");
        }
    }
}
