//! Commentary on exception pages and scorecards: `commentary` events
//! (`docs/events.md`), kept in the state like every unit-level event (the ledger's owner record
//! of the unit they are about) and folded by [`crate::fold::fold_unit`]: per
//! indicator and month, the latest surviving one in the order within a day.

use super::PackError;
use crate::calendar::Month;
use crate::config::UnitIdx;
use crate::event::Owner;
use crate::fold::{fold_unit, sort_events, Commentary};
use crate::ledger::Ledger;
use crate::store::Store;
use std::collections::BTreeMap;

/// The commentary held for `unit`, by indicator id and month.
pub fn of_unit(
    store: &Store,
    unit: UnitIdx,
) -> Result<BTreeMap<(String, Month), Commentary>, PackError> {
    let record =
        Ledger::load_record(store, &Owner::Unit(unit)).map_err(|error| PackError::Commentary {
            detail: error.to_string(),
        })?;
    let Some(record) = record else {
        return Ok(BTreeMap::new());
    };
    let mut events = record.events;
    sort_events(&mut events);
    Ok(fold_unit(&events).commentary)
}

/// The commentary of several units, looked up by unit, indicator id and
/// month: what the scorecard shows beneath a unit's table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shelf {
    by_unit: BTreeMap<UnitIdx, BTreeMap<(String, Month), Commentary>>,
}

impl Shelf {
    /// The commentary the state holds for each of `units`.
    pub fn of_units(store: &Store, units: &[UnitIdx]) -> Result<Shelf, PackError> {
        let mut by_unit = BTreeMap::new();
        for &unit in units {
            let held = of_unit(store, unit)?;
            if !held.is_empty() {
                by_unit.insert(unit, held);
            }
        }
        Ok(Shelf { by_unit })
    }

    /// The latest surviving commentary on `indicator` for `unit` and `month`.
    pub fn get(&self, unit: UnitIdx, indicator: &str, month: Month) -> Option<&Commentary> {
        self.by_unit
            .get(&unit)?
            .get(&(indicator.to_string(), month))
    }
}

/// A commentary as JSON: `{"text", "author", "date", "event_id"}`, or
/// `null` when there is none (exception pages and scorecard rows alike).
pub fn json(commentary: Option<&Commentary>) -> serde_json::Value {
    match commentary {
        Some(commentary) => serde_json::json!({
            "text": commentary.text,
            "author": commentary.author,
            "date": commentary.date.to_string(),
            "event_id": commentary.event_id,
        }),
        None => serde_json::Value::Null,
    }
}
