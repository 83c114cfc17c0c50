//! Criterion micro-benchmarks of the engine's hot paths (part of the benchmark
//! suite, `bench/README.md`):
//! decoding one event, one batch of a small history through `run_batch`,
//! one unit's month-end scorecard, and working-day arithmetic.
//!
//! `cargo bench --bench engine` (add `-- --quick` for a short run).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ragline::calendar::{Date, Month};
use ragline::config::Config;
use ragline::event::{Decoder, RawMessage};
use ragline::generate::{generate, GenOptions, GenUnit, Scale};
use ragline::pipeline::{Engine, Mode};
use std::hint::black_box;
use std::sync::Arc;

fn config() -> Arc<Config> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml");
    Arc::new(Config::load(std::path::Path::new(path)).expect("config/kent.toml loads"))
}

/// A small clean history (JSON Lines) of `months` months.
fn history(config: &Config, months: u32) -> Vec<RawMessage> {
    let leaves = GenUnit::leaves_of(config);
    let options = GenOptions {
        seed: 7,
        start: ragline::calendar::Date::from_ymd(2016, 4, 1).expect("a date"),
        months,
        scale: Scale::Small,
        messy: false,
    };
    let mut bytes = Vec::new();
    generate(&options, &leaves, &mut bytes).expect("generating into memory");
    RawMessage::file_lines(
        "bench",
        bytes
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty()),
    )
}

fn decode(c: &mut Criterion) {
    let config = config();
    let decoder = Decoder::new(&config, None);
    let line = br#"{"event_id":"v-0003","type":"referral","child_id":"c-1001","date":"2017-01-03","unit":"dartford-cswt","la":"kent","recorded_at":"2017-01-03T10:00:00+00:00"}"#;
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("referral", |b| {
        b.iter(|| decoder.decode(black_box(line)).expect("valid"))
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(line)).expect("valid"))
    });
    group.finish();
}

fn run_batch(c: &mut Criterion) {
    let config = config();
    let messages = history(&config, 6);
    let mut group = c.benchmark_group("run_batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function(format!("small_6_months_{}_events", messages.len()), |b| {
        b.iter_batched(
            || {
                let directory = tempfile::tempdir().expect("a temporary directory");
                let engine = Engine::open(config.clone(), directory.path(), Mode::Replay)
                    .expect("a fresh state");
                (directory, engine)
            },
            |(directory, mut engine)| {
                for batch in messages.chunks(config.processing.batch_max_events.max(1)) {
                    engine.run_batch(batch, None).expect("the batch commits");
                }
                (directory, engine)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn scorecard(c: &mut Criterion) {
    let config = config();
    let messages = history(&config, 14);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut engine =
        Engine::open(config.clone(), directory.path(), Mode::Replay).expect("a fresh state");
    engine
        .run_batch(&messages, None)
        .expect("the batch commits");
    let reader = engine.reader();
    let month = Month::parse("2017-03").expect("a month");
    let root = config.root_of(config.default_la);
    let units = config.unit_indices();
    let mut group = c.benchmark_group("scorecard");
    group.bench_function("one_unit_month_json", |b| {
        b.iter(|| {
            let rows = ragline::report::unit_rows(&reader, black_box(root), month);
            ragline::report::unit_json(&reader, &rows)
        })
    });
    group.bench_function("all_units_month_json", |b| {
        b.iter(|| ragline::report::report_json(&reader, black_box(&units), month))
    });
    group.finish();
}

fn calendar(c: &mut Criterion) {
    let config = config();
    let start = Date::parse("2017-12-20").expect("a date");
    let mut group = c.benchmark_group("calendar");
    group.bench_function("add_20_working_days", |b| {
        b.iter(|| config.calendar.add_working_days(black_box(start), 20))
    });
    group.bench_function("add_months_clamped", |b| {
        b.iter(|| black_box(Date::parse("2016-01-31").expect("a date")).add_months(13))
    });
    group.finish();
}

criterion_group!(benches, decode, run_batch, scorecard, calendar);
criterion_main!(benches);
