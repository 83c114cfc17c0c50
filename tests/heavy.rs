//! The heavy tier: the real binary against a real broker (tansu), `kill -9`
//! rounds, a real Prometheus scraping ragline, headless Chromium rendering the
//! live scorecard page, and `promtool check metrics`.
//!
//! Gated by environment variables that `scripts/test.sh` (and so CI) sets
//! after starting what they need: `RAGLINE_BROKER` (host:port of the test
//! broker), `RAGLINE_PROMETHEUS` (path of the prometheus binary),
//! `RAGLINE_CHROMIUM` (path of the chromium binary), `RAGLINE_TANSU` and
//! `RAGLINE_STUNNEL` (a broker of its own behind a TLS proxy, or behind the
//! SASL gateway of `common/sasl_gateway.rs`). Without them these tests
//! return at once, so a quick local `cargo test` stays quick.

use ragline::calendar::Month;
use ragline::config::Config;
use ragline::generate::{generate, GenOptions, GenUnit, Scale};
use ragline::pipeline::{Engine, Mode};
use ragline::report;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde_json::Value;
#[path = "common/http_client.rs"]
mod http_client;
use http_client::http_get;
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/kafka_topics.rs"]
mod kafka_topics;
use kafka_topics::{create_topic, create_topic_with, read_all as read_topic, read_raw};
#[path = "common/sasl_gateway.rs"]
mod sasl_gateway;
#[path = "common/tools.rs"]
mod tools;

/// A test tool named by an environment variable. Missing, the test returns
/// early, except under CI (`CI=true`), where the heavy tier must run: there
/// a missing tool fails the test.
fn env(name: &str) -> Option<String> {
    let value = std::env::var(name).ok().filter(|value| !value.is_empty());
    if value.is_none() && std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI=true but {name} is not set: the heavy tier must run in CI (scripts/test.sh sets it)");
    }
    value
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The value of an unlabelled metric in a text exposition.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(&format!("{name} ")))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
}

/// A child process killed when dropped.
struct Process(Option<Child>);

impl Process {
    fn is_running(&mut self) -> bool {
        self.0
            .as_mut()
            .is_some_and(|child| child.try_wait().ok().flatten().is_none())
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.0.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

struct Setup {
    directory: tempfile::TempDir,
    config: Config,
    config_path: PathBuf,
    http_port: u16,
}

fn kent_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml")).unwrap()
}

/// A configuration with its own topics, the given broker and a free HTTP port.
fn setup(broker: &str, name: &str) -> Setup {
    let directory = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let suffix = format!("{name}-{}-{}", std::process::id(), http_port);
    let mut text = kent_text();
    let start = text.find("[kafka]").unwrap();
    let end = text.find("[[authority]]").unwrap();
    text.replace_range(
        start..end,
        &format!(
            "[kafka]\nbrokers = \"{broker}\"\ninput_topic = \"in-{suffix}\"\ngroup_id = \"g-{suffix}\"\nvalues_topic = \"values-{suffix}\"\nrag_changes_topic = \"rag-{suffix}\"\nscorecards_topic = \"scorecards-{suffix}\"\nrestatements_topic = \"restatements-{suffix}\"\ndead_letters_topic = \"dead-{suffix}\"\n\n[http]\nlisten = \"127.0.0.1:{http_port}\"\n\n"
        ),
    );
    text = text.replace("batch_max_events = 100000", "batch_max_events = 2000");
    let config_path = directory.path().join("config.toml");
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::parse(&text, &config_path).unwrap();
    Setup {
        directory,
        config,
        config_path,
        http_port,
    }
}

impl Setup {
    fn state(&self) -> PathBuf {
        self.directory.path().join("state")
    }

    fn spawn_run(&self, today: &str) -> Process {
        self.spawn_run_with(today, &[])
    }

    /// [`Setup::spawn_run`] with extra environment variables.
    fn spawn_run_with(&self, today: &str, environment: &[(&str, &str)]) -> Process {
        let child = Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(["run", "--config"])
            .arg(&self.config_path)
            .arg("--state")
            .arg(self.state())
            .args(["--today", today])
            .envs(environment.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Process(Some(child))
    }

    fn metrics(&self) -> Option<String> {
        http_get(self.http_port, "/metrics").map(|(_, body)| body)
    }

    /// Waits until the running processor has consumed `count` messages in total
    /// and delivered every output.
    fn wait_consumed(&self, count: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(text) = self.metrics() {
                let pending = metric(&text, "ragline_outbox_pending_records").unwrap_or(1.0);
                let consumed_in_state = self.consumed_so_far(&text);
                if consumed_in_state >= count && pending == 0.0 {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }

    fn consumed_so_far(&self, text: &str) -> u64 {
        // The counters restart with the process; the state's total does not.
        // (Lag cannot tell: tansu under-reports the high watermark.)
        metric(text, "ragline_state_messages").unwrap_or(0.0) as u64
    }
}

fn history(config: &Config, messy: bool, months: u32) -> Vec<Vec<u8>> {
    let options = GenOptions {
        seed: 31,
        start: ragline::calendar::Date::from_ymd(2016, 4, 1).unwrap(),
        months,
        scale: Scale::Small,
        messy,
    };
    let mut bytes = Vec::new();
    generate(&options, &GenUnit::leaves_of(config), &mut bytes).unwrap();
    bytes
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The test's input producer: one record per record batch, because tansu
/// returns nothing from a fetch that starts inside a record batch (a
/// restarted consumer resuming mid-batch would skip the batch's rest, which
/// Kafka does not do); see README, "Known limits of the test broker".
fn producer(broker: &str) -> BaseProducer {
    producer_with(broker, &[])
}

/// [`producer`] with extra client properties (TLS, SASL).
fn producer_with(broker: &str, properties: &[(&str, &str)]) -> BaseProducer {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", broker)
        .set("linger.ms", "0")
        .set("batch.num.messages", "1");
    for (key, value) in properties {
        config.set(*key, *value);
    }
    config.create().unwrap()
}

fn produce(producer: &BaseProducer, topic: &str, lines: &[Vec<u8>]) {
    for line in lines {
        let key = serde_json::from_slice::<Value>(line)
            .ok()
            .and_then(|event| {
                event
                    .get("child_id")
                    .or(event.get("unit"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "garbage".into());
        while producer
            .send(BaseRecord::to(topic).key(&key).payload(line))
            .is_err()
        {
            producer.poll(Duration::from_millis(20));
        }
        producer.poll(Duration::ZERO);
    }
    // (flush can report a spurious timeout with one record per batch; wait
    // for the delivery reports instead.)
    let deadline = Instant::now() + Duration::from_secs(60);
    while producer.in_flight_count() > 0 && Instant::now() < deadline {
        producer.poll(Duration::from_millis(50));
    }
    assert_eq!(producer.in_flight_count(), 0, "input not delivered in time");
}

/// Messages and the highest offset per partition of `topic`.
fn read_topic_raw_count(broker: &str, topic: &str) -> HashMap<i32, (u64, i64)> {
    let mut counts: HashMap<i32, (u64, i64)> = HashMap::new();
    for read in read_raw(broker, topic) {
        let entry = counts.entry(read.partition).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(read.offset);
    }
    counts
}

fn file_engine(config: &Config, lines: &[Vec<u8>]) -> (tempfile::TempDir, Engine) {
    let directory = tempfile::tempdir().unwrap();
    let mut engine =
        Engine::open(Arc::new(config.clone()), directory.path(), Mode::Replay).unwrap();
    let messages = ragline::event::RawMessage::file_lines("file", lines.iter().cloned());
    engine.run_batch(&messages, None).unwrap();
    (directory, engine)
}

fn months_until(last: &str) -> Vec<Month> {
    let mut month = Month::parse("2016-04").unwrap();
    let last = Month::parse(last).unwrap();
    let mut out = Vec::new();
    while month <= last {
        out.push(month);
        month = month.plus(1);
    }
    out
}

#[test]
fn real_broker_run_equals_file_replay_and_stops_gracefully() {
    let Some(broker) = env("RAGLINE_BROKER") else {
        eprintln!("RAGLINE_BROKER not set: heavy broker test not run");
        return;
    };
    let setup = setup(&broker, "run");
    create_topic(&broker, &setup.config.kafka.input_topic, 4);
    let clean = history(&setup.config, false, 14);
    let messy = history(&setup.config, true, 14);
    produce(&producer(&broker), &setup.config.kafka.input_topic, &messy);
    let mut run = setup.spawn_run("2017-06-20");
    assert!(
        setup.wait_consumed(messy.len() as u64, Duration::from_secs(300)),
        "did not catch up"
    );
    let (status, body) = http_get(setup.http_port, "/readyz").unwrap();
    assert_eq!((status, body.trim()), (200, "ready"));
    let status = run.terminate().expect("exits");
    assert!(status.success(), "graceful shutdown: {status:?}");

    let (_directory, file) = file_engine(&setup.config, &clean);
    let live = Engine::open(Arc::new(setup.config.clone()), &setup.state(), Mode::Live).unwrap();
    assert_eq!(live.totals().consumed, messy.len() as u64);
    for month in months_until("2017-05") {
        assert_eq!(
            report::report_json(&live.reader(), &setup.config.unit_indices(), month),
            report::report_json(&file.reader(), &setup.config.unit_indices(), month),
            "{month}"
        );
    }
    // The last value per indicator and unit on the values topic is the live value.
    let mut last: HashMap<String, Value> = HashMap::new();
    for (key, value) in read_topic(&broker, &setup.config.kafka.values_topic) {
        last.insert(key, value);
    }
    for (&(slot, unit), value) in live.live_values() {
        let key = format!(
            "{}/{}",
            live.catalogue().slots[slot as usize].id,
            setup.config.unit(unit).id
        );
        let def = live.catalogue().slots[slot as usize].def;
        assert_eq!(
            last[&key]["num"],
            ragline::scorecard::amount_json(value.reading.num, def.num_scale),
            "{key}"
        );
        assert_eq!(last[&key]["as_of"], "2017-06-20");
    }
    let dead = read_topic(&broker, &setup.config.kafka.dead_letters_topic);
    assert_eq!(
        dead.len() as u64,
        live.totals().rejected.values().sum::<u64>()
    );
}

#[test]
fn kill_9_rounds_neither_lose_nor_repeat_events() {
    let Some(broker) = env("RAGLINE_BROKER") else {
        eprintln!("RAGLINE_BROKER not set: heavy crash test not run");
        return;
    };
    let setup = setup(&broker, "crash");
    create_topic(&broker, &setup.config.kafka.input_topic, 4);
    let clean = history(&setup.config, false, 14);
    let messy = history(&setup.config, true, 14);
    // Events flow while the processor is killed and restarted.
    let topic = setup.config.kafka.input_topic.clone();
    let feeder = {
        let broker = broker.clone();
        let messy = messy.clone();
        std::thread::spawn(move || {
            let producer = producer(&broker);
            // About nine seconds of input, so that the kills below land
            // while events flow.
            for chunk in messy.chunks(messy.len().div_ceil(60)) {
                produce(&producer, &topic, chunk);
                std::thread::sleep(Duration::from_millis(150));
            }
        })
    };
    let mut seed = 0x9e37_79b9_u64;
    let mut landed = 0;
    let mut consumed_before = 0;
    for round in 0..6 {
        let mut run = setup.spawn_run("2017-06-20");
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let pause = 400 + (seed >> 33) % 1600;
        std::thread::sleep(Duration::from_millis(pause));
        // The kill lands while events are being processed: the process is
        // up, has committed more than before and has not consumed everything.
        let consumed = setup
            .metrics()
            .map(|text| setup.consumed_so_far(&text))
            .unwrap_or(0);
        let running = run.is_running();
        run.kill9();
        let mid_stream = running && consumed > consumed_before && consumed < messy.len() as u64;
        eprintln!(
            "round {round}: killed after {pause} ms with {consumed} of {} messages in state{}",
            messy.len(),
            if mid_stream { "" } else { " (not mid-stream)" }
        );
        if mid_stream {
            landed += 1;
        }
        consumed_before = consumed_before.max(consumed);
    }
    assert!(
        landed >= 3,
        "at least three of the six kills landed while events were being processed ({landed})"
    );
    feeder.join().unwrap();
    let mut run = setup.spawn_run("2017-06-20");
    if !setup.wait_consumed(messy.len() as u64, Duration::from_secs(120)) {
        let in_state = setup
            .metrics()
            .map(|text| setup.consumed_so_far(&text))
            .unwrap_or(0);
        let on_topic = read_topic_raw_count(&broker, &setup.config.kafka.input_topic);
        panic!(
            "did not catch up: {in_state} messages in state, {on_topic:?} on the input topic, {} produced",
            messy.len()
        );
    }
    assert!(run.terminate().expect("exits").success());

    let live = Engine::open(Arc::new(setup.config.clone()), &setup.state(), Mode::Live).unwrap();
    assert_eq!(
        live.totals().consumed,
        messy.len() as u64,
        "each message counted exactly once"
    );
    let (_directory, file) = file_engine(&setup.config, &clean);
    for month in months_until("2017-05") {
        assert_eq!(
            report::report_json(&live.reader(), &setup.config.unit_indices(), month),
            report::report_json(&file.reader(), &setup.config.unit_indices(), month),
            "{month}"
        );
    }
    // Redelivered outputs keep their ids and content; the last value per key is the live value.
    let mut by_id: HashMap<String, Value> = HashMap::new();
    let mut last: HashMap<String, Value> = HashMap::new();
    for (key, value) in read_topic(&broker, &setup.config.kafka.values_topic) {
        let id = value["id"].as_str().unwrap().to_string();
        if let Some(earlier) = by_id.insert(id.clone(), value.clone()) {
            assert_eq!(earlier, value, "a redelivered output changed: {id}");
        }
        last.insert(key, value);
    }
    for (&(slot, unit), value) in live.live_values() {
        let key = format!(
            "{}/{}",
            live.catalogue().slots[slot as usize].id,
            setup.config.unit(unit).id
        );
        let def = live.catalogue().slots[slot as usize].def;
        assert_eq!(
            last[&key]["num"],
            ragline::scorecard::amount_json(value.reading.num, def.num_scale),
            "{key}"
        );
    }
    let scorecards = read_topic(&broker, &setup.config.kafka.scorecards_topic);
    let mut seen: HashMap<String, Value> = HashMap::new();
    for (key, value) in scorecards {
        if let Some(earlier) = seen.insert(value["id"].as_str().unwrap().to_string(), value.clone())
        {
            assert_eq!(
                earlier, value,
                "scorecard {key} redelivered with other content"
            );
        }
    }
    assert!(seen.contains_key("kent/2017-05"));
}

/// An event file that makes AS02 (children seen at assessment, H 98/95) red
/// at a team: ten assessments, none with the child seen.
fn red_events() -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for child in 0..10 {
        lines.push(format!(r#"{{"event_id":"red-r{child}","type":"referral","child_id":"red{child}","date":"2017-05-02","unit":"dartford-cswt"}}"#).into_bytes());
        lines.push(format!(r#"{{"event_id":"red-a{child}","type":"assessment_completed","child_id":"red{child}","date":"2017-06-01","started":"2017-05-03","child_seen":false}}"#).into_bytes());
    }
    lines
}

#[test]
fn prometheus_scrapes_ragline_and_the_red_alert_fires() {
    let (Some(broker), Some(prometheus)) = (env("RAGLINE_BROKER"), env("RAGLINE_PROMETHEUS"))
    else {
        eprintln!("RAGLINE_BROKER or RAGLINE_PROMETHEUS not set: Prometheus test not run");
        return;
    };
    let setup = setup(&broker, "prom");
    create_topic(&broker, &setup.config.kafka.input_topic, 2);
    // ragline admits Prometheus by a token kept in a file (hashed when the
    // configuration is read); Prometheus sends it from the same file.
    let token_file = setup.directory.path().join("metrics-token");
    std::fs::write(&token_file, "prometheus-scrape-token-1234567890\n").unwrap();
    let listen = format!("[http]\nlisten = \"127.0.0.1:{}\"\n", setup.http_port);
    let text = std::fs::read_to_string(&setup.config_path).unwrap();
    assert!(text.contains(&listen));
    let text = text.replace(
        &listen,
        &format!(
            "{listen}\n[[http.tokens]]\nname = \"prometheus\"\nscopes = [\"metrics\"]\ntoken_file = \"{}\"\n",
            token_file.display()
        ),
    );
    std::fs::write(&setup.config_path, text).unwrap();
    let mut run = setup.spawn_run("2017-06-20");
    let prometheus_port = free_port();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/prometheus/rules.yml");
    let prometheus_config = setup.directory.path().join("prometheus.yml");
    std::fs::write(
        &prometheus_config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: ragline\n    authorization:\n      type: Bearer\n      credentials_file: {}\n    static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            rules.display(),
            token_file.display(),
            setup.http_port
        ),
    )
    .unwrap();
    let _prometheus = Process(Some(
        Command::new(prometheus)
            .arg(format!("--config.file={}", prometheus_config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                setup.directory.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    produce(
        &producer(&broker),
        &setup.config.kafka.input_topic,
        &red_events(),
    );
    let query = |expression: &str| -> Option<Value> {
        let encoded: String = expression
            .bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                    (byte as char).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect();
        let (status, body) = http_get(prometheus_port, &format!("/api/v1/query?query={encoded}"))?;
        (status == 200)
            .then(|| serde_json::from_str(&body).ok())
            .flatten()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut red = false;
    let mut alert = false;
    while Instant::now() < deadline && !(red && alert) {
        if let Some(result) =
            query(r#"scorecard_indicator_rag{indicator="AS02",unit="dartford-cswt"} == 2"#)
        {
            red = !result["data"]["result"]
                .as_array()
                .map(Vec::is_empty)
                .unwrap_or(true);
        }
        if let Some(result) = query(
            r#"ALERTS{alertname="IndicatorTurnedRed",indicator="AS02",unit="dartford-cswt",alertstate="firing"}"#,
        ) {
            alert = !result["data"]["result"]
                .as_array()
                .map(Vec::is_empty)
                .unwrap_or(true);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(red, "Prometheus never saw AS02 red at dartford-cswt");
    assert!(alert, "IndicatorTurnedRed never fired");
    // Without the token ragline's metrics are refused.
    let (status, body) = http_get(setup.http_port, "/metrics").unwrap();
    assert_eq!(status, 401);
    assert!(!body.contains("ragline_"), "{body}");
    let consumed = query("ragline_messages_consumed_total").unwrap();
    assert_eq!(consumed["data"]["result"][0]["value"][1], "20");
    assert!(run.terminate().unwrap().success());
}

/// Replays a small history and serves it: (process, port).
fn serve_replayed(directory: &Path) -> (Process, u16) {
    let port = free_port();
    let text = kent_text().replace(
        "listen = \"127.0.0.1:9464\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let config_path = directory.join("serve.toml");
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::parse(&text, &config_path).unwrap();
    let input = directory.join("events.jsonl");
    let mut lines = history(&config, false, 16);
    lines.extend(red_events());
    std::fs::write(&input, lines.join(&b'\n')).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(["replay", "--serve", "--config"])
        .arg(&config_path)
        .arg("--input")
        .arg(&input)
        .arg("--state")
        .arg(directory.join("state"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process(Some(child));
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if http_get(port, "/healthz").is_some_and(|(status, _)| status == 200) {
            return (process, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("replay --serve did not come up");
}

#[test]
fn promtool_accepts_the_metrics_exposition() {
    let Some(prometheus) = env("RAGLINE_PROMETHEUS") else {
        eprintln!("RAGLINE_PROMETHEUS not set: promtool test not run");
        return;
    };
    let promtool = Path::new(&prometheus).with_file_name("promtool");
    let directory = tempfile::tempdir().unwrap();
    let (_process, port) = serve_replayed(directory.path());
    let (status, body) = http_get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains("scorecard_indicator_rag{indicator=\"AS02\",unit=\"dartford-cswt\"} 2"),
        "AS02 red exposed"
    );
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = check.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn chromium_renders_the_live_scorecard_with_rows_and_colours() {
    let Some(chromium) = env("RAGLINE_CHROMIUM") else {
        eprintln!("RAGLINE_CHROMIUM not set: browser test not run");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let (_process, port) = serve_replayed(directory.path());
    let url = format!("http://127.0.0.1:{port}/scorecard/dartford-cswt");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ];
    let profile = directory.path().join("profile");
    let dom = Command::new(&chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("data-indicator=\"AS02\""),
        "the AS02 row is on the page"
    );
    assert!(dom.contains("data-indicator=\"SCS03\""));
    assert!(dom.contains("Dartford CSWT"));
    assert!(
        dom.contains("href=\"/scorecard/kent\""),
        "the unit picker links to the county"
    );
    let as02 = dom
        .split("data-indicator=\"AS02\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        as02.contains("data-rag=\"red\""),
        "AS02 is rated red: {as02}"
    );
    let screenshot = directory.path().join("scorecard.png");
    let status = Command::new(&chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--window-size=1400,2400")
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // The page's RAG colours appear in the rendered pixels.
    let decoder = png::Decoder::new(std::fs::File::open(&screenshot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let mut colours = HashMap::new();
    for pixel in pixels[..info.buffer_size()].chunks(channels) {
        let rgb = (pixel[0], pixel[1], pixel[2]);
        for (name, target) in [
            ("red", (0xc0, 0x00, 0x00)),
            ("green", (0x00, 0xb0, 0x50)),
            ("amber", (0xff, 0xc0, 0x00)),
        ] {
            let close = |a: u8, b: u8| (a as i32 - b as i32).abs() <= 8;
            if close(rgb.0, target.0) && close(rgb.1, target.1) && close(rgb.2, target.2) {
                *colours.entry(name).or_insert(0u64) += 1;
            }
        }
    }
    assert!(
        colours.get("red").copied().unwrap_or(0) > 200,
        "red cells rendered: {colours:?}"
    );
    assert!(
        colours.get("green").copied().unwrap_or(0) + colours.get("amber").copied().unwrap_or(0)
            > 200,
        "other RAG colours rendered: {colours:?}"
    );
}

/// Waits until something accepts connections on the port.
fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The test's own clients (with `properties`) create the input topic of
/// `setup` and produce [`red_events`]; ragline, run with `environment`
/// (today 2017-06-20), must read all 20, its values topic must hold AS02
/// red at dartford-cswt, and it must stop cleanly.
fn consumes_and_produces(
    setup: &Setup,
    broker: &str,
    properties: &[(&str, &str)],
    environment: &[(&str, &str)],
    how: &str,
) {
    create_topic_with(broker, &setup.config.kafka.input_topic, 2, properties);
    produce(
        &producer_with(broker, properties),
        &setup.config.kafka.input_topic,
        &red_events(),
    );
    let mut run = setup.spawn_run_with("2017-06-20", environment);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut consumed = false;
    while Instant::now() < deadline && !consumed {
        if let Some((200, body)) = http_get(setup.http_port, "/metrics") {
            consumed = body
                .lines()
                .any(|line| line == "ragline_messages_consumed_total 20");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(consumed, "ragline read the 20 events {how}");
    // Its outputs arrived the same way: the values topic holds AS02 red.
    let consumer: BaseConsumer = {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", broker)
            .set(
                "group.id",
                format!("reader-{}", setup.config.kafka.values_topic),
            )
            .set("auto.offset.reset", "earliest");
        for (key, value) in properties {
            config.set(*key, *value);
        }
        config.create().unwrap()
    };
    consumer
        .subscribe(&[&setup.config.kafka.values_topic])
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut red = false;
    while Instant::now() < deadline && !red {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(500)) {
            let value: Value =
                serde_json::from_slice(message.payload().unwrap_or_default()).unwrap();
            red = value["indicator"] == "AS02"
                && value["unit"] == "dartford-cswt"
                && value["rag"] == "red";
        }
    }
    assert!(
        red,
        "AS02 red at dartford-cswt read back from the values topic {how}"
    );
    assert!(run.terminate().unwrap().success());
}

/// ragline against a broker it reaches only over TLS: tansu behind a
/// TLS-terminating proxy (stunnel), the broker advertising the proxy's
/// port, certificates made here. ragline consumes and produces over TLS;
/// with the wrong CA it cannot connect and says which setting to check.
#[test]
fn ragline_consumes_and_produces_over_tls() {
    let (Some(tansu), Some(stunnel)) = (env("RAGLINE_TANSU"), env("RAGLINE_STUNNEL")) else {
        eprintln!("RAGLINE_TANSU or RAGLINE_STUNNEL not set: TLS test not run");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path();
    let (certificate, key) = tools::certificates(path, "good");
    tools::certificates(path, "wrong");
    let (plain_port, tls_port) = (free_port(), free_port());
    let _tansu = start_tansu(&tansu, plain_port, tls_port);
    let _stunnel = tls_proxy(&stunnel, path, tls_port, plain_port, &certificate, &key);
    let broker = format!("127.0.0.1:{tls_port}");
    let good_ca = path.join("good-ca.pem").display().to_string();
    let tls = [
        ("security.protocol", "SSL"),
        ("ssl.ca.location", good_ca.as_str()),
    ];

    let setup = setup(&broker, "tls");
    let text = std::fs::read_to_string(&setup.config_path).unwrap();
    let with_ca = |ca: &str| {
        text.replace(
            "[http]\n",
            &format!(
                "[kafka.properties]\n\"security.protocol\" = \"SSL\"\n\"ssl.ca.location\" = \"{ca}\"\n\n[http]\n"
            ),
        )
    };
    std::fs::write(&setup.config_path, with_ca(&good_ca)).unwrap();
    consumes_and_produces(&setup, &broker, &tls, &[], "over TLS");

    // The wrong CA: ragline keeps trying and names the setting to check.
    let wrong_ca = path.join("wrong-ca.pem").display().to_string();
    std::fs::write(&setup.config_path, with_ca(&wrong_ca)).unwrap();
    let text = refused_log(&setup, "wrong-ca", &[], "ssl.ca.location");
    assert!(
        text.contains("ssl.ca.location"),
        "the error names ssl.ca.location:\n{text}"
    );
    assert!(
        exit_message(&text).contains("ssl.ca.location"),
        "so does the exit message:\n{text}"
    );
    assert!(text.contains("certificate verify failed"), "{text}");
}

/// Runs ragline on `setup`'s configuration (a state of its own named
/// `name`, `environment` added) until its log names `until`, or for 60 s;
/// returns the log.
fn refused_log(setup: &Setup, name: &str, environment: &[(&str, &str)], until: &str) -> String {
    let log = setup.directory.path().join(format!("{name}.log"));
    let mut refused = Process(Some(
        Command::new(env!("CARGO_BIN_EXE_ragline"))
            .args(["run", "--config"])
            .arg(&setup.config_path)
            .arg("--state")
            .arg(setup.directory.path().join(format!("state-{name}")))
            .envs(environment.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline
        && !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(until)
    {
        std::thread::sleep(Duration::from_millis(500));
    }
    refused.terminate();
    std::fs::read_to_string(&log).unwrap()
}

/// A broker of the test's own: tansu in memory on 127.0.0.1:`port`,
/// advertising `advertised` (the port of a proxy in front of it).
fn start_tansu(tansu: &str, port: u16, advertised: u16) -> Process {
    let process = Process(Some(
        Command::new(tansu)
            .args(["broker", "--storage-engine", "memory://tansu/"])
            .arg("--listener-url")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{advertised}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    wait_for_port(port, "tansu");
    process
}

/// stunnel terminating TLS on 127.0.0.1:`accept` with `certificate` and
/// `key`, relaying to 127.0.0.1:`connect`; its configuration in `directory`.
fn tls_proxy(
    stunnel: &str,
    directory: &Path,
    accept: u16,
    connect: u16,
    certificate: &Path,
    key: &Path,
) -> Process {
    let config = directory.join(format!("stunnel-{accept}.conf"));
    std::fs::write(
        &config,
        format!(
            "foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:{accept}\nconnect = 127.0.0.1:{connect}\ncert = {}\nkey = {}\n",
            certificate.display(),
            key.display()
        ),
    )
    .unwrap();
    let process = Process(Some(
        Command::new(stunnel)
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    wait_for_port(accept, "stunnel");
    process
}

/// The line ragline exits with (stopped while it could not connect).
fn exit_message(log: &str) -> &str {
    log.lines()
        .find(|line| line.starts_with("ragline: error:"))
        .unwrap_or_else(|| panic!("no exit message in the log:\n{log}"))
}

/// The users of the SASL gateway: ragline's and the test's own clients'.
const SASL_USERS: [(&str, &str); 2] = [
    ("ragline", "correct horse battery staple"),
    ("tester", "tester-password"),
];

/// tansu behind the SASL gateway of the tests (tests/common/sasl_gateway.rs),
/// advertising the gateway's port, or `advertised` (a TLS proxy in front of
/// the gateway): clients reach the broker only after authenticating with
/// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 as one of [`SASL_USERS`].
fn broker_behind_sasl_gateway(
    tansu: &str,
    advertised: Option<u16>,
) -> (sasl_gateway::Gateway, Process) {
    let plain_port = free_port();
    let gateway = sasl_gateway::Gateway::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], plain_port)),
        &SASL_USERS,
    );
    let tansu = start_tansu(tansu, plain_port, advertised.unwrap_or(gateway.port()));
    (gateway, tansu)
}

/// `setup`'s configuration with `properties` as its `[kafka.properties]`.
fn write_kafka_properties(setup: &Setup, text: &str, properties: &[(&str, &str)]) {
    let table: String = properties
        .iter()
        .map(|(key, value)| format!("\"{key}\" = \"{value}\"\n"))
        .collect();
    std::fs::write(
        &setup.config_path,
        text.replace(
            "[http]\n",
            &format!("[kafka.properties]\n{table}\n[http]\n"),
        ),
    )
    .unwrap();
}

/// ragline authenticating with SASL/PLAIN, its password from the
/// environment (`${NAME}`), the test's own clients with SCRAM-SHA-256;
/// with the wrong password it cannot connect, the broker side records the
/// refusal, and the log names the settings to check without the password.
#[test]
fn ragline_consumes_and_produces_over_sasl_plain() {
    let Some(tansu) = env("RAGLINE_TANSU") else {
        eprintln!("RAGLINE_TANSU not set: SASL/PLAIN test not run");
        return;
    };
    let (gateway, _tansu) = broker_behind_sasl_gateway(&tansu, None);
    let broker = format!("127.0.0.1:{}", gateway.port());
    let setup = setup(&broker, "sasl-plain");
    let text = std::fs::read_to_string(&setup.config_path).unwrap();
    write_kafka_properties(
        &setup,
        &text,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "PLAIN"),
            ("sasl.username", "ragline"),
            ("sasl.password", "${RAGLINE_TEST_KAFKA_PASSWORD}"),
        ],
    );
    let tester = [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.username", "tester"),
        ("sasl.password", "tester-password"),
    ];
    consumes_and_produces(
        &setup,
        &broker,
        &tester,
        &[("RAGLINE_TEST_KAFKA_PASSWORD", SASL_USERS[0].1)],
        "over SASL/PLAIN",
    );
    assert_eq!(gateway.failures(), Vec::<String>::new());

    let wrong = "correct horse battery stable";
    let log = refused_log(
        &setup,
        "wrong-password",
        &[("RAGLINE_TEST_KAFKA_PASSWORD", wrong)],
        "sasl.password",
    );
    assert_sasl_refusal(&gateway, &log, wrong, "PLAIN: wrong password for ragline");
}

/// ragline authenticating with SASL/SCRAM-SHA-512, its password from a
/// file (`sasl.password_file`), the test's own clients with PLAIN; with the
/// wrong password in the file it cannot connect and says what to check.
#[test]
fn ragline_consumes_and_produces_over_sasl_scram_sha_512() {
    let Some(tansu) = env("RAGLINE_TANSU") else {
        eprintln!("RAGLINE_TANSU not set: SASL/SCRAM test not run");
        return;
    };
    let (gateway, _tansu) = broker_behind_sasl_gateway(&tansu, None);
    let broker = format!("127.0.0.1:{}", gateway.port());
    let setup = setup(&broker, "sasl-scram");
    let password_file = setup.directory.path().join("kafka-password");
    // A secret file as Docker and Kubernetes mount it: with a line break.
    std::fs::write(&password_file, format!("{}\n", SASL_USERS[0].1)).unwrap();
    let text = std::fs::read_to_string(&setup.config_path).unwrap();
    let password_path = password_file.display().to_string();
    write_kafka_properties(
        &setup,
        &text,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "ragline"),
            ("sasl.password_file", &password_path),
        ],
    );
    let tester = [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", "tester"),
        ("sasl.password", "tester-password"),
    ];
    consumes_and_produces(&setup, &broker, &tester, &[], "over SASL/SCRAM-SHA-512");
    assert_eq!(gateway.failures(), Vec::<String>::new());

    let wrong = "Tr0ub4dor&3";
    std::fs::write(&password_file, format!("{wrong}\n")).unwrap();
    let log = refused_log(&setup, "wrong-password", &[], "sasl.password");
    assert_sasl_refusal(&gateway, &log, wrong, "SCRAM: wrong password for ragline");
}

/// ragline's log after the gateway refused its password: the refusal came
/// from checking the password (`reason`, as the gateway recorded it), the
/// log carries the broker's answer and names the settings to check, and
/// never the password itself.
fn assert_sasl_refusal(gateway: &sasl_gateway::Gateway, log: &str, password: &str, reason: &str) {
    assert!(
        gateway.failures().iter().any(|failure| failure == reason),
        "the gateway refused the password ({reason}): {:?}",
        gateway.failures()
    );
    // Both while retrying and in the message it exits with when stopped.
    let exit = exit_message(log);
    for setting in ["sasl.username", "sasl.password"] {
        assert!(log.contains(setting), "the log names {setting}:\n{log}");
        assert!(
            exit.contains(setting),
            "the exit message names {setting}:\n{log}"
        );
    }
    assert!(
        log.contains("Authentication failed: invalid username or password"),
        "the broker's answer reaches the log:\n{log}"
    );
    assert!(
        !log.contains(password),
        "the log shows the password:\n{log}"
    );
}

/// SASL over TLS, as docs/configuration.md configures it: SCRAM-SHA-512
/// with the password from a file and the brokers' CA, through a TLS proxy
/// (stunnel) in front of the SASL gateway in front of tansu.
#[test]
fn ragline_consumes_and_produces_over_sasl_ssl() {
    let (Some(tansu), Some(stunnel)) = (env("RAGLINE_TANSU"), env("RAGLINE_STUNNEL")) else {
        eprintln!("RAGLINE_TANSU or RAGLINE_STUNNEL not set: SASL_SSL test not run");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path();
    let (certificate, key) = tools::certificates(path, "sasl-ssl");
    let tls_port = free_port();
    let (gateway, _tansu) = broker_behind_sasl_gateway(&tansu, Some(tls_port));
    let _stunnel = tls_proxy(&stunnel, path, tls_port, gateway.port(), &certificate, &key);
    let broker = format!("127.0.0.1:{tls_port}");
    let setup = setup(&broker, "sasl-ssl");
    let password_file = path.join("kafka-password");
    std::fs::write(&password_file, format!("{}\n", SASL_USERS[0].1)).unwrap();
    let (password_path, ca) = (
        password_file.display().to_string(),
        path.join("sasl-ssl-ca.pem").display().to_string(),
    );
    let text = std::fs::read_to_string(&setup.config_path).unwrap();
    write_kafka_properties(
        &setup,
        &text,
        &[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "ragline"),
            ("sasl.password_file", &password_path),
            ("ssl.ca.location", &ca),
        ],
    );
    let tester = [
        ("security.protocol", "SASL_SSL"),
        ("ssl.ca.location", ca.as_str()),
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.username", "tester"),
        ("sasl.password", "tester-password"),
    ];
    consumes_and_produces(&setup, &broker, &tester, &[], "over SASL_SSL");
    assert_eq!(gateway.failures(), Vec::<String>::new());
}
