//! The scorecard's trend, previous financial year's outturn and benchmarks
//! (`docs/scorecard.md`, "Trend, outturn and benchmarks"):
//!
//! - on the hand-made history `tests/hand/trend.jsonl`, the values worked
//!   out by hand below, at a March and an April month end and early in the
//!   history, and the benchmark year chosen for each report month;
//! - on a generated history, every trend point and outturn of every unit
//!   and indicator equals the value of the single-month report of its own
//!   month (exact and published), an independent route;
//! - the live pages, exact and published, carry the sparkline over HTTP.

use ragline::pipeline::{Engine, Mode};
use ragline::shared::Shared;
use ragline::store::{MemoryDisk, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

#[path = "common/run.rs"]
mod run;
use run::ragline;

const HAND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hand/trend.jsonl");

// ---------------------------------------------------------------------------
// The hand-made history: referrals of new children to Dartford CSWT (North
// Kent), each opening a case that stays open:
//
//   month      referrals  open cases at the month end (SCS01)
//   Jan 2017   1          1     <- the history starts here
//   Feb 2017   2          3
//   Mar 2017   3          6
//   Apr 2017   4          10
//   May, Jun, Jul, Aug 2017: 1 each (11, 12, 13, 14; Aug's on the 2nd)
//   Sep 2017 - Mar 2018: none (14)
//   Apr 2018   1 (on the 2nd)  15
//
// REF-M (referrals in the month) and SCS01 (open cases, a snapshot) are
// counts: before January 2017 they have no value (the history has not
// started), not 0.

fn kent() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml")).unwrap()
}

/// Kent's configuration with benchmarks for REF-M in two source years,
/// the first without a statistical neighbours' figure.
fn config_with_ref_m_benchmarks(directory: &Path) -> String {
    let path = directory.join("kent-benchmarks.toml");
    std::fs::write(
        &path,
        format!(
            "{}\n[benchmark.values.REF-M]\n\"2015-16\" = {{ England = 2.5 }}\n\"2017-18\" = {{ England = 4.0, \"Statistical neighbours\" = 3.5 }}\n",
            kent()
        ),
    )
    .unwrap();
    path.display().to_string()
}

struct Hand {
    _directory: tempfile::TempDir,
    config: String,
    state: String,
}

impl Hand {
    fn replayed() -> Hand {
        let directory = tempfile::tempdir().unwrap();
        let config = config_with_ref_m_benchmarks(directory.path());
        let state = directory.path().join("state").display().to_string();
        let dead = directory.path().join("dead.jsonl").display().to_string();
        let summary: Value = serde_json::from_str(&ragline(&[
            "replay",
            "--config",
            &config,
            "--input",
            HAND,
            "--state",
            &state,
            "--dead-letters",
            &dead,
            "--json",
        ]))
        .unwrap();
        assert_eq!(summary["rejected"], 0, "{summary}");
        Hand {
            _directory: directory,
            config,
            state,
        }
    }

    fn report(&self, month: &str, format: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "report",
            "--config",
            &self.config,
            "--state",
            &self.state,
            "--month",
            month,
            "--unit",
            "kent",
            "--format",
            format,
        ];
        args.extend_from_slice(extra);
        ragline(&args)
    }

    fn json(&self, month: &str) -> Value {
        serde_json::from_str(&self.report(month, "json", &[])).unwrap()
    }
}

fn trend_of(row: &Value) -> Vec<(String, Value)> {
    row["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| {
            (
                point["month"].as_str().unwrap().to_string(),
                point["value"].clone(),
            )
        })
        .collect()
}

fn points(months: &[&str], values: &[Option<i64>]) -> Vec<(String, Value)> {
    months
        .iter()
        .zip(values)
        .map(|(month, value)| (month.to_string(), value.map_or(Value::Null, Value::from)))
        .collect()
}

#[test]
fn hand_made_history_gives_the_trend_outturn_and_benchmarks_worked_by_hand() {
    let hand = Hand::replayed();

    // A March month end: the previous financial year (2015-16) ended in
    // March 2016, before the history; four months have no value.
    let march = hand.json("2017-03");
    let months = [
        "2016-09", "2016-10", "2016-11", "2016-12", "2017-01", "2017-02", "2017-03",
    ];
    let scs01 = &march["kent"]["SCS01"];
    assert_eq!(
        trend_of(scs01),
        points(
            &months,
            &[None, None, None, None, Some(1), Some(3), Some(6)]
        )
    );
    assert_eq!(
        scs01["previous_outturn"],
        serde_json::json!({"year": "2015-16", "month": "2016-03", "value": null})
    );
    let ref_m = &march["kent"]["REF-M"];
    assert_eq!(
        trend_of(ref_m),
        points(
            &months,
            &[None, None, None, None, Some(1), Some(2), Some(3)]
        )
    );
    // REF-M's benchmark for a 2016-17 report: 2015-16's, the latest not
    // after it (2017-18 is after it).
    assert_eq!(
        ref_m["benchmark"],
        serde_json::json!({"year": "2015-16", "values": [
            {"name": "England", "value": 2.5},
            {"name": "Statistical neighbours", "value": null}
        ]})
    );
    assert!(scs01["benchmark"].is_null(), "no benchmark for SCS01");

    // April: a new financial year; its previous one ended with March 2017.
    let april = hand.json("2017-04");
    let months = [
        "2016-10", "2016-11", "2016-12", "2017-01", "2017-02", "2017-03", "2017-04",
    ];
    let scs01 = &april["kent"]["SCS01"];
    assert_eq!(
        trend_of(scs01),
        points(
            &months,
            &[None, None, None, Some(1), Some(3), Some(6), Some(10)]
        )
    );
    assert_eq!(
        scs01["previous_outturn"],
        serde_json::json!({"year": "2016-17", "month": "2017-03", "value": 6})
    );
    let ref_m = &april["kent"]["REF-M"];
    assert_eq!(ref_m["previous_outturn"]["value"], 3);
    assert_eq!(ref_m["benchmark"]["year"], "2017-18");
    assert_eq!(ref_m["benchmark"]["values"][0]["value"], 4.0);
    assert_eq!(ref_m["benchmark"]["values"][1]["value"], 3.5);
    // The trend's own month is the scorecard's value; the month before it
    // is "one_month_ago".
    assert_eq!(scs01["trend"][6]["value"], scs01["value"]);
    assert_eq!(scs01["trend"][5]["value"], scs01["one_month_ago"]);
    // Kent's illustrative SCS03 benchmarks: 2016-17 is the latest.
    assert_eq!(april["kent"]["SCS03"]["benchmark"]["year"], "2016-17");

    // March 2018 is still in 2017-18: its previous outturn is March 2017's
    // (6 open cases), not March 2018's own (14).
    let march_2018 = hand.json("2018-03");
    let scs01 = &march_2018["kent"]["SCS01"];
    assert_eq!(scs01["value"], 14);
    assert_eq!(
        scs01["previous_outturn"],
        serde_json::json!({"year": "2016-17", "month": "2017-03", "value": 6})
    );
    assert_eq!(march_2018["kent"]["REF-M"]["trend"][0]["value"], 0);
    assert_eq!(march_2018["kent"]["REF-M"]["benchmark"]["year"], "2017-18");
    // Before any configured source year there is no benchmark.
    assert!(hand.json("2015-03")["kent"]["REF-M"]["benchmark"].is_null());
    assert_eq!(
        hand.json("2015-04")["kent"]["REF-M"]["benchmark"]["year"],
        "2015-16"
    );
    // The units beneath carry the same history as their figures: North
    // Kent holds every referral, South Kent none.
    let all: Value = serde_json::from_str(&ragline(&[
        "report",
        "--config",
        &hand.config,
        "--state",
        &hand.state,
        "--month",
        "2017-04",
        "--all-units",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        trend_of(&all["north-kent"]["SCS01"]),
        trend_of(&all["kent"]["SCS01"])
    );
    assert_eq!(
        trend_of(&all["south-kent"]["SCS01"]),
        points(
            &months,
            &[None, None, None, Some(0), Some(0), Some(0), Some(0)]
        )
    );

    // CSV: the scorecard's columns keep their positions; the history's
    // follow them.
    let csv = hand.report("2017-04", "csv", &[]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "unit,unit_name,month,section,indicator,name,polarity,period,result,rag,num,den,target,floor,small_den,one_month_ago,one_year_ago,dot,r3m_result,r3m_rag,r3m_num,r3m_den,trend_m6,trend_m5,trend_m4,trend_m3,trend_m2,trend_m1,trend_m0,previous_outturn_year,previous_outturn,benchmark_year,benchmark_England,benchmark_Statistical neighbours"
    );
    let line = lines
        .find(|line| line.contains(",REF-M,"))
        .expect("a REF-M line");
    assert!(
        line.ends_with(",,,,1,2,3,4,2016-17,3,2017-18,4,3.5"),
        "{line}"
    );
    let summary = csv.lines().find(|line| line.contains(",summary,")).unwrap();
    assert_eq!(summary.matches(',').count(), 33, "{summary}");

    // HTML: the sparkline of REF-M in April 2017: seven points 12 px apart
    // from x = 4; no value before January; 1 at the bottom (y = 17), 4 at
    // the top (y = 3), 2 and 3 a third and two thirds up (12.3, 7.7).
    let html = hand.report("2017-04", "html", &[]);
    let row = html
        .lines()
        .find(|line| line.starts_with("<tr data-indicator=\"REF-M\""))
        .unwrap();
    assert!(row.contains("<svg class=\"spark\""), "{row}");
    assert!(
        row.contains("<title>Oct 2016: -, Nov 2016: -, Dec 2016: -, Jan 2017: 1, Feb 2017: 2, Mar 2017: 3, Apr 2017: 4</title>"),
        "{row}"
    );
    assert!(
        row.contains("<polyline points=\"40.0,17.0 52.0,12.3 64.0,7.7 76.0,3.0\""),
        "{row}"
    );
    assert!(row.contains("<td class=\"num outturn\">3</td>"), "{row}");
    assert!(
        row.contains("<td class=\"num benchmark\">3.5 <span class=\"year\">(2017-18)</span></td>"),
        "{row}"
    );
    assert!(
        html.contains("<th>2016-17 outturn</th><th>England</th><th>Statistical neighbours</th>")
    );
    assert!(!html.contains("<script"));
    assert!(html.contains("@page{size:A4 landscape"));

    // Published: February's 3 open cases are withheld in February's own
    // published scorecard, so in April's trend too; the other months show.
    let published: Value =
        serde_json::from_str(&hand.report("2017-04", "json", &["--published"])).unwrap();
    let february: Value =
        serde_json::from_str(&hand.report("2017-02", "json", &["--published"])).unwrap();
    assert_eq!(february["kent"]["SCS01"]["value"], "c");
    let shown: Vec<Value> = trend_of(&published["kent"]["SCS01"])
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(
        shown,
        [
            Value::Null,
            Value::Null,
            Value::Null,
            Value::from("c"),
            Value::from("c"),
            Value::from(6),
            Value::from(10)
        ]
    );
    assert_eq!(published["kent"]["SCS01"]["previous_outturn"]["value"], 6);
    // Benchmarks are public figures: shown as configured.
    assert_eq!(
        published["kent"]["REF-M"]["benchmark"],
        all["kent"]["REF-M"]["benchmark"]
    );
}

// ---------------------------------------------------------------------------
// A generated history: two financial years, April 2016 to March 2018.

/// Months `from..=to` as `YYYY-MM`.
fn months_between(from: &str, to: &str) -> Vec<String> {
    let index = |text: &str| -> i32 {
        text[..4].parse::<i32>().unwrap() * 12 + text[5..].parse::<i32>().unwrap() - 1
    };
    (index(from)..=index(to))
        .map(|at| format!("{:04}-{:02}", at / 12, at % 12 + 1))
        .collect()
}

/// The seven months ending with `month`, oldest first.
fn seven_to(month: &str) -> Vec<String> {
    let all = months_between("2015-01", month);
    all[all.len() - 7..].to_vec()
}

/// The March month end before the financial year of `month` (April to
/// March), and the name of that previous year.
fn previous_march(month: &str) -> (String, String) {
    let (year, number): (i32, u32) = (month[..4].parse().unwrap(), month[5..].parse().unwrap());
    let starts = if number >= 4 { year } else { year - 1 };
    (
        format!("{starts:04}-03"),
        format!("{}-{:02}", starts - 1, starts % 100),
    )
}

#[test]
fn every_trend_point_and_outturn_is_the_value_of_its_own_months_scorecard() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("history.jsonl").display().to_string();
    ragline(&[
        "generate", "--seed", "7", "--months", "24", "--scale", "small", "--start", "2016-04",
        "--out", &input,
    ]);
    let state = directory.path().join("state").display().to_string();
    let dead = directory.path().join("dead.jsonl").display().to_string();
    ragline(&[
        "replay",
        "--input",
        &input,
        "--state",
        &state,
        "--dead-letters",
        &dead,
        "--batch",
        "100000",
    ]);
    let report = |month: &str, published: bool| -> Value {
        let mut args = vec![
            "report",
            "--state",
            &state,
            "--month",
            month,
            "--all-units",
            "--format",
            "json",
        ];
        if published {
            args.push("--published");
        }
        serde_json::from_str(&ragline(&args)).unwrap()
    };
    // Every month of the history on its own: the independent route.
    let history = months_between("2016-04", "2018-03");
    let own: BTreeMap<String, Value> = history
        .iter()
        .map(|month| (month.clone(), report(month, false)))
        .collect();
    let mut compared = 0;
    // Early in the history (June 2016: four months before April 2016), a
    // March and an April month end, and March 2018 (whose previous
    // outturn is March 2017's, not its own).
    for month in ["2016-06", "2017-03", "2017-04", "2018-03"] {
        let card = &own[month];
        let (march, year) = previous_march(month);
        let trend_months = seven_to(month);
        for (unit, rows) in card.as_object().unwrap() {
            for (id, row) in rows.as_object().unwrap() {
                if id == "summary" {
                    continue;
                }
                let points = row["trend"].as_array().unwrap();
                for (point, at) in points.iter().zip(&trend_months) {
                    assert_eq!(point["month"], at.as_str());
                    let expected = own
                        .get(at)
                        .map_or(Value::Null, |then| then[unit][id]["value"].clone());
                    assert_eq!(point["value"], expected, "{month}: {unit} {id} at {at}");
                    compared += 1;
                }
                let outturn = &row["previous_outturn"];
                assert_eq!(outturn["year"], year.as_str(), "{month}");
                assert_eq!(outturn["month"], march.as_str(), "{month}");
                let expected = own
                    .get(&march)
                    .map_or(Value::Null, |then| then[unit][id]["value"].clone());
                assert_eq!(outturn["value"], expected, "{month}: {unit} {id} outturn");
            }
        }
    }
    assert!(compared > 5000, "{compared} points compared");
    // Early in the history, the months before April 2016 have no value,
    // whatever the kind: not 0.
    let early = &own["2016-06"]["kent"]["SCS01"]["trend"];
    for before in 0..4 {
        assert!(early[before]["value"].is_null(), "{early}");
    }
    assert!(early[4]["value"].is_number(), "{early}");

    // Published: each point is shown as the published scorecard of its own
    // month shows the value.
    let published: BTreeMap<String, Value> = seven_to("2017-04")
        .into_iter()
        .map(|month| {
            let card = report(&month, true);
            (month, card)
        })
        .collect();
    let april = report("2017-04", true);
    let mut withheld = 0;
    for (unit, rows) in april.as_object().unwrap() {
        for (id, row) in rows.as_object().unwrap() {
            if id == "summary" {
                continue;
            }
            for point in row["trend"].as_array().unwrap() {
                let at = point["month"].as_str().unwrap();
                assert_eq!(
                    point["value"], published[at][unit][id]["value"],
                    "published {unit} {id} at {at}"
                );
                withheld += usize::from(point["value"] == "c");
            }
            assert_eq!(
                row["previous_outturn"]["value"],
                published["2017-03"][unit][id]["value"]
            );
        }
    }
    assert!(withheld > 0, "some past values are withheld");
}

// ---------------------------------------------------------------------------
// The live pages.

#[test]
fn the_live_pages_carry_the_sparkline_with_the_values_as_at_the_current_date() {
    let config = ragline::config::Config::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml"),
    )
    .unwrap();
    let mut engine = Engine::open_store(
        std::sync::Arc::new(config),
        Store::in_memory(&MemoryDisk::new("trend-pages")),
        "trend-pages",
        Mode::Live,
    )
    .unwrap();
    // Everything up to 2 August 2017 (the last line is April 2018's).
    let text = std::fs::read_to_string(HAND).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.contains("2018-"))
        .collect();
    let outcome = engine
        .run_batch(
            &ragline::event::RawMessage::file_lines("trend", lines),
            None,
        )
        .unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    let server = serve(Shared::new(engine, true));
    // Open cases (SCS01) at the ends of February to July and on 2 August:
    // 3, 6, 10, 11, 12, 13 and 14; the previous year (2016-17) ended with 6.
    let page = get(server.address, "/scorecard/kent");
    let row = row_of(&page, "SCS01");
    assert!(
        row.contains("<title>Feb 2017: 3, Mar 2017: 6, Apr 2017: 10, May 2017: 11, Jun 2017: 12, Jul 2017: 13, as at 2017-08-02: 14</title>"),
        "{row}"
    );
    assert!(row.contains("<polyline points=\""), "{row}");
    assert!(row.contains("<td class=\"num outturn\">6</td>"), "{row}");
    assert!(page.contains("<th>2016-17 outturn</th>"));
    // Published: February's 3 is withheld, as February's published
    // scorecard withholds it.
    let published = get(server.address, "/scorecard/published/kent");
    let row = row_of(&published, "SCS01");
    assert!(
        row.contains("<title>Feb 2017: c, Mar 2017: 6, Apr 2017: 10, May 2017: 11, Jun 2017: 12, Jul 2017: 13, as at 2017-08-02: 14</title>"),
        "{row}"
    );
    assert!(row.contains("<svg class=\"spark\""));
}

fn row_of<'a>(page: &'a str, id: &str) -> &'a str {
    page.lines()
        .find(|line| line.starts_with(&format!("<tr data-indicator=\"{id}\"")))
        .unwrap_or_else(|| panic!("no {id} row in {page}"))
}

struct Server {
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(shared: Shared) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            ragline::sink::http::serve(listener, shared, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    Server {
        address,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// The body of a GET answered 200.
fn get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}
