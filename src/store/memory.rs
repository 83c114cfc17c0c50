//! The in-memory backend: a simulated disk for fault simulation and fuzzing.
//!
//! It keeps RocksDB's crash semantics as ragline uses them: a write with the
//! write-ahead log (live) survives a crash at once; a write without it
//! (replay) survives only once flushed. [`MemoryDisk::crash`] drops what a
//! `kill -9` would drop, and [`MemoryDisk::fail_write`] makes a chosen write
//! fail without changing anything.

use super::{Batch, Durability, Family, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

type Table = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Default)]
struct Disk {
    /// What a reader sees.
    current: [Table; Family::ALL.len()],
    /// What survives a crash.
    durable: [Table; Family::ALL.len()],
    /// Writes attempted so far.
    writes: u64,
    /// The write (1-based count) that fails.
    fail_at: Option<u64>,
}

/// A simulated disk; clones share it, so a store "reopened" after a crash
/// sees what survived.
#[derive(Clone)]
pub struct MemoryDisk {
    name: String,
    disk: Arc<Mutex<Disk>>,
}

fn family_index(family: Family) -> usize {
    Family::ALL
        .iter()
        .position(|candidate| *candidate == family)
        .expect("every family is listed")
}

impl MemoryDisk {
    /// An empty disk named `name` (in error messages).
    pub fn new(name: &str) -> MemoryDisk {
        MemoryDisk {
            name: name.to_string(),
            disk: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        // A panic while the lock was held cannot leave a table half written:
        // every change below is made after all checks.
        self.disk
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Loses everything a `kill -9` of the process would lose.
    pub fn crash(&self) {
        let mut disk = self.lock();
        disk.current = disk.durable.clone();
    }

    /// Makes the `write`-th write (counting from the first, 1-based) fail.
    pub fn fail_write(&self, write: u64) {
        self.lock().fail_at = Some(write);
    }

    /// Writes attempted so far, failed ones included.
    pub fn writes(&self) -> u64 {
        self.lock().writes
    }

    pub(super) fn get(&self, family: Family, key: &[u8]) -> Option<Vec<u8>> {
        self.lock().current[family_index(family)].get(key).cloned()
    }

    pub(super) fn for_each_from(
        &self,
        family: Family,
        from: &[u8],
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) {
        // Copied out first, so `visit` may use the store again.
        let items: Vec<(Vec<u8>, Vec<u8>)> = self.lock().current[family_index(family)]
            .range(from.to_vec()..)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        for (key, value) in items {
            if !visit(&key, &value) {
                break;
            }
        }
    }

    pub(super) fn write(&self, batch: &Batch, durability: Durability) -> Result<(), StoreError> {
        let mut disk = self.lock();
        disk.writes += 1;
        if disk.fail_at == Some(disk.writes) {
            return Err(StoreError::Injected {
                path: self.name.clone(),
            });
        }
        for (family, key, value) in batch.operations() {
            let index = family_index(family);
            let apply = |table: &mut Table| match value {
                Some(value) => {
                    table.insert(key.to_vec(), value.to_vec());
                }
                None => {
                    table.remove(key);
                }
            };
            apply(&mut disk.current[index]);
            if durability != Durability::NoWal {
                apply(&mut disk.durable[index]);
            }
        }
        Ok(())
    }

    pub(super) fn flush(&self) {
        let mut disk = self.lock();
        disk.durable = disk.current.clone();
    }

    pub(super) fn size_bytes(&self) -> u64 {
        self.lock()
            .current
            .iter()
            .flat_map(|table| table.iter())
            .map(|(key, value)| (key.len() + value.len()) as u64)
            .sum()
    }
}
