//! Harnesses shared by the libFuzzer targets (`fuzz/`) and their
//! stable-toolchain property tests: each takes arbitrary bytes and panics
//! only when an invariant breaks, so a fuzzer's crash is always a bug.
//!
//! - [`decode_bytes`]: the decoder on raw bytes never panics, and what it
//!   accepts lies within the configured ranges.
//! - [`engine_sequence`]: a structure-aware sequence of events (arbitrary
//!   dates, numbers, ids, revisions, voids, references, batch boundaries and
//!   malformed lines) through the engine on a simulated disk: nothing
//!   panics, the clock stays within the configured ranges, and every value
//!   equals the one a fresh engine gives for the surviving events alone in
//!   one batch (the surviving set found by an independent reading of the
//!   revision rules).

use crate::calendar::{Date, Month, Window};
use crate::config::Config;
use crate::event::{decode, Position, RawMessage, RejectionCode, EVENT_TYPES};
use crate::indicators::REGISTRY;
use crate::pipeline::{Engine, Mode};
use crate::store::{MemoryDisk, Store};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The harnesses' unit tree: one authority, two areas, four leaves, and
/// every catalogue indicator.
pub fn config() -> Arc<Config> {
    let mut text = String::from(
        "[[authority]]\nid = \"la\"\nname = \"LA\"\nroot = \"la\"\n\n\
         [[unit]]\nid = \"la\"\nname = \"LA\"\nkind = \"county\"\n\n\
         [[unit]]\nid = \"north\"\nname = \"North\"\nkind = \"area\"\nparent = \"la\"\n\n\
         [[unit]]\nid = \"south\"\nname = \"South\"\nkind = \"area\"\nparent = \"la\"\n\n",
    );
    for (id, kind, parent) in LEAVES {
        let _ = write!(
            text,
            "[[unit]]\nid = \"{id}\"\nname = \"{id}\"\nkind = \"{kind}\"\nparent = \"{parent}\"\n\n"
        );
    }
    for indicator in REGISTRY {
        let _ = write!(text, "[[indicator]]\nid = \"{}\"\n\n", indicator.id);
    }
    text.push_str("[calendar]\nbank_holidays = [\"2016-12-26\", \"2017-04-14\"]\n\n");
    // Plausible dates for the generated histories (2015-2018): every date
    // the generator draws outside them (sentinels, 1989, 2099, 2107) is
    // rejected, and a batch closes at most 84 months, which keeps each
    // fuzz input fast.
    text.push_str(
        "[validation]\nearliest_event_date = \"2014-01-01\"\nlatest_date = \"2020-12-31\"\n",
    );
    Arc::new(Config::parse(&text, Path::new("harness.toml")).expect("the harness configuration"))
}

const LEAVES: [(&str, &str, &str); 4] = [
    ("n-cswt", "cswt", "north"),
    ("n-cic", "cic", "north"),
    ("s-cswt", "cswt", "south"),
    ("s-cic", "cic", "south"),
];

/// The decoder on raw bytes: never panics; an accepted event's dates lie in
/// the configured range.
pub fn decode_bytes(config: &Config, bytes: &[u8]) {
    if let Ok(event) = decode(config, bytes) {
        assert!(event.date >= config.validation.earliest_event_date);
        assert!(event.date <= config.validation.latest_date);
    }
}

/// Reads choices from fuzzer bytes; zeros once they run out.
struct Choices<'a> {
    bytes: &'a [u8],
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((first, rest)) => {
                self.bytes = rest;
                *first
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        let value = u16::from_le_bytes([self.byte(), self.byte()]);
        usize::from(value) % n.max(1)
    }

    fn pick<'v>(&mut self, values: &[&'v str]) -> &'v str {
        values[self.below(values.len())]
    }

    fn is_done(&self) -> bool {
        self.bytes.is_empty()
    }
}

const IDS: [&str; 12] = [
    "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "E1", "e10",
];
const CHILDREN: [&str; 4] = ["c0", "c1", "c2", "c3"];
const UNITS: [&str; 8] = [
    "n-cswt", "n-cic", "s-cswt", "s-cic", "n-cswt", "s-cic", "north", "atlantis",
];
const EXTRA_FIELDS: [&str; 24] = [
    "date_of_birth",
    "uasc",
    "reason",
    "worker_id",
    "qualified",
    "visit_type",
    "started",
    "child_seen",
    "s47_started",
    "plan_id",
    "period_id",
    "placement_id",
    "episode_id",
    "placement_type",
    "distance_miles",
    "participated",
    "kind",
    "in_touch",
    "accommodation_suitable",
    "eet",
    "grade",
    "establishment_fte",
    "caseholding_fte",
    "agency_fte",
];

/// A date: mostly plausible (2015-2018), sometimes on or past a boundary.
fn date(choices: &mut Choices) -> Value {
    match choices.below(16) {
        0 => json!("0001-01-01"),
        1 => json!("9999-12-31"),
        2 => json!("1989-12-31"),
        3 => json!("1990-01-01"),
        4 => json!("2099-12-31"),
        5 => json!("2016-02-29"),
        6 => json!("2017-02-29"),
        7 => json!("2107-03-01"),
        _ => {
            let day = Date::from_ymd(2015, 1, 1)
                .expect("a date")
                .add_days(choices.below(1461) as i32);
            json!(day.to_string())
        }
    }
}

/// A value for any field: usually of the right kind, sometimes hostile.
fn value(field: &str, choices: &mut Choices) -> Value {
    match choices.below(10) {
        0 => json!(null),
        1 => [
            json!(1e25),
            json!(-1),
            json!(u64::MAX),
            json!(1.5e308),
            json!(0.0000005),
        ][choices.below(5)]
        .clone(),
        2 => json!("x".repeat(choices.below(300))),
        _ => match field {
            "date_of_birth" | "started" | "s47_started" => date(choices),
            "plan_id" | "period_id" | "placement_id" | "episode_id" => {
                json!(choices.pick(&IDS))
            }
            "distance_miles" | "establishment_fte" | "caseholding_fte" | "agency_fte" => {
                json!(choices.below(5000) as f64 / 8.0)
            }
            "visit_type" => json!(choices.pick(&["cin", "cp", "cic", "other", "x"])),
            "placement_type" => json!(choices.pick(&[
                "foster_inhouse",
                "residential",
                "placed_for_adoption",
                "other"
            ])),
            "reason" => {
                json!(choices.pick(&["adopted", "sgo", "returned_home", "age_18", "other"]))
            }
            "kind" => json!(choices.pick(&["initial", "review"])),
            "grade" => json!(choices.pick(&["outstanding", "good", "inadequate"])),
            "worker_id" => json!(choices.pick(&["w1", "w2"])),
            _ => json!(choices.below(2) == 0),
        },
    }
}

/// One input line from the choices: an event of any type with arbitrary
/// envelope and fields, or (rarely) bytes that are not an event at all.
fn line(choices: &mut Choices) -> Vec<u8> {
    if choices.below(40) == 0 {
        let length = choices.below(64);
        return (0..length).map(|_| choices.byte()).collect();
    }
    let mut event = Map::new();
    event.insert("event_id".into(), json!(choices.pick(&IDS)));
    event.insert("type".into(), json!(choices.pick(&EVENT_TYPES)));
    event.insert("child_id".into(), json!(choices.pick(&CHILDREN)));
    event.insert("date".into(), date(choices));
    event.insert("unit".into(), json!(choices.pick(&UNITS)));
    if choices.below(3) == 0 {
        event.insert("revision".into(), json!(choices.below(4)));
    }
    if choices.below(6) == 0 {
        event.insert("void".into(), json!(true));
    }
    if choices.below(8) == 0 {
        let second = choices.below(2);
        event.insert(
            "recorded_at".into(),
            json!(format!("2016-05-01T10:00:0{second}Z")),
        );
    }
    for _ in 0..choices.below(5) {
        let field = choices.pick(&EXTRA_FIELDS);
        let value = value(field, choices);
        event.insert(field.into(), value);
    }
    Value::Object(event).to_string().into_bytes()
}

fn messages(lines: &[Vec<u8>]) -> Vec<RawMessage> {
    lines
        .iter()
        .enumerate()
        .map(|(index, bytes)| RawMessage {
            bytes: bytes.clone(),
            position: Position::File {
                path: "harness".into(),
                line: index as u64 + 1,
            },
        })
        .collect()
}

/// The surviving events of `lines`, by an independent reading of the
/// revision rules: per (authority, id) the highest revision, the first
/// arrival of a revision kept; voids survive as nothing.
fn surviving(config: &Config, lines: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut held: HashMap<(u16, String), (u64, bool, usize)> = HashMap::new();
    for (index, bytes) in lines.iter().enumerate() {
        let Ok(event) = decode(config, bytes) else {
            continue;
        };
        let key = (event.la.0, String::from(event.id.as_str()));
        match held.get(&key) {
            Some((revision, _, _)) if *revision >= event.revision => {}
            _ => {
                held.insert(key, (event.revision, event.void, index));
            }
        }
    }
    let mut kept: Vec<usize> = held
        .values()
        .filter(|(_, void, _)| !void)
        .map(|(_, _, index)| *index)
        .collect();
    kept.sort_unstable();
    kept.into_iter().map(|index| lines[index].clone()).collect()
}

fn fresh_engine(config: &Arc<Config>) -> Engine {
    let disk = MemoryDisk::new("harness");
    Engine::open_store(
        Arc::clone(config),
        Store::in_memory(&disk),
        "harness",
        Mode::Replay,
    )
    .expect("a fresh engine opens")
}

/// Every slot and unit at every month end from `first` to `last`: flow indicators over R12M, R3M and M; snapshot ones as
/// at the date.
fn readings(engine: &Engine, first: Month, last: Month) -> Vec<(i64, i64)> {
    let reader = engine.reader();
    let units = engine.config().unit_indices();
    let mut dates: Vec<Date> = Vec::new();
    let mut month = first;
    while month <= last {
        dates.push(month.last_day());
        month = month.plus(1);
    }
    let mut out = Vec::new();
    for slot in 0..engine.catalogue().slots.len() {
        let slot = slot as u16;
        let windows: &[Window] = if reader.def(slot).is_flow() {
            &[Window::R12M, Window::R3M, Window::M]
        } else {
            &[Window::Ss]
        };
        for &unit in &units {
            for &date in &dates {
                for &window in windows {
                    let reading = reader.reading(slot, unit, date, window);
                    out.push((reading.num, reading.den));
                }
            }
        }
    }
    out
}

/// Events from the choices through the engine in arbitrary batches; checks
/// the invariants of the module documentation.
pub fn engine_sequence(config: &Arc<Config>, bytes: &[u8]) {
    let mut choices = Choices { bytes };
    let mut lines = Vec::new();
    let mut cuts = Vec::new();
    while !choices.is_done() && lines.len() < 200 {
        lines.push(line(&mut choices));
        if choices.below(8) == 0 {
            cuts.push(lines.len());
        }
    }
    cuts.push(lines.len());
    let all = messages(&lines);
    let mut engine = fresh_engine(config);
    let mut start = 0;
    for cut in cuts {
        if cut > start {
            let outcome = engine
                .run_batch(&all[start..cut], None)
                .expect("a simulated disk never fails unasked");
            assert!(
                !outcome.rejected.contains_key(&RejectionCode::InternalError),
                "handling panicked: see the dead letters"
            );
            start = cut;
        }
    }
    let validation = &config.validation;
    let clock = engine.clock();
    if let Some(latest) = clock.latest_event {
        assert!(latest >= validation.earliest_event_date && latest <= validation.latest_date);
    }

    let surviving = surviving(config, &lines);
    let mut reference = fresh_engine(config);
    reference
        .run_batch(&messages(&surviving), None)
        .expect("a simulated disk never fails unasked");
    // Facts admitted and later replaced or voided moved the clock too, and
    // it never goes back.
    assert!(clock.latest_event >= reference.clock().latest_event);
    let first = Month::new(2014, 12).expect("a month");
    let last = Month::new(2019, 1).expect("a month");
    assert!(
        readings(&engine, first, last) == readings(&reference, first, last),
        "incremental values differ from the surviving events' values"
    );
}
