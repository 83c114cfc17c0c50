//! Batch decisions: which records of a partition of the repartition topic
//! form each batch, and with which date, written into the partition itself
//! before the batch is applied (decision D42, `docs/scale-out.md`).
//!
//! An engine's outputs depend on how its input is cut into batches: live
//! values are numbered per change, a month's first scorecard holds what
//! was applied before the month closed, restatements are numbered per
//! change. An owner that decides its batches alone would leave a new owner,
//! rebuilding the partition after a move or a crash, to cut other batches
//! and send other contents under ids already sent. So the owner writes
//! each decision into the partition (the records from one offset to
//! another, and the date it applies them with) and applies a batch only
//! once it reads the decision back. Whoever reads the partition from any
//! stored position takes the same decisions: the first decision in the
//! partition that starts where the last accepted one ended wins, and a
//! decision that starts elsewhere (written by an owner that lost the
//! partition meanwhile) is ignored.
//!
//! [`Decisions`] holds one partition's records between reading and
//! applying; it is pure bookkeeping, driven by the instance's loop and by
//! the tests.

use crate::calendar::Date;
use crate::event::RawMessage;
use crate::pipeline::Clock;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The header that marks a record of the repartition topic as a batch
/// decision (its value: the JSON of a [`Decision`]).
pub const DECISION_HEADER: &str = "ragline-batch";

/// One batch of a partition: its records are those at offsets
/// `from..to` (decisions excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The offset of the batch's first record.
    pub from: i64,
    /// The offset after the batch's last record.
    pub to: i64,
    /// The date the batch is applied with: today when live, the bound of
    /// event dates in replay.
    pub today: Date,
}

/// A record of the repartition topic, decoded.
#[derive(Clone, Debug)]
pub enum Record {
    /// An input message, as routed.
    Message(RawMessage),
    /// Another partition's clock.
    Clock(Clock),
    /// A batch decision.
    Decision(Decision),
}

/// A batch whose decision has been read: ready to apply.
#[derive(Clone, Debug)]
pub struct DecidedBatch {
    /// The decision.
    pub decision: Decision,
    /// The input messages of the batch, in order.
    pub messages: Vec<RawMessage>,
    /// The clocks of the batch.
    pub clocks: Vec<Clock>,
}

/// One partition's records between reading and applying.
#[derive(Debug, Default)]
pub struct Decisions {
    /// The offset the next batch starts at: the stored position, or 0.
    next: i64,
    /// The offset the first record read should have been, and the one it
    /// had: records from the stored position on (from the start, without
    /// one) were deleted, so the partition cannot be applied.
    gap: Option<(i64, i64)>,
    /// The offset after the furthest record read.
    read_to: Option<i64>,
    /// Records read from `next` on, not yet in a decided batch.
    pending: VecDeque<(i64, Record)>,
    /// Batches decided, oldest first, not yet taken.
    decided: VecDeque<DecidedBatch>,
    /// The start of the decision this owner proposed last, and when.
    proposed: Option<(i64, Instant)>,
}

impl Decisions {
    /// A partition whose batches up to `next` (the stored position: the
    /// offset after the last applied record; `None`: nothing applied, the
    /// partition starts at offset 0) are applied.
    pub fn new(next: Option<i64>) -> Decisions {
        Decisions {
            next: next.unwrap_or(0),
            ..Decisions::default()
        }
    }

    /// Takes the record at `offset`. Records read again (a reader moved
    /// back to the stored position) and records before the stored position
    /// are ignored; a decision that starts where the last accepted one
    /// ended decides a batch. When the first record read is past the
    /// stored position (its records were deleted), nothing more is taken:
    /// see [`Decisions::gap`].
    pub fn push(&mut self, offset: i64, record: Record) {
        if self.gap.is_some()
            || offset < self.next
            || self.read_to.is_some_and(|read| offset < read)
        {
            return;
        }
        let next = self.next;
        if self.read_to.is_none() && offset > next {
            self.gap = Some((next, offset));
            return;
        }
        self.read_to = Some(offset + 1);
        match record {
            Record::Decision(decision) => {
                if decision.from != next || decision.to <= decision.from || decision.to > offset {
                    return; // stale: another owner's, decided already
                }
                let mut batch = DecidedBatch {
                    decision,
                    messages: Vec::new(),
                    clocks: Vec::new(),
                };
                while self
                    .pending
                    .front()
                    .is_some_and(|(held, _)| *held < decision.to)
                {
                    match self.pending.pop_front() {
                        Some((_, Record::Message(message))) => batch.messages.push(message),
                        Some((_, Record::Clock(clock))) => batch.clocks.push(clock),
                        _ => {}
                    }
                }
                self.next = decision.to;
                self.decided.push_back(batch);
            }
            other => self.pending.push_back((offset, other)),
        }
    }

    /// Where the partition's history is missing, if it is: the offset the
    /// first record read should have had, and the one it had.
    pub fn gap(&self) -> Option<(i64, i64)> {
        self.gap
    }

    /// The oldest decided batch not yet taken.
    pub fn take_decided(&mut self) -> Option<DecidedBatch> {
        self.decided.pop_front()
    }

    /// How many decided batches wait.
    pub fn decided_len(&self) -> usize {
        self.decided.len()
    }

    /// The offset up to which the partition is applied, for lag
    /// monitoring: everything read when nothing waits (the last records of
    /// a partition are decisions, never applied), else the next batch's
    /// start.
    pub fn settled_to(&self) -> i64 {
        if self.pending.is_empty() && self.decided.is_empty() {
            self.read_position()
        } else {
            self.next
        }
    }

    /// The offset after the furthest record read, or the stored position
    /// before any is.
    pub fn read_position(&self) -> i64 {
        self.read_to.unwrap_or(self.next)
    }

    /// How many records wait for a decision.
    pub fn undecided(&self) -> usize {
        self.pending.len()
    }

    /// The next decision to write, if records wait for one and no decision
    /// is waiting to be applied: at most `max_records` of them, dated
    /// `today`. A decision proposed earlier for the same start is proposed
    /// again only after `retry` (it may have been lost; if both arrive,
    /// the first wins and the other is ignored).
    pub fn propose(
        &mut self,
        today: Date,
        max_records: usize,
        now: Instant,
        retry: Duration,
    ) -> Option<Decision> {
        let next = self.next;
        if !self.decided.is_empty() || self.pending.is_empty() {
            return None;
        }
        if self
            .proposed
            .is_some_and(|(from, at)| from == next && now.duration_since(at) < retry)
        {
            return None;
        }
        let last = self.pending.get(max_records.max(1) - 1).map_or_else(
            || self.pending.back().map(|(offset, _)| *offset),
            |(offset, _)| Some(*offset),
        )?;
        self.proposed = Some((next, now));
        Some(Decision {
            from: next,
            to: last + 1,
            today,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Position;

    fn message(offset: i64) -> Record {
        Record::Message(RawMessage {
            bytes: offset.to_string().into_bytes(),
            position: Position::Kafka {
                topic: "repartition".into(),
                partition: 0,
                offset,
                key: None,
            },
        })
    }

    fn offsets(batch: &DecidedBatch) -> Vec<String> {
        batch
            .messages
            .iter()
            .map(|message| String::from_utf8_lossy(&message.bytes).into_owned())
            .collect()
    }

    fn decision(from: i64, to: i64) -> Record {
        Record::Decision(Decision {
            from,
            to,
            today: Date::from_ymd(2018, 12, 30).unwrap(),
        })
    }

    #[test]
    fn the_first_decision_from_the_chains_end_wins() {
        let mut decisions = Decisions::new(None);
        for offset in 0..3 {
            decisions.push(offset, message(offset));
        }
        decisions.push(3, decision(0, 2)); // offsets 0 and 1
        decisions.push(4, decision(0, 3)); // a second owner's: stale
        decisions.push(5, message(5));
        decisions.push(6, decision(2, 6)); // offsets 2 and 5
        let first = decisions.take_decided().unwrap();
        assert_eq!(offsets(&first), ["0", "1"]);
        let second = decisions.take_decided().unwrap();
        assert_eq!(offsets(&second), ["2", "5"]);
        assert!(decisions.take_decided().is_none());
        assert_eq!(decisions.undecided(), 0);
        assert_eq!(decisions.settled_to(), 7, "the decisions at the end");
        decisions.push(7, message(7));
        assert_eq!(decisions.settled_to(), 6);
    }

    #[test]
    fn records_read_again_or_before_the_stored_position_are_ignored() {
        let mut decisions = Decisions::new(Some(10));
        decisions.push(9, message(9));
        decisions.push(10, message(10));
        decisions.push(11, message(11));
        decisions.push(10, message(10)); // the reader moved back
        assert_eq!(decisions.undecided(), 2);
        decisions.push(12, decision(10, 12));
        assert_eq!(offsets(&decisions.take_decided().unwrap()), ["10", "11"]);
    }

    #[test]
    fn a_proposal_covers_what_waits_and_is_repeated_only_after_the_retry_time() {
        let today = Date::from_ymd(2018, 12, 30).unwrap();
        let start = Instant::now();
        let retry = Duration::from_secs(5);
        let mut decisions = Decisions::new(Some(4));
        assert!(
            decisions.propose(today, 10, start, retry).is_none(),
            "nothing waits"
        );
        for offset in 4..9 {
            decisions.push(offset, message(offset));
        }
        let proposal = decisions.propose(today, 3, start, retry).unwrap();
        assert_eq!((proposal.from, proposal.to), (4, 7), "at most 3 records");
        assert!(decisions.propose(today, 3, start, retry).is_none());
        let later = start + retry;
        assert_eq!(decisions.propose(today, 3, later, retry), Some(proposal));
        decisions.push(9, Record::Decision(proposal));
        assert!(
            decisions.propose(today, 3, later, retry).is_none(),
            "a decided batch waits to be applied"
        );
        assert_eq!(offsets(&decisions.take_decided().unwrap()), ["4", "5", "6"]);
        let next = decisions.propose(today, 3, later, retry).unwrap();
        assert_eq!((next.from, next.to), (7, 9));
    }

    #[test]
    fn a_partition_whose_start_was_deleted_is_not_taken() {
        let mut fresh = Decisions::new(None);
        fresh.push(5, message(5));
        fresh.push(6, decision(5, 6));
        assert_eq!(fresh.gap(), Some((0, 5)));
        assert_eq!((fresh.undecided(), fresh.decided_len()), (0, 0));
        let mut resumed = Decisions::new(Some(10));
        resumed.push(12, message(12));
        assert_eq!(resumed.gap(), Some((10, 12)));
        let mut whole = Decisions::new(Some(10));
        whole.push(10, message(10));
        whole.push(12, message(12)); // a hole later on is not a gap
        assert_eq!((whole.gap(), whole.undecided()), (None, 2));
    }

    #[test]
    fn a_decision_that_ends_after_itself_is_ignored() {
        let mut decisions = Decisions::new(Some(0));
        decisions.push(0, message(0));
        decisions.push(1, decision(0, 5));
        assert_eq!(decisions.decided_len(), 0);
        assert_eq!(decisions.undecided(), 1);
    }
}
