//! The committee pack views (`docs/committee-pack.md`) through the command
//! line:
//!
//! - on a generated history, every exception page and every RAG movement is
//!   checked against the month-end scorecards (`report --format json`) of the
//!   months involved, an independent route to the same figures;
//! - on the hand-made history `tests/hand/pack.jsonl`, the pages, data
//!   notes, cases outside the standard and the movement with its
//!   restatements are the values worked out by hand below.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

#[path = "common/run.rs"]
mod run;
use run::ragline;

const HAND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hand/pack.jsonl");

struct State {
    _directory: tempfile::TempDir,
    state: String,
}

impl State {
    fn generated() -> State {
        let directory = tempfile::tempdir().unwrap();
        let input = directory.path().join("history.jsonl").display().to_string();
        ragline(&[
            "generate", "--seed", "11", "--months", "18", "--scale", "small", "--start", "2016-04",
            "--out", &input,
        ]);
        State::replayed(directory, &input, "100000")
    }

    fn hand() -> State {
        // One event per batch: months close as the file goes, so the last
        // line arrives after May and June 2017 have closed.
        State::replayed(tempfile::tempdir().unwrap(), HAND, "1")
    }

    fn replayed(directory: tempfile::TempDir, input: &str, batch: &str) -> State {
        let state = directory.path().join("state").display().to_string();
        let dead = directory.path().join("dead.jsonl").display().to_string();
        let summary: Value = serde_json::from_str(&ragline(&[
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
        ]))
        .unwrap();
        assert_eq!(summary["rejected"], 0, "{summary}");
        State {
            _directory: directory,
            state,
        }
    }

    fn report(&self, extra: &[&str]) -> String {
        let mut args = vec!["report", "--state", &self.state];
        args.extend_from_slice(extra);
        ragline(&args)
    }

    fn json(&self, extra: &[&str]) -> Value {
        serde_json::from_str(&self.report(extra)).unwrap()
    }

    fn scorecard(&self, month: &str) -> Value {
        self.json(&["--month", month, "--all-units", "--format", "json"])
    }

    fn fails(&self, extra: &[&str]) -> String {
        let mut args = vec!["report", "--state", &self.state];
        args.extend_from_slice(extra);
        let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

/// Months `month - (count - 1) ..= month` as `YYYY-MM`.
fn months_back(month: &str, count: i32) -> Vec<String> {
    let (year, number): (i32, i32) = (month[..4].parse().unwrap(), month[5..].parse().unwrap());
    let index = year * 12 + number - 1;
    (0..count)
        .rev()
        .map(|back| {
            let at = index - back;
            format!("{:04}-{:02}", at / 12, at % 12 + 1)
        })
        .collect()
}

/// Ids of the configured entries that restate another entry with a
/// different UASC treatment (they carry `uasc` and a `base` that is itself
/// configured): read from the configuration file, not from the code.
fn uasc_variants() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"))
            .unwrap();
    let table: toml::Value = toml::from_str(&text).unwrap();
    let entries = table["indicator"].as_array().unwrap();
    let ids: BTreeSet<&str> = entries
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    entries
        .iter()
        .filter(|entry| entry.get("uasc").is_some())
        .filter_map(|entry| {
            let base = entry.get("base")?.as_str()?;
            ids.contains(base)
                .then(|| (entry["id"].as_str().unwrap().to_string(), base.to_string()))
        })
        .collect()
}

fn unit_ids(scorecard: &Value) -> Vec<String> {
    scorecard.as_object().unwrap().keys().cloned().collect()
}

/// Units below `unit` in the scorecard, by the configuration's parents.
fn beneath(unit: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"))
            .unwrap();
    let table: toml::Value = toml::from_str(&text).unwrap();
    let parents: Vec<(String, Option<String>)> = table["unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["id"].as_str().unwrap().to_string(),
                entry
                    .get("parent")
                    .map(|parent| parent.as_str().unwrap().to_string()),
            )
        })
        .collect();
    let mut below = BTreeSet::new();
    let mut frontier = vec![unit.to_string()];
    while let Some(next) = frontier.pop() {
        for (id, parent) in &parents {
            if parent.as_deref() == Some(next.as_str()) && below.insert(id.clone()) {
                frontier.push(id.clone());
            }
        }
    }
    below
}

fn same_figures(page: &Value, row: &Value, what: &str) {
    for key in ["num", "den", "value", "rag"] {
        assert_eq!(page.get(key), row.get(key), "{what}: {key}");
    }
}

#[test]
fn exception_pages_agree_with_the_scorecards_of_their_months() {
    let state = State::generated();
    let month = "2017-06";
    let trend = months_back(month, 4);
    let cards: BTreeMap<String, Value> = trend
        .iter()
        .map(|month| (month.clone(), state.scorecard(month)))
        .collect();
    let card = &cards[month];
    let variants = uasc_variants();
    assert!(
        variants.len() >= 10,
        "the configuration pairs UASC variants"
    );
    let report = state.json(&[
        "--month",
        month,
        "--unit",
        "kent",
        "--view",
        "exceptions",
        "--format",
        "json",
    ]);
    assert_eq!(report["view"], "exceptions");
    assert_eq!(report["trend_months"], 4);
    let pages = report["pages"].as_array().unwrap();

    // The pages are exactly Kent's red indicators, less the UASC variants.
    let expected: BTreeSet<String> = card["kent"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, row)| id.as_str() != "summary" && row["rag"] == "red")
        .filter(|(id, _)| !variants.contains_key(id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    let paged: BTreeSet<String> = pages
        .iter()
        .map(|page| page["indicator"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !expected.is_empty(),
        "the generated history has red indicators"
    );
    assert_eq!(paged, expected);
    assert_eq!(paged.len(), pages.len(), "one page per indicator");

    let all_units: Vec<String> = unit_ids(card);
    let below_kent = beneath("kent");
    assert_eq!(below_kent.len(), all_units.len() - 1);
    for page in pages {
        let id = page["indicator"].as_str().unwrap();
        let row = &card["kent"][id];
        same_figures(page, row, id);
        assert_eq!(page["name"], row["name"]);
        assert_eq!(page["polarity"], row["polarity"]);
        assert_eq!(page["period"], row["period"]);

        // The trend: four month ends, each as its own scorecard has it.
        let points = page["trend"].as_array().unwrap();
        assert_eq!(points.len(), 4);
        for (point, at) in points.iter().zip(&trend) {
            assert_eq!(point["month"], at.as_str());
            let then = &cards[at]["kent"][id];
            same_figures(point, then, &format!("{id} at {at}"));
            assert_eq!(point["target"], then["target"], "{id} target at {at}");
        }

        // Units beneath rated red, as the scorecard rates them.
        let red: BTreeSet<String> = all_units
            .iter()
            .filter(|unit| below_kent.contains(*unit) && card[unit.as_str()][id]["rag"] == "red")
            .cloned()
            .collect();
        let listed: BTreeSet<String> = page["red_units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| {
                let unit = line["unit"].as_str().unwrap();
                same_figures(line, &card[unit][id], &format!("{id} at {unit}"));
                unit.to_string()
            })
            .collect();
        assert_eq!(listed, red, "{id}: red units beneath");

        // Cases outside the standard: den - num for H percentages, num for L.
        let outside = &page["outside_standard"];
        match (
            row["kind"].as_str().unwrap(),
            row["polarity"].as_str().unwrap(),
        ) {
            ("percent", "H") => {
                let (num, den) = (row["num"].as_f64().unwrap(), row["den"].as_f64().unwrap());
                assert!(
                    (outside["count"].as_f64().unwrap() - (den - num)).abs() < 1e-6,
                    "{id}"
                );
                assert!((outside["of"].as_f64().unwrap() - den).abs() < 1e-6, "{id}");
            }
            ("percent", "L") => {
                assert_eq!(outside["count"], row["num"], "{id}");
            }
            ("percent", _) => {}
            _ => assert!(outside.is_null(), "{id}: no cases for this kind"),
        }

        // The other UASC treatment, where a variant is configured.
        let partner = variants
            .iter()
            .find(|(_, base)| base.as_str() == id)
            .map(|(variant, _)| variant.clone());
        match partner {
            Some(variant) => {
                assert_eq!(page["uasc"]["indicator"], variant.as_str());
                same_figures(&page["uasc"], &card["kent"][variant.as_str()], &variant);
            }
            None => assert!(page["uasc"].is_null(), "{id} has no UASC variant"),
        }

        // Data notes: the target of the month in the sentence, the source.
        let notes = &page["data_notes"];
        let target = row["target"].as_f64().unwrap();
        let target = if target.fract() == 0.0 {
            format!("Target: {target:.0}")
        } else {
            format!("Target: {target}")
        };
        assert!(
            notes["target"].as_str().unwrap().starts_with(&target),
            "{id}: {} does not start with {target}",
            notes["target"]
        );
        let expected_source = if id.starts_with("SCS4") {
            "Data Source: Liberi and Area Staffing Spreadsheets"
        } else {
            "Data Source: Liberi"
        };
        assert_eq!(notes["source"], expected_source, "{id}");
    }

    // HTML and Markdown carry one page per JSON page.
    let html = state.report(&[
        "--month",
        month,
        "--unit",
        "kent",
        "--view",
        "exceptions",
        "--format",
        "html",
    ]);
    assert_eq!(html.matches("<section class=\"page\"").count(), pages.len());
    let markdown = state.report(&[
        "--month",
        month,
        "--unit",
        "kent",
        "--view",
        "exceptions",
        "--format",
        "markdown",
    ]);
    assert_eq!(markdown.matches("\n## ").count(), pages.len());
    for page in pages {
        let id = page["indicator"].as_str().unwrap();
        assert!(html.contains(&format!("data-indicator=\"{id}\"")), "{id}");
        assert!(markdown.contains(&format!("({id})\n")), "{id}");
    }
}

#[test]
fn turned_red_since_and_amber_pages_follow_both_scorecards() {
    let state = State::generated();
    let (since, month) = ("2017-02", "2017-08");
    let before = state.scorecard(since);
    let after = state.scorecard(month);
    let variants = uasc_variants();
    let rank = |rag: &Value| match rag.as_str() {
        Some("red") => 2,
        Some("amber") => 1,
        Some("green") => 0,
        _ => -1,
    };
    for unit in ["kent", "north-kent", "east-kent"] {
        for include_amber in [false, true] {
            let mut args = vec![
                "--month",
                month,
                "--since",
                since,
                "--unit",
                unit,
                "--view",
                "exceptions",
            ];
            if include_amber {
                args.push("--include-amber");
            }
            let report = state.json(&args);
            let paged: BTreeSet<String> = report["pages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|page| {
                    assert_eq!(page["since"]["month"], since);
                    page["indicator"].as_str().unwrap().to_string()
                })
                .collect();
            let expected: BTreeSet<String> = after[unit]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(id, _)| id.as_str() != "summary" && !variants.contains_key(id.as_str()))
                .filter(|(id, row)| {
                    let now = rank(&row["rag"]);
                    let selected = now == 2 || (include_amber && now == 1);
                    selected && rank(&before[unit][id.as_str()]["rag"]) < now
                })
                .map(|(id, _)| id.clone())
                .collect();
            assert_eq!(paged, expected, "{unit}, amber {include_amber}");
        }
    }
    // Without --since and with amber, every red and amber indicator of the
    // root gets a page.
    let report = state.json(&[
        "--month",
        month,
        "--view",
        "exceptions",
        "--include-amber",
        "--trend",
        "6",
    ]);
    let pages = report["pages"].as_array().unwrap();
    let expected = after["kent"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, row)| {
            id.as_str() != "summary"
                && !variants.contains_key(id.as_str())
                && (row["rag"] == "red" || row["rag"] == "amber")
        })
        .count();
    assert_eq!(pages.len(), expected);
    assert!(pages.iter().all(|page| page["unit"] == "kent"));
    assert!(pages
        .iter()
        .all(|page| page["trend"].as_array().unwrap().len() == 6));
}

#[test]
fn movement_lists_every_band_that_moved_between_two_scorecards() {
    let state = State::generated();
    let (since, month) = ("2016-11", "2017-08");
    let before = state.scorecard(since);
    let after = state.scorecard(month);
    let report = state.json(&[
        "--month", month, "--since", since, "--view", "movement", "--format", "json",
    ]);
    let listed: BTreeMap<(String, String), Value> = report["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                (
                    line["unit"].as_str().unwrap().to_string(),
                    line["indicator"].as_str().unwrap().to_string(),
                ),
                line.clone(),
            )
        })
        .collect();
    let rank = |rag: &Value| match rag.as_str() {
        Some("red") => Some(2),
        Some("amber") => Some(1),
        Some("green") => Some(0),
        _ => None,
    };
    let mut expected = BTreeSet::new();
    let (mut improved, mut worsened) = (0, 0);
    for unit in unit_ids(&after) {
        for (id, row) in after[unit.as_str()].as_object().unwrap() {
            if id == "summary" {
                continue;
            }
            let earlier = &before[unit.as_str()][id.as_str()];
            let (Some(from), Some(to)) = (rank(&earlier["rag"]), rank(&row["rag"])) else {
                continue;
            };
            if from == to {
                continue;
            }
            expected.insert((unit.clone(), id.clone()));
            let line = &listed[&(unit.clone(), id.clone())];
            same_figures(&line["from"], earlier, &format!("{id} {unit} from"));
            same_figures(&line["to"], row, &format!("{id} {unit} to"));
            let direction = if to < from { "improved" } else { "worsened" };
            assert_eq!(line["direction"], direction, "{id} {unit}");
            if to < from {
                improved += 1;
            } else {
                worsened += 1;
            }
            // Both months are closed in this state: the records are there,
            // and a single replay of a clean file restates nothing.
            for side in ["from", "to"] {
                assert_eq!(line[side]["closed"], true);
                assert_eq!(line[side]["restatements"], 0);
                assert_eq!(line[side]["recorded"]["num"], line[side]["num"]);
            }
            assert_eq!(line["restated_since_close"], false);
        }
    }
    assert!(expected.len() > 5, "the generated history moves some bands");
    assert_eq!(listed.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(report["summary"]["changed"], expected.len());
    assert_eq!(report["summary"]["improved"], improved);
    assert_eq!(report["summary"]["worsened"], worsened);

    // One unit only.
    let kent = state.json(&[
        "--month", month, "--since", since, "--unit", "kent", "--view", "movement",
    ]);
    let kent_expected = expected.iter().filter(|(unit, _)| unit == "kent").count();
    assert_eq!(kent["movements"].as_array().unwrap().len(), kent_expected);
    let markdown = state.report(&[
        "--month", month, "--since", since, "--unit", "kent", "--view", "movement", "--format",
        "markdown",
    ]);
    assert!(markdown.contains(&format!(
        "{kent_expected} indicator and unit line(s) changed RAG band"
    )));
}

// ---------------------------------------------------------------------------
// The hand-made history, tests/hand/pack.jsonl (Dartford CSWT, in North Kent):
//
// - 12 referrals on 2017-04-03 open 12 cases (k-01..k-12); nobody is
//   allocated and nobody is visited;
// - May 2017: 5 assessments completed on 2017-05-15, started 2017-05-01:
//   within 45 working days;
// - June 2017: 2 within (started 2017-06-01), 3 late (started 2017-02-01,
//   45 working days after which is in April);
// - a referral on 2017-07-03 closes June;
// - then a late-recorded May assessment (dated 2017-05-20, started
//   2017-01-03: late) arrives after May and June have closed;
// - last, commentary for Kent, June 2017: two on AS01 (the later one is
//   shown), one on CIN02 replaced by its revision 1, one on CIN01 voided,
//   and one on AS01 for May (not June's).
//
// AS01 (H, target 90, floor 80), rolling 12 months:
//   May: 5 / 6 = 83.3% amber (it was 5 / 5 = 100% green when May closed);
//   June: (5 + 2) / (6 + 5) = 7 / 11 = 63.6% red (7 / 10 = 70% at the close).
//   Cases outside the standard in June: 11 - 7 = 4.
// CIN01 (H, 90 / 80, snapshot): children in need opened at least 28 days
//   before: none at 30 April (opened 3 April), 12 at 31 May and 30 June,
//   none seen: 0.0% red in May and June; 12 outside the standard.
// CIN02 (L count, 0 / 10): 0 at 31 March (green), 12 from April (red).

#[test]
fn hand_made_history_gives_the_pages_worked_by_hand() {
    let state = State::hand();
    let report = state.json(&[
        "--month",
        "2017-06",
        "--unit",
        "kent",
        "--view",
        "exceptions",
        "--format",
        "json",
    ]);
    let pages = report["pages"].as_array().unwrap();
    let ids: Vec<&str> = pages
        .iter()
        .map(|page| page["indicator"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["AS01", "CIN01", "CIN02"]);

    let as01 = &pages[0];
    assert_eq!(
        (as01["num"].as_i64(), as01["den"].as_i64()),
        (Some(7), Some(11))
    );
    assert_eq!(as01["shown"], "63.6%");
    assert_eq!(as01["rag"], "red");
    let trend: Vec<(String, String, String, String)> = as01["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| {
            (
                point["label"].as_str().unwrap().to_string(),
                point["shown"].as_str().unwrap().to_string(),
                point["target_shown"].as_str().unwrap().to_string(),
                point["rag"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String, String)> = [
        ("Mar 2017", "-", "90.0%", ""),
        ("Apr 2017", "-", "90.0%", ""),
        ("May 2017", "83.3%", "90.0%", "amber"),
        ("Jun 2017", "63.6%", "90.0%", "red"),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    assert_eq!(trend, expected);
    assert_eq!(
        as01["data_notes"]["target"],
        "Target: 90% (RAG Bandings: Below 80% = Red, 80% to 90% = Amber, 90% and above = Green)"
    );
    assert_eq!(
        as01["data_notes"]["tolerance"],
        "Tolerance: Higher values are better"
    );
    assert_eq!(
        as01["data_notes"]["period"],
        "Data: Figures shown are based on a rolling 12 month period. The result for Jun 2017 shows performance for Jul 2016 to Jun 2017 (1 July 2016 to 30 June 2017)."
    );
    assert_eq!(as01["data_notes"]["source"], "Data Source: Liberi");
    assert_eq!(as01["outside_standard"]["count"], 4);
    assert_eq!(as01["outside_standard"]["of"], 11);
    assert_eq!(
        as01["outside_standard"]["sentence"],
        "From 1 July 2016 to 30 June 2017, 4 of the 11 cases counted fell outside the standard (7 within it)."
    );
    let red: Vec<(&str, i64, i64)> = as01["red_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["unit"].as_str().unwrap(),
                line["num"].as_i64().unwrap(),
                line["den"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(red, [("north-kent", 7, 11), ("dartford-cswt", 7, 11)]);
    assert!(as01["uasc"].is_null());

    let cin01 = &pages[1];
    assert_eq!(cin01["shown"], "0.0%");
    assert_eq!(cin01["outside_standard"]["count"], 12);
    assert_eq!(
        cin01["data_notes"]["period"],
        "Data: Figures shown are based on a snapshot as at the end of the reporting month. The result for Jun 2017 shows the position on 30 June 2017."
    );

    let cin02 = &pages[2];
    assert_eq!(cin02["value"], 12);
    assert!(cin02.get("den").is_none());
    assert!(cin02["outside_standard"].is_null());
    assert_eq!(
        cin02["data_notes"]["target"],
        "Target: 0 (RAG Bandings: Above 10 = Red, 1 to 10 = Amber, 0 = Green)"
    );
    assert_eq!(
        cin02["data_notes"]["tolerance"],
        "Tolerance: Lower values are better"
    );
    let cin02_trend: Vec<(&str, &str)> = cin02["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| {
            (
                point["shown"].as_str().unwrap(),
                point["rag"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cin02_trend,
        [("0", "green"), ("12", "red"), ("12", "red"), ("12", "red")]
    );

    // Commentary: the latest surviving one per indicator, unit and month.
    assert_eq!(as01["commentary"]["author"], "Head of Service");
    assert_eq!(as01["commentary"]["event_id"], "p-com-2");
    assert_eq!(as01["commentary"]["date"], "2017-07-06");
    assert!(as01["commentary"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Three assessments started in February"));
    assert!(cin01["commentary"].is_null(), "voided");
    assert_eq!(
        cin02["commentary"]["text"],
        "Twelve cases waited for allocation after the team moved office."
    );
    assert_eq!(cin02["commentary"]["author"], "Team Manager");

    // Turned red since May: only AS01 (amber in May); CIN01 and CIN02 were
    // red already.
    let since = state.json(&[
        "--month",
        "2017-06",
        "--since",
        "2017-05",
        "--unit",
        "kent",
        "--view",
        "exceptions",
    ]);
    let ids: Vec<&str> = since["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|page| page["indicator"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["AS01"]);
    assert_eq!(since["pages"][0]["since"]["rag"], "amber");

    // The Markdown page reads as the published one.
    let markdown = state.report(&[
        "--month",
        "2017-06",
        "--unit",
        "kent",
        "--view",
        "exceptions",
        "--format",
        "markdown",
    ]);
    assert!(markdown.contains(
        "### Commentary\n\nThree assessments started in February were completed in June, outside the timescale.\n\nA weekly tracker now lists every assessment open for 30 working days.\n\n-- Head of Service\n"
    ));
    assert!(markdown.contains("### Commentary\n\nNo commentary recorded.\n"));
    let html = state.report(&[
        "--month",
        "2017-06",
        "--unit",
        "kent",
        "--view",
        "exceptions",
        "--format",
        "html",
    ]);
    assert!(html.contains("<p class=\"commentary\">Twelve cases waited for allocation after the team moved office.</p>"));
    assert!(markdown.contains(
        "| Kent Result |  |  | 83.3% | 63.6% |\n| Target | 90.0% | 90.0% | 90.0% | 90.0% |\n| RAG Rating |  |  | Amber | Red |"
    ));
}

#[test]
fn hand_made_history_moves_as01_and_shows_the_late_data() {
    let state = State::hand();
    let report = state.json(&[
        "--month", "2017-06", "--since", "2017-05", "--view", "movement", "--format", "json",
    ]);
    let lines = report["movements"].as_array().unwrap();
    let units: Vec<&str> = lines
        .iter()
        .map(|line| {
            assert_eq!(line["indicator"], "AS01");
            assert_eq!(line["direction"], "worsened");
            assert_eq!(line["from"]["rag"], "amber");
            assert_eq!(line["to"]["rag"], "red");
            assert_eq!(
                (line["from"]["num"].as_i64(), line["from"]["den"].as_i64()),
                (Some(5), Some(6))
            );
            assert_eq!(
                (line["to"]["num"].as_i64(), line["to"]["den"].as_i64()),
                (Some(7), Some(11))
            );
            // Both months were restated once, by the late May assessment;
            // the record holds the figures as restated.
            assert_eq!(line["from"]["restatements"], 1);
            assert_eq!(line["to"]["restatements"], 1);
            assert_eq!(line["from"]["recorded"]["den"], 6);
            assert_eq!(line["restated_since_close"], true);
            line["unit"].as_str().unwrap()
        })
        .collect();
    assert_eq!(units, ["kent", "north-kent", "dartford-cswt"]);
    assert_eq!(
        lines[0]["sentence"],
        "Performance has decreased from 83.3% to 63.6%, moving from an Amber to Red RAG rating. The May 2017 figures were restated after the month closed (1 update from late-recorded data; now 5 / 6). The Jun 2017 figures were restated after the month closed (1 update from late-recorded data; now 7 / 11)."
    );
    // July is open: a movement into it says so.
    let open = state.json(&[
        "--month", "2017-07", "--since", "2017-05", "--unit", "kent", "--view", "movement",
    ]);
    for line in open["movements"].as_array().unwrap() {
        assert_eq!(line["to"]["closed"], false);
        assert!(line["to"]["restatements"].is_null());
    }
}

#[test]
fn pack_views_refuse_what_they_cannot_do() {
    let state = State::hand();
    let stderr = state.fails(&["--month", "2017-06", "--view", "movement"]);
    assert!(stderr.contains("--since"), "{stderr}");
    let stderr = state.fails(&[
        "--month", "2017-06", "--since", "2017-06", "--view", "movement",
    ]);
    assert!(stderr.contains("is not before --month"), "{stderr}");
    let stderr = state.fails(&[
        "--month",
        "2017-06",
        "--since",
        "2017-13",
        "--view",
        "exceptions",
    ]);
    assert!(
        stderr.contains("--since: '2017-13' is not a month"),
        "{stderr}"
    );
    let stderr = state.fails(&[
        "--month",
        "2017-06",
        "--view",
        "exceptions",
        "--format",
        "csv",
    ]);
    assert!(stderr.contains("json, html or markdown"), "{stderr}");
    let stderr = state.fails(&["--month", "2017-06", "--format", "markdown"]);
    assert!(
        stderr.contains("only the exceptions and movement views"),
        "{stderr}"
    );
    let stderr = state.fails(&["--month", "2017-06", "--view", "exceptions", "--trend", "0"]);
    assert!(stderr.contains("--trend: 0"), "{stderr}");
}

/// Commentary is written about a month, often weeks after it: it never
/// moves the clock, so it closes no month and sets no current date.
#[test]
fn commentary_moves_no_clock() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("history.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"event_id":"r1","type":"referral","child_id":"c-1","date":"2017-05-10","unit":"dover-cswt"}"#,
            "\n",
            r#"{"event_id":"k1","type":"commentary","date":"2017-09-01","unit":"kent","indicator":"AS01","month":"2017-05","text":"Written in September.","author":"Analyst"}"#,
            "\n",
        ),
    )
    .unwrap();
    let state = directory.path().join("state");
    let summary: Value = serde_json::from_str(&ragline(&[
        "replay",
        "--input",
        &input.display().to_string(),
        "--state",
        &state.display().to_string(),
        "--batch",
        "1",
        "--json",
    ]))
    .unwrap();
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["applied"], 2, "{summary}");
    // The referral's date is the latest fact: May is still open.
    assert_eq!(summary["months_closed"], 0, "{summary}");
    assert_eq!(summary["current_date"], "2017-05-10", "{summary}");
}

/// The month-end scorecard shows, beneath each unit's table and in each
/// JSON row, the latest surviving commentary on the row's indicator, unit
/// and month. Worked by hand for Kent, May 2017: AS01's commentary `k1`
/// was revised twice (revision 2 is shown, with its author); CIN01's `k2`
/// was voided (nothing shown); `k3` is on AS01 for June, so it shows in
/// June's scorecard only. No other unit or indicator has any.
#[test]
fn the_scorecard_shows_the_latest_surviving_commentary_of_each_row() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("history.jsonl");
    let lines = [
        r#"{"event_id":"r1","type":"referral","child_id":"c-1","date":"2017-05-10","unit":"dover-cswt"}"#,
        r#"{"event_id":"r2","type":"referral","child_id":"c-2","date":"2017-06-02","unit":"dover-cswt"}"#,
        r#"{"event_id":"k1","type":"commentary","date":"2017-06-05","unit":"kent","indicator":"AS01","month":"2017-05","text":"First text.","author":"Analyst"}"#,
        r#"{"event_id":"k1","revision":1,"type":"commentary","date":"2017-06-05","unit":"kent","indicator":"AS01","month":"2017-05","text":"Second text.","author":"Analyst"}"#,
        r#"{"event_id":"k1","revision":2,"type":"commentary","date":"2017-06-05","unit":"kent","indicator":"AS01","month":"2017-05","text":"Checked <twice> & agreed.\n\nA second paragraph.","author":"Head of Service"}"#,
        r#"{"event_id":"k2","type":"commentary","date":"2017-06-05","unit":"kent","indicator":"CIN01","month":"2017-05","text":"Withdrawn.","author":"Analyst"}"#,
        r#"{"event_id":"k2","revision":1,"void":true,"type":"commentary","date":"2017-06-05","unit":"kent","indicator":"CIN01","month":"2017-05","text":"Withdrawn.","author":"Analyst"}"#,
        r#"{"event_id":"k3","type":"commentary","date":"2017-07-01","unit":"kent","indicator":"AS01","month":"2017-06","text":"About June.","author":"Team Manager"}"#,
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let state = State::replayed(directory, &input.display().to_string(), "1");

    for published in [false, true] {
        let mut args = vec!["--month", "2017-05", "--all-units", "--format", "json"];
        if published {
            args.push("--published");
        }
        let may = state.json(&args);
        let mut shown = Vec::new();
        for (unit, card) in may.as_object().unwrap() {
            for (indicator, row) in card.as_object().unwrap() {
                if indicator == "summary" {
                    continue;
                }
                let commentary = row
                    .get("commentary")
                    .unwrap_or_else(|| panic!("{unit} {indicator}: no commentary field"));
                if !commentary.is_null() {
                    shown.push((unit.clone(), indicator.clone()));
                }
            }
        }
        assert_eq!(
            shown,
            [("kent".to_string(), "AS01".to_string())],
            "published: {published}"
        );
        let commentary = &may["kent"]["AS01"]["commentary"];
        assert_eq!(
            commentary["text"],
            "Checked <twice> & agreed.\n\nA second paragraph."
        );
        assert_eq!(commentary["author"], "Head of Service");
        assert_eq!(commentary["date"], "2017-06-05");
        assert_eq!(commentary["event_id"], "k1");
        assert!(may["kent"]["CIN01"]["commentary"].is_null(), "voided");
    }
    let june = state.scorecard("2017-06");
    assert_eq!(june["kent"]["AS01"]["commentary"]["text"], "About June.");
    assert_eq!(june["kent"]["AS01"]["commentary"]["author"], "Team Manager");
    assert!(june["kent"]["CIN01"]["commentary"].is_null());

    for published in [false, true] {
        let mut args = vec!["--month", "2017-05", "--unit", "kent", "--format", "html"];
        if published {
            args.push("--published");
        }
        let html = state.report(&args);
        assert_eq!(
            html.matches("<div class=\"commentary-row\"").count(),
            1,
            "published: {published}"
        );
        assert!(html.contains("<div class=\"commentary-row\" data-indicator=\"AS01\">"));
        assert!(html.contains(
            "<p class=\"commentary\">Checked &lt;twice&gt; &amp; agreed.</p>\n<p class=\"commentary\">A second paragraph.</p>\n<p class=\"commentary-author\">&mdash; Head of Service, 2017-06-05</p>"
        ));
        for absent in ["First text.", "Second text.", "Withdrawn.", "About June."] {
            assert!(!html.contains(absent), "{absent} (published: {published})");
        }
    }
    let dover = state.report(&[
        "--month",
        "2017-05",
        "--unit",
        "dover-cswt",
        "--format",
        "html",
    ]);
    assert!(!dover.contains("class=\"commentary"));
}
