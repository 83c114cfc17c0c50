//! When a replay from the input topic has read enough: every partition up
//! to the high watermark found at start (a little on while polls still find
//! messages, as some brokers under-report the watermark), or no progress
//! for `processing.replay_idle_seconds` on any partition still short of it.

use crate::source::kafka::{KafkaSource, PartitionLag};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Once every partition is read up to its target, how long the read goes on
/// while polls still find messages (a watermark under-reported, or records
/// written after the start): a topic written to all the time is never found
/// empty, so the read must end without that.
const REACHED_GRACE: Duration = Duration::from_secs(2);

/// Where a read up to the high watermarks found at start stands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum CatchUp {
    /// More to read.
    Reading,
    /// Every partition is read up to its watermark, and a poll found
    /// nothing more or [`REACHED_GRACE`] has passed since.
    Reached,
    /// These partitions are short of their watermarks and none of them has
    /// moved for the idle limit: waiting longer could be for ever.
    StoppedShort(Vec<PartitionLag>),
}

/// Follows a read up to the high watermarks found at start.
pub(super) struct CatchingUp {
    targets: Vec<PartitionLag>,
    idle_limit: Duration,
    /// Each partition seen short of its target: how far it was read, and
    /// when that last moved.
    progress: BTreeMap<i32, (i64, Instant)>,
    /// When every partition was first seen at its target.
    reached_at: Option<Instant>,
}

impl CatchingUp {
    /// A read up to `targets`, given up on partitions that do not move for
    /// `idle_limit`.
    pub(super) fn new(targets: Vec<PartitionLag>, idle_limit: Duration) -> CatchingUp {
        CatchingUp {
            targets,
            idle_limit,
            progress: BTreeMap::new(),
            reached_at: None,
        }
    }

    /// Where the read stands after a poll that found `messages` messages
    /// (`None`: the loop did not poll, its outbox being full).
    pub(super) fn after_poll(&mut self, source: &KafkaSource, messages: Option<usize>) -> CatchUp {
        let now = Instant::now();
        let short = source.short_of(&self.targets);
        if short.is_empty() {
            let reached_at = *self.reached_at.get_or_insert(now);
            return if messages == Some(0) || now.duration_since(reached_at) >= REACHED_GRACE {
                CatchUp::Reached
            } else {
                CatchUp::Reading
            };
        }
        let mut stalled = true;
        for partition in &short {
            let next = partition.high_watermark - partition.lag;
            let (read, since) = self
                .progress
                .entry(partition.partition)
                .or_insert((next, now));
            if *read != next {
                (*read, *since) = (next, now);
            }
            if now.duration_since(*since) < self.idle_limit {
                stalled = false;
            }
        }
        if !stalled {
            return CatchUp::Reading;
        }
        for partition in &short {
            tracing::warn!(
                partition = partition.partition,
                next_offset = partition.high_watermark - partition.lag,
                high_watermark = partition.high_watermark,
                idle_seconds = self.idle_limit.as_secs(),
                "the partition has not moved for processing.replay_idle_seconds: the replay stops short of the high watermark found at start; ragline run reads on from the next offset"
            );
        }
        CatchUp::StoppedShort(short)
    }
}
