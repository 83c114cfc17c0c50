//! RAG movement between two month ends (`report --view movement`): every
//! indicator and unit whose rating differs between the end of `since` and
//! the end of `month`, with both readings, the direction, and whether the
//! earlier month's figures were restated after that month closed
//! (late-recorded data).
//!
//! The state keeps, per closed month, unit and indicator, one `Recorded`
//! (`pipeline::Recorded`): the month's latest numerator and denominator and
//! a count of the updates made to it after the close. The figures first
//! recorded at the close are not kept once a restatement replaces them, so
//! the view shows the count and the figures now recorded, beside the value
//! read from the series (decision D32).

use super::PackError;
use crate::calendar::Month;
use crate::config::UnitIdx;
use crate::contrib::Slot;
use crate::pipeline::{Clock, Recorded};
use crate::scorecard::{Evaluation, Rag, Reader, Reading};
use crate::store::{self, Family, Store};

/// What the state says about a month end of one indicator and unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordState {
    /// The month is not closed yet: its figures may still move without a
    /// restatement.
    Open,
    /// The month is closed and the state holds its record.
    Closed {
        /// Updates of the record after the close (restatements, including
        /// those that changed only the rolling-3-month reading).
        restatements: u32,
        /// The reading now recorded for the month.
        recorded: Reading,
    },
    /// The month is closed but the state holds no record of this
    /// indicator and unit (an entry added to the configuration later).
    Missing,
}

impl RecordState {
    /// Whether the record was updated after the close.
    pub fn restated(&self) -> bool {
        matches!(self, RecordState::Closed { restatements, .. } if *restatements > 0)
    }
}

/// One side of a movement.
#[derive(Clone, Debug)]
pub struct Side {
    /// The month end.
    pub month: Month,
    /// Reading, value and rating read from the series.
    pub evaluation: Evaluation,
    /// The stored record of the month.
    pub record: RecordState,
}

/// Whether the rating got better or worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Red to amber or green, amber to green.
    Improved,
    /// Green to amber or red, amber to red.
    Worsened,
}

impl Direction {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Improved => "improved",
            Direction::Worsened => "worsened",
        }
    }
}

/// One indicator and unit whose RAG band moved.
#[derive(Clone, Debug)]
pub struct Movement {
    /// The indicator's slot.
    pub slot: Slot,
    /// The unit.
    pub unit: UnitIdx,
    /// At the end of `since`.
    pub from: Side,
    /// At the end of `month`.
    pub to: Side,
    /// Better or worse.
    pub direction: Direction,
}

/// The key of a recorded month (the engine's layout: month, unit, slot).
fn recorded_key(month: Month, unit: UnitIdx, slot: Slot) -> Vec<u8> {
    let mut key = Vec::with_capacity(10);
    key.extend_from_slice(&store::ordered_i32(month.index()));
    key.extend_from_slice(&unit.0.to_be_bytes());
    key.extend_from_slice(&slot.to_be_bytes());
    key
}

/// Whether `month` is closed by `clock`.
pub fn is_closed(clock: &Clock, month: Month) -> bool {
    match (clock.first_month, clock.last_closed) {
        (Some(first), Some(last)) => first <= month && month <= last,
        (None, Some(last)) => month <= last,
        _ => false,
    }
}

/// The stored record of a month end of `slot` at `unit`.
pub fn record_state(
    store: &Store,
    clock: &Clock,
    month: Month,
    unit: UnitIdx,
    slot: Slot,
) -> Result<RecordState, PackError> {
    if !is_closed(clock, month) {
        return Ok(RecordState::Open);
    }
    let bytes = store
        .get(Family::Recorded, &recorded_key(month, unit, slot))
        .map_err(|error| PackError::Recorded {
            month,
            detail: error.to_string(),
        })?;
    let Some(bytes) = bytes else {
        return Ok(RecordState::Missing);
    };
    let record: Recorded = postcard::from_bytes(&bytes).map_err(|error| PackError::Recorded {
        month,
        detail: error.to_string(),
    })?;
    Ok(RecordState::Closed {
        restatements: record.restatements,
        recorded: record.main,
    })
}

/// The direction of a move between two ratings (`None` when either is
/// unrated or both are equal).
pub fn direction(from: Option<Rag>, to: Option<Rag>) -> Option<Direction> {
    let (from, to) = (from?, to?);
    match to.as_number().cmp(&from.as_number()) {
        std::cmp::Ordering::Less => Some(Direction::Improved),
        std::cmp::Ordering::Greater => Some(Direction::Worsened),
        std::cmp::Ordering::Equal => None,
    }
}

/// Every move of a rated RAG band between the ends of `since` and `month`,
/// unit by unit in the order given, indicators in configuration order. A
/// move into or out of "no rating" is not a move of band (decision D32).
pub fn movements(
    reader: &Reader,
    store: &Store,
    clock: &Clock,
    units: &[UnitIdx],
    since: Month,
    month: Month,
) -> Result<Vec<Movement>, PackError> {
    if since >= month {
        return Err(PackError::SinceNotBefore { since, month });
    }
    let mut out = Vec::new();
    for &unit in units {
        for (slot, _) in reader.catalogue.reported() {
            let def = reader.def(slot);
            let before = reader.evaluate(slot, unit, since.last_day(), def.window);
            let after = reader.evaluate(slot, unit, month.last_day(), def.window);
            let Some(direction) = direction(before.rag, after.rag) else {
                continue;
            };
            out.push(Movement {
                slot,
                unit,
                from: Side {
                    month: since,
                    record: record_state(store, clock, since, unit, slot)?,
                    evaluation: before,
                },
                to: Side {
                    month,
                    record: record_state(store, clock, month, unit, slot)?,
                    evaluation: after,
                },
                direction,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_follows_the_band_order() {
        assert_eq!(
            direction(Some(Rag::Red), Some(Rag::Amber)),
            Some(Direction::Improved)
        );
        assert_eq!(
            direction(Some(Rag::Amber), Some(Rag::Green)),
            Some(Direction::Improved)
        );
        assert_eq!(
            direction(Some(Rag::Green), Some(Rag::Red)),
            Some(Direction::Worsened)
        );
        assert_eq!(direction(Some(Rag::Amber), Some(Rag::Amber)), None);
        assert_eq!(direction(None, Some(Rag::Red)), None);
        assert_eq!(direction(Some(Rag::Green), None), None);
    }

    #[test]
    fn closed_months_follow_the_clock() {
        let clock = Clock {
            first_month: Month::parse("2016-04"),
            last_closed: Month::parse("2017-06"),
            ..Clock::default()
        };
        assert!(is_closed(&clock, Month::parse("2016-04").unwrap()));
        assert!(is_closed(&clock, Month::parse("2017-06").unwrap()));
        assert!(!is_closed(&clock, Month::parse("2017-07").unwrap()));
        assert!(!is_closed(&clock, Month::parse("2016-03").unwrap()));
        assert!(!is_closed(
            &Clock::default(),
            Month::parse("2017-06").unwrap()
        ));
    }
}
