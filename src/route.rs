//! Scale-out, first stage: which partition of the repartition topic each
//! input message goes to (`docs/scale-out.md`).
//!
//! Input is keyed by child, so one authority's children are spread over
//! every input partition, while an authority's event ids, revisions and
//! unit sums belong together: a revision may move an event to another
//! child, and only the authority is sure to hold both. So each input
//! message is validated and sent on, unchanged, to the partition of its
//! authority; rejected messages are dead-lettered here, with their input
//! position. Each partition of the repartition topic is then applied by
//! an ordinary [`crate::pipeline::Engine`] that owns that partition's
//! authorities, and the engines share their clocks.

use crate::calendar::Date;
use crate::config::{fnv1a, Config, LaIdx};
use crate::event::{Decoder, Rejection};

/// Where one input message goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// A valid event: its authority and that authority's partition.
    Partition {
        /// The repartition topic's partition.
        partition: u32,
        /// The event's authority.
        authority: LaIdx,
    },
    /// An invalid message: the reason, for its dead letter.
    Rejected(Rejection),
}

/// Routes input messages to the partitions of their authorities.
pub struct Router<'c> {
    config: &'c Config,
    decoder: Decoder<'c>,
    partitions: u32,
}

impl<'c> Router<'c> {
    /// A router onto `partitions` partitions (at least 1), validating as
    /// the engine does (`schema`: `processing.schema_validation`; `today`:
    /// the wall clock's date, which bounds event dates).
    pub fn new(
        config: &'c Config,
        schema: Option<&'c jsonschema::Validator>,
        today: Option<Date>,
        partitions: u32,
    ) -> Router<'c> {
        Router {
            config,
            decoder: Decoder::new(config, schema).with_today(today),
            partitions: partitions.max(1),
        }
    }

    /// Where the message `bytes` goes.
    pub fn route(&self, bytes: &[u8]) -> Route {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.decoder.decode(bytes)))
        {
            Ok(Ok(event)) => Route::Partition {
                partition: authority_partition(self.config, event.la, self.partitions),
                authority: event.la,
            },
            Ok(Err(rejection)) => Route::Rejected(rejection),
            Err(_) => Route::Rejected(Rejection::new(
                crate::event::RejectionCode::InternalError,
                None,
                "decoding it failed inside ragline".to_string(),
            )),
        }
    }
}

/// The partition (of `partitions`) that holds an authority: a hash of its
/// configured id, so that every instance agrees without talking.
pub fn authority_partition(config: &Config, la: LaIdx, partitions: u32) -> u32 {
    let id = &config.authorities[la.0 as usize].id;
    (fnv1a(id.as_bytes()) % u64::from(partitions.max(1))) as u32
}

/// The authorities a partition (of `partitions`) holds, in configuration order.
pub fn partition_authorities(config: &Config, partition: u32, partitions: u32) -> Vec<LaIdx> {
    (0..config.authorities.len())
        .map(|index| LaIdx(index as u16))
        .filter(|&la| authority_partition(config, la, partitions) == partition)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn config() -> Config {
        let text = r#"
[[authority]]
id = "north"
name = "North"
root = "n"
default = true

[[authority]]
id = "south"
name = "South"
root = "s"

[[unit]]
id = "n"
name = "N"
kind = "county"

[[unit]]
id = "n-team"
name = "N team"
kind = "cswt"
parent = "n"

[[unit]]
id = "s"
name = "S"
kind = "county"

[[unit]]
id = "s-team"
name = "S team"
kind = "cswt"
parent = "s"

[[indicator]]
id = "AS01"

[calendar]
bank_holidays = []
"#;
        Config::parse(text, Path::new("test.toml")).expect("parses")
    }

    #[test]
    fn events_go_to_their_authoritys_partition_and_bad_ones_are_rejected() {
        let config = config();
        let router = Router::new(&config, None, None, 7);
        let south = config.la_by_id("south").unwrap();
        let north = config.la_by_id("north").unwrap();
        let expected_south = (fnv1a(b"south") % 7) as u32;
        let expected_north = (fnv1a(b"north") % 7) as u32;
        let event = br#"{"event_id":"e1","type":"referral","la":"south","child_id":"c1","date":"2020-01-02","unit":"s-team"}"#;
        assert_eq!(
            router.route(event),
            Route::Partition {
                partition: expected_south,
                authority: south
            }
        );
        // No `la`: the default authority.
        let event = br#"{"event_id":"e2","type":"referral","child_id":"c1","date":"2020-01-02","unit":"n-team"}"#;
        assert_eq!(
            router.route(event),
            Route::Partition {
                partition: expected_north,
                authority: north
            }
        );
        assert!(matches!(router.route(b"not json"), Route::Rejected(_)));
        let unknown = br#"{"event_id":"e3","type":"referral","la":"east","child_id":"c1","date":"2020-01-02","unit":"n-team"}"#;
        assert!(matches!(router.route(unknown), Route::Rejected(_)));
        let mut held: Vec<LaIdx> = (0..7)
            .flat_map(|partition| partition_authorities(&config, partition, 7))
            .collect();
        held.sort();
        assert_eq!(
            held,
            vec![north, south],
            "every authority in exactly one partition"
        );
        assert!(partition_authorities(&config, expected_south, 7).contains(&south));
    }
}
