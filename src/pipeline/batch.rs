//! One batch through every step, committed in one write: decode, ledger,
//! re-fold the touched owners, diff their contributions, apply them to the
//! series, move the clock, restate and close months, live values, commit.
//! Panics are isolated to the one message whose handling panics.

use super::*;
use crate::ledger::OwnerRecord;
use rayon::prelude::*;

impl Engine {
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
        let mut timer = PhaseTimer::start();

        // 1. Decode.
        let events = self.decode_messages(messages, today, set_aside, &mut outcome, &mut outputs);
        timer.lap(&mut outcome, PHASE_DECODE);

        // 2. Ledger.
        let references: Vec<&Event> = events.iter().collect();
        self.ledger.prefetch(&self.store, &references)?;
        self.ledger.reserve(references.len());
        let mut span = EventSpan::default();
        admit_events(&mut self.ledger, events, &mut outcome, &mut span);
        span.merge(self.shared_span);

        // 3. Re-fold touched owners and diff their contributions.
        let touched = self.ledger.touched().to_vec();
        timer.lap(&mut outcome, PHASE_LEDGER);
        outcome.refolded = touched.len() as u64;
        let context = RefoldContext {
            config: &self.config,
            catalogue: &self.catalogue,
            fault: self.fault.as_ref(),
        };
        let refolded = match &self.pool {
            Some(pool) if touched.len() >= PARALLEL_MIN_ITEMS => {
                context.refold_in_parallel(pool, &mut self.ledger.touched_records_mut())
            }
            _ => {
                let mut refolded = Refolded::default();
                for &id in &touched {
                    let (owner, record) = self.ledger.owner_mut(id);
                    context.refold(owner, record, &mut refolded);
                }
                refolded
            }
        };
        timer.lap(&mut outcome, PHASE_FOLD);
        let cause = live_values::BatchCause::of(messages);
        let batch = std::mem::take(&mut self.spare_batch);
        self.advance(
            refolded,
            span,
            today,
            cause,
            outputs,
            batch,
            &mut outcome,
            &mut timer,
        )?;
        self.shared_span = EventSpan::default();
        Ok(outcome)
    }

    /// Decodes and validates a batch's messages (on several threads for a
    /// large batch), in message order: the events, with a dead letter in
    /// `outputs` for each rejected message. Moves the stored input
    /// positions past the batch.
    pub(super) fn decode_messages(
        &mut self,
        messages: &[RawMessage],
        today: Option<Date>,
        set_aside: Option<&str>,
        outcome: &mut BatchOutcome,
        outputs: &mut Vec<OutboxRecord>,
    ) -> Vec<Event> {
        let decoder = Decoder::new(&self.config, self.schema.as_ref())
            .with_today(today.or(self.validation_today));
        let mut events: Vec<Event> = Vec::with_capacity(messages.len());
        // The furthest message of each input in this batch (its key is
        // formatted once per batch, not per message).
        let mut furthest: Vec<(&Position, i64)> = Vec::new();
        let decode_one = |message: &RawMessage| -> Result<Event, Rejection> {
            match set_aside {
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
            }
        };
        let decoded: Vec<Result<Event, Rejection>> = match &self.pool {
            Some(pool) if messages.len() >= PARALLEL_MIN_ITEMS => {
                pool.install(|| messages.par_iter().map(decode_one).collect())
            }
            _ => messages.iter().map(decode_one).collect(),
        };
        for (message, decoded) in messages.iter().zip(decoded) {
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
        events
    }

    /// The steps after re-folding, shared by every driver: applies the
    /// contribution differences to the series, moves the clock, restates
    /// and closes months, computes live values, and commits state, input
    /// positions and `outputs` (plus those these steps make) in one write,
    /// together with what `batch` already holds.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn advance(
        &mut self,
        refolded: Refolded,
        span: EventSpan,
        today: Option<Date>,
        cause: live_values::BatchCause,
        mut outputs: Vec<OutboxRecord>,
        mut batch: Batch,
        outcome: &mut BatchOutcome,
        timer: &mut PhaseTimer,
    ) -> Result<(), EngineError> {
        let Refolded {
            deltas,
            anomaly_change,
            ..
        } = refolded;
        self.series.apply(&self.config, &deltas);
        let (changed, dirty_months) = self.series.take_changes();
        timer.lap(outcome, PHASE_SERIES);

        // 4. Clock: only admitted facts move it (see `admit_events`).
        let before = self.clock;
        if let Some(latest) = span.latest {
            self.clock.latest_event = Some(
                self.clock
                    .latest_event
                    .map_or(latest, |held| held.max(latest)),
            );
        }
        if let Some(today) = today {
            self.clock.today = Some(self.clock.today.map_or(today, |held| held.max(today)));
        }
        let previously_closed = self.closed_range();
        if let Some(earliest) = span.earliest {
            let month = earliest.month();
            self.clock.first_month =
                Some(self.clock.first_month.map_or(month, |held| held.min(month)));
        }

        // 5. Restatements of months closed before this batch.
        if let Some((first, last)) = previously_closed {
            let checks = self.restatement_checks(&changed, first);
            for (slot, unit, from) in checks {
                let mut month = from.max(first);
                while month <= last {
                    if let Some(record) = self.restate(slot, unit, month, &mut outputs, outcome) {
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
                self.live_updates(current, all, &changed, &cause, &mut batch, &mut outputs);
            }
        }

        timer.lap(outcome, PHASE_SCORECARD);

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
        outcome.outputs += outputs.len() as u64;
        self.put_outputs(&mut batch, outputs);
        batch.put(Family::Meta, META_CLOCK, encode(&self.clock));
        batch.put(Family::Meta, META_TOTALS, encode(&self.totals));
        self.put_positions(&mut batch);
        self.finish_write(&mut batch)?;
        batch.clear();
        self.spare_batch = batch;
        self.ledger.trim();
        timer.lap(outcome, PHASE_COMMIT);
        Ok(())
    }

    /// Adds output records to the outbox in `batch`, numbered in order,
    /// with the outbox's next number.
    pub(super) fn put_outputs(&mut self, batch: &mut Batch, outputs: Vec<OutboxRecord>) {
        if self.silenced {
            return;
        }
        self.outbox_pending
            .fetch_add(outputs.len() as u64, std::sync::atomic::Ordering::Relaxed);
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
    }

    /// Writes `batch` with the engine's durability.
    pub(super) fn finish_write(&self, batch: &mut Batch) -> Result<(), EngineError> {
        tracing::debug!(
            operations = batch.len(),
            bytes = batch.bytes(),
            "committing batch"
        );
        self.store.write(batch, self.durability())?;
        Ok(())
    }

    pub(super) fn durability(&self) -> Durability {
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
}

/// Fewest messages (or owners) a batch spreads over several threads: below
/// it (live batches), handing the work out costs more than it saves.
pub(super) const PARALLEL_MIN_ITEMS: usize = 64;

/// Chunks of owners per thread when re-folding in parallel (more than one
/// evens out children with long and short histories).
const CHUNKS_PER_THREAD: usize = 8;

/// Times the phases of a batch.
pub(super) struct PhaseTimer {
    start: std::time::Instant,
}

impl PhaseTimer {
    /// Starts timing the first phase.
    pub(super) fn start() -> PhaseTimer {
        PhaseTimer {
            start: std::time::Instant::now(),
        }
    }

    /// Adds the time since the last lap to `phase` and starts the next.
    pub(super) fn lap(&mut self, outcome: &mut BatchOutcome, phase: usize) {
        let now = std::time::Instant::now();
        outcome.phase_seconds[phase] += (now - self.start).as_secs_f64();
        self.start = now;
    }
}

/// The dates of the facts admitted: the latest moves the clock, the
/// earliest opens the first month.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct EventSpan {
    pub(super) latest: Option<Date>,
    pub(super) earliest: Option<Date>,
}

impl EventSpan {
    pub(super) fn include(&mut self, date: Date) {
        self.latest = Some(self.latest.map_or(date, |held| held.max(date)));
        self.earliest = Some(self.earliest.map_or(date, |held| held.min(date)));
    }

    /// Widens this span by another.
    pub(super) fn merge(&mut self, other: EventSpan) {
        for date in [other.latest, other.earliest].into_iter().flatten() {
            self.include(date);
        }
    }
}

/// Admits events into `ledger` in order, counting applied and duplicate
/// events and widening `span` by the admitted facts. Only admitted facts
/// move the clock: a duplicate was counted when it first arrived, a void
/// counts for nothing, and commentary is written about a month, not a fact
/// of it.
pub(super) fn admit_events(
    ledger: &mut Ledger,
    events: Vec<Event>,
    outcome: &mut BatchOutcome,
    span: &mut EventSpan,
) {
    for event in events {
        let (date, void) = (event.date, event.void);
        let fact = !matches!(event.body, crate::event::Body::Commentary(..));
        match ledger.admit(event) {
            Admission::Applied => {
                outcome.applied += 1;
                if !void && fact {
                    span.include(date);
                }
            }
            Admission::Duplicate => outcome.duplicates += 1,
        }
    }
}

/// What re-folding owners gives: the differences of their contributions,
/// in the order the owners were touched, and the change in anomalies.
#[derive(Default)]
pub(super) struct Refolded {
    pub(super) deltas: Vec<Point>,
    pub(super) anomaly_change: BTreeMap<AnomalyReason, i64>,
    points: Vec<Point>,
    anomalies: Vec<fold::Anomaly>,
}

impl Refolded {
    /// Appends a later part's deltas and adds its anomaly changes.
    pub(super) fn absorb(&mut self, other: Refolded) {
        self.deltas.extend(other.deltas);
        for (reason, change) in other.anomaly_change {
            *self.anomaly_change.entry(reason).or_default() += change;
        }
    }
}

/// What re-folding one owner reads: shared by every thread.
pub(super) struct RefoldContext<'a> {
    pub(super) config: &'a Config,
    pub(super) catalogue: &'a Catalogue,
    pub(super) fault: Option<&'a FaultInjector>,
}

impl RefoldContext<'_> {
    /// Re-folds owners on the pool's threads, in chunks whose results are
    /// joined in the order of `records` (owners are independent).
    pub(super) fn refold_in_parallel(
        &self,
        pool: &rayon::ThreadPool,
        records: &mut [(&Owner, &mut OwnerRecord)],
    ) -> Refolded {
        let chunk = records
            .len()
            .div_ceil(pool.current_num_threads() * CHUNKS_PER_THREAD)
            .max(1);
        let parts: Vec<Refolded> = pool.install(|| {
            records
                .par_chunks_mut(chunk)
                .map(|chunk| {
                    let mut part = Refolded::default();
                    for (owner, record) in chunk.iter_mut() {
                        self.refold(owner, record, &mut part);
                    }
                    part
                })
                .collect()
        });
        let mut refolded = Refolded::default();
        for part in parts {
            refolded.absorb(part);
        }
        refolded
    }

    /// Folds one owner's surviving events into facts and contributions,
    /// adds the difference from its last contributions to `out`, and keeps
    /// the new contributions and anomalies in its record.
    pub(super) fn refold(&self, owner: &Owner, record: &mut OwnerRecord, out: &mut Refolded) {
        if let Some(fault) = self.fault {
            if record.events.iter().any(fault) {
                panic!("injected fault while re-folding an owner");
            }
        }
        fold::sort_events(&mut record.events);
        out.points.clear();
        out.anomalies.clear();
        match owner {
            Owner::Child(la, _) => {
                let facts = fold::fold_child(&record.events, &mut out.anomalies);
                let root = self.config.root_of(*la);
                self.catalogue
                    .contribute_child(self.config, root, &facts, &mut out.points);
            }
            Owner::Unit(unit) => {
                let facts = fold::fold_unit(&record.events);
                self.catalogue
                    .contribute_unit(self.config, *unit, &facts, &mut out.points);
            }
        }
        contrib::normalise(&mut out.points);
        contrib::diff(&record.points, &out.points, &mut out.deltas);
        for anomaly in &record.anomalies {
            *out.anomaly_change.entry(anomaly.reason).or_default() -= 1;
        }
        for anomaly in &out.anomalies {
            *out.anomaly_change.entry(anomaly.reason).or_default() += 1;
        }
        record.points.clone_from(&out.points);
        record.anomalies.clone_from(&out.anomalies);
    }
}
