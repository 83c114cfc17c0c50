//! Hostile input and internal faults: no line a producer can send, and no
//! panic while handling one, stops the engine, moves its clock or changes a
//! value. Every case is checked against the reference model over the
//! surviving facts (the hostile line is never one of them).

mod common;
#[allow(dead_code)]
mod model;
#[path = "common/tools.rs"]
mod tools;
use common::engine::{assert_equals_model, config_text};
use common::*;
use model::*;
use proptest::prelude::*;
use ragline::calendar::{Date, Window as EngineWindow};
use ragline::config::Config;
use ragline::event::{Position, RawMessage, RejectionCode};
use ragline::pipeline::{BatchOutcome, Engine, Mode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

/// Lines that once hung or crashed the processor, or moved its clock, with
/// the field the rejection must name.
fn hostile_lines() -> Vec<(Value, &'static str)> {
    vec![
        (
            details("h-dob", "c0", "2016-05-01", "0001-01-01", false),
            "date_of_birth",
        ),
        (referral("h-far", "c1", "9999-12-31", "n-cswt"), "date"),
        (
            {
                let mut void = referral("h-void", "c1", "0001-01-01", "n-cswt");
                void["void"] = json!(true);
                void
            },
            "date",
        ),
        (
            {
                let mut void = referral("h-void-max", "c2", "9999-12-31", "s-cswt");
                void["void"] = json!(true);
                void
            },
            "date",
        ),
        (
            ev(
                "h-miles",
                "placement_started",
                "c2",
                "2016-06-01",
                json!({"period_id": "p", "placement_type": "residential", "distance_miles": 1e25}),
            ),
            "distance_miles",
        ),
        (
            ev(
                "h-miles-text",
                "placement_started",
                "c2",
                "2016-06-01",
                json!({"period_id": "p", "placement_type": "residential", "distance_miles": 79228162514264337593543950335u128 as f64}),
            ),
            "distance_miles",
        ),
        (referral("h-typo", "c3", "2107-03-01", "s-cswt"), "date"),
        (
            ev(
                "h-started",
                "assessment_completed",
                "c3",
                "2016-07-01",
                json!({"started": "0001-01-01", "child_seen": true}),
            ),
            "started",
        ),
        (
            uev(
                "h-fte",
                "staffing_snapshot",
                "n-cswt",
                "2016-07-01",
                json!({"establishment_fte": 1e300, "caseholding_fte": 1, "permanent_qsw_fte": 1, "agency_fte": 0}),
            ),
            "establishment_fte",
        ),
    ]
}

fn messages(events: &[Value], first_line: u64) -> Vec<RawMessage> {
    RawMessage::file_lines_from(
        "test",
        first_line,
        events.iter().map(|event| event.to_string()),
    )
}

/// Feeds `events` in batches of `batch`, allowing rejections.
fn feed(engine: &mut Engine, events: &[Value], batch: usize) -> BatchOutcome {
    let all = messages(events, 1);
    let mut total = BatchOutcome::default();
    for chunk in all.chunks(batch.max(1)) {
        total.absorb(engine.run_batch(chunk, None).expect("batch commits"));
    }
    total
}

fn engine_over(directory: &Path) -> Engine {
    let config = Config::parse(&config_text(&cfg()), Path::new("test.toml")).unwrap();
    Engine::open(Arc::new(config), directory, Mode::Replay).unwrap()
}

#[test]
fn each_hostile_line_is_rejected_naming_its_field_and_changes_nothing() {
    let facts = random_history(11, 5, 30);
    let clean = {
        let directory = tempfile::tempdir().unwrap();
        let mut engine = engine_over(directory.path());
        feed(&mut engine, &facts, 7);
        engine.clock()
    };
    for (line, field) in hostile_lines() {
        let directory = tempfile::tempdir().unwrap();
        let mut engine = engine_over(directory.path());
        let mut arrivals = facts.clone();
        arrivals.insert(facts.len() / 2, line.clone());
        let outcome = feed(&mut engine, &arrivals, 7);
        assert_eq!(
            outcome.rejected.get(&RejectionCode::OutOfRange),
            Some(&1),
            "{line}: {:?}",
            outcome.rejected
        );
        assert_eq!(outcome.rejected.len(), 1, "{line}: {:?}", outcome.rejected);
        let letters = engine.pending_outputs(usize::MAX).unwrap();
        let letter = letters
            .iter()
            .find(|(_, record)| {
                record.topic == ragline::outbox::OutputTopic::DeadLetters
                    && record.payload.contains("out_of_range")
            })
            .expect("a dead letter");
        assert!(
            letter.1.payload.contains(&format!("{field}:")),
            "the reason names {field}: {}",
            letter.1.payload
        );
        assert_eq!(engine.clock(), clean, "{line} moved the clock");
        assert_equals_model(&engine, &facts);
    }
}

#[test]
fn the_clock_moves_only_for_admitted_facts() {
    let facts = random_history(5, 4, 20);
    let directory = tempfile::tempdir().unwrap();
    let mut engine = engine_over(directory.path());
    feed(&mut engine, &facts, 50);
    let before = engine.clock();
    let latest = before.latest_event.unwrap();
    let later = latest.add_days(40).to_string();
    // A duplicate of a known fact dated later (same id and revision: the
    // first arrival is kept), a fact that only ever arrives voided, a lower
    // revision and a rejected line, all dated after the latest fact.
    let mut duplicate = facts[0].clone();
    duplicate["date"] = json!(later);
    let mut void = referral("never", "c9", &later, "n-cswt");
    void["void"] = json!(true);
    void["revision"] = json!(3);
    let mut lower = void.clone();
    lower["revision"] = json!(1);
    lower["void"] = json!(false);
    let rejected = referral("bad-unit", "c9", &later, "north");
    let outcome = engine
        .run_batch(&messages(&[duplicate, void, lower, rejected], 1_000), None)
        .unwrap();
    assert_eq!(outcome.duplicates, 2);
    assert_eq!(outcome.applied, 1);
    assert_eq!(outcome.rejected.get(&RejectionCode::NotLeafUnit), Some(&1));
    assert_eq!(engine.clock(), before);
    assert!(outcome.months_closed.is_empty());
    // An admitted fact does move it.
    let outcome = engine
        .run_batch(
            &messages(&[referral("real", "c9", &later, "n-cswt")], 2_000),
            None,
        )
        .unwrap();
    assert_eq!(outcome.applied, 1);
    assert_eq!(engine.clock().latest_event, Date::parse(&later));
}

#[test]
fn a_panic_while_handling_one_message_dead_letters_it_and_the_rest_go_on() {
    let facts = random_history(21, 6, 30);
    let directory = tempfile::tempdir().unwrap();
    let mut engine = engine_over(directory.path());
    engine.set_fault_injector(Some(Box::new(|event| event.id == "poison")));
    let poison = referral("poison", "c2", "2016-03-01", "n-cswt");
    let mut arrivals = facts.clone();
    arrivals.insert(17, poison);
    // One batch holding everything: the poison is found by halving.
    let outcome = engine.run_batch(&messages(&arrivals, 1), None).unwrap();
    assert_eq!(outcome.consumed, arrivals.len() as u64);
    assert_eq!(
        outcome.rejected.get(&RejectionCode::InternalError),
        Some(&1)
    );
    assert_eq!(outcome.applied, facts.len() as u64);
    let letters = engine.pending_outputs(usize::MAX).unwrap();
    let letter = &letters
        .iter()
        .find(|(_, record)| {
            record.topic == ragline::outbox::OutputTopic::DeadLetters
                && record.payload.contains("internal_error")
        })
        .expect("a dead letter")
        .1;
    assert!(
        letter.payload.contains("injected fault"),
        "{}",
        letter.payload
    );
    assert!(letter.payload.contains("\"line\":18"), "{}", letter.payload);
    // The input position moved past every message, the poison included.
    assert_eq!(engine.file_position("test"), Some(arrivals.len() as u64));
    assert_equals_model(&engine, &facts);
    // The state on disk holds the same: reopen and compare again.
    drop(engine);
    let engine = engine_over(directory.path());
    assert_equals_model(&engine, &facts);
    assert_eq!(
        engine.totals().rejected.get("internal_error"),
        Some(&1),
        "{:?}",
        engine.totals().rejected
    );
}

#[test]
fn event_ids_are_scoped_by_authority() {
    let text = r#"
[[authority]]
id = "east"
name = "East"
root = "east"
default = true

[[authority]]
id = "west"
name = "West"
root = "west"

[[unit]]
id = "east"
name = "East"
kind = "county"

[[unit]]
id = "east-team"
name = "East team"
kind = "cswt"
parent = "east"

[[unit]]
id = "west"
name = "West"
kind = "county"

[[unit]]
id = "west-team"
name = "West team"
kind = "cswt"
parent = "west"

[[indicator]]
id = "SCS03"

[calendar]
bank_holidays = []
"#;
    let config = Arc::new(Config::parse(text, Path::new("two.toml")).unwrap());
    let directory = tempfile::tempdir().unwrap();
    let mut engine = Engine::open(config, directory.path(), Mode::Replay).unwrap();
    let east = json!({"event_id": "r1", "type": "referral", "la": "east", "child_id": "c1", "date": "2017-03-01", "unit": "east-team"});
    let west = json!({"event_id": "r1", "type": "referral", "la": "west", "child_id": "c1", "date": "2017-03-02", "unit": "west-team"});
    let outcome = engine
        .run_batch(&messages(&[east.clone(), west, east], 1), None)
        .unwrap();
    assert_eq!(outcome.applied, 2);
    assert_eq!(outcome.duplicates, 1);
    let reader = engine.reader();
    let slot = engine.catalogue().slot_of("SCS03").unwrap();
    for root in ["east", "west"] {
        let unit = engine.config().unit_by_id(root).unwrap();
        let reading = reader.reading(
            slot,
            unit,
            Date::parse("2017-03-31").unwrap(),
            EngineWindow::R12M,
        );
        assert_eq!(reading.den, 1, "{root}: one referral");
    }
}

/// A field value drawn to be hostile: out of every range, of the wrong type,
/// huge, negative, or ordinary.
fn hostile_value(rng: &mut common::Rng) -> Value {
    match rng.below(14) {
        0 => json!("0001-01-01"),
        1 => json!("9999-12-31"),
        2 => json!("2107-03-01"),
        3 => json!(1e25),
        4 => json!(-1),
        5 => json!(u64::MAX),
        6 => json!(null),
        7 => json!("2016-02-29"),
        8 => json!(1.5e308),
        9 => json!("x".repeat(200)),
        10 => json!(true),
        11 => json!([1, 2]),
        12 => json!({"a": 1}),
        _ => json!("1989-12-31"),
    }
}

const FIELDS: &[&str] = &[
    "date",
    "date_of_birth",
    "started",
    "s47_started",
    "distance_miles",
    "establishment_fte",
    "caseholding_fte",
    "revision",
    "event_id",
    "child_id",
    "unit",
    "la",
    "void",
    "recorded_at",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// A random history with hostile mutations of its own events spliced in
    /// (each under a fresh id, so that it is a separate fact if admitted):
    /// the engine never panics or hangs, and its values equal the model over
    /// the facts it admitted.
    #[test]
    fn hostile_mutations_never_stop_the_engine(seed in any::<u64>(), batch in 1usize..200) {
        let facts = random_history(seed, 5, 25);
        let mut rng = common::Rng(seed ^ 0xbad);
        let mut arrivals = facts.clone();
        for index in 0..40 {
            let mut mutant = facts[rng.below(facts.len() as u64) as usize].clone();
            mutant["event_id"] = json!(format!("mutant-{index}"));
            for _ in 0..1 + rng.below(3) {
                let field = FIELDS[rng.below(FIELDS.len() as u64) as usize];
                mutant[field] = hostile_value(&mut rng);
            }
            mutant["event_id"] = json!(format!("mutant-{index}"));
            let at = rng.below(arrivals.len() as u64 + 1) as usize;
            arrivals.insert(at, mutant);
        }
        let directory = tempfile::tempdir().unwrap();
        let mut engine = engine_over(directory.path());
        let outcome = feed(&mut engine, &arrivals, batch);
        prop_assert_eq!(outcome.consumed, arrivals.len() as u64);
        prop_assert!(!outcome.rejected.contains_key(&RejectionCode::InternalError));
        // The surviving facts: the history plus the mutants that were admitted.
        let admitted: Vec<Value> = arrivals
            .iter()
            .filter(|event| {
                ragline::event::decode(engine.config(), event.to_string().as_bytes()).is_ok()
            })
            .cloned()
            .collect();
        let surviving = surviving(&admitted);
        // The clock is bounded by configuration.
        if let Some(latest) = engine.clock().latest_event {
            prop_assert!(latest <= engine.config().validation.latest_date);
            prop_assert!(latest >= engine.config().validation.earliest_event_date);
        }
        assert_equals_model(&engine, &surviving);
    }
}

/// The dead letter of a large message (600 KiB of text with multi-byte
/// characters: under the 1 MiB message limit, rejected for its unknown
/// type) with payloads switched on, and its default form.
fn large_message_dead_letter(payloads: bool) -> (String, Value) {
    let directory = tempfile::tempdir().unwrap();
    let mut config = Config::parse(&config_text(&cfg()), Path::new("test.toml")).unwrap();
    config.outputs.dead_letter_payloads = payloads;
    let mut engine = Engine::open(Arc::new(config), directory.path(), Mode::Replay).unwrap();
    let padding = "é".repeat(300 * 1024);
    let line =
        format!(r#"{{"event_id":"big","type":"nonsense","date":"2017-01-01","pad":"{padding}"}}"#);
    let outcome = engine
        .run_batch(
            &[RawMessage {
                bytes: line.clone().into_bytes(),
                position: Position::File {
                    path: "big.jsonl".into(),
                    line: 1,
                },
            }],
            None,
        )
        .unwrap();
    assert_eq!(outcome.rejected.get(&RejectionCode::UnknownType), Some(&1));
    let letters = engine.pending_outputs(10).unwrap();
    assert!(letters[0].1.payload.len() < ragline::outbox::TOPIC_MAX_MESSAGE_BYTES);
    (line, serde_json::from_str(&letters[0].1.payload).unwrap())
}

#[test]
fn dead_letters_of_large_messages_are_cut_to_a_bound_and_say_so() {
    let (line, letter) = large_message_dead_letter(true);
    let raw = letter["raw"].as_str().expect("still text");
    assert!(raw.len() <= ragline::outbox::DEAD_LETTER_RAW_MAX_BYTES);
    assert!(raw.len() > ragline::outbox::DEAD_LETTER_RAW_MAX_BYTES - 4);
    assert!(line.starts_with(raw));
    assert_eq!(letter["raw_truncated"], true);
    assert_eq!(letter["raw_bytes"], line.len());
}

/// By default a dead letter says where the message is, why it was refused
/// and what it hashes to, never what it said.
#[test]
fn dead_letters_carry_no_payload_unless_configured() {
    let (line, letter) = large_message_dead_letter(false);
    let keys: Vec<&str> = letter
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "source",
            "reason",
            "code",
            "field",
            "payload_sha256",
            "raw_bytes"
        ]
    );
    assert_eq!(letter["raw_bytes"], line.len());
    assert_eq!(letter["source"]["file"], "big.jsonl");
    assert_eq!(letter["source"]["line"], 1);
    // The hash of the message's bytes, computed independently of ragline.
    assert_eq!(
        letter["payload_sha256"].as_str().unwrap(),
        tools::sha256sum(line.as_bytes())
    );
    assert!(!letter.to_string().contains("éé"));
}

/// A rejection quotes at most a short excerpt of the value at fault.
#[test]
fn rejection_reasons_quote_a_short_excerpt_of_the_value() {
    let directory = tempfile::tempdir().unwrap();
    let mut engine = engine_over(directory.path());
    let long = "Jane Example lives at 1 High Street".repeat(3);
    let line = format!(
        r#"{{"event_id":"e1","type":"referral","child_id":"c1","unit":"n-cswt","date":"{long}"}}"#
    );
    engine
        .run_batch(
            &[RawMessage {
                bytes: line.into_bytes(),
                position: Position::File {
                    path: "x.jsonl".into(),
                    line: 1,
                },
            }],
            None,
        )
        .unwrap();
    let letters = engine.pending_outputs(10).unwrap();
    let letter: Value = serde_json::from_str(&letters[0].1.payload).unwrap();
    let reason = letter["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("date: 'Jane Example lives at 1 …'"),
        "{reason}"
    );
    assert!(!reason.contains("High Street"), "{reason}");
}
