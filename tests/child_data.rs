//! No child-level data leaves ragline unless a setting says so: an end-to-end
//! run over a messy history (malformed lines included) is scanned for child
//! ids in every output: dead letters, the output files of every topic,
//! reports in every format (exact and published), the summary and the logs
//! at debug level. With `[outputs] dead_letter_payloads = true` the dead
//! letters do carry them, which shows the scan finds what it looks for.

use std::path::Path;
use std::process::{Command, Output};

fn ragline(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "debug")
        .output()
        .expect("ragline runs");
    assert!(
        output.status.success(),
        "ragline {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Child ids of the generated history (`c` and six digits) found in `text`.
fn child_ids_in(text: &str, children: &[String]) -> Vec<String> {
    children
        .iter()
        .filter(|child| text.contains(child.as_str()))
        .cloned()
        .collect()
}

fn every_file_under(directory: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_output_of_a_run_carries_a_child_id_unless_configured() {
    let directory = tempfile::tempdir().unwrap();
    let file = |name: &str| directory.path().join(name).display().to_string();
    let history = file("history.jsonl");
    ragline(&[
        "generate", "--seed", "5", "--months", "15", "--scale", "small", "--start", "2016-04",
        "--messy", "--out", &history,
    ]);
    // The messy history may hold a line that is not UTF-8 (a malformed line).
    let text = String::from_utf8_lossy(&std::fs::read(&history).unwrap()).into_owned();
    let mut children: Vec<String> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|event| event.get("child_id")?.as_str().map(str::to_string))
        .collect();
    children.sort();
    children.dedup();
    assert!(children.len() > 100, "a history of many children");
    assert!(
        children
            .iter()
            .all(|child| child.len() == 7 && child.starts_with('c')),
        "ids that cannot occur by accident in figures"
    );

    let outputs = directory.path().join("outputs");
    let summary = ragline(&[
        "replay",
        "--input",
        &history,
        "--state",
        &file("state"),
        "--dead-letters",
        &file("dead.jsonl"),
        "--outputs",
        &outputs.display().to_string(),
        "--json",
    ]);
    let summary_json: serde_json::Value = serde_json::from_slice(&summary.stdout).unwrap();
    assert!(
        summary_json["rejected"].as_u64().unwrap_or(0) > 0,
        "malformed lines were dead-lettered: {summary_json}"
    );
    let mut scanned = vec![
        (
            "summary".to_string(),
            String::from_utf8_lossy(&summary.stdout).into_owned(),
        ),
        (
            "replay log".to_string(),
            String::from_utf8_lossy(&summary.stderr).into_owned(),
        ),
        (
            "dead letters".to_string(),
            std::fs::read_to_string(file("dead.jsonl")).unwrap(),
        ),
    ];
    for path in every_file_under(&outputs) {
        scanned.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    let state = file("state");
    for month in ["2016-09", "2017-06"] {
        for format in ["json", "csv", "html"] {
            for published in [false, true] {
                let mut args = vec![
                    "report",
                    "--state",
                    &state,
                    "--month",
                    month,
                    "--all-units",
                    "--format",
                    format,
                ];
                if published {
                    args.push("--published");
                }
                let output = ragline(&args);
                scanned.push((
                    format!("report {month} {format} published={published}"),
                    String::from_utf8_lossy(&output.stdout).into_owned(),
                ));
                scanned.push((
                    format!("report log {month} {format}"),
                    String::from_utf8_lossy(&output.stderr).into_owned(),
                ));
            }
        }
    }
    assert!(scanned.len() > 10);
    for (what, text) in &scanned {
        let found = child_ids_in(text, &children);
        assert!(found.is_empty(), "{what} carries child ids {found:?}");
    }

    // The same run with payloads switched on: its dead letters hold them.
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml"))
        .unwrap()
        + "\n[outputs]\ndead_letter_payloads = true\n";
    std::fs::write(file("payloads.toml"), config).unwrap();
    ragline(&[
        "replay",
        "--config",
        &file("payloads.toml"),
        "--input",
        &history,
        "--state",
        &file("state-payloads"),
        "--dead-letters",
        &file("dead-payloads.jsonl"),
    ]);
    let letters = std::fs::read_to_string(file("dead-payloads.jsonl")).unwrap();
    assert!(
        !child_ids_in(&letters, &children).is_empty(),
        "with payloads on, dead letters carry the messages"
    );
}
