//! The committee pack (`docs/committee-pack.md`): what follows the scorecard
//! when it goes to members.
//!
//! - `exceptions`: one page per indicator rated red (optionally amber) at a
//!   month end for a unit: a trend table over the last month ends, the data
//!   notes, the units beneath it that are red, the cases outside the standard
//!   and the value with the other UASC treatment;
//! - `movement`: every indicator and unit whose RAG band differs between two
//!   month ends, with both readings and whether the earlier month's figures
//!   were restated after it closed;
//! - `notes`: the data-note sentences (target and bandings in words,
//!   tolerance, period, data source), generated from the configuration and
//!   the indicator definition;
//! - `render`: JSON, HTML and Markdown of both views.
//!
//! Every figure comes from [`crate::scorecard::Reader`] over the state, so a
//! page agrees with `report --view scorecard` for the same month.

pub mod commentary;
pub mod exceptions;
pub mod movement;
pub mod notes;
pub mod render;

use crate::calendar::Month;
use crate::config::UnitIdx;
use crate::scorecard::Reader;

/// Errors of the committee pack views.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// `--since` is not before `--month`.
    #[error("--since: {since} is not before --month {month}")]
    SinceNotBefore {
        /// The earlier month asked for.
        since: Month,
        /// The month of the view.
        month: Month,
    },
    /// The movement view needs `--since`.
    #[error("--since: the movement view compares two month ends; give --since YYYY-MM")]
    SinceRequired,
    /// `--trend` out of range.
    #[error("--trend: {0} is not from 1 to 36 month ends")]
    Trend(u32),
    /// The commentary of a unit could not be read.
    #[error("reading commentary from the state: {detail}")]
    Commentary {
        /// What went wrong.
        detail: String,
    },
    /// The stored record of a closed month could not be read.
    #[error("reading the recorded month {month} from the state: {detail}")]
    Recorded {
        /// The month.
        month: Month,
        /// What went wrong.
        detail: String,
    },
}

/// Which pack view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// One page per red (or amber) indicator.
    Exceptions,
    /// RAG bands that moved between two month ends.
    Movement,
}

/// Output formats of the pack views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON (exact figures).
    Json,
    /// HTML pages.
    Html,
    /// Markdown.
    Markdown,
}

/// A pack report as asked on the command line.
#[derive(Clone, Debug)]
pub struct Request {
    /// Which view.
    pub view: View,
    /// The month end.
    pub month: Month,
    /// The earlier month end (`--since`).
    pub since: Option<Month>,
    /// One unit; `None`: each authority's root for exceptions, every unit
    /// for movement.
    pub unit: Option<UnitIdx>,
    /// Amber indicators get an exception page too.
    pub include_amber: bool,
    /// Month ends in the trend table; `None`: `[pack] trend_months`.
    pub trend: Option<u32>,
    /// The format.
    pub format: Format,
}

/// Renders a pack view over the state: `store` and `clock` are the engine's
/// (the movement view reads the recorded closed months).
pub fn render_report(
    reader: &Reader,
    store: &crate::store::Store,
    clock: &crate::pipeline::Clock,
    request: &Request,
) -> Result<String, PackError> {
    match request.view {
        View::Exceptions => {
            let options = exceptions::ExceptionOptions {
                month: request.month,
                units: match request.unit {
                    Some(unit) => vec![unit],
                    None => default_units(reader),
                },
                include_amber: request.include_amber,
                since: request.since,
                trend: request.trend.unwrap_or(reader.config.pack.trend_months),
            };
            let pages = exceptions::pages(reader, Some(store), &options)?;
            Ok(match request.format {
                Format::Json => pretty(&render::exceptions_json(reader, &options, &pages)),
                Format::Html => render::exceptions_html(reader, &options, &pages),
                Format::Markdown => render::exceptions_markdown(reader, &options, &pages),
            })
        }
        View::Movement => {
            let since = request.since.ok_or(PackError::SinceRequired)?;
            let units = match request.unit {
                Some(unit) => vec![unit],
                None => reader.config.unit_indices(),
            };
            let list = movement::movements(reader, store, clock, &units, since, request.month)?;
            Ok(match request.format {
                Format::Json => pretty(&render::movement_json(reader, since, request.month, &list)),
                Format::Html => render::movement_html(reader, since, request.month, &list),
                Format::Markdown => render::movement_markdown(reader, since, request.month, &list),
            })
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The units a pack view covers when no `--unit` is given: each authority's
/// root.
pub fn default_units(reader: &Reader) -> Vec<UnitIdx> {
    reader
        .config
        .authorities
        .iter()
        .map(|authority| authority.root)
        .collect()
}

/// Every unit below `unit` (not `unit` itself), depth first in
/// configuration order.
pub fn units_beneath(reader: &Reader, unit: UnitIdx) -> Vec<UnitIdx> {
    let mut out = Vec::new();
    let mut stack: Vec<UnitIdx> = reader
        .config
        .unit(unit)
        .children
        .iter()
        .rev()
        .copied()
        .collect();
    while let Some(next) = stack.pop() {
        out.push(next);
        stack.extend(reader.config.unit(next).children.iter().rev().copied());
    }
    out
}
