//! The hand-computed cases of `hand/cases.rs`, answered by the real engine.

mod common;
#[allow(dead_code)]
mod model;
use common::engine::Harness;
use common::*;
use model::*;
use serde_json::json;

/// (num, den) from the engine, filter All, window R12M.
fn val(evs: &[serde_json::Value], ind: &str, unit: &str, date: &str) -> (f64, f64) {
    valw(evs, ind, UascFilter::All, unit, date, Window::R12M)
}

/// (num, den) from the engine: the events go through a fresh state, in
/// batches of 3 so that re-folds across batches are exercised too.
fn valw(
    evs: &[serde_json::Value],
    ind: &str,
    f: UascFilter,
    unit: &str,
    date: &str,
    w: Window,
) -> (f64, f64) {
    let harness = Harness::new(&cfg(), evs, 3);
    harness.value(ind, f, unit, d(date), w)
}

include!("hand/cases.rs");
