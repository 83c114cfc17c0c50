//! File replay against hostile lines and `kill -9`, through the command line
//! and bounded in time: the lines that once hung or crashed `ragline replay`
//! are dead-lettered, and a replay killed at any point resumes to the same
//! scorecards as an uninterrupted one.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/run.rs"]
mod run;
use run::ragline;

/// Longest any single command may take before the test calls it a hang.
const HANG_LIMIT: Duration = Duration::from_secs(180);

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ragline starts")
}

/// Waits for `child` up to [`HANG_LIMIT`]; kills it and fails on a hang.
fn finish(mut child: Child, what: &str) -> (bool, String, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            return (
                status.success(),
                String::from_utf8_lossy(&output.stdout).to_string(),
                String::from_utf8_lossy(&output.stderr).to_string(),
            );
        }
        if started.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {HANG_LIMIT:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

fn generate(out: &Path, scale: &str, months: &str, messy: bool) {
    let mut args = vec![
        "generate", "--seed", "5", "--months", months, "--scale", scale, "--start", "2016-04",
        "--out",
    ];
    let out = text(out);
    args.push(&out);
    if messy {
        args.push("--messy");
    }
    ragline(&args);
}

fn replay_args<'a>(
    config: &'a str,
    input: &'a str,
    state: &'a str,
    dead: &'a str,
    batch: &'a str,
) -> Vec<&'a str> {
    vec![
        "replay",
        "--config",
        config,
        "--input",
        input,
        "--state",
        state,
        "--dead-letters",
        dead,
        "--batch",
        batch,
        "--json",
    ]
}

fn reports(state: &Path, months: &[&str]) -> Vec<String> {
    months
        .iter()
        .map(|month| {
            ragline(&[
                "report",
                "--state",
                &text(state),
                "--month",
                month,
                "--all-units",
                "--format",
                "json",
            ])
        })
        .collect()
}

#[test]
fn the_lines_that_stopped_replay_are_dead_lettered_in_bounded_time() {
    let directory = tempfile::tempdir().unwrap();
    let clean = directory.path().join("clean.jsonl");
    generate(&clean, "small", "12", false);
    let hostile = directory.path().join("hostile.jsonl");
    std::fs::copy(&clean, &hostile).unwrap();
    let lines = [
        r#"{"event_id":"x-dob","type":"child_details","child_id":"x1","date":"2016-09-01","date_of_birth":"0001-01-01"}"#,
        r#"{"event_id":"x-far","type":"referral","child_id":"x2","date":"9999-12-31","unit":"dartford-cswt"}"#,
        r#"{"event_id":"x-void","type":"referral","child_id":"x2","date":"0001-01-01","unit":"dartford-cswt","void":true}"#,
        r#"{"event_id":"x-miles","type":"placement_started","child_id":"x3","date":"2016-09-01","period_id":"p","placement_type":"residential","distance_miles":1e25}"#,
        r#"{"event_id":"x-typo","type":"referral","child_id":"x4","date":"2107-03-01","unit":"dartford-cswt"}"#,
    ];
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&hostile)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    drop(file);

    let run = |input: &Path, name: &str| -> (Value, PathBuf) {
        let state = directory.path().join(name);
        let dead = directory.path().join(format!("{name}.dead.jsonl"));
        let (input, state_text, dead_text) = (text(input), text(&state), text(&dead));
        let (ok, stdout, stderr) = finish(
            spawn(&replay_args(
                "config/kent.toml",
                &input,
                &state_text,
                &dead_text,
                "500",
            )),
            "replay",
        );
        assert!(ok, "replay failed: {stderr}");
        (serde_json::from_str(&stdout).unwrap(), state)
    };
    let (clean_summary, clean_state) = run(&clean, "clean");
    let (hostile_summary, hostile_state) = run(&hostile, "hostile");
    assert_eq!(hostile_summary["rejected_by_reason"]["out_of_range"], 5);
    assert_eq!(
        hostile_summary["current_date"], clean_summary["current_date"],
        "the clock did not move"
    );
    assert_eq!(
        hostile_summary["last_month_closed"],
        clean_summary["last_month_closed"]
    );
    let months = ["2016-09", "2017-03"];
    assert_eq!(
        reports(&clean_state, &months),
        reports(&hostile_state, &months)
    );
}

/// Kills a replay with SIGKILL once it has committed batches and is still
/// running, several times, then lets it finish: the scorecards equal those
/// of an uninterrupted replay.
#[test]
fn a_replay_killed_at_any_point_resumes_to_identical_scorecards() {
    let directory = tempfile::tempdir().unwrap();
    // Kent's configuration with a checkpoint after every batch, so that a
    // kill finds flushed batches to resume after.
    let config = directory.path().join("kent.toml");
    let kent =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"))
            .unwrap()
            .replace(
                "replay_checkpoint_seconds = 30",
                "replay_checkpoint_seconds = 0",
            );
    assert!(kent.contains("replay_checkpoint_seconds = 0"));
    std::fs::write(&config, kent).unwrap();
    let config = text(&config);
    let input = directory.path().join("history.jsonl");
    generate(&input, "kent", "6", true);
    let input_text = text(&input);
    // Lines are messages, malformed ones (not UTF-8, blank) included.
    let total_lines = std::fs::read(&input)
        .unwrap()
        .iter()
        .filter(|byte| **byte == b'\n')
        .count() as u64;

    let reference = directory.path().join("reference");
    let reference_dead = directory.path().join("reference.dead.jsonl");
    let (ok, _, stderr) = finish(
        spawn(&replay_args(
            &config,
            &input_text,
            &text(&reference),
            &text(&reference_dead),
            "2000",
        )),
        "replay",
    );
    assert!(ok, "{stderr}");

    let state = directory.path().join("killed");
    let dead = directory.path().join("killed.dead.jsonl");
    let (state_text, dead_text) = (text(&state), text(&dead));
    let mut kills = 0;
    for delay_ms in [150u64, 400, 900] {
        let _ = std::fs::remove_file(&dead);
        let mut child = spawn(&replay_args(
            &config,
            &input_text,
            &state_text,
            &dead_text,
            "2000",
        ));
        // Processing has begun once the first batch's dead letters are out.
        let started = Instant::now();
        while std::fs::metadata(&dead).map(|meta| meta.len()).unwrap_or(0) == 0 {
            assert!(started.elapsed() < HANG_LIMIT, "no batch was committed");
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_some() {
            // Finished before the kill: later rounds would only resume a
            // finished state, so stop killing.
            break;
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the kill landed while it ran");
        // It had not read the whole file yet.
        let letters = std::fs::read_to_string(&dead).unwrap_or_default();
        let last_line = letters
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|letter| letter["source"]["line"].as_u64())
            .max()
            .unwrap_or(0);
        assert!(last_line < total_lines, "killed mid-file");
        eprintln!("kill {kills}: after {delay_ms} ms, dead letters up to line {last_line} of {total_lines}");
        kills += 1;
    }
    assert!(kills >= 1, "at least one kill landed mid-replay");
    let (ok, _, stderr) = finish(
        spawn(&replay_args(
            &config,
            &input_text,
            &state_text,
            &dead_text,
            "2000",
        )),
        "final replay",
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("resuming after it"),
        "the last replay resumed after the flushed lines: {stderr}"
    );
    let months = ["2016-06", "2016-09"];
    assert_eq!(reports(&reference, &months), reports(&state, &months));
}

/// On a terminal `ragline replay` shows a progress bar (events, events/s,
/// time left); in a pipe it prints none, with or without `--json`.
#[test]
fn replay_shows_progress_on_a_terminal_only() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("history.jsonl");
    generate(&input, "small", "6", false);
    let binary = env!("CARGO_BIN_EXE_ragline");
    let command = |state: &str| {
        format!(
            "{binary} replay --config config/kent.toml --input {} --state {} --batch 200",
            text(&input),
            text(&directory.path().join(state))
        )
    };
    // A pipe: no bar.
    let piped = Command::new("sh")
        .args(["-c", &command("piped")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(piped.status.success());
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(!stderr.contains("left)"), "{stderr}");
    // A terminal (util-linux `script` gives the command a pseudo-terminal).
    let Ok(terminal) = Command::new("script")
        .args(["-qec", &command("terminal"), "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    else {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "CI=true but `script` (util-linux) is missing"
        );
        return;
    };
    assert!(terminal.status.success());
    let screen = String::from_utf8_lossy(&terminal.stdout);
    assert!(
        screen.contains("events") && screen.contains("left)"),
        "{screen}"
    );
    assert!(screen.contains("replayed"), "the summary follows: {screen}");
}

/// A replay into an empty state is a bulk rebuild: killed before it
/// finished, the next replay starts it again from the beginning (the state
/// is marked as being rebuilt until its last write) and ends with the
/// scorecards of an uninterrupted replay, which are also those of the
/// batch-by-batch path.
#[test]
fn a_bulk_rebuild_killed_midway_starts_again_to_identical_scorecards() {
    let directory = tempfile::tempdir().unwrap();
    // Small feeds, so that dead letters reach the file while events are
    // still being read.
    let config = directory.path().join("kent.toml");
    let kent =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"))
            .unwrap()
            .replace("replay_batch_events = 500000", "replay_batch_events = 2000");
    assert!(kent.contains("replay_batch_events = 2000"));
    std::fs::write(&config, kent).unwrap();
    let config = text(&config);
    let input = directory.path().join("history.jsonl");
    generate(&input, "kent", "6", true);
    let input_text = text(&input);
    let bulk_args = |state: &Path, dead: &Path| -> Vec<String> {
        let mut args: Vec<String> =
            replay_args(&config, &input_text, &text(state), &text(dead), "1")
                .into_iter()
                .map(String::from)
                .collect();
        let at = args.iter().position(|arg| arg == "--batch").unwrap();
        args.drain(at..at + 2);
        args
    };
    let spawn_owned = |args: &[String]| spawn(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // The batch path, for reference.
    let batches = directory.path().join("batches");
    let (ok, _, stderr) = finish(
        spawn(&replay_args(
            &config,
            &input_text,
            &text(&batches),
            &text(&directory.path().join("batches.dead.jsonl")),
            "2000",
        )),
        "batch replay",
    );
    assert!(ok, "{stderr}");

    let state = directory.path().join("rebuilt");
    let dead = directory.path().join("rebuilt.dead.jsonl");
    let mut killed = false;
    for delay_ms in [0u64, 100, 300] {
        let _ = std::fs::remove_dir_all(&state);
        let _ = std::fs::remove_file(&dead);
        let mut child = spawn_owned(&bulk_args(&state, &dead));
        let started = Instant::now();
        while std::fs::metadata(&dead).map(|meta| meta.len()).unwrap_or(0) == 0 {
            assert!(started.elapsed() < HANG_LIMIT, "no dead letter was written");
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_some() {
            continue;
        }
        child.kill().unwrap();
        assert!(
            !child.wait().unwrap().success(),
            "the kill landed while it ran"
        );
        killed = true;
        break;
    }
    assert!(killed, "a kill landed during the rebuild");
    let (ok, stdout, stderr) = finish(spawn_owned(&bulk_args(&state, &dead)), "rebuild again");
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("stopped before it finished; starting it again"),
        "the interrupted rebuild was started again: {stderr}"
    );
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["restatements"], 0, "a rebuild closes months once");
    let months = ["2016-06", "2016-09"];
    assert_eq!(reports(&batches, &months), reports(&state, &months));
}
