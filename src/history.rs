//! What a scorecard row shows of the months before it
//! (`docs/scorecard.md`, "Trend, outturn and benchmarks"): the values at the
//! last seven month ends, the previous financial year's outturn and the
//! configured benchmarks.
//!
//! Every value is read as the scorecard of its own month reads it
//! ([`Reader::evaluate`] at that month end over the indicator's window), or
//! in the published forms as that month's published scorecard shows it
//! ([`Publisher::evaluate`]). Months before the history starts (the month
//! of the earliest event the state has seen) have no value: not zero.

use crate::calendar::{Date, FinancialYear, Month};
use crate::config::{BenchmarkSet, UnitIdx};
use crate::contrib::Slot;
use crate::disclosure::table::Publisher;
use crate::disclosure::{DisclosureError, Published};
use crate::indicators::{Indicator, Kind};
use crate::json_object::{self, array, Field, Fields, Object, Text};
use crate::report::{decimal_text, escape};
use crate::scorecard::{decimal_json, Ratio, Reader};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt::Write as _;

/// Month ends in the trend: the row's month and the six before it.
pub const TREND_MONTHS: i32 = 7;

/// Where the history starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// The month of the earliest event date seen; `None` before any event.
    pub first_month: Option<Month>,
}

impl Span {
    /// A history starting in `first_month` (the clock's).
    pub fn starting(first_month: Option<Month>) -> Span {
        Span { first_month }
    }

    /// Whether `month` is within the history.
    pub fn holds(self, month: Month) -> bool {
        self.first_month.is_some_and(|first| month >= first)
    }
}

/// Where the history starts, with the month-end values read so far: the
/// reports of a range of months read each month end up to eight times
/// (seven trends and an outturn), and read it once.
#[derive(Debug, Default)]
pub struct Past {
    /// Where the history starts.
    pub span: Span,
    memo: RefCell<FxHashMap<(Slot, UnitIdx, Date), Option<Ratio>>>,
}

impl Past {
    /// Nothing read yet, the history starting as `span` says.
    pub fn new(span: Span) -> Past {
        Past {
            span,
            memo: RefCell::default(),
        }
    }

    /// The value of `slot` at `unit` as at `date` over its window, as the
    /// scorecard of `date`'s month reads it.
    fn value(&self, reader: &Reader, slot: Slot, unit: UnitIdx, date: Date) -> Option<Ratio> {
        if let Some(value) = self.memo.borrow().get(&(slot, unit, date)) {
            return *value;
        }
        let value = reader
            .evaluate(slot, unit, date, reader.def(slot).window)
            .value;
        self.memo.borrow_mut().insert((slot, unit, date), value);
        value
    }
}

/// One point of a trend or the outturn: a month, the date it is read at,
/// and its value (`None` before the history starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point<V> {
    /// The month.
    pub month: Month,
    /// The date read: the month end, or the row's date in its own month.
    pub date: Date,
    /// The value; `None` before the history starts.
    pub value: Option<V>,
}

/// The previous financial year's outturn: its value at the end of March.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outturn<V> {
    /// The previous financial year.
    pub year: FinancialYear,
    /// Its value at the end of its March.
    pub point: Point<V>,
}

/// The trend and outturn of one row. `V` is `Option<Ratio>` for exact rows
/// (`None`: no data) and `Published<Ratio>` for published ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowHistory<V> {
    /// Oldest first, ending with the row's own month.
    pub trend: Vec<Point<V>>,
    /// The previous financial year's outturn.
    pub outturn: Outturn<V>,
}

/// The trend's months and the date each is read at, oldest first: the
/// month ends of the six months before `date`'s month, then `date` itself
/// (the month end in a month-end scorecard, the current date on a live page).
pub fn trend_dates(date: Date) -> Vec<(Month, Date)> {
    let month = date.month();
    (0..TREND_MONTHS)
        .rev()
        .map(|back| {
            let at = month.plus(-back);
            (at, if back == 0 { date } else { at.last_day() })
        })
        .collect()
}

/// The financial year before `date`'s, and the March that ends it: for any
/// date from April 2017 to March 2018, 2016-17 and March 2017.
pub fn previous_year(date: Date) -> (FinancialYear, Month) {
    let year = date.financial_year();
    (
        FinancialYear(year.0 - 1),
        Month::new(year.0, 3).expect("March is a month"),
    )
}

/// The history of an exact row of `slot` at `unit` as at `date`.
pub fn exact(
    reader: &Reader,
    past: &Past,
    slot: Slot,
    unit: UnitIdx,
    date: Date,
) -> RowHistory<Option<Ratio>> {
    let point = |month: Month, at: Date| Point {
        month,
        date: at,
        value: past
            .span
            .holds(month)
            .then(|| past.value(reader, slot, unit, at)),
    };
    let (year, march) = previous_year(date);
    RowHistory {
        trend: trend_dates(date)
            .into_iter()
            .map(|(month, at)| point(month, at))
            .collect(),
        outturn: Outturn {
            year,
            point: point(march, march.last_day()),
        },
    }
}

/// The history of a published row: every value as the published scorecard
/// of its month shows it.
pub fn published(
    publisher: &mut Publisher,
    span: Span,
    def: &Indicator,
    slot: Slot,
    unit: UnitIdx,
    date: Date,
) -> Result<RowHistory<Published<Ratio>>, DisclosureError> {
    let window = def.window;
    let mut point = |month: Month, at: Date| -> Result<Point<Published<Ratio>>, DisclosureError> {
        Ok(Point {
            month,
            date: at,
            value: if span.holds(month) {
                Some(publisher.evaluate(slot, unit, at, window)?.value)
            } else {
                None
            },
        })
    };
    let mut trend = Vec::with_capacity(TREND_MONTHS as usize);
    for (month, at) in trend_dates(date) {
        trend.push(point(month, at)?);
    }
    let (year, march) = previous_year(date);
    Ok(RowHistory {
        trend,
        outturn: Outturn {
            year,
            point: point(march, march.last_day())?,
        },
    })
}

/// The benchmarks of `slot` for a row as at `date` (decision D39).
pub fn benchmarks<'r>(reader: &'r Reader, slot: Slot, date: Date) -> Option<BenchmarkSet<'r>> {
    reader.config.benchmarks.for_year(
        &reader.catalogue.slots[slot as usize].id,
        date.financial_year(),
    )
}

/// A benchmark as shown: as configured, with at least one decimal place and
/// `%` for percentages; a whole number for counts given as one.
pub fn benchmark_text(def: &Indicator, value: Decimal) -> String {
    let text = if def.kind == Kind::Count && value.fract().is_zero() {
        value.normalize().to_string()
    } else {
        decimal_text(value)
    };
    if def.kind == Kind::Percent {
        format!("{text}%")
    } else {
        text
    }
}

/// Short month label (`Jun 2017`).
pub fn month_label(month: Month) -> String {
    crate::pack::notes::month_label(month)
}

/// Sparkline width and height, in pixels.
const SPARK_WIDTH: f64 = 80.0;
const SPARK_HEIGHT: f64 = 20.0;

/// A small inline SVG line of the trend, no script or outside asset:
/// `points` are (label, value to plot, value as shown), oldest first; a
/// point without a value breaks the line. The last point is marked, and
/// the `<title>` lists every month and value as shown.
pub fn sparkline(points: &[(String, Option<f64>, String)]) -> String {
    let values: Vec<f64> = points.iter().filter_map(|(_, value, _)| *value).collect();
    let title: Vec<String> = points
        .iter()
        .map(|(label, _, shown)| format!("{label}: {shown}"))
        .collect();
    let mut out = format!(
        "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{SPARK_WIDTH}\" height=\"{SPARK_HEIGHT}\" viewBox=\"0 0 {SPARK_WIDTH} {SPARK_HEIGHT}\" role=\"img\"><title>{}</title>",
        escape(&title.join(", "))
    );
    if values.is_empty() {
        out.push_str("</svg>");
        return out;
    }
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let step = (SPARK_WIDTH - 8.0) / (points.len().max(2) - 1) as f64;
    let position = |index: usize, value: f64| {
        let x = 4.0 + step * index as f64;
        let y = if high > low {
            SPARK_HEIGHT - 3.0 - (value - low) / (high - low) * (SPARK_HEIGHT - 6.0)
        } else {
            SPARK_HEIGHT / 2.0
        };
        (x, y)
    };
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (index, (_, value, _)) in points.iter().enumerate() {
        match value {
            Some(value) => segments
                .last_mut()
                .expect("a segment")
                .push(position(index, *value)),
            None => segments.push(Vec::new()),
        }
    }
    for segment in segments.iter().filter(|segment| !segment.is_empty()) {
        if segment.len() == 1 {
            let (x, y) = segment[0];
            let _ = write!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"1.2\" fill=\"#1f3864\"/>"
            );
        } else {
            let coordinates: Vec<String> = segment
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f3864\" stroke-width=\"1.5\"/>",
                coordinates.join(" ")
            );
        }
    }
    if let Some((last, value)) = points
        .iter()
        .enumerate()
        .rev()
        .find_map(|(index, (_, value, _))| value.map(|value| (index, value)))
    {
        let (x, y) = position(last, value);
        let _ = write!(
            out,
            "<circle class=\"last\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2\" fill=\"#1f3864\"/>"
        );
    }
    out.push_str("</svg>");
    out
}

/// How a row's values are rendered, exact (`Option<Ratio>`, `None`: no
/// data) or published (`Published<Ratio>`).
pub trait Shown: Copy {
    /// As JSON: the report's value (unrounded exact, decision D27; at its
    /// shown precision published, decision D28), or a symbol.
    fn json(self, def: &Indicator) -> Value;
    /// As shown in CSV and HTML (`22.0%`, `-`, `c`).
    fn text(self, def: &Indicator) -> String;
    /// The value to plot, if any.
    fn plot(self) -> Option<f64>;
}

impl Shown for Option<Ratio> {
    fn json(self, def: &Indicator) -> Value {
        crate::scorecard::value_json(def, self)
    }
    fn text(self, def: &Indicator) -> String {
        crate::scorecard::value_text(def, self)
    }
    fn plot(self) -> Option<f64> {
        self.map(plotted)
    }
}

impl Shown for Published<Ratio> {
    fn json(self, def: &Indicator) -> Value {
        crate::disclosure::render::value_json(def, self)
    }
    fn text(self, def: &Indicator) -> String {
        crate::disclosure::render::value_str(def, self)
    }
    fn plot(self) -> Option<f64> {
        self.shown().map(plotted)
    }
}

/// A point's `month` and `value`.
struct PointFields<'a, V> {
    def: &'a Indicator,
    point: &'a Point<V>,
}

impl<V: Shown> Fields for PointFields<'_, V> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("month", &Text(self.point.month))?;
        map.serialize_entry(
            "value",
            &self
                .point
                .value
                .map_or(Value::Null, |value| value.json(self.def)),
        )
    }
}

/// A row's `trend`, `previous_outturn` and `benchmark`.
pub struct HistoryFields<'r, 'c, V> {
    /// Reads the configuration's benchmark comparators.
    pub reader: &'r Reader<'c>,
    /// The row's indicator.
    pub def: &'r Indicator,
    /// The row's history.
    pub history: &'r RowHistory<V>,
    /// The row's benchmark figures, if any.
    pub benchmark: Option<BenchmarkSet<'r>>,
}

impl<V: Shown> Fields for HistoryFields<'_, '_, V> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let def = self.def;
        map.serialize_entry(
            "trend",
            &array(&self.history.trend, |point| {
                Object(PointFields { def, point })
            }),
        )?;
        let outturn = &self.history.outturn;
        map.serialize_entry(
            "previous_outturn",
            &Object((
                Field("year", Text(outturn.year)),
                PointFields {
                    def,
                    point: &outturn.point,
                },
            )),
        )?;
        let values: Vec<(&str, Value)> = self.benchmark.map_or_else(Vec::new, |set| {
            self.reader
                .config
                .benchmarks
                .comparators
                .iter()
                .zip(set.values)
                .map(|(name, value)| (name.as_str(), value.map_or(Value::Null, decimal_json)))
                .collect()
        });
        map.serialize_entry(
            "benchmark",
            &self.benchmark.map(|set| {
                Object((
                    Field("year", Text(set.year)),
                    Field(
                        "values",
                        array(&values, |(name, value)| {
                            Object((Field("name", *name), Field("value", value)))
                        }),
                    ),
                ))
            }),
        )
    }
}

/// Adds `trend`, `previous_outturn` and `benchmark` to a row's JSON object.
pub fn json_fields<V: Shown>(
    reader: &Reader,
    def: &Indicator,
    history: &RowHistory<V>,
    benchmark: Option<BenchmarkSet>,
    object: &mut Map<String, Value>,
) {
    json_object::extend(
        object,
        HistoryFields {
            reader,
            def,
            history,
            benchmark,
        },
    );
}

/// The names of the CSV columns appended after the scorecard's own (not
/// yet quoted): the trend from
/// `trend_m6` (six months before) to `trend_m0` (the month), the previous
/// outturn's year and value, the benchmark year and one column per
/// comparator.
pub fn csv_header(reader: &Reader) -> Vec<String> {
    let mut columns: Vec<String> = (0..TREND_MONTHS)
        .rev()
        .map(|back| format!("trend_m{back}"))
        .collect();
    columns.extend(
        [
            "previous_outturn_year",
            "previous_outturn",
            "benchmark_year",
        ]
        .map(String::from),
    );
    for name in &reader.config.benchmarks.comparators {
        columns.push(format!("benchmark_{name}"));
    }
    columns
}

/// The number of columns [`csv_header`] adds.
pub fn csv_columns(reader: &Reader) -> usize {
    TREND_MONTHS as usize + 3 + reader.config.benchmarks.comparators.len()
}

/// A row's appended CSV fields (not yet quoted): a month before the history
/// is empty, a month without data `-`.
pub fn csv_fields<V: Shown>(
    reader: &Reader,
    def: &Indicator,
    history: &RowHistory<V>,
    benchmark: Option<BenchmarkSet>,
) -> Vec<String> {
    let text = |point: &Point<V>| point.value.map(|value| value.text(def)).unwrap_or_default();
    let mut fields: Vec<String> = history.trend.iter().map(text).collect();
    fields.push(history.outturn.year.to_string());
    fields.push(text(&history.outturn.point));
    fields.push(
        benchmark
            .map(|set| set.year.to_string())
            .unwrap_or_default(),
    );
    for position in 0..reader.config.benchmarks.comparators.len() {
        fields.push(
            benchmark
                .and_then(|set| set.values.get(position).copied().flatten())
                .map(|value| benchmark_text(def, value))
                .unwrap_or_default(),
        );
    }
    fields
}

/// The headings of the HTML columns for a table as at `date`.
pub fn html_headings(reader: &Reader, date: Date) -> String {
    let (year, _) = previous_year(date);
    let mut out = format!("<th>Trend (last {TREND_MONTHS} month ends)</th><th>{year} outturn</th>");
    for name in &reader.config.benchmarks.comparators {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out
}

/// The number of columns [`html_headings`] adds.
pub fn html_columns(reader: &Reader) -> usize {
    2 + reader.config.benchmarks.comparators.len()
}

/// A row's HTML cells: the sparkline, the outturn and each benchmark with
/// its source year.
pub fn html_cells<V: Shown>(
    reader: &Reader,
    def: &Indicator,
    history: &RowHistory<V>,
    benchmark: Option<BenchmarkSet>,
) -> String {
    let points: Vec<(String, Option<f64>, String)> = history
        .trend
        .iter()
        .map(|point| {
            let label = if point.date.is_month_end() {
                month_label(point.month)
            } else {
                format!("as at {}", point.date)
            };
            (
                label,
                point.value.and_then(Shown::plot),
                point
                    .value
                    .map(|value| value.text(def))
                    .unwrap_or_else(|| "-".into()),
            )
        })
        .collect();
    let mut out = format!(
        "<td class=\"trend\">{}</td><td class=\"num outturn\">{}</td>",
        sparkline(&points),
        escape(
            &history
                .outturn
                .point
                .value
                .map(|value| value.text(def))
                .unwrap_or_default()
        )
    );
    for position in 0..reader.config.benchmarks.comparators.len() {
        match benchmark.and_then(|set| {
            set.values
                .get(position)
                .copied()
                .flatten()
                .map(|value| (set.year, value))
        }) {
            Some((year, value)) => {
                let _ = write!(
                    out,
                    "<td class=\"num benchmark\">{} <span class=\"year\">({year})</span></td>",
                    escape(&benchmark_text(def, value))
                );
            }
            None => out.push_str("<td class=\"num benchmark\"></td>"),
        }
    }
    out
}

/// A value as plotted: at its shown precision (one decimal place), so a
/// published line gives away no more than the published figures.
pub fn plotted(ratio: Ratio) -> f64 {
    ratio.tenths() as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap()
    }

    #[test]
    fn the_previous_outturn_is_the_march_before_the_financial_year() {
        let at = |text: &str| {
            let (year, march) = previous_year(Date::parse(text).unwrap());
            (year.to_string(), march.to_string())
        };
        // March 2018 is still in 2017-18: the outturn is 2016-17's.
        assert_eq!(at("2018-03-31"), ("2016-17".into(), "2017-03".into()));
        assert_eq!(at("2018-04-30"), ("2017-18".into(), "2018-03".into()));
        assert_eq!(at("2017-04-01"), ("2016-17".into(), "2017-03".into()));
        assert_eq!(at("2017-03-31"), ("2015-16".into(), "2016-03".into()));
    }

    #[test]
    fn the_trend_is_seven_month_ends_ending_with_the_date() {
        let dates = trend_dates(Date::parse("2017-09-04").unwrap());
        let shown: Vec<String> = dates
            .iter()
            .map(|(month, date)| format!("{month} {date}"))
            .collect();
        assert_eq!(
            shown,
            [
                "2017-03 2017-03-31",
                "2017-04 2017-04-30",
                "2017-05 2017-05-31",
                "2017-06 2017-06-30",
                "2017-07 2017-07-31",
                "2017-08 2017-08-31",
                "2017-09 2017-09-04",
            ]
        );
        let span = Span::starting(Some(month("2017-05")));
        assert!(!span.holds(month("2017-04")));
        assert!(span.holds(month("2017-05")));
        assert!(!Span::default().holds(month("2017-05")));
    }

    #[test]
    fn sparkline_scales_breaks_and_marks_the_last_point() {
        let point = |label: &str, value: Option<f64>| {
            (
                label.to_string(),
                value,
                value.map(|v| format!("{v}")).unwrap_or("-".into()),
            )
        };
        // Seven points 12 px apart from x = 4; 10 at the bottom (y = 17),
        // 20 at the top (y = 3), 15 in the middle (y = 10).
        let svg = sparkline(&[
            point("a", None),
            point("b", Some(10.0)),
            point("c", Some(20.0)),
            point("d", None),
            point("e", Some(15.0)),
            point("f", Some(15.0)),
            point("g", None),
        ]);
        assert!(
            svg.contains("<polyline points=\"16.0,17.0 28.0,3.0\""),
            "{svg}"
        );
        assert!(
            svg.contains("<polyline points=\"52.0,10.0 64.0,10.0\""),
            "{svg}"
        );
        assert!(
            svg.contains("<circle class=\"last\" cx=\"64.0\" cy=\"10.0\""),
            "{svg}"
        );
        assert!(svg.contains("<title>a: -, b: 10, c: 20, d: -, e: 15, f: 15, g: -</title>"));
        assert!(!svg.contains("<script"));
        let flat = sparkline(&[point("a", Some(3.0)), point("b", Some(3.0))]);
        assert!(flat.contains("points=\"4.0,10.0 76.0,10.0\""), "{flat}");
        let empty = sparkline(&[point("a", None)]);
        assert!(!empty.contains("<polyline") && !empty.contains("<circle"));
    }
}
