//! The outbox as a queue: pending outputs in order, acknowledgement after
//! delivery, parking refused records and putting them back.

use super::*;

impl Engine {
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

    /// The sequence the next output record will take: every record
    /// pending now has a lower one.
    pub fn outbox_next(&self) -> u64 {
        self.outbox_next
    }

    /// Removes the pending outbox records with a sequence below `before`,
    /// undelivered: records another copy of which was delivered elsewhere
    /// (see `scale_out`). Returns how many.
    pub fn drop_outputs_before(&self, before: u64) -> Result<u64, EngineError> {
        // Keys only, up to `before`: the records are not decoded.
        let mut sequences: Vec<u64> = Vec::new();
        self.store
            .for_each_from(Family::Outbox, &outbox::outbox_key(0), |key, _| {
                match outbox::outbox_sequence(key) {
                    Some(sequence) if sequence < before => {
                        sequences.push(sequence);
                        true
                    }
                    _ => false,
                }
            })?;
        self.acknowledge_outputs(&sequences)?;
        Ok(sequences.len() as u64)
    }

    /// Output records waiting for delivery.
    pub fn outbox_pending(&self) -> u64 {
        self.outbox_pending
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}
