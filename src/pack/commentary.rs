//! Commentary on exception pages: `commentary` events (`docs/events.md`),
//! kept in the state like every unit-level event (the ledger's owner record
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
