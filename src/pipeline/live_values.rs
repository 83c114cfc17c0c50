//! Live values: the current reading of every changed indicator and unit,
//! emitted when it (or its RAG) changes, with RAG changes beside them.

use super::*;

impl Engine {
    pub(super) fn live_updates(
        &mut self,
        current: Date,
        all: bool,
        changed: &FxHashMap<(Slot, UnitIdx), Date>,
        cause: &BatchCause,
        batch: &mut Batch,
        outputs: &mut Vec<OutboxRecord>,
    ) {
        let mut pairs: Vec<(Slot, UnitIdx)> = Vec::new();
        let caseload_touched = changed.keys().any(|(slot, _)| {
            Some(*slot) == self.catalogue.gate
                || matches!(
                    self.catalogue.slots[*slot as usize].def.query,
                    Query::Caseload { .. }
                )
        });
        for (slot, slot_def) in self.catalogue.reported() {
            let caseload = matches!(slot_def.def.query, Query::Caseload { .. });
            for unit in 0..self.config.units.len() {
                let unit = UnitIdx(unit as u32);
                if !self.owns(unit) {
                    continue;
                }
                if all || (caseload && caseload_touched) || changed.contains_key(&(slot, unit)) {
                    pairs.push((slot, unit));
                }
            }
        }
        let month = current.month();
        let mut updates: Vec<((Slot, UnitIdx), Live, Option<Rag>)> = Vec::new();
        {
            let reader = self.reader();
            let mut emitted: FxHashSet<(Slot, UnitIdx)> = FxHashSet::default();
            for (slot, unit) in pairs {
                if !emitted.insert((slot, unit)) {
                    continue;
                }
                let row = reader.row_at(slot, unit, current, month);
                let previous = self.live.get(&(slot, unit)).copied();
                if previous
                    .is_some_and(|live| live.reading == row.now.reading && live.rag == row.now.rag)
                {
                    continue;
                }
                if previous.is_none() && row.now.reading == Reading::default() {
                    continue;
                }
                let sequence = previous.map_or(1, |live| live.sequence + 1);
                let id = &self.catalogue.slots[slot as usize].id;
                let unit_id = &self.config.unit(unit).id;
                let key = format!("{id}/{unit_id}");
                let mut payload = report::row_json(&reader, &row);
                if let serde_json::Value::Object(object) = &mut payload {
                    object.insert("indicator".into(), json!(id));
                    object.insert("unit".into(), json!(unit_id));
                    object.insert("as_of".into(), json!(current.to_string()));
                    object.insert("sequence".into(), json!(sequence));
                    if self.config.outputs.value_causes {
                        object.insert(
                            "cause".into(),
                            json!({"last_input": cause.last_input, "batch_messages": cause.messages}),
                        );
                    }
                }
                outputs.push(OutboxRecord::new(
                    OutputTopic::Values,
                    key.clone(),
                    format!("{key}/{current}/{sequence}"),
                    payload,
                ));
                let old_rag = previous.and_then(|live| live.rag);
                if previous.is_some() && old_rag != row.now.rag
                    || previous.is_none() && row.now.rag.is_some()
                {
                    let def = reader.def(slot);
                    outputs.push(OutboxRecord::new(
                        OutputTopic::RagChanges,
                        key.clone(),
                        format!("{key}/{current}/{sequence}"),
                        json!({
                            "indicator": id,
                            "unit": unit_id,
                            "as_of": current.to_string(),
                            "from": old_rag.map(Rag::as_str),
                            "to": row.now.rag.map(Rag::as_str),
                            "value": crate::scorecard::value_json(def, row.now.value),
                            "num": crate::scorecard::amount_json(row.now.reading.num, def.num_scale),
                            "den": crate::scorecard::amount_json(row.now.reading.den, def.den_scale),
                        }),
                    ));
                }
                updates.push((
                    (slot, unit),
                    Live {
                        sequence,
                        reading: row.now.reading,
                        rag: row.now.rag,
                    },
                    old_rag,
                ));
            }
        }
        for ((slot, unit), live, _) in updates {
            self.live.insert((slot, unit), live);
            batch.put(Family::Live, live_key(slot, unit), encode(&live));
        }
    }

    /// The last live values (slot, unit) emitted.
    pub fn live_values(&self) -> &FxHashMap<(Slot, UnitIdx), Live> {
        &self.live
    }
}

/// What a batch's live values name as their cause (with `value_causes`).
pub(super) struct BatchCause {
    /// The position of the batch's last message.
    pub(super) last_input: Option<String>,
    /// The messages in the batch.
    pub(super) messages: usize,
}

impl BatchCause {
    /// The cause of a batch of `messages`.
    pub(super) fn of(messages: &[RawMessage]) -> BatchCause {
        BatchCause {
            last_input: messages.last().map(|message| message.position.to_string()),
            messages: messages.len(),
        }
    }
}
