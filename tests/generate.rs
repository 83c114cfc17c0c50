//! Volumes of `ragline generate`: a Kent year is 150,000-200,000 events with the
//! headline figures of docs/configuration.md ("Kent's scale"), and the national
//! scale names 150 authorities whose clean history replays without a rejection.

use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

#[path = "common/run.rs"]
mod run;
use run::ragline;

/// `actual` within `tolerance` (a fraction) of `expected`.
fn near(name: &str, actual: usize, expected: f64, tolerance: f64) {
    let low = expected * (1.0 - tolerance);
    let high = expected * (1.0 + tolerance);
    assert!(
        (low..=high).contains(&(actual as f64)),
        "{name}: {actual}, expected {expected} +/- {:.0}%",
        tolerance * 100.0
    );
}

#[test]
fn a_kent_year_is_150k_to_200k_events_with_the_headline_figures() {
    // Two years: the first fills the stocks (its first month carries the opening
    // stock), the second is steady state and is the one measured.
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("kent.jsonl").display().to_string();
    ragline(&[
        "generate", "--seed", "7", "--months", "24", "--scale", "kent", "--start", "2016-04",
        "--out", &out,
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let (from, to) = ("2017-04-01", "2018-03-31");
    let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut year = 0usize;
    let mut in_care: HashSet<String> = HashSet::new();
    let mut on_plan: HashSet<String> = HashSet::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let date = event["date"].as_str().unwrap();
        let kind = event["type"].as_str().unwrap();
        if (from..=to).contains(&date) {
            year += 1;
            *per_type.entry(kind.to_string()).or_default() += 1;
        }
        if date <= to {
            let id = event["event_id"].as_str().unwrap().to_string();
            match kind {
                "cic_started" => {
                    in_care.insert(id);
                }
                "cic_ended" => {
                    in_care.remove(event["period_id"].as_str().unwrap());
                }
                "cp_plan_started" => {
                    on_plan.insert(id);
                }
                "cp_plan_ended" => {
                    on_plan.remove(event["plan_id"].as_str().unwrap());
                }
                _ => {}
            }
        }
    }
    let count = |kind: &str| per_type.get(kind).copied().unwrap_or(0);
    assert!(
        (150_000..=200_000).contains(&year),
        "{year} events in {from}..{to}: {per_type:?}"
    );
    // docs/configuration.md, "Kent's scale": ~17,800 referrals, 17,300 completed assessments, 1,400 CP plans
    // started and 470 case audits a year; 1,370 children on a plan and 1,775 in
    // care at a month-end.
    near("referrals", count("referral"), 17_800.0, 0.10);
    near("assessments", count("assessment_completed"), 17_300.0, 0.10);
    near("CP plans started", count("cp_plan_started"), 1_400.0, 0.15);
    near("case audits", count("case_audit_completed"), 470.0, 0.15);
    near("children on a CP plan", on_plan.len(), 1_370.0, 0.15);
    near("children in care", in_care.len(), 1_775.0, 0.15);
    // Visits are the largest type but not the bulk of the stream.
    assert!(count("visit") * 2 < year, "{per_type:?}");
}

#[test]
fn a_national_history_names_150_authorities_and_replays_without_rejections() {
    // One month (the opening stock of 150 authorities, about two million events):
    // replaying a longer history in a debug build takes minutes.
    let directory = tempfile::tempdir().unwrap();
    let out = directory
        .path()
        .join("national.jsonl")
        .display()
        .to_string();
    let state = directory.path().join("state").display().to_string();
    let dead = directory.path().join("dead.jsonl").display().to_string();
    ragline(&[
        "generate",
        "--config",
        "config/national.toml",
        "--seed",
        "3",
        "--months",
        "1",
        "--scale",
        "national",
        "--out",
        &out,
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut authorities: HashSet<&str> = HashSet::new();
    let mut lines = 0u64;
    for line in text.lines() {
        lines += 1;
        let start = line.find(",\"la\":\"").expect("every event names its la") + 7;
        let end = start + line[start..].find('"').unwrap();
        authorities.insert(&line[start..end]);
    }
    assert_eq!(authorities.len(), 150);
    assert!(authorities.contains("la-001") && authorities.contains("la-150"));
    let summary: Value = serde_json::from_str(&ragline(&[
        "replay",
        "--config",
        "config/national.toml",
        "--input",
        &out,
        "--state",
        &state,
        "--dead-letters",
        &dead,
        "--json",
    ]))
    .unwrap();
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["messages"], lines);
    assert_eq!(summary["applied"], lines);
}
