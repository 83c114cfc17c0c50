//! The stored state format cannot drift silently: every kind of record the
//! state keeps is encoded here from fixed values and compared byte for byte
//! with `tests/golden/state-format-v<FORMAT_VERSION>.hex`. Reordering a
//! field or an enum variant, or changing a type, changes the bytes; the
//! change must then bump `store::FORMAT_VERSION` (a state of the old format
//! is refused with a message to rebuild it) and add the new version's file.
//!
//! `RAGLINE_BLESS=1 cargo test --test state_format` writes the file for the
//! current version; it refuses to overwrite an existing version's file, so a
//! change without a version bump cannot be blessed.

use ragline::calendar::{Date, Month};
use ragline::config::{Config, LaIdx, UnitIdx};
use ragline::contrib::Point;
use ragline::event::{decode, Owner};
use ragline::fold::{Anomaly, AnomalyReason};
use ragline::ledger::{LedgerEntry, OwnerRecord};
use ragline::outbox::{OutboxRecord, OutputTopic};
use ragline::pipeline::{Clock, Live, ParkedRecord, Recorded, Totals};
use ragline::scorecard::{Rag, Reading};
use ragline::series::Sums;
use ragline::store::FORMAT_VERSION;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One event of every type (from `tests/corpus/valid.jsonl`).
const EVENTS: &[&str] = &[
    r#"{"event_id":"v-0001","type":"child_details","child_id":"c-1001","date":"2017-01-03","date_of_birth":"2008-05-14"}"#,
    r#"{"event_id":"v-0003","type":"referral","child_id":"c-1001","date":"2017-01-03","unit":"dartford-cswt","la":"kent","recorded_at":"2017-01-03T10:00:00+00:00"}"#,
    r#"{"event_id":"v-0004","type":"visit","child_id":"c-1001","date":"2017-01-10","visit_type":"cin"}"#,
    r#"{"event_id":"v-0005","type":"assessment_completed","child_id":"c-1001","date":"2017-02-14","started":"2017-01-04","child_seen":true}"#,
    r#"{"event_id":"v-0007","type":"s47_completed","child_id":"c-1001","date":"2017-02-17","started":"2017-02-03","child_seen":true}"#,
    r#"{"event_id":"v-0008","type":"icpc_held","child_id":"c-1001","date":"2017-03-01","s47_started":"2017-02-03"}"#,
    r#"{"event_id":"v-0009","type":"cp_plan_started","child_id":"c-1001","date":"2017-03-01","category":"neglect","recorded_at":"2017-03-01T14:00:00+00:00"}"#,
    r#"{"event_id":"v-0011","type":"cp_review_held","child_id":"c-1001","date":"2017-05-24","plan_id":"v-0009"}"#,
    r#"{"event_id":"v-0012","type":"worker_allocated","child_id":"c-1001","date":"2017-01-05","worker_id":"w-0042"}"#,
    r#"{"event_id":"v-0014","type":"cp_plan_ended","child_id":"c-1001","date":"2017-06-30","plan_id":"v-0009"}"#,
    r#"{"event_id":"v-0015","type":"cic_started","child_id":"c-1001","date":"2017-06-30","legal_status":"C2","recorded_at":"2017-06-30T15:00:00+01:00"}"#,
    r#"{"event_id":"v-0016","type":"case_transferred","child_id":"c-1001","date":"2017-07-03","unit":"north-kent-cic"}"#,
    r#"{"event_id":"v-0017","type":"placement_started","child_id":"c-1001","date":"2017-06-30","period_id":"v-0015","placement_type":"foster_inhouse","distance_miles":4.5}"#,
    r#"{"event_id":"v-0018","type":"placement_arrangement_meeting","child_id":"c-1001","date":"2017-07-04","placement_id":"v-0017"}"#,
    r#"{"event_id":"v-0019","type":"iha_referral","child_id":"c-1001","date":"2017-07-02","period_id":"v-0015"}"#,
    r#"{"event_id":"v-0020","type":"health_assessment","child_id":"c-1001","date":"2017-07-20","period_id":"v-0015","kind":"initial"}"#,
    r#"{"event_id":"v-0022","type":"cic_review_held","child_id":"c-1001","date":"2017-07-25","period_id":"v-0015","participated":true}"#,
    r#"{"event_id":"v-0025","type":"dental_check","child_id":"c-1001","date":"2017-11-15","period_id":"v-0015"}"#,
    r#"{"event_id":"v-0031","type":"worker_unallocated","child_id":"c-1002","date":"2017-01-09"}"#,
    r#"{"event_id":"v-0033","type":"case_closed","child_id":"c-1002","date":"2017-02-28","reason":"no further action"}"#,
    r#"{"event_id":"v-0048","type":"missing_started","child_id":"c-1003","date":"2017-08-01","recorded_at":"2017-08-01T09:00:00+01:00"}"#,
    r#"{"event_id":"v-0049","type":"missing_ended","child_id":"c-1003","date":"2017-08-02","episode_id":"v-0048"}"#,
    r#"{"event_id":"v-0050","type":"return_interview_held","child_id":"c-1003","date":"2017-08-03","episode_id":"v-0048"}"#,
    r#"{"event_id":"v-0055","type":"cic_ended","child_id":"c-1003","date":"2018-09-30","period_id":"v-0041","reason":"age_18"}"#,
    r#"{"event_id":"v-0059","type":"placement_order_granted","child_id":"c-1004","date":"2017-01-17","period_id":"v-0057"}"#,
    r#"{"event_id":"v-0061","type":"adoption_match","child_id":"c-1004","date":"2017-04-05","period_id":"v-0057"}"#,
    r#"{"event_id":"v-0086","type":"care_leaver_contact","child_id":"c-1006","date":"2017-06-15","in_touch":true,"accommodation_suitable":true,"eet":false}"#,
    r#"{"event_id":"v-0105","type":"case_audit_completed","date":"2017-08-15","unit":"gravesham-cswt","grade":"good"}"#,
    r#"{"event_id":"v-0109","type":"staffing_snapshot","date":"2017-08-01","unit":"dartford-cswt","establishment_fte":24.5,"caseholding_fte":19.0,"permanent_qsw_fte":15.5,"agency_fte":4}"#,
];

fn hex<T: Serialize>(value: &T) -> String {
    postcard::to_allocvec(value)
        .unwrap()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

/// Every stored record kind, encoded: (kind, hex).
fn encodings() -> Vec<(String, String)> {
    let config =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml")).unwrap();
    let mut out = Vec::new();
    let mut push = |kind: &str, bytes: String| out.push((kind.to_string(), bytes));
    push(
        "ledger entry (child)",
        hex(&LedgerEntry {
            revision: 3,
            owner: Owner::Child(LaIdx(1), "c-17".into()),
            void: false,
        }),
    );
    push(
        "ledger entry (unit, void)",
        hex(&LedgerEntry {
            revision: 0,
            owner: Owner::Unit(UnitIdx(7)),
            void: true,
        }),
    );
    for line in EVENTS {
        let event = decode(&config, line.as_bytes()).unwrap();
        push(&format!("event {}", event.body.type_name()), hex(&event));
    }
    let record = OwnerRecord {
        events: vec![decode(&config, EVENTS[1].as_bytes()).unwrap()],
        points: vec![Point {
            slot: 2,
            unit: UnitIdx(3),
            date: date("2017-05-01"),
            num: 1,
            den: -1,
        }],
        anomalies: vec![Anomaly {
            reason: AnomalyReason::ALL[0],
            event_id: "e-9".into(),
            date: date("2016-02-29"),
        }],
    };
    push("owner record", hex(&record));
    for reason in AnomalyReason::ALL {
        push(&format!("anomaly reason {}", reason.as_str()), hex(&reason));
    }
    push(
        "series month chunk",
        hex(&vec![
            (4u8, Sums { num: 5, den: -6 }),
            (31u8, Sums { num: -1, den: 0 }),
        ]),
    );
    let reading = Reading { num: 11, den: 13 };
    push(
        "recorded month",
        hex(&Recorded {
            main: reading,
            r3m: Reading { num: 2, den: 3 },
            restatements: 4,
        }),
    );
    for rag in [Some(Rag::Green), Some(Rag::Amber), Some(Rag::Red), None] {
        push(
            &format!("live value {rag:?}"),
            hex(&Live {
                sequence: 9,
                reading,
                rag,
            }),
        );
    }
    push(
        "clock",
        hex(&Clock {
            latest_event: Some(date("2017-06-10")),
            today: None,
            first_month: Month::new(2016, 4),
            last_closed: Month::new(2017, 5),
        }),
    );
    push(
        "totals",
        hex(&Totals {
            consumed: 10,
            applied: 7,
            duplicates: 2,
            rejected: BTreeMap::from([("not_json".to_string(), 1)]),
            anomalies: BTreeMap::from([("end_before_start".to_string(), -1)]),
            outputs: BTreeMap::from([("values".to_string(), 5)]),
            restatements: 3,
        }),
    );
    push("outbox sequence", hex(&41u64));
    push(
        "parked record",
        hex(&ParkedRecord {
            reason: "Broker: Message size too large".into(),
            record: vec![1, 2, 3],
        }),
    );
    for topic in OutputTopic::ALL {
        let record = OutboxRecord::new(
            topic,
            "AS02/kent".into(),
            "AS02/kent/2017-05-31/1".into(),
            serde_json::json!({"value": 1}),
        );
        push(
            &format!("outbox record {}", topic.as_str()),
            record
                .encode()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
        );
    }
    out
}

fn render(encodings: &[(String, String)]) -> String {
    let mut text = format!(
        "# Stored record encodings of state format {FORMAT_VERSION} (tests/state_format.rs).\n"
    );
    for (kind, bytes) in encodings {
        text.push_str(&format!("{kind}: {bytes}\n"));
    }
    text
}

#[test]
fn stored_records_encode_exactly_as_this_format_version_pins() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/golden/state-format-v{FORMAT_VERSION}.hex"));
    let now = render(&encodings());
    if std::env::var("RAGLINE_BLESS").is_ok_and(|value| value == "1") && !path.exists() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: a new state format needs its golden file (RAGLINE_BLESS=1)",
            path.display()
        )
    });
    for (pinned, now) in pinned.lines().zip(now.lines()) {
        assert_eq!(
            pinned, now,
            "a stored record's encoding changed: bump store::FORMAT_VERSION (states of the old format are then refused) and bless the new version's golden file"
        );
    }
    assert_eq!(
        pinned.lines().count(),
        now.lines().count(),
        "record kinds added or removed"
    );
}

#[test]
fn the_check_catches_a_reordered_field() {
    // The same fields in another order encode differently: the comparison
    // above would fail, as it must.
    #[derive(Serialize)]
    struct Entry {
        revision: u64,
        owner: Owner,
        void: bool,
    }
    #[derive(Serialize)]
    struct Reordered {
        void: bool,
        revision: u64,
        owner: Owner,
    }
    let owner = Owner::Child(LaIdx(1), "c-17".into());
    let real = hex(&LedgerEntry {
        revision: 3,
        owner: owner.clone(),
        void: false,
    });
    assert_eq!(
        real,
        hex(&Entry {
            revision: 3,
            owner: owner.clone(),
            void: false
        })
    );
    assert_ne!(
        real,
        hex(&Reordered {
            void: false,
            revision: 3,
            owner
        })
    );
}
