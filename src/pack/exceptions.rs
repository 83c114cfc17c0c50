//! Exception pages (`report --view exceptions`): one page per indicator
//! rated red at a month end for a unit (amber too with `include_amber`),
//! laid out like the published committee pack.

use super::notes::{self, Outside};
use super::{units_beneath, PackError};
use crate::calendar::Month;
use crate::config::{TargetSpec, UascFilter, UnitIdx};
use crate::contrib::Slot;
use crate::report::{display_name, uasc_pairs};
use crate::scorecard::{Evaluation, Rag, Reader};

/// What to page.
#[derive(Clone, Debug)]
pub struct ExceptionOptions {
    /// The month end.
    pub month: Month,
    /// The units whose pages are made.
    pub units: Vec<UnitIdx>,
    /// Amber indicators get a page too.
    pub include_amber: bool,
    /// Only indicators that turned red (or amber) since the end of this month.
    pub since: Option<Month>,
    /// Month ends in the trend table.
    pub trend: u32,
}

/// One month end of the trend table.
#[derive(Clone, Debug)]
pub struct TrendPoint {
    /// The month.
    pub month: Month,
    /// Reading, value and rating at its end.
    pub evaluation: Evaluation,
    /// The target in force at its end.
    pub target: Option<TargetSpec>,
}

/// The data notes of a page.
#[derive(Clone, Debug)]
pub struct DataNotes {
    /// Target and RAG bandings in words and numbers.
    pub target: String,
    /// Which direction is better.
    pub tolerance: String,
    /// What the period covers, with dates.
    pub period: String,
    /// Where the figures come from.
    pub source: Option<String>,
}

/// A unit beneath the page's unit, with its evaluation at the month end.
#[derive(Clone, Debug)]
pub struct UnitLine {
    /// The unit.
    pub unit: UnitIdx,
    /// Its evaluation.
    pub evaluation: Evaluation,
}

/// The same indicator with the other UASC treatment.
#[derive(Clone, Debug)]
pub struct UascOther {
    /// The other entry's slot.
    pub slot: Slot,
    /// Whether it excludes UASC children (else it includes them).
    pub excluding: bool,
    /// Its evaluation at the month end.
    pub evaluation: Evaluation,
}

/// One exception page.
#[derive(Clone, Debug)]
pub struct ExceptionPage {
    /// The indicator's slot.
    pub slot: Slot,
    /// The unit.
    pub unit: UnitIdx,
    /// The month end.
    pub month: Month,
    /// The evaluation at the month end (red, or amber).
    pub now: Evaluation,
    /// The rating at the end of `since`, when asked.
    pub since: Option<(Month, Option<Rag>)>,
    /// The trend table, oldest first, ending with `month`.
    pub trend: Vec<TrendPoint>,
    /// The data notes.
    pub notes: DataNotes,
    /// Units beneath the page's unit rated red at the month end.
    pub red_units: Vec<UnitLine>,
    /// Cases outside the standard.
    pub outside: Option<Outside>,
    /// The value with the other UASC treatment, when configured.
    pub uasc: Option<UascOther>,
    /// The service's commentary on the indicator, unit and month, if any.
    pub commentary: Option<crate::fold::Commentary>,
}

/// A slot's partner with the other UASC treatment, and whether the slot is
/// the secondary entry of the pair (the one whose filter is not the
/// catalogue's own), which gets no page of its own (decision D30).
fn uasc_partner(reader: &Reader, slot: Slot) -> (Option<Slot>, bool) {
    for pair in uasc_pairs(reader) {
        let (other, this) = if pair.including == slot {
            (pair.excluding, pair.including)
        } else if pair.excluding == slot {
            (pair.including, pair.excluding)
        } else {
            continue;
        };
        let slot_def = &reader.catalogue.slots[this as usize];
        let secondary = slot_def.filter != slot_def.def.default_uasc;
        return (Some(other), secondary);
    }
    (None, false)
}

/// The data notes of `slot` for `month`.
pub fn data_notes(reader: &Reader, slot: Slot, month: Month) -> DataNotes {
    let def = reader.def(slot);
    let target = reader.target(slot, month.last_day());
    let entry = reader.catalogue.slots[slot as usize]
        .entry
        .map(|entry| &reader.config.indicators[entry]);
    let source = entry
        .and_then(|entry| entry.data_source.as_deref())
        .or(reader.config.pack.data_source.as_deref());
    DataNotes {
        target: notes::target_sentence(def, target, &notes::year_name(month)),
        tolerance: notes::tolerance_sentence(def),
        period: notes::period_sentence(def, month),
        source: notes::source_sentence(source),
    }
}

/// The trend table of `slot` at `unit`: the `count` month ends up to `month`.
pub fn trend(
    reader: &Reader,
    slot: Slot,
    unit: UnitIdx,
    month: Month,
    count: u32,
) -> Vec<TrendPoint> {
    let def = reader.def(slot);
    (0..count as i32)
        .rev()
        .map(|back| {
            let at = month.plus(-back);
            TrendPoint {
                month: at,
                evaluation: reader.evaluate(slot, unit, at.last_day(), def.window),
                target: reader.target(slot, at.last_day()).cloned(),
            }
        })
        .collect()
}

/// Whether a page is due: rated red (or amber with `include_amber`) now, and
/// with `since`, worse than at the end of `since` (an unrated month counts
/// as not yet red or amber).
fn due(now: Option<Rag>, before: Option<Option<Rag>>, include_amber: bool) -> bool {
    let selected = match now {
        Some(Rag::Red) => true,
        Some(Rag::Amber) => include_amber,
        _ => false,
    };
    if !selected {
        return false;
    }
    match before {
        None => true,
        Some(before) => {
            let rank = |rag: Option<Rag>| rag.map(Rag::as_number).unwrap_or(-1);
            rank(before) < rank(now)
        }
    }
}

/// Every exception page for the options, unit by unit, in configuration order.
///
/// With `store`, each page carries the commentary the state holds for it.
pub fn pages(
    reader: &Reader,
    store: Option<&crate::store::Store>,
    options: &ExceptionOptions,
) -> Result<Vec<ExceptionPage>, PackError> {
    if options.trend == 0 || options.trend > 36 {
        return Err(PackError::Trend(options.trend));
    }
    if let Some(since) = options.since {
        if since >= options.month {
            return Err(PackError::SinceNotBefore {
                since,
                month: options.month,
            });
        }
    }
    let month = options.month;
    let mut out = Vec::new();
    for &unit in &options.units {
        let mut commentary = match store {
            Some(store) => super::commentary::of_unit(store, unit)?,
            None => Default::default(),
        };
        for (slot, _) in reader.catalogue.reported() {
            let (partner, secondary) = uasc_partner(reader, slot);
            if secondary {
                continue;
            }
            let def = reader.def(slot);
            let now = reader.evaluate(slot, unit, month.last_day(), def.window);
            let since = options.since.map(|since| {
                (
                    since,
                    reader
                        .evaluate(slot, unit, since.last_day(), def.window)
                        .rag,
                )
            });
            if !due(now.rag, since.map(|(_, rag)| rag), options.include_amber) {
                continue;
            }
            let red_units = units_beneath(reader, unit)
                .into_iter()
                .filter_map(|below| {
                    let evaluation = reader.evaluate(slot, below, month.last_day(), def.window);
                    (evaluation.rag == Some(Rag::Red)).then_some(UnitLine {
                        unit: below,
                        evaluation,
                    })
                })
                .collect();
            let uasc = partner.map(|other| UascOther {
                slot: other,
                excluding: reader.catalogue.slots[other as usize].filter == UascFilter::Exclude,
                evaluation: reader.evaluate(other, unit, month.last_day(), def.window),
            });
            out.push(ExceptionPage {
                slot,
                unit,
                month,
                outside: notes::outside_standard(def, now.reading, month),
                now,
                since,
                trend: trend(reader, slot, unit, month, options.trend),
                notes: data_notes(reader, slot, month),
                red_units,
                uasc,
                commentary: commentary
                    .remove(&(reader.catalogue.slots[slot as usize].id.clone(), month)),
            });
        }
    }
    Ok(out)
}

/// The page's title: the indicator's name.
pub fn title(reader: &Reader, page: &ExceptionPage) -> String {
    display_name(reader, page.slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_due_for_red_and_for_amber_when_asked() {
        assert!(due(Some(Rag::Red), None, false));
        assert!(!due(Some(Rag::Amber), None, false));
        assert!(due(Some(Rag::Amber), None, true));
        assert!(!due(Some(Rag::Green), None, true));
        assert!(!due(None, None, true));
        // Turned red since: not red before (amber, green or unrated).
        assert!(due(Some(Rag::Red), Some(Some(Rag::Amber)), false));
        assert!(due(Some(Rag::Red), Some(None), false));
        assert!(!due(Some(Rag::Red), Some(Some(Rag::Red)), false));
        // Turned amber since: green or unrated before; red before is better now.
        assert!(due(Some(Rag::Amber), Some(Some(Rag::Green)), true));
        assert!(!due(Some(Rag::Amber), Some(Some(Rag::Red)), true));
        assert!(!due(Some(Rag::Amber), Some(Some(Rag::Amber)), true));
    }
}
