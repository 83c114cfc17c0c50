//! Hand-worked output records: live values, RAG changes, month-end
//! scorecards with their direction of travel, restatements after late data,
//! and the rate indicator's population denominator, read from the outbox
//! exactly as the sinks read them.
//!
//! The story, at Dartford CSWT (under North Kent, under Kent), with AS02
//! (% of children seen at assessment; H, target 98, floor 95) and SCS02
//! (referrals per 10,000 children; Kent's population 340,000, so den 34):
//!
//! 1. Ten referrals on 2017-05-02 and ten assessments on 2017-05-10, every
//!    child seen: AS02 = 10/10 = 100 %, green (a first rating: none -> green).
//! 2. Two more assessments on 2017-05-20, children not seen: 10/12 = 83.3 %,
//!    below the floor: green -> red.
//! 3. A referral dated 2017-06-10: the clock passes May, which closes with
//!    AS02 = 10/12, red, and no direction of travel (April has no data).
//! 4. A late assessment dated 2017-05-25, child seen: May is restated from
//!    10/12 to 11/13 = 84.6 % (still red) at the team, the area and the
//!    county; so is AS01 (completed within 45 working days), from 12/12 to
//!    13/13, the same 100 %.
//! 5. An assessment dated 2017-06-15, child seen, and a referral dated
//!    2017-07-02 closing June: June's AS02 = 12/14 = 85.7 %, one month ago
//!    84.6 % (May as restated), direction "improved" (H: higher is better).

use ragline::config::Config;
use ragline::event::RawMessage;
use ragline::outbox::{OutboxRecord, OutputTopic};
use ragline::pipeline::{Engine, Mode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

struct Story {
    engine: Engine,
    _directory: tempfile::TempDir,
    line: u64,
}

impl Story {
    fn new() -> Story {
        let config =
            Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml")).unwrap();
        let directory = tempfile::tempdir().unwrap();
        let mut engine = Engine::open(Arc::new(config), directory.path(), Mode::Replay).unwrap();
        engine.set_emit_outputs(true);
        Story {
            engine,
            _directory: directory,
            line: 0,
        }
    }

    /// Runs one batch and returns the output records it produced (and takes
    /// them out of the outbox, as a sink would).
    fn batch(&mut self, events: &[Value]) -> Vec<OutboxRecord> {
        let messages = RawMessage::file_lines_from(
            "story",
            self.line + 1,
            events.iter().map(|event| event.to_string()),
        );
        self.line += events.len() as u64;
        let outcome = self.engine.run_batch(&messages, None).unwrap();
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        let pending = self.engine.pending_outputs(1_000_000).unwrap();
        let sequences: Vec<u64> = pending.iter().map(|(sequence, _)| *sequence).collect();
        self.engine.acknowledge_outputs(&sequences).unwrap();
        pending.into_iter().map(|(_, record)| record).collect()
    }
}

fn find(records: &[OutboxRecord], topic: OutputTopic, key: &str) -> Option<Value> {
    records
        .iter()
        .find(|record| record.topic == topic && record.key == key)
        .map(|record| serde_json::from_str(&record.payload).unwrap())
}

fn all(records: &[OutboxRecord], topic: OutputTopic) -> Vec<&OutboxRecord> {
    records
        .iter()
        .filter(|record| record.topic == topic)
        .collect()
}

fn referral(id: &str, child: &str, date: &str) -> Value {
    json!({"event_id": id, "type": "referral", "child_id": child, "date": date, "unit": "dartford-cswt"})
}

fn assessment(id: &str, child: &str, date: &str, started: &str, seen: bool) -> Value {
    json!({"event_id": id, "type": "assessment_completed", "child_id": child, "date": date, "started": started, "child_seen": seen})
}

fn close(value: &Value, expected: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|got| (got - expected).abs() < 1e-9)
}

#[test]
fn live_values_rag_changes_scorecards_dot_and_restatements_by_hand() {
    let mut story = Story::new();

    // 1. Ten referrals and ten assessments, every child seen.
    let mut events = Vec::new();
    for child in 0..10 {
        events.push(referral(
            &format!("r{child}"),
            &format!("k{child}"),
            "2017-05-02",
        ));
        events.push(assessment(
            &format!("a{child}"),
            &format!("k{child}"),
            "2017-05-10",
            "2017-05-03",
            true,
        ));
    }
    let records = story.batch(&events);
    let value = find(&records, OutputTopic::Values, "AS02/dartford-cswt").expect("a live value");
    assert_eq!(value["num"], 10);
    assert_eq!(value["den"], 10);
    assert!(close(&value["value"], 100.0));
    assert_eq!(value["rag"], "green");
    assert_eq!(value["as_of"], "2017-05-10");
    assert_eq!(value["sequence"], 1);
    let change =
        find(&records, OutputTopic::RagChanges, "AS02/dartford-cswt").expect("a first rating");
    assert_eq!(change["from"], Value::Null);
    assert_eq!(change["to"], "green");
    // The rate: ten referrals per 10,000 of 340,000 children at the county;
    // teams have no population, so their referrals have no rate (no data).
    let rate = find(&records, OutputTopic::Values, "SCS02/kent").expect("SCS02 at the county");
    assert_eq!(rate["num"], 10);
    assert!(close(&rate["den"], 34.0), "{rate}");
    assert!(close(&rate["value"], 10.0 / 34.0), "{rate}");
    let team = find(&records, OutputTopic::Values, "SCS02/dartford-cswt").expect("a record");
    assert_eq!(team["num"], 10);
    assert_eq!(team["value"], Value::Null, "{team}");
    assert_eq!(team["rag"], Value::Null);
    assert!(
        all(&records, OutputTopic::Scorecards).is_empty(),
        "no month closed yet"
    );

    // 2. Two children not seen: green -> red.
    let records = story.batch(&[
        assessment("b0", "k0", "2017-05-20", "2017-05-15", false),
        assessment("b1", "k1", "2017-05-20", "2017-05-15", false),
    ]);
    let change = find(&records, OutputTopic::RagChanges, "AS02/dartford-cswt").expect("turned red");
    assert_eq!(change["from"], "green");
    assert_eq!(change["to"], "red");
    assert_eq!(change["num"], 10);
    assert_eq!(change["den"], 12);
    assert!(close(&change["value"], 1000.0 / 12.0));
    assert_eq!(change["as_of"], "2017-05-20");
    let value = find(&records, OutputTopic::Values, "AS02/dartford-cswt").unwrap();
    assert_eq!(value["sequence"], 2);
    // A retry of the first value would land after the second on the
    // compacted topic: the sink drops it instead.
    assert!(story.engine.value_superseded("AS02/dartford-cswt", 1));
    assert!(!story.engine.value_superseded("AS02/dartford-cswt", 2));
    assert!(!story.engine.value_superseded("AS02/atlantis", 1));

    // 3. June begins: May closes.
    let records = story.batch(&[referral("r10", "k10", "2017-06-10")]);
    let scorecards = all(&records, OutputTopic::Scorecards);
    assert_eq!(
        scorecards.len(),
        story.engine.config().units.len(),
        "one scorecard per unit"
    );
    let may = find(&records, OutputTopic::Scorecards, "dartford-cswt/2017-05").expect("May");
    let as02 = &may["scorecard"]["AS02"];
    assert_eq!(as02["num"], 10);
    assert_eq!(as02["den"], 12);
    assert_eq!(as02["rag"], "red");
    assert_eq!(as02["dot"], Value::Null, "April has no data");
    assert_eq!(as02["one_month_ago"], Value::Null);
    assert!(all(&records, OutputTopic::Restatements).is_empty());

    // 4. A late assessment for May: restated at the team, area and county.
    let records = story.batch(&[assessment("c0", "k2", "2017-05-25", "2017-05-20", true)]);
    let restatements = all(&records, OutputTopic::Restatements);
    let mut keys: Vec<&str> = restatements
        .iter()
        .map(|record| record.key.as_str())
        .collect();
    keys.sort_unstable();
    // AS02 and AS01 (assessments within 45 working days: 12/12 -> 13/13,
    // the same 100 % on new counts) changed for May, at the team and every
    // unit above it; nothing else did.
    assert_eq!(
        keys,
        vec![
            "AS01/dartford-cswt/2017-05",
            "AS01/kent/2017-05",
            "AS01/north-kent/2017-05",
            "AS02/dartford-cswt/2017-05",
            "AS02/kent/2017-05",
            "AS02/north-kent/2017-05"
        ]
    );
    let as01 = find(&records, OutputTopic::Restatements, "AS01/kent/2017-05").unwrap();
    assert_eq!(
        (&as01["old_num"], &as01["old_den"]),
        (&json!(12), &json!(12))
    );
    assert_eq!((&as01["num"], &as01["den"]), (&json!(13), &json!(13)));
    assert!(close(&as01["old_value"], 100.0) && close(&as01["new_value"], 100.0));
    assert_eq!(as01["rag"], "green");
    for unit in ["dartford-cswt", "north-kent", "kent"] {
        let restatement = find(
            &records,
            OutputTopic::Restatements,
            &format!("AS02/{unit}/2017-05"),
        )
        .unwrap();
        assert_eq!(restatement["month"], "2017-05");
        assert_eq!(restatement["old_num"], 10);
        assert_eq!(restatement["old_den"], 12);
        assert_eq!(restatement["num"], 11);
        assert_eq!(restatement["den"], 13);
        assert!(close(&restatement["old_value"], 1000.0 / 12.0));
        assert!(close(&restatement["new_value"], 1100.0 / 13.0));
        assert_eq!(restatement["rag"], "red");
    }

    // 5. June improves; July's first event closes June.
    story.batch(&[assessment("d0", "k3", "2017-06-15", "2017-06-12", true)]);
    let records = story.batch(&[referral("r11", "k11", "2017-07-02")]);
    let june = find(&records, OutputTopic::Scorecards, "dartford-cswt/2017-06").expect("June");
    let as02 = &june["scorecard"]["AS02"];
    assert_eq!(as02["num"], 12);
    assert_eq!(as02["den"], 14);
    assert!(close(&as02["value"], 1200.0 / 14.0));
    assert!(
        close(&as02["one_month_ago"], 1100.0 / 13.0),
        "May as restated"
    );
    assert_eq!(as02["dot"], "improved");
    // The R3M window of June (April-June) holds the same assessments.
    assert_eq!(as02["r3m"]["num"], 12);
    assert_eq!(as02["r3m"]["den"], 14);
    // SCS02 at the county in June: eleven referrals (July's is not in it)
    // over 34.
    let county = find(&records, OutputTopic::Scorecards, "kent/2017-06").unwrap();
    assert_eq!(county["scorecard"]["SCS02"]["num"], 11);
    assert!(close(&county["scorecard"]["SCS02"]["den"], 34.0));
    assert_eq!(
        county["scorecard"]["SCS02"]["rag"],
        Value::Null,
        "no target"
    );
}

/// `events` as the lines of file `name`, the first at line `first`.
fn lines(name: &str, events: &[Value], first: u64) -> Vec<RawMessage> {
    RawMessage::file_lines_from(name, first, events.iter().map(|event| event.to_string()))
}

/// Parked records are kept out of the outbox, counted, listed with their
/// reasons, and put back by `retry_parked`, except an indicator value that a
/// later value of the same key supersedes.
#[test]
fn parked_outputs_are_kept_counted_and_put_back() {
    let mut story = Story::new();
    let messages = |events: &[Value], first: u64| lines("parking", events, first);
    let mut first = Vec::new();
    for child in 0..6 {
        first.push(referral(
            &format!("r{child}"),
            &format!("k{child}"),
            "2017-05-02",
        ));
        first.push(assessment(
            &format!("a{child}"),
            &format!("k{child}"),
            "2017-05-10",
            "2017-05-03",
            true,
        ));
    }
    story.engine.run_batch(&messages(&first, 1), None).unwrap();
    story
        .engine
        .run_batch(
            &messages(
                &[assessment("b0", "k0", "2017-05-20", "2017-05-15", false)],
                100,
            ),
            None,
        )
        .unwrap();
    let pending = story.engine.pending_outputs(1_000_000).unwrap();
    let pick = |key: &str, sequence: u64| -> u64 {
        pending
            .iter()
            .find(|(_, record)| {
                record.topic == OutputTopic::Values
                    && record.key == key
                    && record.id.ends_with(&format!("/{sequence}"))
            })
            .map(|(outbox, _)| *outbox)
            .unwrap_or_else(|| panic!("{key} update {sequence}"))
    };
    let old_value = pick("AS02/dartford-cswt", 1);
    let new_value = pick("AS02/dartford-cswt", 2);
    let before = story.engine.outbox_pending();
    story
        .engine
        .park_outputs(&[
            (old_value, "Broker: Message size too large".to_string()),
            (new_value, "Broker: Message size too large".to_string()),
        ])
        .unwrap();
    assert_eq!(story.engine.parked_outputs(), 2);
    assert_eq!(story.engine.outbox_pending(), before - 2);
    let parked = story.engine.parked_records().unwrap();
    assert_eq!(
        parked
            .iter()
            .map(|(sequence, _)| *sequence)
            .collect::<Vec<_>>(),
        vec![old_value, new_value]
    );
    assert!(parked
        .iter()
        .all(|(_, record)| record.reason.contains("too large")));
    let (requeued, dropped) = story.engine.retry_parked().unwrap();
    assert_eq!(
        (requeued, dropped),
        (1, 1),
        "the superseded value is dropped"
    );
    assert_eq!(story.engine.parked_outputs(), 0);
    assert_eq!(story.engine.outbox_pending(), before - 1);
    let last = story.engine.pending_outputs(1_000_000).unwrap();
    let (sequence, record) = last.last().unwrap();
    assert!(*sequence > new_value, "put back at the end of the outbox");
    assert!(record.id.ends_with("/2"));
    assert_eq!(record.key, "AS02/dartford-cswt");
}

/// `drop_outputs_before` removes exactly the pending outputs written before
/// a sequence (those of an earlier batch) and leaves the later ones, in
/// order, still pending.
#[test]
fn outputs_written_before_a_sequence_are_dropped_and_later_ones_kept() {
    let mut story = Story::new();
    let messages = |events: &[Value], first: u64| lines("dropping", events, first);
    let first: Vec<Value> = (0..4)
        .map(|child| referral(&format!("r{child}"), &format!("k{child}"), "2017-05-02"))
        .collect();
    story.engine.run_batch(&messages(&first, 1), None).unwrap();
    let earlier = story.engine.pending_outputs(1_000_000).unwrap();
    let boundary = story.engine.outbox_next();
    assert!(!earlier.is_empty(), "the first batch has outputs");
    assert!(earlier.iter().all(|(sequence, _)| *sequence < boundary));
    story
        .engine
        .run_batch(
            &messages(
                &[assessment("b0", "k0", "2017-05-20", "2017-05-15", false)],
                100,
            ),
            None,
        )
        .unwrap();
    let all = story.engine.pending_outputs(1_000_000).unwrap();
    let later: Vec<u64> = all
        .iter()
        .map(|(sequence, _)| *sequence)
        .filter(|sequence| *sequence >= boundary)
        .collect();
    assert!(!later.is_empty(), "the second batch has outputs");
    let dropped = story.engine.drop_outputs_before(boundary).unwrap();
    assert_eq!(dropped, earlier.len() as u64);
    assert_eq!(story.engine.outbox_pending(), later.len() as u64);
    let left: Vec<u64> = story
        .engine
        .pending_outputs(1_000_000)
        .unwrap()
        .into_iter()
        .map(|(sequence, _)| sequence)
        .collect();
    assert_eq!(left, later);
    assert_eq!(story.engine.drop_outputs_before(boundary).unwrap(), 0);
}
