//! The `ragline` command line: wiring and the clock, no logic.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ragline::calendar::Month;
use ragline::config::Config;
use ragline::pipeline::{Engine, Mode};
use ragline::report;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

mod cli;

/// mimalloc: the engine allocates many small, short-lived strings and vectors.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ragline",
    version,
    about = "Children's social care case events to live performance scorecards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic event history (JSON Lines) for the configured units.
    Generate(GenerateArgs),
    /// Consume the input topic and keep every indicator live (Kafka, metrics, HTTP).
    Run(RunArgs),
    /// Apply a JSON Lines event file (or the whole input topic) to a state directory.
    Replay(ReplayArgs),
    /// Write the month-end scorecard of one unit or all units.
    Report(ReportArgs),
    /// Turn statutory returns (SSDA903, CIN census) into events for replay.
    #[command(subcommand)]
    Import(ragline::import::cli::ImportCommand),
    /// Print the indicator reference table (Markdown) of a configuration.
    Catalogue {
        /// Configuration file.
        #[arg(long, default_value = "config/kent.toml")]
        config: PathBuf,
    },
    /// Print the SHA-256 of a bearer token read from standard input, for
    /// `[[http.tokens]] sha256` (the token itself is never configured).
    HashToken,
    /// Validate a configuration file.
    CheckConfig {
        /// Configuration file.
        #[arg(long, default_value = "config/kent.toml")]
        config: PathBuf,
    },
    /// List the anomalies of one child.
    Anomalies {
        /// Configuration file.
        #[arg(long, default_value = "config/kent.toml")]
        config: PathBuf,
        /// State directory.
        #[arg(long)]
        state: PathBuf,
        /// The child id.
        #[arg(long)]
        child: String,
        /// The authority (default: the configured default).
        #[arg(long)]
        la: Option<String>,
    },
    /// Show the outbox: outputs waiting for delivery, and those the broker
    /// refused for good (parked), with the broker's reasons.
    Outbox {
        /// Configuration file.
        #[arg(long, default_value = "config/kent.toml")]
        config: PathBuf,
        /// State directory (not while `ragline run` holds it).
        #[arg(long)]
        state: PathBuf,
        /// Put the parked records back into the outbox, to be sent by the
        /// next `ragline run` (after the cause is fixed: a larger
        /// `max.message.bytes`, a permission, ...).
        #[arg(long)]
        retry_parked: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleArg {
    Small,
    Kent,
    National,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of months of history.
    #[arg(long, default_value_t = 24)]
    months: u32,
    /// Volume.
    #[arg(long, value_enum, default_value = "small")]
    scale: ScaleArg,
    /// First month (YYYY-MM).
    #[arg(long, default_value = "2016-04")]
    start: String,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
    /// Deliver the same surviving facts wrapped in noise.
    #[arg(long)]
    messy: bool,
    /// Configuration giving the units.
    #[arg(long, default_value = "config/kent.toml")]
    config: PathBuf,
    /// Also write the history as statutory returns into this directory:
    /// SSDA903 tables and CIN censuses per collection year, and a mapping
    /// of children to units (docs/import.md).
    #[arg(long)]
    returns_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Configuration file.
    #[arg(long, default_value = "config/kent.toml")]
    config: PathBuf,
    /// State directory (RocksDB).
    #[arg(long)]
    state: PathBuf,
    /// Pretend today is this date (YYYY-MM-DD), for tests and demonstrations.
    #[arg(long, hide = true)]
    today: Option<String>,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Configuration file.
    #[arg(long, default_value = "config/kent.toml")]
    config: PathBuf,
    /// JSON Lines event file.
    #[arg(
        long,
        required_unless_present = "from_topic",
        conflicts_with = "from_topic"
    )]
    input: Option<PathBuf>,
    /// Rebuild from the beginning of the configured input topic instead of a
    /// file, into a fresh state directory (in bulk unless --batch or
    /// --incremental); stops once caught up, or short of that once the
    /// partitions still to read have not moved for
    /// processing.replay_idle_seconds (the summary's stopped_short).
    #[arg(long)]
    from_topic: bool,
    /// State directory (RocksDB).
    #[arg(long)]
    state: PathBuf,
    /// Dead-letter file (default: <state>/dead-letters.jsonl). From the
    /// topic, dead letters go to the dead-letter topic.
    #[arg(long, conflicts_with = "from_topic")]
    dead_letters: Option<PathBuf>,
    /// Also write live values, RAG changes, scorecards and restatements as
    /// JSON Lines files in this directory. From the topic, they go to the
    /// output topics.
    #[arg(long, conflicts_with = "from_topic")]
    outputs: Option<PathBuf>,
    /// Events per batch (default from configuration). Given, the replay
    /// runs batch by batch even into an empty state.
    #[arg(long)]
    batch: Option<usize>,
    /// Into an empty state, replay batch by batch instead of the bulk
    /// rebuild (which folds each child once; same state and reports).
    #[arg(long)]
    incremental: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// After replaying a file, serve /metrics and the scorecard pages
    /// (http.listen) until interrupted (`ragline run` serves them after a
    /// replay from the topic).
    #[arg(long, conflicts_with = "from_topic")]
    serve: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Html,
    /// Markdown (the committee pack views).
    Markdown,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum View {
    /// The month-end scorecard.
    Scorecard,
    /// Each children-in-care indicator with and without UASC, per area.
    UascImpact,
    /// The committee pack: one page per red indicator (docs/committee-pack.md).
    Exceptions,
    /// The committee pack: RAG bands that moved between --since and --month.
    Movement,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Configuration file.
    #[arg(long, default_value = "config/kent.toml")]
    config: PathBuf,
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// Month (YYYY-MM), or an inclusive range of months (YYYY-MM..YYYY-MM)
    /// written one file per month into `--out-dir`.
    #[arg(long)]
    month: String,
    /// One unit.
    #[arg(long, conflicts_with = "all_units")]
    unit: Option<String>,
    /// Every unit (the default).
    #[arg(long)]
    all_units: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Which page.
    #[arg(long, value_enum, default_value = "scorecard")]
    view: View,
    /// Output file (default: standard output).
    #[arg(long, conflicts_with = "out_dir")]
    out: Option<PathBuf>,
    /// Directory for a range of months: one file per month, named
    /// `YYYY-MM.json` (`.csv`, `.html`), each the same as the single-month
    /// report; the state is loaded once.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// The published form: small counts withheld, with secondary
    /// suppression, symbols in their place (the configuration's
    /// `[disclosure]`); without it the report is exact.
    #[arg(long)]
    published: bool,
    /// Exceptions: only indicators that turned red since this month end;
    /// movement: the earlier month end (YYYY-MM).
    #[arg(long)]
    since: Option<String>,
    /// Exceptions: amber indicators get a page too.
    #[arg(long)]
    include_amber: bool,
    /// Exceptions: month ends in the trend table (default `[pack] trend_months`).
    #[arg(long)]
    trend: Option<u32>,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    quiet_panic_reports();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(args),
        Command::Run(args) => run(args),
        Command::Replay(args) if args.from_topic => cli::replay::from_topic(args),
        Command::Replay(args) => cli::replay::from_file(args),
        Command::Report(args) => report_command(args),
        Command::Import(command) => ragline::import::cli::run(command),
        Command::CheckConfig { config } => check_config(&config),
        Command::HashToken => hash_token(),
        Command::Catalogue { config } => catalogue(&config),
        Command::Anomalies {
            config,
            state,
            child,
            la,
        } => anomalies(&config, &state, &child, la),
        Command::Outbox {
            config,
            state,
            retry_parked,
        } => outbox(&config, &state, retry_parked),
    };
    if let Err(error) = result {
        eprintln!("ragline: error: {error:#}");
        std::process::exit(1);
    }
}

fn load_config(path: &Path) -> Result<Arc<Config>> {
    Ok(Arc::new(Config::load(path)?))
}

/// Panics are caught where messages are handled (the message is
/// dead-lettered); the report on standard error names only where in the code
/// it happened, never the panic's text, which may quote input.
fn quiet_panic_reports() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|location| format!("{}:{}", location.file(), location.line()))
            .unwrap_or_else(|| "unknown location".into());
        tracing::error!(%location, "internal error (panic); details go to the dead letters only");
    }));
}

fn outbox(config: &Path, state: &Path, retry_parked: bool) -> Result<()> {
    let config = load_config(config)?;
    let mut engine = Engine::open(config, state, Mode::Live)?;
    println!("pending  {:>10}", engine.outbox_pending());
    println!("parked   {:>10}", engine.parked_outputs());
    for (sequence, parked) in engine.parked_records()? {
        let what = ragline::outbox::OutboxRecord::decode(&parked.record)
            .map(|record| format!("{} {}", record.topic.as_str(), record.key))
            .unwrap_or_else(|| "(undecodable)".into());
        println!("  #{sequence} {what}: {}", parked.reason);
    }
    if retry_parked {
        let (requeued, dropped) = engine.retry_parked()?;
        println!("retried  {requeued:>10}  (put back in the outbox)");
        if dropped > 0 {
            println!("dropped  {dropped:>10}  (indicator values superseded by later ones)");
        }
    }
    Ok(())
}

fn check_config(path: &Path) -> Result<()> {
    let config = load_config(path)?;
    let catalogue = ragline::indicators::Catalogue::from_config(&config)?;
    println!(
        "{}: ok ({} authorities, {} units, {} indicators, {} bank holidays)",
        path.display(),
        config.authorities.len(),
        config.units.len(),
        catalogue.reported().count(),
        config.calendar.holidays().len()
    );
    let kafka = &config.kafka;
    println!("kafka.brokers = {}", kafka.brokers);
    for (section, properties) in [
        ("kafka.properties", &kafka.properties),
        ("kafka.consumer_properties", &kafka.consumer_properties),
        ("kafka.producer_properties", &kafka.producer_properties),
    ] {
        for (key, value) in ragline::secrets::redacted(properties) {
            println!("{section}.{key} = {value}");
        }
    }
    let http = &config.http;
    if http.authenticates() {
        for token in &http.tokens {
            let scopes: Vec<String> = token
                .scopes
                .iter()
                .map(|scope| format!("{scope:?}").to_lowercase())
                .collect();
            println!("http: token {} may read {}", token.name, scopes.join(", "));
        }
    } else {
        println!("http: {} without authentication", http.listen);
    }
    Ok(())
}

fn hash_token() -> Result<()> {
    let mut token = String::new();
    std::io::stdin()
        .read_line(&mut token)
        .context("reading the token from standard input")?;
    let token = token.trim_end_matches(['\n', '\r']);
    if token.len() < 16 {
        bail!("a token needs at least 16 characters (for example: openssl rand -hex 32)");
    }
    println!("{}", ragline::secrets::sha256_hex(token.as_bytes()));
    Ok(())
}

fn catalogue(path: &Path) -> Result<()> {
    let config = load_config(path)?;
    let catalogue = ragline::indicators::Catalogue::from_config(&config)?;
    print!("{}", report::reference_document(&config, &catalogue));
    Ok(())
}

fn generate(args: GenerateArgs) -> Result<()> {
    let config = load_config(&args.config)?;
    let start = Month::parse(&args.start)
        .with_context(|| format!("--start: '{}' is not a month (YYYY-MM)", args.start))?
        .first_day();
    let leaves = ragline::generate::GenUnit::leaves_of(&config);
    let options = ragline::generate::GenOptions {
        seed: args.seed,
        start,
        months: args.months,
        scale: match args.scale {
            ScaleArg::Small => ragline::generate::Scale::Small,
            ScaleArg::Kent => ragline::generate::Scale::Kent,
            ScaleArg::National => ragline::generate::Scale::National,
        },
        messy: args.messy,
    };
    let file =
        std::fs::File::create(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let started = Instant::now();
    let (stats, returns) = match &args.returns_dir {
        Some(dir) => {
            let (stats, returns) =
                ragline::generate::generate_with_returns(&options, &leaves, &mut writer, dir)
                    .with_context(|| {
                        format!("writing {} and {}", args.out.display(), dir.display())
                    })?;
            (stats, Some((dir, returns)))
        }
        None => (
            ragline::generate::generate(&options, &leaves, &mut writer)
                .with_context(|| format!("writing {}", args.out.display()))?,
            None,
        ),
    };
    writer
        .flush()
        .with_context(|| format!("{}", args.out.display()))?;
    println!(
        "wrote {} lines ({} facts, {} children) to {} in {:.2} s",
        stats.lines,
        stats.facts,
        stats.children,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    if args.messy {
        println!(
            "noise: {} duplicates, {} revisions, {} voided extras, {} malformed lines",
            stats.noise_duplicates,
            stats.noise_revisions,
            stats.noise_voided,
            stats.noise_malformed
        );
    }
    if let Some((dir, returns)) = returns {
        println!(
            "returns: collection years {:?}, {} episode rows, {} CIN episodes, {} children, in {}",
            returns.years,
            returns.episodes,
            returns.cin_episodes,
            returns.children,
            dir.display()
        );
    }
    Ok(())
}

/// Serves the HTTP endpoints over a replayed state until SIGINT or SIGTERM.
fn serve_until_signal(shared: ragline::live::Shared) -> Result<()> {
    let listen = shared
        .engine
        .lock()
        .expect("not shared yet")
        .config()
        .http
        .listen
        .clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("listening on {listen} (http.listen)"))?;
        eprintln!("ragline: serving /metrics and /scorecard on http://{listen}");
        ragline::sink::http::serve(listener, shared, async {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        })
        .await
        .context("serving HTTP")
    })
}

/// Appends `value` to `out` as indented JSON and a line break.
fn pretty(value: &impl serde::Serialize, out: &mut Vec<u8>) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.push(b'\n');
    Ok(())
}

/// Most months one `report` writes (a century of month ends).
const REPORT_MONTHS_MAX: usize = 1200;

/// The months of `--month`: one (`YYYY-MM`) or an inclusive range
/// (`YYYY-MM..YYYY-MM`), in order.
fn report_months(text: &str) -> Result<Vec<Month>> {
    let parse = |part: &str| {
        Month::parse(part).with_context(|| {
            format!("--month: '{part}' is not a month (YYYY-MM) or a range (YYYY-MM..YYYY-MM)")
        })
    };
    let (first, last) = match text.split_once("..") {
        Some((first, last)) => (parse(first)?, parse(last)?),
        None => {
            let month = parse(text)?;
            (month, month)
        }
    };
    if last < first {
        bail!("--month: the range {text} ends before it starts");
    }
    if first.plus(REPORT_MONTHS_MAX as i32) <= last {
        bail!("--month: the range {text} spans more than {REPORT_MONTHS_MAX} months");
    }
    let mut months = Vec::new();
    let mut month = first;
    while month <= last {
        months.push(month);
        month = month.plus(1);
    }
    Ok(months)
}

fn report_command(args: ReportArgs) -> Result<()> {
    let config = load_config(&args.config)?;
    let months = report_months(&args.month)?;
    let ranged = args.month.contains("..");
    if ranged && args.out_dir.is_none() {
        bail!(
            "--month {}: a range of months needs --out-dir DIR (one file per month)",
            args.month
        );
    }
    if !ranged && args.out_dir.is_some() {
        bail!("--out-dir: give a range of months (YYYY-MM..YYYY-MM), or --out for one month");
    }
    let unit = match args.unit.as_deref() {
        Some(id) => Some(
            config
                .unit_by_id(id)
                .with_context(|| format!("--unit: '{id}' is not a configured unit"))?,
        ),
        None => None,
    };
    let _ = args.all_units;
    let policy = &config.disclosure;
    if args.published {
        policy.check_enabled(ragline::disclosure::Output::Report)?;
        if args.view != View::Scorecard {
            bail!("--published: only the scorecard view has a published form");
        }
    }
    let pack_view = match args.view {
        View::Exceptions => Some(ragline::pack::View::Exceptions),
        View::Movement => Some(ragline::pack::View::Movement),
        View::Scorecard | View::UascImpact => None,
    };
    if pack_view.is_none() && args.format == Format::Markdown {
        bail!("--format markdown: only the exceptions and movement views have a Markdown form");
    }
    let since = match args.since.as_deref() {
        Some(text) => Some(
            Month::parse(text)
                .with_context(|| format!("--since: '{text}' is not a month (YYYY-MM)"))?,
        ),
        None => None,
    };
    let engine = Engine::open(config.clone(), &args.state, Mode::Replay)?;
    let reader = engine.reader();
    let past =
        ragline::history::Past::new(ragline::history::Span::starting(engine.clock().first_month));
    let span = past.span;
    let units = match unit {
        Some(unit) => vec![unit],
        None => config.unit_indices(),
    };
    let markdown_refused = || {
        anyhow::anyhow!(
            "--format markdown: only the exceptions and movement views have a Markdown form"
        )
    };
    // The commentary of every unit reported, read once for all months.
    let shelf = match args.view {
        View::Scorecard => ragline::pack::commentary::Shelf::of_units(engine.store(), &units)?,
        _ => ragline::pack::commentary::Shelf::default(),
    };
    // A report is rendered into a buffer its caller reuses: a month's
    // report is megabytes, and growing it in fresh memory for every month
    // took a tenth of a ranged report's time.
    let render = |month: Month, past: &ragline::history::Past, out: &mut Vec<u8>| -> Result<()> {
        out.clear();
        let text = match args.view {
            View::Exceptions | View::Movement => {
                let format = match args.format {
                    Format::Json => ragline::pack::Format::Json,
                    Format::Html => ragline::pack::Format::Html,
                    Format::Markdown => ragline::pack::Format::Markdown,
                    Format::Csv => {
                        bail!("--format csv: the committee pack views are json, html or markdown")
                    }
                };
                let request = ragline::pack::Request {
                    view: pack_view.context("a pack view")?,
                    month,
                    since,
                    unit,
                    include_amber: args.include_amber,
                    trend: args.trend,
                    format,
                };
                ragline::pack::render_report(&reader, engine.store(), &engine.clock(), &request)?
            }
            View::Scorecard if args.published => {
                use ragline::disclosure::render;
                match args.format {
                    Format::Json => {
                        return pretty(
                            &render::report_json(&reader, policy, span, &shelf, &units, month)?,
                            out,
                        );
                    }
                    Format::Csv => render::report_csv(&reader, policy, span, &units, month)?,
                    Format::Html => {
                        render::report_html(&reader, policy, span, &shelf, &units, month)?
                    }
                    Format::Markdown => return Err(markdown_refused()),
                }
            }
            View::Scorecard => match args.format {
                Format::Json => {
                    return pretty(
                        &report::FullReport {
                            reader: &reader,
                            past,
                            shelf: &shelf,
                            units: &units,
                            month,
                        },
                        out,
                    );
                }
                Format::Csv => report::report_csv(&reader, past, &units, month),
                Format::Html => report::report_html(&reader, past, &shelf, &units, month),
                Format::Markdown => return Err(markdown_refused()),
            },
            View::UascImpact => {
                let units = report::uasc_view_units(&reader, unit);
                match args.format {
                    Format::Json => {
                        return pretty(&report::uasc_view_json(&reader, &units, month), out);
                    }
                    Format::Csv => report::uasc_view_csv(&reader, &units, month),
                    Format::Html => report::uasc_view_html(&reader, &units, month),
                    Format::Markdown => return Err(markdown_refused()),
                }
            }
        };
        out.extend_from_slice(text.as_bytes());
        Ok(())
    };
    if let Some(directory) = &args.out_dir {
        std::fs::create_dir_all(directory)
            .with_context(|| format!("--out-dir {}", directory.display()))?;
        let extension = match args.format {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Markdown => "md",
        };
        // Months are independent: each core renders and writes its share.
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(months.len())
            .max(1);
        let share = months.len().div_ceil(threads);
        std::thread::scope(|scope| -> Result<()> {
            let workers: Vec<_> = months
                .chunks(share)
                .map(|chunk| {
                    let render = &render;
                    scope.spawn(move || -> Result<()> {
                        // Each thread has its own memo of past values.
                        let past = ragline::history::Past::new(span);
                        let mut text = Vec::new();
                        for &month in chunk {
                            let path = directory.join(format!("{month}.{extension}"));
                            render(month, &past, &mut text)?;
                            std::fs::write(&path, &text).with_context(|| {
                                format!("--out-dir: writing {}", path.display())
                            })?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for worker in workers {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            }
            Ok(())
        })?;
        return Ok(());
    }
    let mut text = Vec::new();
    render(months[0], &past, &mut text)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("--out {}", path.display()))?
        }
        None => std::io::stdout().write_all(&text)?,
    }
    Ok(())
}

fn anomalies(config: &Path, state: &Path, child: &str, la: Option<String>) -> Result<()> {
    let config = load_config(config)?;
    let la = la.unwrap_or_else(|| config.authorities[config.default_la.0 as usize].id.clone());
    let engine = Engine::open(config, state, Mode::Replay)?;
    match engine.child_anomalies(&la, child)? {
        None => bail!(
            "no child '{child}' of authority '{la}' in {}",
            state.display()
        ),
        Some(list) => {
            let rows: Vec<serde_json::Value> = list
                .iter()
                .map(|anomaly| {
                    serde_json::json!({
                        "reason": anomaly.reason.as_str(),
                        "event_id": anomaly.event_id,
                        "date": anomaly.date.to_string(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<()> {
    let config = load_config(&args.config)?;
    let fixed_today = match &args.today {
        Some(text) => Some(
            ragline::calendar::Date::parse(text)
                .with_context(|| format!("--today: '{text}' is not a date (YYYY-MM-DD)"))?,
        ),
        None => None,
    };
    if config.scale_out.enabled {
        return run_scaled_out(config, &args.state, fixed_today);
    }
    let listen = config.http.listen.clone();
    let shared = ragline::live::open(config, &args.state, Mode::Live)?;
    let options = ragline::live::LiveOptions {
        mode: Mode::Live,
        fixed_today,
        until_caught_up: false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let shutdown = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stop_http, mut http_stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(stop_on_signal(shutdown.clone(), stop_http.clone())?);
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("listening on {listen} (http.listen)"))?;
        eprintln!("ragline: serving /metrics, /healthz, /readyz, /scorecard on http://{listen}");
        let server = tokio::spawn(ragline::sink::http::serve(
            listener,
            shared.clone(),
            async move {
                let _ = http_stopped.changed().await;
            },
        ));
        let loop_shared = shared.clone();
        let flag = shutdown.clone();
        let result =
            tokio::task::spawn_blocking(move || ragline::live::run(&loop_shared, &options, &flag))
                .await
                .context("the processing loop panicked")?;
        let _ = stop_http.send(true);
        let _ = server.await;
        let summary = result?;
        eprintln!(
            "ragline: stopped after {} messages ({} applied, {} rejected), {} outputs delivered",
            summary.consumed, summary.applied, summary.rejected, summary.delivered
        );
        Ok(())
    })
}

/// Installs the SIGINT and SIGTERM handlers at once (inside a runtime), so
/// that a signal arriving from now on stops the loop cleanly; returns what
/// waits for one, then sets `flag` and tells `stop`.
fn stop_on_signal(
    flag: Arc<std::sync::atomic::AtomicBool>,
    stop: tokio::sync::watch::Sender<bool>,
) -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down: finishing the batch and flushing outputs");
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = stop.send(true);
    })
}

/// `ragline run` as one of several instances (`[scale_out] enabled`):
/// `/metrics`, `/healthz` and `/readyz` on `http.listen` (no scorecard
/// pages: each instance holds only its partitions' units).
fn run_scaled_out(
    config: Arc<ragline::config::Config>,
    state: &std::path::Path,
    fixed_today: Option<ragline::calendar::Date>,
) -> Result<()> {
    let shutdown = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (stop_http, mut http_stopped) = tokio::sync::watch::channel(false);
    let stopper = {
        let _inside = runtime.enter();
        stop_on_signal(shutdown.clone(), stop_http.clone())?
    };
    runtime.spawn(stopper);
    let telemetry = Arc::new(ragline::telemetry::Telemetry::new(&config));
    let progress = Arc::new(ragline::scale_out::ScaleOutProgress::default());
    let status = ragline::sink::http::Status {
        telemetry: telemetry.clone(),
        ready: progress.ready.clone(),
        http: Arc::new(config.http.clone()),
    };
    let listen = config.http.listen.clone();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&listen))
        .with_context(|| format!("listening on {listen} (http.listen)"))?;
    eprintln!(
        "ragline: serving /metrics, /healthz, /readyz on http://{}",
        listener
            .local_addr()
            .map_or(listen, |address| address.to_string())
    );
    let server = runtime.spawn(ragline::sink::http::serve_status(
        listener,
        status,
        async move {
            let _ = http_stopped.changed().await;
        },
    ));
    eprintln!(
        "ragline: one of several instances (scale_out): group {}, repartition topic {} ({} partitions)",
        config.kafka.group_id, config.scale_out.repartition_topic, config.scale_out.partitions
    );
    let options = ragline::scale_out::ScaleOutOptions {
        mode: Mode::Live,
        fixed_today,
        progress,
        telemetry: Some(telemetry),
    };
    let summary = std::thread::scope(|scope| {
        let handle =
            scope.spawn(|| ragline::scale_out::run(config.clone(), state, &options, &shutdown));
        // The runtime only waits for signals.
        while !handle.is_finished() {
            runtime.block_on(async {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            });
        }
        handle.join()
    })
    .map_err(|_| anyhow::anyhow!("the processing loop panicked"))?;
    let _ = stop_http.send(true);
    let _ = runtime.block_on(server);
    let summary = summary?;
    let owned: Vec<String> = summary
        .owned_at_stop
        .iter()
        .map(ToString::to_string)
        .collect();
    eprintln!(
        "ragline: stopped after routing {} messages ({} rejected) and applying {} records; {} outputs delivered; repartition partitions applied at stop: [{}]",
        summary.routed,
        summary.rejected,
        summary.applied,
        summary.delivered,
        owned.join(", ")
    );
    Ok(())
}
