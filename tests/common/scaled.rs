//! Two authorities for the scale-out tests: the model's unit tree under
//! authority "test" (the default) and a copy of it under "other", their
//! messy histories interleaved, and what to compare between a scaled-out
//! run and one engine.

use super::engine::config_text;
use super::*;
use ragline::config::Config;
use ragline::pipeline::Engine;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Configuration text of the two authorities.
pub fn two_authorities_text() -> String {
    let tree = cfg();
    let mut text =
        config_text(&tree).replacen("root = \"la\"\n", "root = \"la\"\ndefault = true\n", 1);
    text.push_str("\n[[authority]]\nid = \"other\"\nname = \"Other\"\nroot = \"o-la\"\n\n");
    for unit in &tree.units {
        let _ = writeln!(
            text,
            "[[unit]]\nid = \"o-{}\"\nname = \"o-{}\"\nkind = \"{}\"",
            unit.id, unit.id, unit.kind
        );
        if let Some(parent) = &unit.parent {
            let _ = writeln!(text, "parent = \"o-{parent}\"");
        }
        text.push('\n');
    }
    text
}

/// The two authorities' configuration.
pub fn config() -> Arc<Config> {
    Arc::new(
        Config::parse(&two_authorities_text(), Path::new("test.toml")).expect("test config parses"),
    )
}

/// Two authorities' messy histories, interleaved, with malformed lines
/// (dead letters) among them.
pub fn history(seed: u64) -> Vec<Vec<u8>> {
    let test = messy(&random_history(seed, 30, 10), seed);
    let other: Vec<Value> = messy(&random_history(seed ^ 0x07e5, 25, 10), seed ^ 1)
        .into_iter()
        .map(|mut event| {
            event["la"] = json!("other");
            if let Some(unit) = event.get("unit").and_then(Value::as_str) {
                event["unit"] = json!(format!("o-{unit}"));
            }
            event
        })
        .collect();
    let mut rng = Rng(seed ^ 0x5ca1e);
    let (mut left, mut right) = (test.into_iter().peekable(), other.into_iter().peekable());
    let mut lines = Vec::new();
    while left.peek().is_some() || right.peek().is_some() {
        let from_left = right.peek().is_none() || (left.peek().is_some() && rng.chance(55));
        let event = if from_left { left.next() } else { right.next() };
        lines.push(event.expect("one side has events").to_string().into_bytes());
        if rng.chance(2) {
            let bad = match rng.below(3) {
                0 => "not json at all".to_string(),
                1 => r#"{"event_id":"x","type":"referral","la":"nowhere","child_id":"c1","date":"2016-01-01","unit":"n-cswt"}"#.to_string(),
                _ => "[1,2,3]".to_string(),
            };
            lines.push(bad.into_bytes());
        }
    }
    lines
}

/// The producers' key: the child, else the unit, else the whole line.
pub fn producer_key(bytes: &[u8]) -> Vec<u8> {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    for field in ["child_id", "unit"] {
        if let Some(text) = value.get(field).and_then(Value::as_str) {
            return text.as_bytes().to_vec();
        }
    }
    bytes.to_vec()
}

/// The reading and rating of the last indicator value record of each key
/// in the outbox, for the keys whose reading is not empty. (A value is sent
/// when its reading or rating changes (`docs/outputs.md`), so when it was
/// last sent, and with it its date, its comparisons with a month and a year
/// before and its rolling-3-month reading, depend on arrival order.)
pub fn last_values(engine: &Engine) -> BTreeMap<String, Value> {
    let records = engine.pending_outputs(usize::MAX).unwrap().into_iter();
    last_readings(records.filter_map(|(_, record)| {
        (record.topic == ragline::outbox::OutputTopic::Values)
            .then(|| (record.key, serde_json::from_str(&record.payload).unwrap()))
    }))
}

/// [`last_values`] of indicator value records (key, payload) in the order
/// they were sent.
pub fn last_readings(records: impl Iterator<Item = (String, Value)>) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    for (key, payload) in records {
        let kept: serde_json::Map<String, Value> = ["num", "den", "value", "rag"]
            .iter()
            .filter_map(|field| Some((field.to_string(), payload.get(*field)?.clone())))
            .collect();
        values.insert(key, Value::Object(kept));
    }
    // A value is first sent when it is not empty, so a value that has
    // become empty again was either sent empty last or never sent: both
    // say "empty", depending on whether a passing state was ever seen.
    let zero = |field: Option<&Value>| field.is_none_or(|value| value.as_f64() == Some(0.0));
    values.retain(|_, value| !(zero(value.get("num")) && zero(value.get("den"))));
    values
}

/// The keys on which two sets of last values differ, each with both sides.
pub fn differing_values(
    scaled: &BTreeMap<String, Value>,
    single: &BTreeMap<String, Value>,
) -> Vec<String> {
    single
        .keys()
        .chain(scaled.keys())
        .filter(|key| single.get(*key) != scaled.get(*key))
        .map(|key| {
            format!(
                "{key}: scaled out {:?}, one engine {:?}",
                scaled.get(key),
                single.get(key)
            )
        })
        .collect()
}

/// The month-end scorecard of one unit for every month `first..=last`.
pub fn unit_scorecards(engine: &Engine, unit: ragline::config::UnitIdx) -> Vec<String> {
    let clock = engine.clock();
    let (Some(mut month), Some(last)) = (clock.first_month, clock.last_closed) else {
        return Vec::new();
    };
    let reader = engine.reader();
    let mut out = Vec::new();
    while month <= last {
        out.push(ragline::report::report_json(&reader, &[unit], month).to_string());
        month = month.plus(1);
    }
    out
}
