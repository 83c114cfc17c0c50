//! Smoke run of the benchmark suite (`ragline-bench`) with tiny sizes, so
//! that the benchmark code cannot rot: every row of the table is there, with
//! positive numbers. Live latency and fail-over run on librdkafka's mock
//! cluster always;
//! the broker rows (Kafka replay, live latency on tansu, Quix) only when
//! `RAGLINE_BROKER` names a test broker (as `scripts/test.sh` sets it); the
//! DuckDB rows (the whole rebuild, one month end) only when python3 has
//! duckdb, and then DuckDB must agree with ragline on every month end.
//!
//! The `ragline` binary is another package's: the test runs the one next to
//! `ragline-bench` in the target directory, which `cargo test --workspace`
//! (and `scripts/test.sh`) builds along with this test.

use serde_json::Value;
use std::process::Command;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[test]
fn bench_smoke_prints_every_row_with_positive_numbers() {
    let work = tempfile::tempdir().unwrap();
    let json = work.path().join("bench.json");
    let broker = env("RAGLINE_BROKER");
    let bench = std::path::Path::new(env!("CARGO_BIN_EXE_ragline-bench"));
    let ragline = bench.with_file_name(format!("ragline{}", std::env::consts::EXE_SUFFIX));
    assert!(
        ragline.exists(),
        "{} not found: build the workspace (cargo build --workspace --all-targets) first",
        ragline.display()
    );
    let mut command = Command::new(bench);
    command
        .args(["--scale", "small", "--months", "3", "--quix-months", "2"])
        .args(["--rates", "100", "--live-seconds", "1"])
        .arg("--config")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/kent.toml"))
        .arg("--ragline")
        .arg(&ragline)
        .arg("--work")
        .arg(work.path())
        .arg("--json")
        .arg(&json);
    match &broker {
        Some(broker) => {
            command.args(["--broker", broker]);
        }
        None => eprintln!("RAGLINE_BROKER not set: the broker rows of the bench are skipped"),
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ragline-bench failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("| decode |"), "no phase table:\n{stdout}");
    let document: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = document["rows"].as_array().unwrap();
    // Rows are numbered by their position in the printed table.
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row["position"].as_u64(), Some(index as u64 + 1), "{row}");
        assert!(
            stdout.contains(&format!("\n| {} | ", index + 1)),
            "no row {} in the table:\n{stdout}",
            index + 1
        );
    }
    let sections: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|row| row["section"].as_str().unwrap())
        .collect();
    for section in [
        "file-replay",
        "memory",
        "month-ends",
        "rebuild",
        "duckdb",
        "live",
        "kafka",
        "quix",
        "failover",
    ] {
        assert!(sections.contains(section), "no {section} row:\n{stdout}");
    }
    let mut measured = std::collections::BTreeSet::new();
    for row in rows {
        let section = row["section"].as_str().unwrap();
        match row["value"].as_f64() {
            Some(value) => {
                assert!(value > 0.0, "non-positive value: {row}");
                if let Some(ceiling) = row["ceiling"].as_f64() {
                    assert!(ceiling > 0.0, "non-positive ceiling: {row}");
                    assert!(row["ratio"].as_f64().unwrap() > 0.0, "no ratio: {row}");
                }
                measured.insert(section);
            }
            None => {
                let why = row["missing"].as_str().unwrap();
                let allowed = (broker.is_none() && why.starts_with("no --broker"))
                    || (matches!(section, "rebuild" | "duckdb" | "quix")
                        && why.starts_with("skipped"));
                assert!(allowed, "row not measured: {row}");
            }
        }
    }
    // Live latency and fail-over run on librdkafka's mock cluster with or
    // without a broker.
    for section in ["file-replay", "memory", "month-ends", "live", "failover"] {
        assert!(measured.contains(section), "{section} not measured");
    }
    assert!(
        rows.iter().any(|row| row["section"] == "live"
            && row["measurement"]
                .as_str()
                .unwrap()
                .contains("mock cluster")
            && row["value"].as_f64().is_some()),
        "no live latency row on the mock cluster:\n{stdout}"
    );
    // The file replay is the median of three whole-process runs.
    let replay_note = rows
        .iter()
        .find(|row| row["section"] == "file-replay")
        .and_then(|row| row["note"].as_str())
        .unwrap_or_default();
    assert!(
        replay_note.contains("the run of median wall time of 3 (process walls "),
        "the file replay row does not say it is the median of three runs: {replay_note}"
    );
    if broker.is_some() {
        assert!(measured.contains("kafka") && measured.contains("live"));
        assert!(
            rows.iter().any(|row| row["section"] == "failover"
                && row["measurement"].as_str().unwrap().contains("broker")
                && row["value"].as_f64().is_some()),
            "no fail-over row on the broker:\n{stdout}"
        );
    }
}
