//! The real engine behind the same questions the model answers: events in,
//! (num, den) out, through decode, ledger, fold, contributions, series and
//! RocksDB.

use crate::model::{Model, ModelConfig, UascFilter, Window, ALL_INDICATORS};
use chrono::NaiveDate;
use ragline::calendar::{Date, Window as EngineWindow};
use ragline::config::Config;
use ragline::event::RawMessage;
use ragline::indicators::REGISTRY;
use ragline::pipeline::{BatchOutcome, Engine, Mode};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Configuration text for a model unit tree: every catalogue indicator three
/// times (all children, excluding UASC, UASC only).
pub fn config_text(cfg: &ModelConfig) -> String {
    let root = cfg
        .units
        .iter()
        .find(|unit| unit.parent.is_none())
        .expect("a root");
    let mut text = String::new();
    let _ = writeln!(
        text,
        "[[authority]]\nid = \"test\"\nname = \"Test\"\nroot = \"{}\"\n",
        root.id
    );
    for unit in &cfg.units {
        let _ = writeln!(
            text,
            "[[unit]]\nid = \"{}\"\nname = \"{}\"\nkind = \"{}\"",
            unit.id, unit.id, unit.kind
        );
        if let Some(parent) = &unit.parent {
            let _ = writeln!(text, "parent = \"{parent}\"");
        }
        text.push('\n');
    }
    for indicator in REGISTRY {
        for (suffix, filter) in [("", "all"), ("~EXC", "exclude"), ("~ONLY", "only")] {
            let _ = writeln!(
                text,
                "[[indicator]]\nid = \"{}{suffix}\"\nbase = \"{}\"\nuasc = \"{filter}\"\n",
                indicator.id, indicator.id
            );
        }
    }
    let holidays: Vec<String> = cfg
        .bank_holidays
        .iter()
        .map(|day| format!("\"{day}\""))
        .collect();
    let _ = writeln!(
        text,
        "[calendar]\nbank_holidays = [{}]",
        holidays.join(", ")
    );
    text
}

/// An engine fed with events, over a temporary state directory.
pub struct Harness {
    pub engine: Engine,
    _directory: tempfile::TempDir,
}

impl Harness {
    /// Builds the engine and feeds `events` in order, `batch` messages per commit.
    pub fn new(cfg: &ModelConfig, events: &[Value], batch: usize) -> Harness {
        let config =
            Config::parse(&config_text(cfg), Path::new("test.toml")).expect("test config parses");
        let directory = tempfile::tempdir().expect("temporary directory");
        let engine =
            Engine::open(Arc::new(config), directory.path(), Mode::Replay).expect("engine opens");
        let mut harness = Harness {
            engine,
            _directory: directory,
        };
        harness.feed(events, batch);
        harness
    }

    /// Feeds more events.
    pub fn feed(&mut self, events: &[Value], batch: usize) -> BatchOutcome {
        let messages = RawMessage::file_lines("test", events.iter().map(|event| event.to_string()));
        let mut total = BatchOutcome::default();
        for chunk in messages.chunks(batch.max(1)) {
            let outcome = self.engine.run_batch(chunk, None).expect("batch commits");
            assert!(
                outcome.rejected.is_empty(),
                "test events rejected {:?}: {:?}",
                outcome.rejected,
                String::from_utf8_lossy(&chunk[0].bytes)
            );
            total.applied += outcome.applied;
        }
        total
    }

    /// (num, den) in reported units, like the model's `ModelValue`.
    pub fn value(
        &self,
        indicator: &str,
        filter: UascFilter,
        unit: &str,
        date: NaiveDate,
        window: Window,
    ) -> (f64, f64) {
        let suffix = match filter {
            UascFilter::All => "",
            UascFilter::Exclude => "~EXC",
            UascFilter::Only => "~ONLY",
        };
        let reader = self.engine.reader();
        let slot = self
            .engine
            .catalogue()
            .slot_of(&format!("{indicator}{suffix}"))
            .unwrap_or_else(|| panic!("no slot for {indicator}"));
        let unit = self.engine.config().unit_by_id(unit).expect("a test unit");
        let window = match window {
            Window::R12M => EngineWindow::R12M,
            Window::R3M => EngineWindow::R3M,
            Window::Ytd => EngineWindow::Ytd,
            Window::M => EngineWindow::M,
            Window::Ss => EngineWindow::Ss,
        };
        let reading = reader.reading(slot, unit, Date::from_naive(date), window);
        let def = reader.def(slot);
        let den = if def.query == ragline::indicators::Query::Population {
            0.0
        } else {
            reading.den as f64 / def.den_scale as f64
        };
        (reading.num as f64 / def.num_scale as f64, den)
    }
}

const UNITS: &[&str] = &["la", "north", "south", "n-cswt", "n-cic", "s-cswt", "s-cic"];

/// Every indicator at every month end of 2015-2019 and every unit equals
/// the model over `facts`.
pub fn assert_equals_model(engine: &Engine, facts: &[Value]) {
    let model = Model::new(&crate::common::cfg(), facts);
    let reader = engine.reader();
    for year in 2015..=2019 {
        for month in 1..=12 {
            let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
            let date = first
                .checked_add_months(chrono::Months::new(1))
                .unwrap()
                .pred_opt()
                .unwrap();
            for indicator in ALL_INDICATORS {
                let slot = engine.catalogue().slot_of(indicator).unwrap();
                let def = reader.def(slot);
                let window = if def.is_flow() {
                    (Window::R12M, EngineWindow::R12M)
                } else {
                    (Window::Ss, EngineWindow::Ss)
                };
                for unit in UNITS {
                    let expected = model.value(indicator, UascFilter::All, unit, date, window.0);
                    let reading = reader.reading(
                        slot,
                        engine.config().unit_by_id(unit).unwrap(),
                        Date::from_naive(date),
                        window.1,
                    );
                    let num = reading.num as f64 / def.num_scale as f64;
                    let den = if def.query == ragline::indicators::Query::Population {
                        0.0
                    } else {
                        reading.den as f64 / def.den_scale as f64
                    };
                    assert!(
                        (expected.num - num).abs() < 1e-6 && (expected.den - den).abs() < 1e-6,
                        "{indicator} {unit} {date}: model {:?}, engine {:?}",
                        (expected.num, expected.den),
                        (num, den)
                    );
                }
            }
        }
    }
}

/// The engine's raw readings over the grid of [`assert_equals_model`]: for
/// comparing two engines (or one engine before and after reopening) cheaply.
pub fn readings(engine: &Engine) -> Vec<(i64, i64)> {
    let reader = engine.reader();
    let mut out = Vec::new();
    for year in 2015..=2019 {
        for month in 1..=12 {
            let date = ragline::calendar::Month::new(year, month)
                .unwrap()
                .last_day();
            for indicator in ALL_INDICATORS {
                let slot = engine.catalogue().slot_of(indicator).unwrap();
                let window = if reader.def(slot).is_flow() {
                    EngineWindow::R12M
                } else {
                    EngineWindow::Ss
                };
                for unit in UNITS {
                    let unit = engine.config().unit_by_id(unit).unwrap();
                    let reading = reader.reading(slot, unit, date, window);
                    out.push((reading.num, reading.den));
                }
            }
        }
    }
    out
}

/// Every key and value of one column family of an engine's state, in key
/// order (for byte-for-byte comparisons of two states).
pub fn family_records(engine: &Engine, family: ragline::store::Family) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut records = Vec::new();
    engine
        .store()
        .for_each(family, |key, value| {
            records.push((key.to_vec(), value.to_vec()));
            true
        })
        .unwrap();
    records
}

/// The month-end scorecard of every unit, as JSON, for every closed month.
pub fn closed_month_scorecards(engine: &Engine) -> Vec<String> {
    let clock = engine.clock();
    let (Some(first), Some(last)) = (clock.first_month, clock.last_closed) else {
        return Vec::new();
    };
    let reader = engine.reader();
    let units = engine.config().unit_indices();
    let mut month = first;
    let mut out = Vec::new();
    while month <= last {
        out.push(ragline::report::report_json(&reader, &units, month).to_string());
        month = month.plus(1);
    }
    out
}
