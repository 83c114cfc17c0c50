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
        assert!(letter.get("raw").is_some() || letter.get("raw_base64").is_some());
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
}
