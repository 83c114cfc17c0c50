//! The statutory-returns round trip: a generated history is written both as
//! events and as the returns that describe it (`generate --returns-dir`);
//! the events replayed (state A) and the imported returns replayed
//! (state B) must give the same month-end scorecards for every indicator
//! the returns can support, at the authority, for every month of the
//! history and several seeds (docs/import.md, "The round trip").

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[path = "common/run.rs"]
mod run;
use run::ragline;

/// Indicators the returns carry every fact of: value, numerator and
/// denominator agree.
const AGREE: &[&str] = &[
    // SSDA903: periods, placements, legal status, reviews, matches, UASC.
    "CIC-N",
    "CIC-N-EXC-UASC",
    "UASC-N",
    "CIC01",
    "CIC01-EXC-UASC",
    "CIC04",
    "CIC04-EXC-UASC",
    "CIC05",
    "CIC05-EXC-UASC",
    "SCS18",
    "SCS18-EXC-UASC",
    "SCS19",
    "SCS19-INC-UASC",
    "SCS29",
    "SCS29-EXC-UASC",
    "AD01",
    "AD01-INC-UASC",
    "AD02",
    "AD02-EXC-UASC",
    "AD03",
    "AD03-INC-UASC",
    "CICS-M",
    "CICS-M-EXC-UASC",
    "CICE-M",
    "CICE-M-EXC-UASC",
    // CIN census: referrals and closures, assessments, conferences, plans.
    "SCS01",
    "SCS02",
    "SCS03",
    "REF-M",
    "AS01",
    "CP-N",
    "CP01",
    "CP03",
    "CP04",
    "CP06",
    "SCS13",
    "CPS-M",
    "CPE-M",
];

/// Indicators whose denominator the returns carry but not the fact of the
/// numerator: the denominators agree.
const DENOMINATOR_ONLY: &[(&str, &str)] = &[
    (
        "AS02",
        "the census does not record whether the child was seen",
    ),
    (
        "CIC03",
        "the SSDA903 return has no placement arrangement meetings",
    ),
    ("CIC03-EXC-UASC", "as CIC03"),
    ("CIC06", "OC2 records no date of a dental check"),
    ("CIC06-EXC-UASC", "as CIC06"),
    ("CIC07", "OC2 records no date of a health assessment"),
    ("CIC07-EXC-UASC", "as CIC07"),
    ("CIC08", "the SSDA903 return has no IHA referrals"),
    ("CIC08-EXC-UASC", "as CIC08"),
    ("CIC09", "the returns name no worker"),
    ("CIC09-EXC-UASC", "as CIC09"),
    ("CP02", "the census has no visits"),
    ("CIN01", "the census has no visits"),
];

/// Indicators the returns cannot support at all.
const CANNOT: &[(&str, &str)] = &[
    ("CIC02", "postcode districts give no distance"),
    ("CIC02-INC-UASC", "as CIC02"),
    (
        "CIN02",
        "the returns name no worker: every imported case is unallocated",
    ),
    ("CP05", "the census has no date on which an enquiry ends"),
    (
        "SCS08",
        "no return interviews; missing episodes only while looked after",
    ),
    ("MIS02", "as SCS08"),
    ("CL01", "OC3 records no date of contact"),
    ("CL02", "as CL01"),
    ("SCS34", "as CL01"),
    ("SCS37", "the returns have no case audits"),
    ("SCS40", "the returns have no staffing"),
    ("SCS41", "as SCS40"),
    ("SCS42", "as SCS40"),
    ("SCS43", "as SCS40"),
];

const START: &str = "2019-04";
const MONTHS: &str = "36";
const RANGE: &str = "2019-04..2022-03";

/// The month-end reports of a state, by month.
fn reports(state: &Path, out: &Path) -> BTreeMap<String, Value> {
    ragline(&[
        "report",
        "--state",
        &state.display().to_string(),
        "--month",
        RANGE,
        "--all-units",
        "--format",
        "json",
        "--out-dir",
        &out.display().to_string(),
    ]);
    std::fs::read_dir(out)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let month = path.file_stem().unwrap().to_string_lossy().to_string();
            let report = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            (month, report)
        })
        .collect()
}

fn replay(input: &Path, state: &Path) {
    let summary: Value = serde_json::from_str(&ragline(&[
        "replay",
        "--input",
        &input.display().to_string(),
        "--state",
        &state.display().to_string(),
        "--dead-letters",
        &state.with_extension("dead.jsonl").display().to_string(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(summary["rejected"], 0, "{summary}");
}

fn import(kind: &str, returns: &Path, out: &Path) -> Value {
    let mapping = returns.join("mapping.toml").display().to_string();
    let out_text = out.display().to_string();
    let mut args = vec![
        "import".to_string(),
        kind.to_string(),
        "--mapping".into(),
        mapping,
        "--out".into(),
        out_text,
        "--json".into(),
    ];
    if kind == "903" {
        args.extend([
            "--dir".into(),
            returns.join("kent/903").display().to_string(),
        ]);
    } else {
        let mut files: Vec<_> = std::fs::read_dir(returns.join("kent/cin"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            args.extend(["--file".into(), file.display().to_string()]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let summary: Value = serde_json::from_str(&ragline(&args)).unwrap();
    // What the generator writes, the importer reads: no bad row.
    assert_eq!(summary["reasons"], serde_json::json!({}), "{summary}");
    // Consecutive returns repeat what they share and never contradict an
    // earlier one: no corrections, no voids.
    assert!(summary["repeats"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(
        (summary["corrections"].as_u64(), summary["voids"].as_u64()),
        (Some(0), Some(0)),
        "{summary}"
    );
    summary
}

/// The events of both imports in one file, in date order.
fn merge(files: &[&Path], out: &Path) {
    let mut lines: Vec<(String, String)> = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let value: Value = serde_json::from_str(line).unwrap();
            lines.push((
                value["date"].as_str().unwrap().to_string(),
                line.to_string(),
            ));
        }
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let text: String = lines.into_iter().map(|(_, line)| line + "\n").collect();
    std::fs::write(out, text).unwrap();
}

/// (value, numerator, denominator) of an indicator of the authority.
fn figures(report: &Value, id: &str) -> (Value, Value, Value) {
    let row = &report["kent"][id];
    (row["value"].clone(), row["num"].clone(), row["den"].clone())
}

/// The two reports of one seed: (from the events, from the returns).
fn round_trip(seed: u64, directory: &Path) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let events = directory.join("events.jsonl");
    let returns = directory.join("returns");
    ragline(&[
        "generate",
        "--seed",
        &seed.to_string(),
        "--months",
        MONTHS,
        "--start",
        START,
        "--scale",
        "small",
        "--out",
        &events.display().to_string(),
        "--returns-dir",
        &returns.display().to_string(),
    ]);
    let ssda903 = directory.join("903.jsonl");
    let cin = directory.join("cin.jsonl");
    import("903", &returns, &ssda903);
    import("cin", &returns, &cin);
    let imported = directory.join("imported.jsonl");
    merge(&[&ssda903, &cin], &imported);
    replay(&events, &directory.join("state-a"));
    replay(&imported, &directory.join("state-b"));
    (
        reports(&directory.join("state-a"), &directory.join("reports-a")),
        reports(&directory.join("state-b"), &directory.join("reports-b")),
    )
}

#[test]
fn events_and_the_returns_that_describe_them_give_the_same_scorecards() {
    let agree: BTreeSet<&str> = AGREE.iter().copied().collect();
    let denominator_only: BTreeSet<&str> = DENOMINATOR_ONLY.iter().map(|(id, _)| *id).collect();
    let cannot: BTreeSet<&str> = CANNOT.iter().map(|(id, _)| *id).collect();
    // Indicators with a non-zero figure somewhere: the comparison is not
    // of empty scorecards.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut compared = 0;
    for seed in [1, 4, 7] {
        let directory = tempfile::tempdir().unwrap();
        let (from_events, from_returns) = round_trip(seed, directory.path());
        assert_eq!(from_events.len(), 36);
        assert_eq!(
            from_events.keys().collect::<Vec<_>>(),
            from_returns.keys().collect::<Vec<_>>()
        );
        for (month, a) in &from_events {
            let b = &from_returns[month];
            let ids: BTreeSet<&str> = a["kent"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|id| *id != "summary")
                .collect();
            // Every indicator of the scorecard is placed in one list.
            for id in &ids {
                assert!(
                    agree.contains(id) || denominator_only.contains(id) || cannot.contains(id),
                    "{id} is in no list of the round trip"
                );
            }
            for id in &agree {
                let (value, numerator, denominator) = figures(a, id);
                assert_eq!(
                    (&value, &numerator, &denominator),
                    (&figures(b, id).0, &figures(b, id).1, &figures(b, id).2),
                    "seed {seed}, {month}, {id}: events (value, num, den) against returns"
                );
                if numerator.as_f64().is_some_and(|n| n != 0.0) {
                    seen.insert(id.to_string());
                }
                compared += 1;
            }
            for id in &denominator_only {
                assert_eq!(
                    figures(a, id).2,
                    figures(b, id).2,
                    "seed {seed}, {month}, {id}: denominators"
                );
                compared += 1;
            }
        }
    }
    let unseen: Vec<&&str> = agree.iter().filter(|id| !seen.contains(**id)).collect();
    assert!(unseen.is_empty(), "always zero: {unseen:?}");
    assert_eq!(compared, 3 * 36 * (AGREE.len() + DENOMINATOR_ONLY.len()));
    assert_eq!(
        (AGREE.len(), DENOMINATOR_ONLY.len(), CANNOT.len()),
        (38, 13, 14)
    );
}

#[test]
fn a_period_that_starts_under_a_placement_order_has_its_order_from_the_first_day() {
    let directory = tempfile::tempdir().unwrap();
    let events = directory.path().join("events.jsonl");
    ragline(&[
        "generate",
        "--seed",
        "4",
        "--months",
        MONTHS,
        "--start",
        START,
        "--scale",
        "small",
        "--out",
        &events.display().to_string(),
    ]);
    let lines: Vec<Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let orders: BTreeSet<(String, String)> = lines
        .iter()
        .filter(|event| event["type"] == "placement_order_granted")
        .map(|event| {
            (
                event["period_id"].as_str().unwrap().to_string(),
                event["date"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let under_order: Vec<&Value> = lines
        .iter()
        .filter(|event| event["type"] == "cic_started" && event["legal_status"] == "E1")
        .collect();
    assert!(!under_order.is_empty());
    for period in under_order {
        let id = period["event_id"].as_str().unwrap().to_string();
        let start = period["date"].as_str().unwrap().to_string();
        assert!(orders.contains(&(id, start)), "{period}");
        // Only the one order.
        assert_eq!(
            orders
                .iter()
                .filter(|(held, _)| *held == period["event_id"].as_str().unwrap())
                .count(),
            1
        );
    }
}
