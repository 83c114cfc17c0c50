//! `ragline import` through the command line: hand-made returns in
//! `tests/import/` become the events written out by hand next to them, bad
//! rows are reported by file, row and column, a later return corrects and
//! voids an earlier one's facts, and the imported file replays with no
//! rejection into hand-worked indicator values.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

#[path = "common/run.rs"]
mod run;
use run::ragline;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixture(name: &str) -> String {
    format!("{ROOT}/tests/import/{name}")
}

/// A JSON object with its keys in sorted order, as text: the same event
/// whatever the order of its fields.
fn canonical(value: &Value) -> String {
    let sorted: BTreeMap<&String, &Value> = value.as_object().expect("an object").iter().collect();
    serde_json::to_string(&sorted).unwrap()
}

fn events(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| canonical(&serde_json::from_str(line).expect("a JSON line")))
        .collect();
    lines.sort();
    lines
}

fn import_903(out: &Path, extra: &[&str]) -> std::process::Output {
    let out = out.display().to_string();
    let mapping = fixture("mapping.toml");
    let dir = fixture("903");
    let mut args = vec![
        "import",
        "903",
        "--config",
        "config/kent.toml",
        "--mapping",
        &mapping,
        "--dir",
        &dir,
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(&args)
        .current_dir(ROOT)
        .output()
        .unwrap()
}

fn summary_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON summary")
}

#[test]
fn two_overlapping_903_returns_become_the_hand_written_events() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    let summary = summary_of(&import_903(&out, &["--json"]));
    assert_eq!(
        events(&out),
        events(Path::new(&fixture("903/expected.jsonl")))
    );
    // 25 facts from 2020; 29 from 2021, of which 20 repeat 2020 unchanged
    // and one corrects a placement; the child 2021 dropped is voided (4).
    assert_eq!(summary["lines"], 58);
    assert_eq!(summary["repeats"], 20);
    assert_eq!(summary["corrections"], 1);
    assert_eq!(summary["voids"], 4);
    assert_eq!(summary["children"], 3);
    assert_eq!(summary["unmapped_children"], 1);
    assert_eq!(
        summary["reasons"],
        serde_json::json!({"bad_date": 1, "malformed_row": 1, "no_period": 1, "unknown_code": 1})
    );
    let problems: Vec<(String, u64, Value, String)> = summary["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| {
            (
                problem["file"].as_str().unwrap().to_string(),
                problem["row"].as_u64().unwrap(),
                problem["column"].clone(),
                problem["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("2020/episodes.csv", 8, Value::from("LS"), "unknown_code"),
        ("2020/episodes.csv", 9, Value::from("DECOM"), "bad_date"),
        ("2020/episodes.csv", 10, Value::Null, "malformed_row"),
        ("2020/reviews.csv", 6, Value::from("REVIEW"), "no_period"),
    ]
    .map(|(file, row, column, reason)| (file.to_string(), row, column, reason.to_string()));
    assert_eq!(problems, expected);
    let episodes = &summary["files"]["2020/episodes.csv"];
    assert_eq!(episodes["table"], "episodes");
    assert_eq!(
        (episodes["rows"].as_u64(), episodes["skipped"].as_u64()),
        (Some(9), Some(3))
    );
    assert_eq!(summary["files"]["2020/missing.csv"]["not_imported"], 1);
    assert_eq!(summary["files"]["2021/ad1.csv"]["table"], "ad1");
    assert_eq!(summary["notes"]["away-from-placement episodes left out"], 1);
}

#[test]
fn the_printed_summary_names_no_child() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    let output = import_903(&out, &[]);
    assert!(output.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("2020/episodes.csv row 8 column LS"), "{text}");
    for child in ["A1", "B2", "C3", "F6", "X9", "Y8", "Z7"] {
        assert!(
            !text
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word == child),
            "{child} in\n{text}"
        );
    }
}

#[test]
fn strict_stops_at_the_first_bad_row_and_writes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    let output = import_903(&out, &["--strict"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("stopped (--strict) at 2020/episodes.csv row 8 column LS: 'Q9' is not a code of the guidance (unknown_code)"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(directory.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn one_year_alone_keeps_its_own_reading() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    let summary = summary_of(&import_903(&out, &["--year", "2020", "--json"]));
    // The first 25 hand-written lines are the 2020 return's facts.
    let expected: Vec<String> = {
        let text = std::fs::read_to_string(fixture("903/expected.jsonl")).unwrap();
        let mut lines: Vec<String> = text
            .lines()
            .take(25)
            .map(|line| canonical(&serde_json::from_str(line).unwrap()))
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(events(&out), expected);
    assert_eq!(
        (summary["repeats"].as_u64(), summary["voids"].as_u64()),
        (Some(0), Some(0))
    );
    let missing = import_903(&out, &["--year", "2019"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--year 2019: no directory"));
}

/// The values of indicator `id` for `unit` in the month-end report.
fn figures(report: &Value, unit: &str, id: &str) -> (Value, Value, Value) {
    let row = &report[unit][id];
    (row["num"].clone(), row["den"].clone(), row["value"].clone())
}

#[test]
fn imported_returns_replay_without_rejections_into_hand_worked_indicators() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    summary_of(&import_903(&out, &["--json"]));
    let state = directory.path().join("state").display().to_string();
    let dead = directory.path().join("dead.jsonl").display().to_string();
    let replay: Value = serde_json::from_str(&ragline(&[
        "replay",
        "--input",
        &out.display().to_string(),
        "--state",
        &state,
        "--dead-letters",
        &dead,
        "--json",
    ]))
    .unwrap();
    assert_eq!(replay["rejected"], 0, "{replay}");
    assert_eq!(replay["messages"], 58);
    // Repeats of an earlier return carry its revision: duplicates.
    assert_eq!(replay["duplicates"], 20);
    let report = |month: &str| -> Value {
        serde_json::from_str(&ragline(&[
            "report", "--state", &state, "--month", month, "--format", "json",
        ]))
        .unwrap()
    };
    let december = report("2019-12");
    // A1 and C3 in care; B2 left on 30 November.
    assert_eq!(figures(&december, "kent", "CIC-N").0, 2);
    let march = report("2020-03");
    // F6 came in on 1 March 2020 in the 2020 return and the 2021 return
    // dropped it: voided, it counts nowhere.
    assert_eq!(figures(&march, "kent", "CIC-N").0, 2);
    assert_eq!(figures(&march, "kent", "CICS-M").0, 0);
    assert_eq!(figures(&march, "north-kent", "CIC-N").0, 1);
    assert_eq!(figures(&march, "west-kent", "CIC-N").0, 1);
    assert_eq!(figures(&march, "kent", "UASC-N").0, 1);
    // A1's placement of 15 September 2019, agency foster care in 2020 and
    // corrected to in-house in 2021; C3 (UASC) is not counted.
    assert_eq!(
        figures(&march, "kent", "SCS19"),
        (1.into(), 1.into(), 100.0.into())
    );
    // Reviews April 2019 to March 2020: A1 PN1 and PN7, B2 PN2, C3 PN0.
    assert_eq!(
        figures(&march, "kent", "CIC04"),
        (2.into(), 4.into(), 50.0.into())
    );
    // B2 went home in November 2019: no adoption among one leaver.
    assert_eq!(
        figures(&march, "kent", "AD01"),
        (0.into(), 1.into(), 0.0.into())
    );
    let august = report("2019-08");
    assert_eq!(figures(&august, "kent", "CICS-M").0, 1);
    let march_2021 = report("2021-03");
    assert_eq!(figures(&march_2021, "kent", "CICE-M").0, 1);
    assert_eq!(figures(&march_2021, "kent", "CIC-N").0, 0);
    assert_eq!(figures(&report("2021-01"), "kent", "CICE-M").0, 1);
    // A1 adopted; C3 (UASC, left at 18) is outside AD01.
    assert_eq!(
        figures(&march_2021, "kent", "AD01"),
        (1.into(), 1.into(), 100.0.into())
    );
    // In care 1 June 2019, placed for adoption 1 September 2020: 458 days.
    assert_eq!(figures(&march_2021, "kent", "SCS29").2, 458.0);
    // Placement order 1 July 2020 (legal status E1), match 20 August: 50 days.
    assert_eq!(figures(&march_2021, "kent", "AD02").2, 50.0);
    // Nobody was placed in South Kent.
    assert_eq!(figures(&march_2021, "south-kent", "CIC-N").0, 0);
}

fn import_cin(out: &Path, files: &[&str], extra: &[&str]) -> std::process::Output {
    let out = out.display().to_string();
    let mapping = fixture("mapping.toml");
    let files: Vec<String> = files
        .iter()
        .map(|name| fixture(&format!("cin/{name}")))
        .collect();
    let mut args = vec![
        "import",
        "cin",
        "--config",
        "config/kent.toml",
        "--mapping",
        &mapping,
        "--out",
        &out,
    ];
    for file in &files {
        args.extend_from_slice(&["--file", file]);
    }
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(&args)
        .current_dir(ROOT)
        .output()
        .unwrap()
}

#[test]
fn two_cin_censuses_become_the_hand_written_events() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    // Given newest first: read in the order of their collection years.
    let summary = summary_of(&import_cin(
        &out,
        &["census-2021.xml", "census-2020.xml"],
        &["--json"],
    ));
    assert_eq!(
        events(&out),
        events(Path::new(&fixture("cin/expected.jsonl")))
    );
    assert_eq!(summary["lines"], 22);
    assert_eq!(summary["repeats"], 8);
    assert_eq!(summary["corrections"], 1);
    assert_eq!(summary["voids"], 0);
    assert_eq!(
        (
            summary["children"].as_u64(),
            summary["unmapped_children"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let problems: Vec<String> = summary["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| {
            format!(
                "{} {} {} {}",
                problem["file"].as_str().unwrap(),
                problem["row"],
                problem["column"].as_str().unwrap(),
                problem["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            "census-2020.xml 2 AssessmentActualStartDate bad_date",
            "census-2020.xml 3 LAchildID missing_value",
        ]
    );
    assert_eq!(summary["files"]["census-2020.xml"]["rows"], 3);
    // --strict stops at the first of them and writes nothing.
    let strict = directory.path().join("strict.jsonl");
    let output = import_cin(&strict, &["census-2020.xml"], &["--strict"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("stopped (--strict) at census-2020.xml row 2 column AssessmentActualStartDate"));
    assert!(!strict.exists());
}

#[test]
fn a_census_that_is_not_xml_is_refused_whole() {
    let directory = tempfile::tempdir().unwrap();
    let broken = directory.path().join("broken.xml");
    let text = std::fs::read_to_string(fixture("cin/census-2021.xml")).unwrap();
    std::fs::write(&broken, &text[..text.len() / 2]).unwrap();
    let out = directory.path().join("events.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args([
            "import",
            "cin",
            "--mapping",
            &fixture("mapping.toml"),
            "--file",
            &broken.display().to_string(),
            "--out",
            &out.display().to_string(),
        ])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.xml: not a readable CIN census"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn imported_censuses_replay_without_rejections_into_hand_worked_indicators() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("events.jsonl");
    summary_of(&import_cin(
        &out,
        &["census-2020.xml", "census-2021.xml"],
        &["--json"],
    ));
    let state = directory.path().join("state").display().to_string();
    let dead = directory.path().join("dead.jsonl").display().to_string();
    let replay: Value = serde_json::from_str(&ragline(&[
        "replay",
        "--input",
        &out.display().to_string(),
        "--state",
        &state,
        "--dead-letters",
        &dead,
        "--json",
    ]))
    .unwrap();
    assert_eq!(replay["rejected"], 0, "{replay}");
    assert_eq!(replay["duplicates"], 8);
    let report = |month: &str| -> Value {
        serde_json::from_str(&ragline(&[
            "report", "--state", &state, "--month", month, "--format", "json",
        ]))
        .unwrap()
    };
    assert_eq!(figures(&report("2019-05"), "kent", "REF-M").0, 1);
    assert_eq!(figures(&report("2019-06"), "kent", "CPS-M").0, 1);
    // G1 open since May, H2 from October to 15 January.
    assert_eq!(figures(&report("2019-12"), "kent", "SCS01").0, 2);
    let march = report("2020-03");
    assert_eq!(figures(&march, "kent", "SCS01").0, 1);
    assert_eq!(figures(&march, "north-kent", "SCS01").0, 1);
    assert_eq!(figures(&march, "kent", "CP-N").0, 1);
    // ICPCs: G1 on day 12 of 15 working days, H2 after 21.
    assert_eq!(
        figures(&march, "kent", "CP06"),
        (1.into(), 2.into(), 50.0.into())
    );
    // Assessments: G1 done by 10 June (limit 8 July), H2 on 20 December (limit 3 December).
    assert_eq!(
        figures(&march, "kent", "AS01"),
        (1.into(), 2.into(), 50.0.into())
    );
    assert_eq!(figures(&report("2020-11"), "kent", "CPE-M").0, 1);
    assert_eq!(figures(&report("2020-12"), "kent", "CP-N").0, 0);
}

#[test]
fn every_imported_line_passes_the_json_schemas() {
    let validator = ragline::event::schema::validator().expect("schemas compile");
    let directory = tempfile::tempdir().unwrap();
    let ssda903 = directory.path().join("903.jsonl");
    let cin = directory.path().join("cin.jsonl");
    summary_of(&import_903(&ssda903, &["--json"]));
    summary_of(&import_cin(
        &cin,
        &["census-2020.xml", "census-2021.xml"],
        &["--json"],
    ));
    let mut checked = 0;
    for path in [&ssda903, &cin] {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let instance: Value = serde_json::from_str(line).unwrap();
            assert!(validator.is_valid(&instance), "schema refuses {line}");
            checked += 1;
        }
    }
    assert_eq!(checked, 58 + 22);
}
