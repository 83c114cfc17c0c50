//! `ragline-bench`: ragline's benchmark suite. Prints a Markdown table
//! (measurement, value, ceiling or comparison measured in the same run,
//! ratio, target, met?) and optionally writes it as JSON. Its sections, in
//! the order printed:
//!
//! - file replay throughput (`ragline replay --input` into an empty state, a
//!   child process) against reading and parsing the same file (serde_json;
//!   ragline's decoder);
//! - memory: peak RSS and RocksDB size per event and per child of that replay;
//! - month ends: every month-end scorecard of every unit, in-process on the
//!   replayed state;
//! - rebuild: the replay plus `ragline report` of every month end (whole
//!   processes) against DuckDB computing every month end in one SQL script,
//!   checked with `compare.py`;
//! - DuckDB, one month end: the replay plus one report against DuckDB's
//!   recompute of that month end;
//! - live latency, event produced -> indicator value received, at steady
//!   rates, against the broker's own produce -> consume latency;
//! - Kafka replay throughput (`ragline replay --from-topic`) against a bare
//!   rdkafka consumer reading the same topic (needs `--broker`);
//! - Quix Streams: Kafka replay against its SCS03/SCS13 counters (needs `--broker`);
//! - fail-over: two scaled-out `ragline run` instances on the mock cluster,
//!   the one applying the default authority killed, until the other has
//!   caught up with its partition ([`failover`]).
//!
//! See `bench/README.md`. `scripts/bench.sh` sets everything up.

mod failover;
mod kafka;
mod proc;
mod table;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use proc::{run_measured, Guard, Measured};
use ragline::calendar::{Date, Month};
use ragline::config::Config;
use ragline::pipeline::{Engine, Mode};
use rdkafka::mocking::MockCluster;
use serde_json::{json, Value};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use table::{Row, Section, Target};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Baselines {
    /// Run them when python3 has duckdb / quixstreams.
    Auto,
    /// Run them; fail when they cannot run.
    On,
    /// Skip them.
    Off,
}

/// A broker for the live-latency measurement.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum LiveBroker {
    /// librdkafka's mock cluster, in the bench process.
    Mock,
    /// The broker of `--broker` (tansu in `scripts/bench.sh`).
    Broker,
}

impl LiveBroker {
    fn label(self) -> &'static str {
        match self {
            LiveBroker::Mock => "mock cluster",
            LiveBroker::Broker => "tansu",
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    args_override_self = true,
    name = "ragline-bench",
    about = "ragline's benchmark suite: replay, Kafka, live latency, rebuild, memory, baselines"
)]
struct Args {
    /// Configuration file.
    #[arg(long, default_value = "config/kent.toml")]
    config: PathBuf,
    /// Scale of the generated history (kent or small).
    #[arg(long, default_value = "kent")]
    scale: String,
    /// Months of generated history.
    #[arg(long, default_value_t = 60)]
    months: u32,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use this event file instead of generating one.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Working directory (generated files are kept and reused here).
    #[arg(long, default_value = "/tmp/ragline-bench")]
    work: PathBuf,
    /// The ragline binary (default: next to this one).
    #[arg(long)]
    ragline: Option<PathBuf>,
    /// Kafka broker (host:port) for the Kafka replay, the live-latency
    /// measurement and the Quix baseline.
    #[arg(long)]
    broker: Option<String>,
    /// Live latency rates (events/s).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    rates: Vec<u64>,
    /// Seconds per live latency rate.
    #[arg(long, default_value_t = 15.0)]
    live_seconds: f64,
    /// Seconds of the broker echo ceiling per rate (default: a third of
    /// `--live-seconds`, 1-5 s).
    #[arg(long)]
    echo_seconds: Option<f64>,
    /// Also measure live latency with these input consumer properties set
    /// (`KEY=VALUE[,KEY=VALUE...]`, one variant per use of the option), e.g.
    /// `fetch.wait.max.ms=50` (as shipped: 5 ms, in
    /// `[kafka.consumer_properties]`); keys starting `producer:` set output
    /// producer properties instead, e.g. `producer:linger.ms=5` (as
    /// shipped: 1 ms).
    #[arg(long)]
    live_variant: Vec<String>,
    /// Brokers to measure live latency on: librdkafka's mock cluster (a
    /// broker that answers at once) and/or the `--broker` one.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mock,broker")]
    live_brokers: Vec<LiveBroker>,
    /// Run the DuckDB and Quix Streams baselines.
    #[arg(long, value_enum, default_value = "auto")]
    baselines: Baselines,
    /// Directory of the baseline scripts.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/baselines"))]
    baselines_dir: PathBuf,
    /// Months of history for the Quix Streams comparison (Quix is slow).
    #[arg(long, default_value_t = 12)]
    quix_months: u32,
    /// Events of history for the fail-over measurement (the first of a
    /// one-month history): librdkafka's mock cluster deletes older records
    /// of a partition beyond a few MB, and one authority's whole history
    /// goes through one partition.
    #[arg(long, default_value_t = 20_000)]
    failover_events: usize,
    /// Python interpreter for the baselines.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Run only these sections (the file replay and its memory rows always
    /// run: the others use its state); default: all.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep the state directories.
    #[arg(long)]
    keep: bool,
    /// Runs of each whole-process measurement that is compared with
    /// another (the file replay into an empty state, a rebuild's month-end
    /// reports, DuckDB's scripts); the run of median wall time is reported,
    /// the slower of the two middle ones for an even number (see
    /// bench/README.md).
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    replay_runs: usize,
}

const HOUR: Duration = Duration::from_secs(3600);

/// Live latency target at 1,000 events/s: p99 below this many
/// milliseconds, end to end (two broker hops and ragline between).
const LIVE_P99_TARGET_MS: f64 = 20.0;

impl Args {
    /// Whether `--only` selects this section.
    fn wants(&self, section: Section) -> bool {
        self.only.is_empty() || self.only.contains(&section)
    }
}

fn main() {
    let args = Args::parse();
    match bench(&args) {
        Ok(all_measured) => {
            if !all_measured {
                eprintln!("ragline-bench: some measurements failed (see the table)");
                std::process::exit(1);
            }
        }
        Err(error) => {
            eprintln!("ragline-bench: error: {error:#}");
            std::process::exit(1);
        }
    }
}

/// Everything one run learns besides the rows.
#[derive(Default)]
struct RunFacts {
    facts: serde_json::Map<String, Value>,
    phases: Vec<(String, f64)>,
    replay_elapsed: f64,
}

impl RunFacts {
    fn set(&mut self, key: &str, value: Value) {
        self.facts.insert(key.to_string(), value);
    }
}

fn log(message: impl AsRef<str>) {
    eprintln!("bench: {}", message.as_ref());
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn bench(args: &Args) -> Result<bool> {
    std::fs::create_dir_all(&args.work).with_context(|| format!("{}", args.work.display()))?;
    let work = args.work.canonicalize()?;
    let ragline = match &args.ragline {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the bench binary has no directory")?
            .join("ragline"),
    };
    if !ragline.exists() {
        bail!(
            "{} not found (build it, or pass --ragline)",
            ragline.display()
        );
    }
    let config_path = args.config.canonicalize().with_context(|| {
        format!(
            "--config {} (run from the repository root)",
            args.config.display()
        )
    })?;
    let config_text = std::fs::read_to_string(&config_path)?;
    let config = Arc::new(Config::parse(&config_text, &config_path)?);
    let mut context = RunFacts::default();
    context.set("load_before", json!(loadavg()));
    context.set("cpus", json!(std::thread::available_parallelism()?.get()));
    context.set("cpu_model", json!(cpu_model()));
    context.set(
        "processing",
        json!({
            "batch_max_events": config.processing.batch_max_events,
            "batch_max_millis": config.processing.batch_max_millis,
            "grace_days_replay": config.processing.grace_days_replay,
            "grace_days_live": config.processing.grace_days_live,
            "schema_validation": config.processing.schema_validation,
        }),
    );

    // The event file.
    let events = match &args.events {
        Some(path) => path.canonicalize()?,
        None => {
            let path = work.join(format!(
                "{}-{}-{}.jsonl",
                args.scale, args.months, args.seed
            ));
            generate(&ragline, &config_path, args, args.months, &path)?;
            path
        }
    };
    let events_label = match &args.events {
        Some(path) => path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        None => format!(
            "{} scale, {} months, seed {}",
            args.scale, args.months, args.seed
        ),
    };
    let input_bytes = std::fs::metadata(&events)?.len();
    let children = count_children(&events)?;
    context.set("events_file", json!(events.display().to_string()));
    context.set("input_bytes", json!(input_bytes));
    context.set("children", json!(children));

    let mut rows: Vec<Row> = Vec::new();
    let state = work.join("state-file");
    let replay = file_replay_and_memory(
        &ragline,
        &config_path,
        &config,
        &events,
        &events_label,
        &state,
        args.replay_runs,
        input_bytes,
        children,
        &mut context,
        &mut rows,
    )?;
    if args.wants(Section::MonthEnds) {
        match month_end_reports(&config, &state, &mut context) {
            Ok(mut more) => rows.append(&mut more),
            Err(error) => rows.push(Row::missing(
                Section::MonthEnds,
                "every month-end scorecard",
                format!("{error:#}"),
            )),
        }
    }

    let duckdb = baseline_available(args, "duckdb");
    let quix = baseline_available(args, "quixstreams");
    if let Err(reason) = &duckdb {
        if args.baselines == Baselines::On {
            bail!("--baselines on: {reason}");
        }
    }
    let month = replay.current_date.month();
    if args.wants(Section::Rebuild) {
        let name = "rebuild + every month-end report vs DuckDB";
        match &duckdb {
            Ok(()) => {
                match rebuild_vs_duckdb(args, &ragline, &config_path, &events, &state, &replay) {
                    Ok(row) => rows.push(row),
                    Err(error) => {
                        rows.push(Row::missing(Section::Rebuild, name, format!("{error:#}")))
                    }
                }
            }
            Err(reason) => rows.push(Row::missing(Section::Rebuild, name, reason.clone())),
        }
    }
    if args.wants(Section::Duckdb) {
        let name = "one month end vs DuckDB";
        match &duckdb {
            Ok(()) => match duckdb_one_month(
                args,
                &ragline,
                &config_path,
                &events,
                &state,
                month,
                &replay,
            ) {
                Ok(row) => rows.push(row),
                Err(error) => rows.push(Row::missing(Section::Duckdb, name, format!("{error:#}"))),
            },
            Err(reason) => rows.push(Row::missing(Section::Duckdb, name, reason.clone())),
        }
    }

    let tag = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
    );
    // Live latency before the Kafka replay, so the broker holds only its own
    // small topics. Every live run adds its referrals to the same state:
    // `referred` counts them all.
    let mut referred = 0usize;
    let live_brokers: &[LiveBroker] = if args.wants(Section::Live) {
        &args.live_brokers
    } else {
        &[]
    };
    for &kind in live_brokers {
        let cluster;
        let servers;
        let broker = match kind {
            LiveBroker::Mock => {
                cluster = MockCluster::new(1).context("starting the mock cluster")?;
                servers = cluster.bootstrap_servers();
                kafka::BrokerRef {
                    address: &servers,
                    mock: Some(&cluster),
                }
            }
            LiveBroker::Broker => match &args.broker {
                Some(address) => kafka::BrokerRef {
                    address,
                    mock: None,
                },
                None => continue,
            },
        };
        match live_latency(
            broker,
            kind.label(),
            &format!("{tag}-{}", kind.label().replace(' ', "-")),
            args,
            &ragline,
            &config,
            &config_text,
            &state,
            replay.current_date,
            &work,
            &mut referred,
        ) {
            Ok(mut more) => rows.append(&mut more),
            Err(error) => rows.push(Row::missing(
                Section::Live,
                format!("live latency ({})", kind.label()),
                format!("{error:#}"),
            )),
        }
    }
    if args.wants(Section::Failover) {
        match failover::failover(
            &ragline,
            &config_path,
            &config,
            &config_text,
            args,
            &work,
            &tag,
        ) {
            Ok(mut more) => rows.append(&mut more),
            Err(error) => rows.push(Row::missing(
                Section::Failover,
                "fail-over: kill -9 to values flowing again",
                format!("{error:#}"),
            )),
        }
        if let Some(broker) = &args.broker {
            match failover::failover_on_broker(
                &ragline,
                &config_path,
                &config,
                &config_text,
                broker,
                &events,
                &work,
                &tag,
            ) {
                Ok(mut more) => rows.append(&mut more),
                Err(error) => rows.push(Row::missing(
                    Section::Failover,
                    "fail-over on the broker: kill -9 to values flowing again",
                    format!("{error:#}"),
                )),
            }
        }
    }
    match &args.broker {
        Some(broker) => {
            if args.wants(Section::Kafka) {
                match kafka_replay(
                    broker,
                    &tag,
                    &ragline,
                    &config_text,
                    &config_path,
                    &events,
                    &work,
                    args.keep,
                ) {
                    Ok(mut more) => rows.append(&mut more),
                    Err(error) => rows.push(Row::missing(
                        Section::Kafka,
                        "Kafka replay",
                        format!("{error:#}"),
                    )),
                }
            }
            match &quix {
                _ if !args.wants(Section::Quix) => {}
                Ok(()) => match quix_baseline(
                    broker,
                    &tag,
                    args,
                    &ragline,
                    &config_text,
                    &config_path,
                    &work,
                ) {
                    Ok(row) => rows.push(row),
                    Err(error) => rows.push(Row::missing(
                        Section::Quix,
                        "Quix Streams baseline",
                        format!("{error:#}"),
                    )),
                },
                Err(reason) => {
                    if args.baselines == Baselines::On {
                        bail!("--baselines on: {reason}");
                    }
                    rows.push(Row::missing(
                        Section::Quix,
                        "Quix Streams baseline",
                        reason.clone(),
                    ))
                }
            }
        }
        None => {
            let why = "no --broker";
            if args.wants(Section::Kafka) {
                rows.push(Row::missing(Section::Kafka, "Kafka replay", why));
            }
            if live_brokers.contains(&LiveBroker::Broker) {
                rows.push(Row::missing(Section::Live, "live latency (tansu)", why));
            }
            if args.wants(Section::Quix) {
                rows.push(Row::missing(Section::Quix, "Quix Streams baseline", why));
            }
        }
    }
    if !args.keep {
        let _ = std::fs::remove_dir_all(&state);
    }
    context.set("load_after", json!(loadavg()));
    rows.sort_by_key(|row| row.section);

    let mut text = String::new();
    text.push_str(&format!(
        "events: {} ({} bytes, {} children); {} cpus ({}); load before {} / after {}\n\n",
        events.display(),
        table::number(input_bytes as f64),
        table::number(children as f64),
        context.facts["cpus"],
        context.facts["cpu_model"].as_str().unwrap_or(""),
        context.facts["load_before"].as_str().unwrap_or(""),
        context.facts["load_after"].as_str().unwrap_or("")
    ));
    text.push_str(&table::markdown(&rows));
    text.push_str(&phase_table(&context));
    print!("{text}");
    std::io::stdout().flush()?;
    if let Some(path) = &args.json {
        let document = json!({
            "context": Value::Object(context.facts.clone()),
            "replay_phases_seconds": context.phases.iter().map(|(name, seconds)| json!({"phase": name, "seconds": seconds})).collect::<Vec<_>>(),
            "rows": table::json_rows(&rows),
        });
        std::fs::write(path, serde_json::to_string_pretty(&document)? + "\n")
            .with_context(|| format!("--json {}", path.display()))?;
    }
    Ok(rows.iter().all(|row| {
        row.value.is_ok() || {
            // Skipped for lack of a broker or of python modules is not a failure.
            let why = row.value.as_ref().err().map(String::as_str).unwrap_or("");
            why.starts_with("no --broker") || why.starts_with("skipped")
        }
    }))
}

fn phase_table(context: &RunFacts) -> String {
    if context.phases.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nFile replay, time per pipeline phase (from `ragline replay --json`):\n\n| phase | seconds | share of replay |\n| --- | ---: | ---: |\n",
    );
    for (name, seconds) in &context.phases {
        out.push_str(&format!(
            "| {name} | {seconds:.2} | {:.1} % |\n",
            100.0 * seconds / context.replay_elapsed.max(1e-9)
        ));
    }
    out
}

fn generate(ragline: &Path, config: &Path, args: &Args, months: u32, out: &Path) -> Result<()> {
    if out.exists() && std::fs::metadata(out)?.len() > 0 {
        log(format!("reusing {}", out.display()));
        return Ok(());
    }
    log(format!("generating {}", out.display()));
    let partial = out.with_extension("partial");
    let measured = run_measured(
        Command::new(ragline)
            .arg("generate")
            .arg("--config")
            .arg(config)
            .args(["--seed", &args.seed.to_string()])
            .args(["--months", &months.to_string()])
            .args(["--scale", &args.scale])
            .arg("--out")
            .arg(&partial),
        HOUR,
    )?;
    std::fs::rename(&partial, out)?;
    log(measured.stdout.trim());
    Ok(())
}

/// Distinct child ids in a file (a byte scan, not a parse).
fn count_children(path: &Path) -> Result<usize> {
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut seen = rustc_hash::FxHashSet::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if let Some(child) = kafka::field(&line, b"\"child_id\":\"") {
            if !seen.contains(child) {
                seen.insert(child.to_vec());
            }
        }
    }
    Ok(seen.len())
}

/// Reads the file line by line and parses each line with `parse`; returns
/// (lines, lines parsed without error, seconds).
fn read_and_parse(path: &Path, mut parse: impl FnMut(&[u8]) -> bool) -> Result<(u64, u64, f64)> {
    let started = Instant::now();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut line = Vec::new();
    let (mut lines, mut ok) = (0u64, 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        lines += 1;
        if parse(&line) {
            ok += 1;
        }
    }
    Ok((lines, ok, started.elapsed().as_secs_f64()))
}

/// What the file replay tells the sections after it.
struct ReplaySummary {
    /// The state's current date.
    current_date: Date,
    /// The first month the replay closed (none when it closed no month).
    first_month_closed: Option<Month>,
    /// Whole-process time of `ragline replay` (spawn to exit).
    process_seconds: f64,
    /// Its own elapsed time (from its JSON summary).
    elapsed_seconds: f64,
    /// Its peak RSS.
    peak_rss_bytes: u64,
}

/// `ragline replay --json` of `events` into `state` emptied first, as a
/// measured child process (bounded by `timeout`), with its JSON summary.
fn replay_into_empty_state(
    ragline: &Path,
    config_path: &Path,
    events: &Path,
    state: &Path,
    timeout: Duration,
) -> Result<(Measured, Value)> {
    let _ = std::fs::remove_dir_all(state);
    let measured = run_measured(
        Command::new(ragline)
            .arg("replay")
            .arg("--config")
            .arg(config_path)
            .arg("--input")
            .arg(events)
            .arg("--state")
            .arg(state)
            .arg("--json"),
        timeout,
    )?;
    let summary = json_of(&measured.stdout)?;
    Ok((measured, summary))
}

/// `run` done `runs` times (at least once): the result of median wall
/// time (the slower middle one for an even number of runs) and every
/// run's wall time in order.
fn median_run<T>(
    runs: usize,
    mut run: impl FnMut(usize) -> Result<T>,
    wall: impl Fn(&T) -> f64,
) -> Result<(T, Vec<f64>)> {
    let mut results = Vec::with_capacity(runs.max(1));
    for number in 1..=runs.max(1) {
        results.push(run(number)?);
    }
    let walls: Vec<f64> = results.iter().map(&wall).collect();
    let median = results.swap_remove(median_index(&walls));
    Ok((median, walls))
}

/// The index of the median of `walls` (not empty); of the larger middle
/// one when there are two.
fn median_index(walls: &[f64]) -> usize {
    let mut order: Vec<usize> = (0..walls.len()).collect();
    order.sort_by(|&left, &right| walls[left].total_cmp(&walls[right]));
    order[walls.len() / 2]
}

/// `runs` whole-process replays of `events` into an empty `state`, as
/// [`median_run`]; `state` is left as the last run made it (every run
/// makes the same state).
fn median_replay(
    ragline: &Path,
    config_path: &Path,
    events: &Path,
    state: &Path,
    runs: usize,
) -> Result<(Measured, Value, Vec<f64>)> {
    let ((measured, summary), walls) = median_run(
        runs,
        |run| {
            log(format!(
                "file replay: ragline replay --input (into an empty state), run {run} of {runs}"
            ));
            replay_into_empty_state(ragline, config_path, events, state, HOUR)
        },
        |(measured, _)| measured.wall,
    )?;
    Ok((measured, summary, walls))
}

/// Each wall time in seconds with two decimals, comma-separated.
fn walls_text(walls: &[f64]) -> String {
    walls
        .iter()
        .map(|wall| format!("{wall:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json_of(text: &str) -> Result<Value> {
    let line = text
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .context("no JSON summary in the output")?;
    Ok(serde_json::from_str(line)?)
}

fn number_of(value: &Value, key: &str) -> Result<f64> {
    value
        .get(key)
        .and_then(Value::as_f64)
        .with_context(|| format!("no number '{key}' in {value}"))
}

#[allow(clippy::too_many_arguments)]
fn file_replay_and_memory(
    ragline: &Path,
    config_path: &Path,
    config: &Config,
    events: &Path,
    events_label: &str,
    state: &Path,
    replay_runs: usize,
    input_bytes: u64,
    children: usize,
    context: &mut RunFacts,
    rows: &mut Vec<Row>,
) -> Result<ReplaySummary> {
    log("file replay: ceilings (read + parse)");
    let (lines, valid_json, serde_seconds) = read_and_parse(events, |line| {
        std::hint::black_box(serde_json::from_slice::<Value>(line)).is_ok()
    })?;
    let decoder = ragline::event::Decoder::new(config, None);
    let (_, decoded, decoder_seconds) = read_and_parse(events, |line| {
        std::hint::black_box(decoder.decode(line)).is_ok()
    })?;
    let serde_rate = lines as f64 / serde_seconds;
    let decoder_rate = lines as f64 / decoder_seconds;
    context.set("lines", json!(lines));

    let (measured, summary, walls) =
        median_replay(ragline, config_path, events, state, replay_runs)?;
    let messages = number_of(&summary, "messages")?;
    let elapsed = number_of(&summary, "elapsed_seconds")?;
    let rate = number_of(&summary, "events_per_second")?;
    if messages as u64 != lines {
        bail!("replay read {messages} messages, the file has {lines} lines");
    }
    let current_date = summary
        .get("current_date")
        .and_then(Value::as_str)
        .and_then(Date::parse)
        .context("replay summary without a current date")?;
    let first_month_closed = summary
        .get("first_month_closed")
        .and_then(Value::as_str)
        .and_then(Month::parse);
    let phases: Vec<(String, f64)> = summary
        .get("phase_seconds")
        .and_then(Value::as_object)
        .map(|object| {
            object
                .iter()
                .map(|(name, seconds)| (name.clone(), seconds.as_f64().unwrap_or(0.0)))
                .collect()
        })
        .unwrap_or_default();
    let phase_sum: f64 = phases.iter().map(|(_, seconds)| seconds).sum();
    context.phases = phases;
    context.phases.push((
        "read file, dead-letter sink, other".into(),
        elapsed - phase_sum,
    ));
    context.replay_elapsed = elapsed;
    context.set("replay", summary.clone());
    let cores = measured.cpu() / measured.wall;
    let rss = measured.max_rss_bytes as f64;
    rows.push(
        Row::new(
            Section::FileReplay,
            format!("file replay of {events_label} ({messages:.0} events), all indicators"),
            rate,
            "events/s",
        )
        .ceiling(serde_rate, "read + serde_json::Value parse")
        .target(Target::ValueAtLeast(500_000.0))
        .note(format!(
            "`ragline replay --input` into an empty state (the bulk rebuild) as a child process, the run of median wall time of {} (process walls {} s): {messages:.0} events in {elapsed:.2} s (process wall {:.2} s incl. opening; CPU {:.2} s user + {:.2} s system = {cores:.2} cores on average, RocksDB background threads included); peak RSS {} MiB = {} bytes per event (wait4 ru_maxrss); {} of {} lines valid JSON, {} decode; months closed {}",
            walls.len(),
            walls_text(&walls),
            measured.wall,
            measured.user,
            measured.system,
            table::number(rss / 1048576.0),
            table::number(rss / messages.max(1.0)),
            valid_json,
            lines,
            decoded,
            summary.get("months_closed").cloned().unwrap_or(Value::Null)
        )),
    );
    rows.push(
        Row::new(
            Section::FileReplay,
            "file replay vs ragline's decoder",
            rate,
            "events/s",
        )
        .ceiling(decoder_rate, "read + ragline::event::Decoder"),
    );

    log("memory and state size");
    let state_bytes = proc::dir_size(state);
    let events_count = messages.max(1.0);
    let children = children.max(1) as f64;
    let per_event_input = input_bytes as f64 / events_count;
    let per_child_input = input_bytes as f64 / children;
    rows.push(
        Row::new(Section::Memory, "peak RSS per event", rss / events_count, "bytes")
            .ceiling(per_event_input, "input JSON per event")
            .note(format!(
                "peak RSS of the replay process {} MiB (wait4 ru_maxrss); RocksDB state after close {} MiB; input file {} MiB; {} events, {} distinct children",
                table::number(rss / 1048576.0),
                table::number(state_bytes as f64 / 1048576.0),
                table::number(input_bytes as f64 / 1048576.0),
                table::number(events_count),
                table::number(children)
            )),
    );
    rows.push(
        Row::new(
            Section::Memory,
            "peak RSS per child",
            rss / children,
            "bytes",
        )
        .ceiling(per_child_input, "input JSON per child"),
    );
    rows.push(
        Row::new(
            Section::Memory,
            "RocksDB state per event",
            state_bytes as f64 / events_count,
            "bytes",
        )
        .ceiling(per_event_input, "input JSON per event"),
    );
    rows.push(
        Row::new(
            Section::Memory,
            "RocksDB state per child",
            state_bytes as f64 / children,
            "bytes",
        )
        .ceiling(per_child_input, "input JSON per child"),
    );
    context.set("replay_peak_rss_bytes", json!(measured.max_rss_bytes));
    context.set("state_bytes", json!(state_bytes));
    Ok(ReplaySummary {
        current_date,
        first_month_closed,
        process_seconds: measured.wall,
        elapsed_seconds: elapsed,
        peak_rss_bytes: measured.max_rss_bytes,
    })
}

fn month_end_reports(
    config: &Arc<Config>,
    state: &Path,
    context: &mut RunFacts,
) -> Result<Vec<Row>> {
    log("every month-end scorecard, in-process");
    let started = Instant::now();
    let engine = Engine::open(config.clone(), state, Mode::Replay)?;
    let open_seconds = started.elapsed().as_secs_f64();
    let clock = engine.clock();
    let (Some(first), Some(current)) = (clock.first_month, clock.current()) else {
        bail!("the replayed state has no months");
    };
    let last = current.month();
    let units = config.unit_indices();
    let reader = engine.reader();
    let (mut build, mut serialise, mut bytes, mut months) = (0.0, 0.0, 0usize, 0usize);
    let mut month = first;
    while month <= last {
        let started = Instant::now();
        let report = ragline::report::report_json(&reader, &units, month);
        let built = Instant::now();
        let text = serde_json::to_vec(&report)?;
        serialise += built.elapsed().as_secs_f64();
        build += (built - started).as_secs_f64();
        bytes += std::hint::black_box(text).len();
        months += 1;
        month = month.plus(1);
    }
    let rebuild = build + serialise;
    context.set("rebuild_months", json!(months));
    context.set("rebuild_bytes", json!(bytes));
    Ok(vec![
        Row::new(
            Section::MonthEnds,
            format!("{months} month-end scorecards x {} units, in-process", units.len()),
            rebuild,
            "s",
        )
        .ceiling(serialise, "serde_json writing the same reports")
        .target(Target::ValueBelow(5.0))
        .note(format!(
            "report::report_json for every month {first}..{last} and every unit, then serde_json::to_vec: {} MiB of JSON; computing {build:.2} s + writing {serialise:.2} s, in-process after Engine::open",
            table::number(bytes as f64 / 1048576.0)
        )),
        Row::new(
            Section::MonthEnds,
            "Engine::open of the replayed state",
            open_seconds,
            "s",
        ),
    ])
}

fn baseline_available(args: &Args, module: &str) -> std::result::Result<(), String> {
    if args.baselines == Baselines::Off {
        return Err("skipped (--baselines off)".into());
    }
    if !args.baselines_dir.join("compare.py").exists() {
        return Err(format!(
            "skipped: no baselines in {}",
            args.baselines_dir.display()
        ));
    }
    let status = Command::new(&args.python)
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        _ => Err(format!(
            "skipped: {} cannot import {module} (pip install duckdb quixstreams confluent-kafka)",
            args.python
        )),
    }
}

/// `ragline report` of one month for all units (JSON) into `out`.
fn report_cli(
    ragline: &Path,
    config: &Path,
    state: &Path,
    month: Month,
    out: &Path,
) -> Result<Measured> {
    run_measured(
        Command::new(ragline)
            .arg("report")
            .arg("--config")
            .arg(config)
            .arg("--state")
            .arg(state)
            .args([
                "--month",
                &month.to_string(),
                "--all-units",
                "--format",
                "json",
            ])
            .arg("--out")
            .arg(out),
        HOUR,
    )
}

/// Runs compare.py; returns (all equal, its summary lines).
fn compare(args: &Args, ragline_report: &Path, baseline: &Path) -> Result<(bool, String)> {
    let output = Command::new(&args.python)
        .arg(args.baselines_dir.join("compare.py"))
        .arg(ragline_report)
        .arg(baseline)
        .output()
        .context("running compare.py")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let tail: Vec<&str> = text.lines().rev().take(2).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok((output.status.success(), tail.join(" ")))
}

fn duckdb_one_month(
    args: &Args,
    ragline: &Path,
    config_path: &Path,
    events: &Path,
    state: &Path,
    month: Month,
    replay: &ReplaySummary,
) -> Result<Row> {
    log(format!("DuckDB baseline: recompute of {month}"));
    let duck_out = args.work.join(format!("duckdb-{month}.json"));
    let (duck, duck_walls) =
        duckdb_script(args, events, config_path, &month.to_string(), &duck_out)?;
    let ragline_out = args.work.join(format!("ragline-{month}.json"));
    let report = report_cli(ragline, config_path, state, month, &ragline_out)?;
    let (equal, summary) = compare(args, &ragline_out, &duck_out)?;
    let ragline_seconds = replay.elapsed_seconds + report.wall;
    let duck_own = duck
        .stderr
        .lines()
        .find(|line| line.starts_with("duckdb_scorecard:"))
        .and_then(|line| line.split("; ").last())
        .unwrap_or("")
        .to_string();
    let row = Row::new(
        Section::Duckdb,
        format!("month end {month} from the file: ragline replay + report vs DuckDB"),
        ragline_seconds,
        "s",
    )
    .versus(duck.wall, "DuckDB SQL recompute, whole script")
    .target(Target::RatioAbove(1.0))
    .note(format!(
        "ratio = DuckDB time / ragline time. ragline: replay {:.2} s (every month closed, all indicators; the median run) + `ragline report --all-units` {:.2} s; DuckDB (all cores, {} MiB peak RSS) recomputes 30 of the indicators for this one month (the run of median wall time of {}: {} s; {duck_own}). Agreement: {summary}",
        replay.elapsed_seconds,
        report.wall,
        table::number(duck.max_rss_bytes as f64 / 1048576.0),
        duck_walls.len(),
        walls_text(&duck_walls),
    ));
    if !equal {
        bail!("DuckDB and ragline disagree: {summary}");
    }
    Ok(row)
}

/// DuckDB's scorecard script over `events` for `months` (one month or a
/// range), run `--replay-runs` times into `out`: the run of median wall
/// time, and every run's wall time.
fn duckdb_script(
    args: &Args,
    events: &Path,
    config_path: &Path,
    months: &str,
    out: &Path,
) -> Result<(Measured, Vec<f64>)> {
    median_run(
        args.replay_runs,
        |_| {
            run_measured(
                Command::new(&args.python)
                    .arg(args.baselines_dir.join("duckdb_scorecard.py"))
                    .arg(events)
                    .arg("--config")
                    .arg(config_path)
                    .args(["--month", months])
                    .arg("--out")
                    .arg(out),
                HOUR,
            )
        },
        |measured| measured.wall,
    )
}

/// The whole rebuild from the file: `ragline replay` into an empty state (the
/// file replay's process) plus `ragline report` of every month end of the
/// history into a directory, against DuckDB computing the same month ends in
/// one set-based SQL script; `compare.py` checks every month end.
fn rebuild_vs_duckdb(
    args: &Args,
    ragline: &Path,
    config_path: &Path,
    events: &Path,
    state: &Path,
    replay: &ReplaySummary,
) -> Result<Row> {
    let last = replay.current_date.month();
    let first = replay.first_month_closed.unwrap_or(last).min(last);
    let range = format!("{first}..{last}");
    let months = {
        let (mut count, mut month) = (0usize, first);
        while month <= last {
            count += 1;
            month = month.plus(1);
        }
        count
    };
    log(format!("rebuild: ragline report --month {range} --out-dir"));
    let out_dir = args.work.join("ragline-month-ends");
    // As often as the replay, each into an empty directory; the run of
    // median wall time counts.
    let (report, report_walls) = median_run(
        args.replay_runs,
        |_| {
            let _ = std::fs::remove_dir_all(&out_dir);
            run_measured(
                Command::new(ragline)
                    .arg("report")
                    .arg("--config")
                    .arg(config_path)
                    .arg("--state")
                    .arg(state)
                    .args(["--month", &range, "--all-units", "--format", "json"])
                    .arg("--out-dir")
                    .arg(&out_dir),
                HOUR,
            )
        },
        |measured| measured.wall,
    )?;
    log(format!(
        "rebuild: DuckDB, every month end {range} in one script"
    ));
    let duck_out = args.work.join(format!("duckdb-{first}-{last}.json"));
    let (duck, duck_walls) = duckdb_script(args, events, config_path, &range, &duck_out)?;
    let (equal, summary) = compare(args, &out_dir, &duck_out)?;
    if !equal {
        bail!("DuckDB and ragline disagree: {summary}");
    }
    let ragline_seconds = replay.process_seconds + report.wall;
    let duck_own = duck
        .stderr
        .lines()
        .find(|line| line.starts_with("duckdb_scorecard:"))
        .and_then(|line| line.split("; ").last())
        .unwrap_or("")
        .to_string();
    Ok(Row::new(
        Section::Rebuild,
        format!("rebuild + every month-end report ({months} month ends {range}): ragline vs DuckDB"),
        ragline_seconds,
        "s",
    )
    .versus(duck.wall, "DuckDB, every month end in one SQL script")
    .target(Target::FasterAtLeast(5.0))
    .note(format!(
        "ragline {} than DuckDB (target: at least 5x faster). Whole processes, spawn to exit: `ragline replay --input` into an empty state {:.2} s (the median run) + `ragline report --month {range} --all-units --format json --out-dir` {:.2} s (the run of median wall time of {}: {} s; every indicator, every unit, one file per month end; peak RSS {} / {} MiB); DuckDB (all cores, {} MiB peak RSS) computes 30 of the indicators for every month end of {range} in one SQL script (month ends joined with the facts) from the same file (the run of median wall time of {}: {} s; {duck_own}). Agreement: {summary}",
        table::faster_text(duck.wall / ragline_seconds.max(1e-9)),
        replay.process_seconds,
        report.wall,
        report_walls.len(),
        walls_text(&report_walls),
        table::number(replay.peak_rss_bytes as f64 / 1048576.0),
        table::number(report.max_rss_bytes as f64 / 1048576.0),
        table::number(duck.max_rss_bytes as f64 / 1048576.0),
        duck_walls.len(),
        walls_text(&duck_walls),
    )))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Kafka topics of one bench configuration.
struct Topics {
    input: String,
    values: String,
}

/// The configuration text with its own topics, broker and HTTP port.
fn kafka_config(
    base: &str,
    broker: &str,
    suffix: &str,
    http_port: u16,
    (properties, consumer_properties, producer_properties): &(Properties, Properties, Properties),
) -> Result<(String, Topics)> {
    let start = base
        .find("[kafka]")
        .context("no [kafka] in the configuration")?;
    let end = base
        .find("[[authority]]")
        .context("no [[authority]] in the configuration")?;
    if end < start {
        bail!("[kafka] must come before [[authority]] in the configuration");
    }
    let topics = Topics {
        input: format!("bench-in-{suffix}"),
        values: format!("bench-values-{suffix}"),
    };
    let mut table = String::new();
    if !properties.is_empty() {
        table.push_str("[kafka.properties]\n");
        for (key, value) in properties {
            table.push_str(&format!("\"{key}\" = \"{value}\"\n"));
        }
        table.push('\n');
    }
    for (name, properties) in [
        ("consumer_properties", consumer_properties),
        ("producer_properties", producer_properties),
    ] {
        if !properties.is_empty() {
            table.push_str(&format!("[kafka.{name}]\n"));
            for (key, value) in properties {
                table.push_str(&format!("\"{key}\" = \"{value}\"\n"));
            }
            table.push('\n');
        }
    }
    let mut text = base.to_string();
    text.replace_range(
        start..end,
        &format!(
            "[kafka]\nbrokers = \"{broker}\"\ninput_topic = \"{}\"\ngroup_id = \"bench-{suffix}\"\nvalues_topic = \"{}\"\nrag_changes_topic = \"bench-rag-{suffix}\"\nscorecards_topic = \"bench-scorecards-{suffix}\"\nrestatements_topic = \"bench-restatements-{suffix}\"\ndead_letters_topic = \"bench-dead-{suffix}\"\n\n{table}[http]\nlisten = \"127.0.0.1:{http_port}\"\n\n",
            topics.input, topics.values
        ),
    );
    Ok((text, topics))
}

/// A `--live-variant` key with this prefix sets an output producer
/// property; other keys set input consumer properties.
const PRODUCER_PREFIX: &str = "producer:";

/// librdkafka properties by name.
type Properties = std::collections::BTreeMap<String, String>;

/// The `[kafka.properties]`, `[kafka.consumer_properties]` and
/// `[kafka.producer_properties]` of a configuration file.
fn config_properties(path: &Path) -> Result<(Properties, Properties, Properties)> {
    let kafka = Config::load(path)?.kafka;
    Ok((
        kafka.properties,
        kafka.consumer_properties,
        kafka.producer_properties,
    ))
}

fn write_config(work: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let path = work.join(format!("{name}.toml"));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `ragline replay --from-topic` into a fresh state; returns its JSON summary.
fn replay_from_topic(ragline: &Path, config: &Path, state: &Path) -> Result<(Value, Measured)> {
    let _ = std::fs::remove_dir_all(state);
    let measured = run_measured(
        Command::new(ragline)
            .arg("replay")
            .arg("--from-topic")
            .arg("--config")
            .arg(config)
            .arg("--state")
            .arg(state)
            .arg("--json"),
        HOUR,
    )?;
    Ok((json_of(&measured.stdout)?, measured))
}

#[allow(clippy::too_many_arguments)]
fn kafka_replay(
    broker: &str,
    tag: &str,
    ragline: &Path,
    config_text: &str,
    config_path: &Path,
    events: &Path,
    work: &Path,
    keep: bool,
) -> Result<Vec<Row>> {
    log("Kafka replay: producing the file to the broker");
    let (text, topics) = kafka_config(
        config_text,
        broker,
        &format!("replay-{tag}"),
        free_port()?,
        &config_properties(config_path)?,
    )?;
    let config = write_config(work, "bench-kafka-replay", &text)?;
    kafka::create_topic(broker, &topics.input, 4)?;
    let (produced, produce_seconds) = kafka::produce_file(broker, &topics.input, events)?;
    log("Kafka replay: bare consumer");
    let (read, payload_bytes, bare_seconds) =
        kafka::bare_consume(broker, &topics.input, produced, Duration::from_secs(1800))?;
    log("Kafka replay: ragline replay --from-topic");
    let state = work.join("state-topic");
    let (summary, measured) = replay_from_topic(ragline, &config, &state)?;
    if !keep {
        let _ = std::fs::remove_dir_all(&state);
    }
    let messages = number_of(&summary, "messages")?;
    if messages as u64 != produced {
        bail!("replay --from-topic consumed {messages} messages of {produced}");
    }
    let rate = number_of(&summary, "events_per_second")?;
    let elapsed = number_of(&summary, "elapsed_seconds")?;
    Ok(vec![Row::new(Section::Kafka, "Kafka replay (`replay --from-topic`), all indicators", rate, "events/s")
        .ceiling(read as f64 / bare_seconds, "bare rdkafka BaseConsumer")
        .note(format!(
            "{produced} messages on 4 partitions (produced in {produce_seconds:.1} s, {} MiB payload); ragline {elapsed:.2} s (process wall {:.2} s, CPU {:.2} s; also writes values, RAG changes and {} month-end scorecards to the output topics); bare consumer {bare_seconds:.2} s, stopping at the produced count (tansu under-reports the high watermark)",
            table::number(payload_bytes as f64 / 1048576.0),
            measured.wall,
            measured.cpu(),
            summary.get("outputs_delivered").cloned().unwrap_or(Value::Null),
        ))])
}

/// The sum of a metric's samples (all label sets) in a text exposition.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Counters read from ragline's /metrics around a live phase.
#[derive(Clone, Copy, Default)]
struct LiveMetrics {
    batches: f64,
    batch_seconds: f64,
    commit_seconds: f64,
    /// Events observed by ragline's own event-to-output histogram (input
    /// message timestamp to its outputs queued for the producer).
    latency_count: f64,
    latency_seconds: f64,
    latency_within_50ms: f64,
}

/// ragline's processing counters from its /metrics.
fn batch_metrics(port: u16) -> LiveMetrics {
    let text = http_body(port, "/metrics").unwrap_or_default();
    let bucket = |le: &str| {
        metric_sum(
            &text,
            &format!("ragline_event_to_output_latency_seconds_bucket{{le=\"{le}\"}}"),
        )
    };
    LiveMetrics {
        batches: metric_sum(&text, "ragline_batch_duration_seconds_count"),
        batch_seconds: metric_sum(&text, "ragline_batch_duration_seconds_sum"),
        commit_seconds: metric_sum(&text, "ragline_commit_duration_seconds_sum"),
        latency_count: metric_sum(&text, "ragline_event_to_output_latency_seconds_count"),
        latency_seconds: metric_sum(&text, "ragline_event_to_output_latency_seconds_sum"),
        latency_within_50ms: bucket("0.05"),
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1 (so never chunked): the status code
/// and the body.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())?;
    Some((status, body))
}

/// A plain HTTP GET on 127.0.0.1: the status code.
fn http_status(port: u16, path: &str) -> Option<u16> {
    http_get(port, path).map(|(status, _)| status)
}

/// A plain HTTP GET on 127.0.0.1: the body of a 200 answer.
fn http_body(port: u16, path: &str) -> Option<String> {
    http_get(port, path).and_then(|(status, body)| (status == 200).then_some(body))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let last: Vec<&str> = text.lines().rev().take(lines).collect();
    last.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Latencies of the k-th referral: first receipt of a root REF-M value with
/// num >= base + k, minus its send instant.
fn referral_latencies(sent: &[Instant], base: i64, received: &[(Instant, i64)]) -> Vec<f64> {
    let mut latencies = Vec::with_capacity(sent.len());
    let mut index = 0;
    let mut best = i64::MIN;
    for (k, sent_at) in sent.iter().enumerate() {
        let threshold = base + k as i64 + 1;
        while best < threshold && index < received.len() {
            best = best.max(received[index].1);
            index += 1;
        }
        if best < threshold {
            break;
        }
        let seen_at = received[index - 1].0;
        latencies.push(seen_at.saturating_duration_since(*sent_at).as_secs_f64() * 1000.0);
    }
    latencies
}

fn ref_m_values(receiver: &kafka::Receiver) -> Vec<(Instant, i64)> {
    receiver
        .snapshot()
        .into_iter()
        .filter_map(|(at, payload)| {
            let value: Value = serde_json::from_str(&payload).ok()?;
            Some((at, value.get("num")?.as_i64()?))
        })
        .collect()
}

fn wait_for_count(receiver: &kafka::Receiver, at_least: i64, timeout: Duration) -> i64 {
    let deadline = Instant::now() + timeout;
    loop {
        let best = ref_m_values(receiver)
            .iter()
            .map(|(_, num)| *num)
            .max()
            .unwrap_or(0);
        if best >= at_least || Instant::now() > deadline {
            return best;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One live configuration: a label and extra librdkafka properties.
struct LiveVariant {
    label: String,
    properties: Vec<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
fn live_latency(
    broker: kafka::BrokerRef<'_>,
    broker_label: &str,
    tag: &str,
    args: &Args,
    ragline: &Path,
    config: &Config,
    config_text: &str,
    state: &Path,
    replay_current: Date,
    work: &Path,
    child: &mut usize,
) -> Result<Vec<Row>> {
    let mut variants = vec![LiveVariant {
        label: format!("as shipped, {broker_label}"),
        properties: Vec::new(),
    }];
    for variant in &args.live_variant {
        let mut properties = Vec::new();
        for pair in variant.split(',') {
            let (key, value) = pair
                .split_once('=')
                .with_context(|| format!("--live-variant {variant}: expected KEY=VALUE"))?;
            properties.push((key.trim().to_string(), value.trim().to_string()));
        }
        variants.push(LiveVariant {
            label: format!("{variant}, {broker_label}"),
            properties,
        });
    }
    // The first day of the month after the history: nothing closes, and the
    // root's REF-M (referrals in the month) counts only the bench's referrals.
    let today = replay_current.month().plus(1).first_day();
    let mut rows = Vec::new();
    for (index, variant) in variants.iter().enumerate() {
        let mut more = live_run(
            broker,
            &format!("{tag}-{index}"),
            args,
            ragline,
            config,
            config_text,
            state,
            today,
            work,
            variant,
            child,
        )?;
        rows.append(&mut more);
    }
    Ok(rows)
}

#[allow(clippy::too_many_arguments)]
fn live_run(
    broker: kafka::BrokerRef<'_>,
    tag: &str,
    args: &Args,
    ragline: &Path,
    config: &Config,
    config_text: &str,
    state: &Path,
    today: Date,
    work: &Path,
    variant: &LiveVariant,
    child: &mut usize,
) -> Result<Vec<Row>> {
    log(format!(
        "live latency, {} (ragline run on the replayed state)",
        variant.label
    ));
    let http_port = free_port()?;
    let properties = config.kafka.properties.clone();
    let mut consumer_properties = config.kafka.consumer_properties.clone();
    let mut producer_properties = config.kafka.producer_properties.clone();
    for (key, value) in &variant.properties {
        match key.strip_prefix(PRODUCER_PREFIX) {
            Some(key) => producer_properties.insert(key.to_string(), value.clone()),
            None => consumer_properties.insert(key.clone(), value.clone()),
        };
    }
    // librdkafka's default is 500 ms.
    let fetch_wait_ms: u32 = consumer_properties
        .get("fetch.wait.max.ms")
        .or(properties.get("fetch.wait.max.ms"))
        .and_then(|value| value.parse().ok())
        .unwrap_or(500);
    let (text, topics) = kafka_config(
        config_text,
        broker.address,
        &format!("live-{tag}"),
        http_port,
        &(properties, consumer_properties, producer_properties),
    )?;
    let config_file = write_config(work, &format!("bench-live-{tag}"), &text)?;
    let broker_name = match broker.mock {
        Some(_) => "librdkafka's mock cluster (in the bench process)".to_string(),
        None => format!("the broker at {}", broker.address),
    };
    broker.create_topic(&topics.input, 1)?;
    if broker.mock.is_some() {
        // ragline creates its output topics through the admin API, which
        // the mock cluster lacks (ragline warns and goes on).
        broker.create_topic(&topics.values, 1)?;
    }
    let log_path = work.join(format!("live-{tag}.log"));
    let mut run = Guard::spawn(
        Command::new(ragline)
            .arg("run")
            .arg("--config")
            .arg(&config_file)
            .arg("--state")
            .arg(state)
            .args(["--today", &today.to_string()]),
        "ragline run",
        &log_path,
    )?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while http_status(http_port, "/readyz") != Some(200) {
        if !run.running() {
            bail!("ragline run exited:\n{}", tail(&log_path, 20));
        }
        if Instant::now() > deadline {
            bail!(
                "ragline run not ready after 300 s:\n{}",
                tail(&log_path, 20)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let root = &config.unit(config.root_of(config.default_la)).id;
    let leaves: Vec<String> = config
        .units
        .iter()
        .filter(|unit| unit.is_leaf() && unit.la == config.default_la)
        .map(|unit| unit.id.clone())
        .collect();
    let receiver = kafka::Receiver::start(
        broker.address,
        &topics.values,
        Some(format!("REF-M/{root}")),
        5,
    )?;
    let producer = kafka::latency_producer(broker.address)?;
    let run_tag = tag.to_string();
    // Referrals sent to this state so far (all live runs): the root's REF-M
    // for the month of `today` once every one is processed.
    let counter = std::cell::Cell::new(*child);
    let mut referral = |_: usize| {
        let next = counter.get() + 1;
        counter.set(next);
        let id = format!("bench-{run_tag}-{next}");
        let unit = &leaves[next % leaves.len()];
        let payload = format!(
            r#"{{"event_id":"{id}","type":"referral","child_id":"{id}","date":"{today}","unit":"{unit}","recorded_at":"{today}T12:00:00+00:00"}}"#
        );
        (id, payload)
    };
    // Warm-up: the first batch of a new day re-emits every value.
    kafka::paced_send(&producer, &topics.input, 50, 1.0, &mut referral)?;
    let mut base = counter.get() as i64;
    let seen = wait_for_count(&receiver, base, Duration::from_secs(120));
    if seen != base {
        bail!(
            "warm-up: saw REF-M/{root} = {seen}, expected {base}:\n{}",
            tail(&log_path, 20)
        );
    }
    let mut rows = Vec::new();
    let echo_seconds = args
        .echo_seconds
        .unwrap_or((args.live_seconds / 3.0).clamp(1.0, 5.0));
    for &rate in &args.rates {
        log(format!("live latency: broker echo at {rate}/s"));
        let echo = kafka::echo_latency(
            broker,
            &format!("bench-echo-{tag}-{rate}"),
            rate,
            echo_seconds,
            fetch_wait_ms,
        )?;
        log(format!(
            "live latency: ragline at {rate}/s ({})",
            variant.label
        ));
        let already = ref_m_values(&receiver).len();
        let metrics_before = batch_metrics(http_port);
        let sent = kafka::paced_send(
            &producer,
            &topics.input,
            rate,
            args.live_seconds,
            &mut referral,
        )?;
        let expected = counter.get() as i64;
        let reached = wait_for_count(&receiver, expected, Duration::from_secs(120));
        let values = ref_m_values(&receiver);
        let mut latencies = referral_latencies(&sent, base, &values[already.min(values.len())..]);
        let stats = kafka::latency_of(&sent, &mut latencies);
        let metrics_after = batch_metrics(http_port);
        let batches = metrics_after.batches - metrics_before.batches;
        let batch_ms = 1000.0 * (metrics_after.batch_seconds - metrics_before.batch_seconds)
            / batches.max(1.0);
        let commit_ms = 1000.0 * (metrics_after.commit_seconds - metrics_before.commit_seconds)
            / batches.max(1.0);
        let observed = (metrics_after.latency_count - metrics_before.latency_count).max(1.0);
        let inside_ms =
            1000.0 * (metrics_after.latency_seconds - metrics_before.latency_seconds) / observed;
        let inside_within = 100.0
            * (metrics_after.latency_within_50ms - metrics_before.latency_within_50ms)
            / observed;
        base = reached;
        if stats.seen < stats.sent {
            bail!(
                "at {rate}/s only {} of {} referrals reached REF-M/{root}:\n{}",
                stats.seen,
                stats.sent,
                tail(&log_path, 20)
            );
        }
        let note = format!(
            "{}: {} referrals of new children dated {today} sent at {:.0}/s for {} s through {broker_name} to `ragline run` on the replayed state (--today {today}); latency(k) = receipt of the first REF-M/{root} value with num >= k minus the send of referral k; processing batch_max_events {} / batch_max_millis {} ms (as shipped); input consumer fetch.wait.max.ms {fetch_wait_ms} ms; ceiling: the same producer and a consumer with the same fetch.wait.max.ms through an echo topic of the same broker, {echo_seconds:.0} s ({} of {} seen); ragline /metrics over the phase: {batches:.0} batches, mean batch {batch_ms:.1} ms of which commit {commit_ms:.1} ms; inside ragline (input message timestamp to outputs queued): mean {inside_ms:.1} ms, {inside_within:.1} % within 50 ms",
            variant.label,
            stats.sent,
            stats.rate,
            args.live_seconds,
            config.processing.batch_max_events,
            config.processing.batch_max_millis,
            echo.seen,
            echo.sent
        );
        let target = |row: Row| {
            if rate == 1000 {
                row.target(Target::ValueBelow(LIVE_P99_TARGET_MS))
            } else {
                row
            }
        };
        let label = &variant.label;
        rows.push(
            Row::new(
                Section::Live,
                format!("live latency p50 @ {rate}/s, {label}"),
                stats.p50,
                "ms",
            )
            .ceiling(echo.p50, "broker echo")
            .note(note),
        );
        rows.push(target(
            Row::new(
                Section::Live,
                format!("live latency p99 @ {rate}/s, {label}"),
                stats.p99,
                "ms",
            )
            .ceiling(echo.p99, "broker echo"),
        ));
        rows.push(
            Row::new(
                Section::Live,
                format!("live latency max @ {rate}/s, {label}"),
                stats.max,
                "ms",
            )
            .ceiling(echo.max, "broker echo"),
        );
    }
    *child = counter.get();
    drop(receiver);
    if !run.stop(Duration::from_secs(60)) {
        log("ragline run did not stop cleanly");
    }
    Ok(rows)
}

fn quix_baseline(
    broker: &str,
    tag: &str,
    args: &Args,
    ragline: &Path,
    config_text: &str,
    config_path: &Path,
    work: &Path,
) -> Result<Row> {
    let events = work.join(format!(
        "{}-{}-{}.jsonl",
        args.scale, args.quix_months, args.seed
    ));
    generate(ragline, config_path, args, args.quix_months, &events)?;
    let lines = std::io::BufReader::new(std::fs::File::open(&events)?)
        .lines()
        .count();
    let (text, topics) = kafka_config(
        config_text,
        broker,
        &format!("quix-{tag}"),
        free_port()?,
        &config_properties(config_path)?,
    )?;
    let config = write_config(work, "bench-quix", &text)?;
    log(format!(
        "Quix baseline: produce.py {} to {}",
        events.display(),
        topics.input
    ));
    run_measured(
        Command::new(&args.python)
            .arg(args.baselines_dir.join("produce.py"))
            .arg(&events)
            .args([
                "--brokers",
                broker,
                "--topic",
                &topics.input,
                "--partitions",
                "4",
            ]),
        HOUR,
    )?;
    log("Quix baseline: ragline replay --from-topic (Quix's history)");
    let state = work.join("state-quix");
    let (summary, _) = replay_from_topic(ragline, &config, &state)?;
    let rate = number_of(&summary, "events_per_second")?;
    let current = summary
        .get("current_date")
        .and_then(Value::as_str)
        .and_then(Date::parse)
        .context("replay summary without a current date")?;
    let month = current.month();
    let report = work.join(format!("ragline-quix-{month}.json"));
    report_cli(ragline, &config, &state, month, &report)?;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&state);
    }
    log("Quix baseline: Quix Streams");
    let quix_out = work.join("quix.json");
    let summary_path = work.join("quix-summary.json");
    let quix = run_measured(
        Command::new(&args.python)
            .arg(args.baselines_dir.join("quix_rolling.py"))
            .args(["--brokers", broker, "--topic", &topics.input])
            .args(["--count", &lines.to_string(), "--month", &month.to_string()])
            .arg("--config")
            .arg(&config)
            .arg("--compare")
            .arg(&report)
            .arg("--out")
            .arg(&quix_out)
            .arg("--summary")
            .arg(&summary_path),
        HOUR,
    )?;
    let quix_summary: Value = serde_json::from_slice(&std::fs::read(&summary_path)?)?;
    let quix_rate = number_of(&quix_summary, "events_per_second")?;
    let (equal, compared) = compare(args, &report, &quix_out)?;
    if !equal {
        bail!("Quix Streams and ragline disagree: {compared}");
    }
    let _ = quix;
    Ok(Row::new(
        Section::Quix,
        format!(
            "Kafka replay of {} months ({lines} events): ragline (all indicators) vs Quix Streams (SCS03, SCS13)",
            args.quix_months
        ),
        rate,
        "events/s",
    )
    .ceiling(quix_rate, "Quix Streams, group join excluded")
    .target(Target::RatioAbove(1.0))
    .note(format!(
        "ratio = ragline events/s / Quix events/s, both from the same 4-partition topic into fresh RocksDB state; Quix keeps only the rolling counters of the re-referral (SCS03) and repeat-plan (SCS13) indicators; agreement at {month} for every unit: {compared}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_run_is_the_middle_one_or_the_slower_middle_one() {
        assert_eq!(median_index(&[3.09, 2.07, 2.00]), 1);
        assert_eq!(median_index(&[2.0, 3.0, 1.0]), 0);
        assert_eq!(median_index(&[5.0]), 0);
        // Two middle runs (2.0 and 3.0): the slower one.
        assert_eq!(median_index(&[4.0, 2.0, 1.0, 3.0]), 3);
        assert_eq!(median_index(&[1.0, 2.0]), 1);
    }

    #[test]
    fn median_run_runs_as_asked_and_keeps_every_wall_time() {
        let mut calls = 0;
        let (median, walls) = median_run(
            3,
            |run| {
                calls += 1;
                Ok([2.5, 1.5, 9.0][run - 1])
            },
            |wall| *wall,
        )
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(median, 2.5);
        assert_eq!(walls, vec![2.5, 1.5, 9.0]);
        assert_eq!(walls_text(&walls), "2.50, 1.50, 9.00");
    }
}
