//! End to end through the command line: generate, replay, report; the messy
//! variant of a history gives the same scorecards as the clean one; replaying
//! the same file into a fresh state twice gives byte-identical reports.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[path = "common/run.rs"]
mod run;
use run::ragline;

fn path(directory: &Path, name: &str) -> String {
    directory.join(name).display().to_string()
}

struct Run {
    directory: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run {
            directory: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str) -> String {
        path(self.directory.path(), name)
    }

    fn generate(&self, name: &str, messy: bool) -> String {
        let out = self.file(name);
        let mut args = vec![
            "generate", "--seed", "11", "--months", "18", "--scale", "small", "--start", "2016-04",
            "--out", &out,
        ];
        if messy {
            args.push("--messy");
        }
        ragline(&args);
        out
    }

    fn replay(&self, input: &str, state: &str, batch: &str) -> Value {
        let dead = self.file(&format!("{state}.dead.jsonl"));
        let state = self.file(state);
        let summary = ragline(&[
            "replay",
            "--input",
            input,
            "--state",
            &state,
            "--dead-letters",
            &dead,
            "--batch",
            batch,
            "--json",
        ]);
        serde_json::from_str(&summary).expect("JSON summary")
    }

    fn report(&self, state: &str, month: &str, format: &str) -> String {
        ragline(&[
            "report",
            "--state",
            &self.file(state),
            "--month",
            month,
            "--all-units",
            "--format",
            format,
        ])
    }
}

#[test]
fn messy_and_clean_histories_give_identical_scorecards() {
    let run = Run::new();
    let clean = run.generate("clean.jsonl", false);
    let messy = run.generate("messy.jsonl", true);
    let clean_summary = run.replay(&clean, "clean", "100000");
    // Small batches: months close early and late events restate them.
    let messy_summary = run.replay(&messy, "messy", "997");
    assert_eq!(clean_summary["rejected"], 0);
    assert!(
        messy_summary["rejected"].as_u64().unwrap() > 0,
        "{messy_summary}"
    );
    assert!(messy_summary["duplicates"].as_u64().unwrap() > 0);
    assert_eq!(
        clean_summary["last_month_closed"],
        messy_summary["last_month_closed"]
    );
    for month in ["2016-09", "2017-03", "2017-08"] {
        for format in ["json", "csv", "html"] {
            assert_eq!(
                run.report("clean", month, format),
                run.report("messy", month, format),
                "{month} {format}"
            );
        }
    }
    // Every rejection went to the dead-letter file with its line and a reason naming a field.
    let dead = std::fs::read_to_string(run.file("messy.dead.jsonl")).unwrap();
    let letters: Vec<Value> = dead
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        letters.len() as u64,
        messy_summary["rejected"].as_u64().unwrap()
    );
    for letter in &letters {
        assert!(letter["source"]["line"].as_u64().unwrap() >= 1, "{letter}");
        assert!(letter["reason"].as_str().unwrap().contains(':'), "{letter}");
        // Position, reason and hash; the message itself stays in the input.
        assert_eq!(letter["payload_sha256"].as_str().unwrap().len(), 64);
        assert!(letter.get("raw").is_none() && letter.get("raw_base64").is_none());
    }
}

#[test]
fn replaying_into_fresh_states_is_byte_identical() {
    let run = Run::new();
    let clean = run.generate("clean.jsonl", false);
    run.replay(&clean, "first", "5000");
    run.replay(&clean, "second", "50000");
    for format in ["json", "csv", "html"] {
        assert_eq!(
            run.report("first", "2017-06", format),
            run.report("second", "2017-06", format)
        );
    }
    // Replaying the same file again into the same state changes nothing.
    let again = run.replay(&clean, "first", "5000");
    assert_eq!(again["applied"], 0);
    assert_eq!(
        run.report("first", "2017-06", "json"),
        run.report("second", "2017-06", "json")
    );
}

#[test]
fn json_report_has_the_documented_shape() {
    let run = Run::new();
    let clean = run.generate("clean.jsonl", false);
    run.replay(&clean, "state", "100000");
    let report: Value = serde_json::from_str(&run.report("state", "2017-08", "json")).unwrap();
    let kent = report["kent"].as_object().expect("a unit keyed by id");
    for key in [
        "num",
        "den",
        "value",
        "rag",
        "target",
        "floor",
        "small_den",
        "one_month_ago",
        "one_year_ago",
        "dot",
        "r3m",
    ] {
        assert!(kent["SCS03"].get(key).is_some(), "SCS03 lacks {key}");
    }
    for key in ["num", "den", "value", "rag"] {
        assert!(kent["SCS03"]["r3m"].get(key).is_some(), "r3m lacks {key}");
    }
    // Counts carry num and value and no den; snapshots have no r3m.
    assert!(kent["SCS01"].get("den").is_none());
    assert_eq!(kent["SCS01"]["num"], kent["SCS01"]["value"]);
    assert!(kent["CP01"].get("r3m").is_none());
    // The county covers its areas: open cases add up.
    let areas = [
        "north-kent",
        "east-kent",
        "south-kent",
        "west-kent",
        "disability",
        "county-services",
    ];
    let sum: i64 = areas
        .iter()
        .map(|area| report[area]["SCS01"]["num"].as_i64().unwrap())
        .sum();
    assert_eq!(kent["SCS01"]["num"].as_i64().unwrap(), sum);
    // A value is 100 x num / den for a percent.
    let scs03 = &kent["SCS03"];
    let value = scs03["value"].as_f64().unwrap();
    let expected = 100.0 * scs03["num"].as_f64().unwrap() / scs03["den"].as_f64().unwrap();
    assert!((value - expected).abs() < 1e-9);
    assert!(["green", "amber", "red"].contains(&scs03["rag"].as_str().unwrap()));
    let summary = &kent["summary"];
    let rated: u64 = ["green", "amber", "red", "none"]
        .iter()
        .map(|key| summary[key].as_u64().unwrap())
        .sum();
    assert_eq!(rated as usize, kent.len() - 1);
}

#[test]
fn bad_arguments_fail_with_clear_messages() {
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(["report", "--state", "/nonexistent/x", "--month", "2017-13"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--month: '2017-13' is not a month"),
        "{stderr}"
    );
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("bad.toml");
    std::fs::write(&config, "[[authority]]\nid = \"x\"\nname = \"X\"\nroot = \"nowhere\"\n[calendar]\nbank_holidays = []\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(["check-config", "--config", &config.display().to_string()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml: "), "{stderr}");
    // Options of a file replay are refused with the topic, not ignored.
    for option in [
        &["--dead-letters", "letters.jsonl"][..],
        &["--outputs", "outputs"],
        &["--serve"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(["replay", "--from-topic", "--state", "/nonexistent/x"])
            .args(option)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(option[0]) && stderr.contains("cannot be used with"),
            "{stderr}"
        );
    }
}

/// Splits one CSV line (fields may be quoted, with doubled quotes inside).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn published_report_withholds_small_counts_in_every_format() {
    let run = Run::new();
    let clean = run.generate("clean.jsonl", false);
    run.replay(&clean, "state", "100000");
    let state = run.file("state");
    let published = |format: &str| {
        ragline(&[
            "report",
            "--state",
            &state,
            "--month",
            "2017-08",
            "--all-units",
            "--format",
            format,
            "--published",
        ])
    };
    let exact: Value = serde_json::from_str(&run.report("state", "2017-08", "json")).unwrap();
    let shown: Value = serde_json::from_str(&published("json")).unwrap();
    let config = ragline::config::Config::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"),
    )
    .unwrap();
    let c = Value::from("c");
    let (mut small, mut secondary) = (0, 0);
    for (unit, rows) in exact.as_object().unwrap() {
        for (id, row) in rows.as_object().unwrap() {
            if id == "summary" {
                continue;
            }
            let published_row = &shown[unit][id];
            let kind = row["kind"].as_str().unwrap();
            // Counts of children or facts: integers in every kind but averages
            // (days) and staffing (FTE, decimals).
            for key in ["num", "den"] {
                let Some(count) = row.get(key).and_then(Value::as_i64) else {
                    continue;
                };
                if kind == "average" || (key == "den" && kind != "percent") {
                    continue;
                }
                let cell = &published_row[key];
                if (1..=5).contains(&count) {
                    assert_eq!(cell, &c, "{unit} {id} {key} = {count} is shown");
                    small += 1;
                } else if cell == &c {
                    secondary += 1;
                } else {
                    assert_eq!(cell.as_i64(), Some(count), "{unit} {id} {key}");
                }
            }
            if published_row["num"] == c {
                assert_eq!(published_row["value"], c, "{unit} {id}");
                assert_eq!(published_row["rag"], c, "{unit} {id}");
            }
        }
    }
    assert!(
        small > 0 && secondary > 0,
        "{small} small, {secondary} secondary"
    );
    // No parent of Kent's tree with its children holds exactly one withheld
    // open-case count (SCS01).
    for parent in &config.units {
        if parent.children.is_empty() {
            continue;
        }
        let withheld = std::iter::once(parent)
            .chain(parent.children.iter().map(|child| config.unit(*child)))
            .filter(|unit| shown[&unit.id]["SCS01"]["num"] == c)
            .count();
        assert_ne!(withheld, 1, "{}", parent.id);
    }
    // CSV: the same lines as the exact report, the result column "c" where JSON has it.
    let csv = published("csv");
    let exact_csv = run.report("state", "2017-08", "csv");
    assert_eq!(csv.lines().count(), exact_csv.lines().count());
    let header = csv_fields(csv.lines().next().unwrap());
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let fields = csv_fields(line);
        let (unit, id) = (&fields[column("unit")], &fields[column("indicator")]);
        if id == "summary" {
            continue;
        }
        let value = &shown[unit.as_str()][id.as_str()]["value"];
        if value == &c {
            assert_eq!(fields[column("result")], "c", "{line}");
            assert_eq!(fields[column("rag")], "c", "{line}");
            checked += 1;
        }
        if fields[column("indicator")] == "SCS01" {
            assert_eq!(fields[column("den")], "z", "{line}");
        }
    }
    assert!(checked > 0);
    // HTML: the published table and the legend of symbols; the exact report has neither.
    let html = published("html");
    assert!(html.contains("class=\"scorecard published\""));
    assert!(html.contains("<b>c</b> confidential (withheld)"));
    assert!(html.contains(">c</td>"));
    assert!(!run
        .report("state", "2017-08", "html")
        .contains("confidential"));
}

#[test]
fn published_report_refusals_are_clear() {
    let run = Run::new();
    let fail = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    let state = run.file("state");
    let stderr = fail(&[
        "report",
        "--state",
        &state,
        "--month",
        "2017-08",
        "--view",
        "uasc-impact",
        "--published",
    ]);
    assert!(
        stderr.contains("--published: only the scorecard view has a published form"),
        "{stderr}"
    );
    let kent =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"))
            .unwrap();
    let pages_only = run.file("pages-only.toml");
    std::fs::write(
        &pages_only,
        kent.replace("outputs = [\"report\", \"page\"]", "outputs = [\"page\"]"),
    )
    .unwrap();
    let stderr = fail(&[
        "report",
        "--config",
        &pages_only,
        "--state",
        &state,
        "--month",
        "2017-08",
        "--published",
    ]);
    assert!(
        stderr.contains(
            "the published report is not enabled: add \"report\" to outputs under [disclosure]"
        ),
        "{stderr}"
    );
    let bad = run.file("bad.toml");
    std::fs::write(&bad, kent.replace("threshold = 6", "threshold = 0")).unwrap();
    let stderr = fail(&["check-config", "--config", &bad]);
    assert!(
        stderr.contains("bad.toml: disclosure.threshold: must be from 1"),
        "{stderr}"
    );
}

#[test]
fn a_range_of_months_writes_one_file_per_month_equal_to_single_month_reports() {
    let run = Run::new();
    let clean = run.generate("clean.jsonl", false);
    run.replay(&clean, "state", "100000");
    let state = run.file("state");
    for format in ["json", "csv", "html"] {
        let directory = run.file(&format!("months-{format}"));
        ragline(&[
            "report",
            "--state",
            &state,
            "--month",
            "2016-11..2017-02",
            "--all-units",
            "--format",
            format,
            "--out-dir",
            &directory,
        ]);
        let mut names: Vec<String> = std::fs::read_dir(&directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let expected: Vec<String> = ["2016-11", "2016-12", "2017-01", "2017-02"]
            .iter()
            .map(|month| format!("{month}.{format}"))
            .collect();
        assert_eq!(names, expected);
        for month in ["2016-11", "2016-12", "2017-01", "2017-02"] {
            let written =
                std::fs::read_to_string(Path::new(&directory).join(format!("{month}.{format}")))
                    .unwrap();
            assert_eq!(
                written,
                run.report("state", month, format),
                "{month} {format}"
            );
        }
    }
    // A range needs a directory; a directory needs a range; ranges run forwards.
    for (args, message) in [
        (vec!["--month", "2016-11..2017-02"], "needs --out-dir"),
        (vec!["--month", "2016-11", "--out-dir", "x"], "give a range"),
        (
            vec!["--month", "2017-02..2016-11", "--out-dir", "x"],
            "ends before it starts",
        ),
        (
            vec!["--month", "2016-11..2017-1", "--out-dir", "x"],
            "is not a month",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(["report", "--state", &state])
            .args(&args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
