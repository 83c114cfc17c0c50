//! Month ends: which months are closed, closing a month (its recorded
//! readings and scorecards), and restating closed months when later events
//! change them.

use super::*;

impl Engine {
    pub(super) fn closed_range(&self) -> Option<(Month, Month)> {
        match (self.clock.first_month, self.clock.last_closed) {
            (Some(first), Some(last)) if first <= last => Some((first, last)),
            _ => None,
        }
    }

    /// Which reported (slot, unit) pairs to re-check, from which month.
    pub(super) fn restatement_checks(
        &self,
        changed: &FxHashMap<(Slot, UnitIdx), Date>,
        first: Month,
    ) -> Vec<(Slot, UnitIdx, Month)> {
        let mut checks: FxHashMap<(Slot, UnitIdx), Month> = FxHashMap::default();
        let mut caseload_from: Option<Month> = None;
        for (&(slot, unit), date) in changed {
            let month = date.month().max(first);
            let def = self.catalogue.slots[slot as usize].def;
            if Some(slot) == self.catalogue.gate || matches!(def.query, Query::Caseload { .. }) {
                caseload_from = Some(caseload_from.map_or(month, |held| held.min(month)));
            } else if self.catalogue.slots[slot as usize].entry.is_some() {
                checks
                    .entry((slot, unit))
                    .and_modify(|held| *held = (*held).min(month))
                    .or_insert(month);
            }
        }
        if let Some(month) = caseload_from {
            for (slot, slot_def) in self.catalogue.reported() {
                if matches!(slot_def.def.query, Query::Caseload { .. }) {
                    for unit in 0..self.config.units.len() {
                        let unit = UnitIdx(unit as u32);
                        if self.owns(unit) {
                            checks.insert((slot, unit), month);
                        }
                    }
                }
            }
        }
        let mut list: Vec<(Slot, UnitIdx, Month)> = checks
            .into_iter()
            .map(|((slot, unit), month)| (slot, unit, month))
            .collect();
        list.sort_unstable();
        list
    }

    pub(super) fn readings(&self, slot: Slot, unit: UnitIdx, month: Month) -> (Reading, Reading) {
        let reader = self.reader();
        let def = self.catalogue.slots[slot as usize].def;
        let date = month.last_day();
        let main = reader.reading(slot, unit, date, def.window);
        let r3m = if def.window == Window::R12M {
            reader.reading(slot, unit, date, Window::R3M)
        } else {
            Reading::default()
        };
        (main, r3m)
    }

    /// Re-reads a closed month; returns the updated record when it changed.
    pub(super) fn restate(
        &mut self,
        slot: Slot,
        unit: UnitIdx,
        month: Month,
        outputs: &mut Vec<OutboxRecord>,
        outcome: &mut BatchOutcome,
    ) -> Option<Recorded> {
        let (main, r3m) = self.readings(slot, unit, month);
        let old = self
            .recorded
            .get(&(month, unit, slot))
            .copied()
            .unwrap_or(Recorded {
                main: Reading::default(),
                r3m: Reading::default(),
                restatements: 0,
            });
        if old.main == main && old.r3m == r3m {
            return None;
        }
        let record = Recorded {
            main,
            r3m,
            restatements: old.restatements + 1,
        };
        self.recorded.insert((month, unit, slot), record);
        if old.main != main {
            outcome.restatements += 1;
            if self.emit_live {
                let reader = self.reader();
                let def = reader.def(slot);
                let target = reader.target(slot, month.last_day());
                let old_value = crate::scorecard::value_of(def, old.main);
                let new_value = crate::scorecard::value_of(def, main);
                let id = &self.catalogue.slots[slot as usize].id;
                let unit_id = &self.config.unit(unit).id;
                let key = format!("{id}/{unit_id}/{month}");
                let mut payload = json!({
                    "indicator": id,
                    "unit": unit_id,
                    "month": month.to_string(),
                    "old_value": crate::scorecard::value_json(def, old_value),
                    "new_value": crate::scorecard::value_json(def, new_value),
                    "old_num": crate::scorecard::amount_json(old.main.num, def.num_scale),
                    "num": crate::scorecard::amount_json(main.num, def.num_scale),
                    "rag": crate::scorecard::rag(def, target, main, new_value).map(Rag::as_str),
                });
                if def.kind != crate::indicators::Kind::Count {
                    payload["old_den"] = crate::scorecard::amount_json(old.main.den, def.den_scale);
                    payload["den"] = crate::scorecard::amount_json(main.den, def.den_scale);
                }
                outputs.push(OutboxRecord::new(
                    OutputTopic::Restatements,
                    key.clone(),
                    format!("{key}/{}", record.restatements),
                    payload,
                ));
            }
        }
        Some(record)
    }

    pub(super) fn close_month(
        &mut self,
        month: Month,
        batch: &mut Batch,
        outputs: &mut Vec<OutboxRecord>,
    ) {
        let slots: Vec<Slot> = self.catalogue.reported().map(|(slot, _)| slot).collect();
        for unit in 0..self.config.units.len() {
            let unit = UnitIdx(unit as u32);
            if !self.owns(unit) {
                continue;
            }
            for &slot in &slots {
                let (main, r3m) = self.readings(slot, unit, month);
                let record = Recorded {
                    main,
                    r3m,
                    restatements: self
                        .recorded
                        .get(&(month, unit, slot))
                        .map(|record| record.restatements)
                        .unwrap_or(0),
                };
                self.recorded.insert((month, unit, slot), record);
                batch.put(
                    Family::Recorded,
                    recorded_key(month, unit, slot),
                    encode(&record),
                );
            }
            if self.emit_live {
                let reader = self.reader();
                let rows = report::unit_rows(&reader, unit, month);
                let unit_id = self.config.unit(unit).id.clone();
                let key = format!("{unit_id}/{month}");
                outputs.push(OutboxRecord::new(
                    OutputTopic::Scorecards,
                    key.clone(),
                    key,
                    json!({
                        "unit": unit_id,
                        "month": month.to_string(),
                        "scorecard": report::unit_json(&reader, &rows),
                    }),
                ));
            }
        }
    }
}
