//! Month-end scorecards as JSON, CSV and HTML, laid out like the published one.
//!
//! The JSON form is an object keyed by unit id, each an object keyed by
//! indicator id holding `num`, `den`, `value`, `rag`, `target`, `floor`,
//! `small_den`, `one_month_ago`, `one_year_ago`, `dot` and, for R12M
//! indicators, `r3m`; plus a `summary` counting indicators by RAG (the
//! published "LATEST PERFORMANCE RAG RATING"). Numerators and denominators are
//! exact; `value` is unrounded (decision D27).
//!
//! The report's JSON rows also carry the service's `commentary` on the
//! indicator, unit and month (or `null`), and its HTML tables list that
//! commentary beneath them (`docs/committee-pack.md`).

use crate::calendar::{Date, Month};
use crate::config::{TargetSpec, UnitIdx};
use crate::contrib::Slot;
use crate::history::{self, Past};
use crate::indicators::Kind;
use crate::json_object::{self, each, Field, Fields, Object};
use crate::pack::commentary::{self, Shelf};
use crate::scorecard::{
    amount_json, amount_text, decimal_json, small_denominator, value_json, value_text, Rag, Reader,
    Row,
};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// Counts of indicators by rating.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Rated green.
    pub green: u32,
    /// Rated amber.
    pub amber: u32,
    /// Rated red.
    pub red: u32,
    /// Not rated.
    pub none: u32,
}

impl Summary {
    /// Counts the rows' ratings.
    pub fn of(rows: &[Row]) -> Summary {
        let mut summary = Summary::default();
        for row in rows {
            match row.now.rag {
                Some(Rag::Green) => summary.green += 1,
                Some(Rag::Amber) => summary.amber += 1,
                Some(Rag::Red) => summary.red += 1,
                None => summary.none += 1,
            }
        }
        summary
    }

    /// As JSON: `green`, `amber`, `red`, `none`.
    pub fn to_json(self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Every reported row of a unit for a month.
pub fn unit_rows(reader: &Reader, unit: UnitIdx, month: Month) -> Vec<Row> {
    reader
        .catalogue
        .reported()
        .map(|(slot, _)| reader.month_row(slot, unit, month))
        .collect()
}

/// Every reported row of a unit as at a date (live values).
pub fn unit_rows_at(reader: &Reader, unit: UnitIdx, date: Date) -> Vec<Row> {
    let month = date.month();
    reader
        .catalogue
        .reported()
        .map(|(slot, _)| reader.row_at(slot, unit, date, month))
        .collect()
}

/// A row's `target` and `floor` (and for a range, `target_range` and
/// `floor_range`).
pub(crate) struct TargetFields<'a>(pub Option<&'a TargetSpec>);

impl Fields for TargetFields<'_> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        match self.0 {
            None => {
                map.serialize_entry("target", &Value::Null)?;
                map.serialize_entry("floor", &Value::Null)
            }
            Some(TargetSpec::Bound { target, floor }) => {
                map.serialize_entry("target", &decimal_json(*target))?;
                map.serialize_entry("floor", &decimal_json(*floor))
            }
            Some(TargetSpec::Range {
                target,
                target_range,
                floor_range,
            }) => {
                map.serialize_entry("target", &decimal_json(*target))?;
                map.serialize_entry("floor", &Value::Null)?;
                map.serialize_entry(
                    "target_range",
                    &[decimal_json(target_range.0), decimal_json(target_range.1)],
                )?;
                map.serialize_entry(
                    "floor_range",
                    &[decimal_json(floor_range.0), decimal_json(floor_range.1)],
                )
            }
        }
    }
}

pub(crate) fn target_json(spec: Option<&TargetSpec>, object: &mut Map<String, Value>) {
    json_object::extend(object, TargetFields(spec));
}

/// A row's scorecard fields, in the order every JSON form of a row shows
/// them.
pub(crate) struct RowFields<'r, 'c> {
    pub reader: &'r Reader<'c>,
    pub row: &'r Row,
}

impl Fields for RowFields<'_, '_> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let (reader, row) = (self.reader, self.row);
        let def = reader.catalogue.slots[row.slot as usize].def;
        map.serialize_entry("name", shown_name(reader, row.slot))?;
        map.serialize_entry("kind", def.kind.as_str())?;
        map.serialize_entry("polarity", def.polarity.code())?;
        map.serialize_entry("period", def.window.code())?;
        map.serialize_entry("num", &amount_json(row.now.reading.num, def.num_scale))?;
        if def.kind != Kind::Count {
            map.serialize_entry("den", &amount_json(row.now.reading.den, def.den_scale))?;
        }
        map.serialize_entry("value", &value_json(def, row.now.value))?;
        map.serialize_entry("rag", &row.now.rag.map(Rag::as_str))?;
        TargetFields(reader.target(row.slot, row.date)).write(map)?;
        map.serialize_entry("small_den", &small_denominator(def, row.now.reading))?;
        map.serialize_entry("one_month_ago", &value_json(def, row.month_ago))?;
        map.serialize_entry("one_year_ago", &value_json(def, row.year_ago))?;
        map.serialize_entry("dot", &row.dot.map(|dot| dot.as_str()))?;
        if let Some(r3m) = &row.r3m {
            let short = (
                (
                    Field("num", amount_json(r3m.reading.num, def.num_scale)),
                    Field("den", amount_json(r3m.reading.den, def.den_scale)),
                ),
                (
                    Field("value", value_json(def, r3m.value)),
                    Field("rag", r3m.rag.map(Rag::as_str)),
                ),
            );
            map.serialize_entry("r3m", &Object(short))?;
        }
        Ok(())
    }
}

fn rag_json(rag: Option<Rag>) -> Value {
    rag.map(|rag| json!(rag.as_str())).unwrap_or(Value::Null)
}

/// One row as a JSON object.
pub fn row_json(reader: &Reader, row: &Row) -> Value {
    json_object::to_value(RowFields { reader, row })
}

/// The name a report shows for a slot.
fn shown_name<'r>(reader: &'r Reader, slot: Slot) -> &'r str {
    let slot_def = &reader.catalogue.slots[slot as usize];
    slot_def
        .entry
        .and_then(|entry| reader.config.indicators[entry].name.as_deref())
        .unwrap_or(slot_def.def.name)
}

/// The name a report shows for a slot.
pub fn display_name(reader: &Reader, slot: Slot) -> String {
    shown_name(reader, slot).to_string()
}

pub(crate) fn section(reader: &Reader, slot: Slot) -> String {
    let slot_def = &reader.catalogue.slots[slot as usize];
    slot_def
        .entry
        .and_then(|entry| reader.config.indicators[entry].section.clone())
        .unwrap_or_else(|| slot_def.def.section.to_string())
}

/// A unit's scorecard object: indicator id to row, plus `summary`.
pub fn unit_json(reader: &Reader, rows: &[Row]) -> Value {
    let mut object = Map::new();
    for row in rows {
        object.insert(
            reader.catalogue.slots[row.slot as usize].id.clone(),
            row_json(reader, row),
        );
    }
    object.insert("summary".into(), Summary::of(rows).to_json());
    Value::Object(object)
}

/// The scorecard rows of the given units and month, as the month-end
/// scorecard messages carry them (without the history columns that
/// `ragline report` adds, [`crate::history::json_fields`]).
pub fn report_json(reader: &Reader, units: &[UnitIdx], month: Month) -> Value {
    let mut object = Map::new();
    for unit in units {
        let rows = unit_rows(reader, *unit, month);
        object.insert(
            reader.config.unit(*unit).id.clone(),
            unit_json(reader, &rows),
        );
    }
    Value::Object(object)
}

/// The JSON report of `ragline report`: as [`report_json`], each row with
/// its trend, previous outturn, benchmark and the `commentary` `shelf` holds
/// on it for the month (`null` when none); `past` knows where the history
/// starts. Serialized as it is written: a report of many units is
/// megabytes.
pub struct FullReport<'r, 'c> {
    /// Reads the state.
    pub reader: &'r Reader<'c>,
    /// Where the history starts.
    pub past: &'r Past,
    /// The commentary.
    pub shelf: &'r Shelf,
    /// The units, in order.
    pub units: &'r [UnitIdx],
    /// The month end.
    pub month: Month,
}

impl Serialize for FullReport<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let reader = self.reader;
        let mut object = serializer.serialize_map(Some(self.units.len()))?;
        for unit in self.units {
            let rows = unit_rows(reader, *unit, self.month);
            let card = (
                each(&rows, |row| self.row(row)),
                Field("summary", Summary::of(&rows)),
            );
            object.serialize_entry(&reader.config.unit(*unit).id, &Object(card))?;
        }
        object.end()
    }
}

impl FullReport<'_, '_> {
    /// A row's entry: its id, then its scorecard fields, history, benchmark
    /// and commentary.
    fn row<'a>(&'a self, row: &'a Row) -> ReportRow<'a> {
        ReportRow { report: self, row }
    }
}

/// One row of a [`FullReport`], as an entry of its unit's object.
struct ReportRow<'a> {
    report: &'a FullReport<'a, 'a>,
    row: &'a Row,
}

impl Fields for ReportRow<'_> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let (reader, row) = (self.report.reader, self.row);
        let id = &reader.catalogue.slots[row.slot as usize].id;
        let history = history::exact(reader, self.report.past, row.slot, row.unit, row.date);
        let fields = (
            (
                RowFields { reader, row },
                history::HistoryFields {
                    reader,
                    def: reader.def(row.slot),
                    history: &history,
                    benchmark: history::benchmarks(reader, row.slot, row.date),
                },
            ),
            Field(
                "commentary",
                commentary::json(self.report.shelf.get(row.unit, id, self.report.month)),
            ),
        );
        map.serialize_entry(id, &Object(fields))
    }
}

/// CSV text written with the `csv` crate: a field is quoted only where it
/// must be (a comma, a quote or a line break in it, quotes doubled), each
/// line ends in `\n`.
pub(crate) struct CsvText(csv::Writer<Vec<u8>>);

impl CsvText {
    /// Empty text.
    pub(crate) fn new() -> CsvText {
        CsvText(
            csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .flexible(true)
                .from_writer(Vec::new()),
        )
    }

    /// Appends one line of these fields.
    pub(crate) fn line<I>(&mut self, fields: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        // Into memory, with records of any length allowed: cannot fail.
        self.0
            .write_record(fields)
            .expect("CSV written into memory");
    }

    /// The text.
    pub(crate) fn finish(self) -> String {
        let bytes = self.0.into_inner().expect("CSV written into memory");
        // Every field was a `str`: the bytes are UTF-8.
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A target or floor as shown: at least one decimal place ("25.0", "17.5").
pub fn decimal_text(value: rust_decimal::Decimal) -> String {
    let text = value.normalize().to_string();
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

pub(crate) fn target_text(spec: Option<&TargetSpec>) -> (String, String) {
    match spec {
        None => (String::new(), String::new()),
        Some(TargetSpec::Bound { target, floor }) => (decimal_text(*target), decimal_text(*floor)),
        Some(TargetSpec::Range {
            target_range,
            floor_range,
            ..
        }) => (
            format!(
                "{}-{}",
                decimal_text(target_range.0),
                decimal_text(target_range.1)
            ),
            format!(
                "{}-{}",
                decimal_text(floor_range.0),
                decimal_text(floor_range.1)
            ),
        ),
    }
}

pub(crate) const CSV_HEADER: &str = "unit,unit_name,month,section,indicator,name,polarity,period,result,rag,num,den,target,floor,small_den,one_month_ago,one_year_ago,dot,r3m_result,r3m_rag,r3m_num,r3m_den";

/// Columns of [`CSV_HEADER`].
const CSV_COLUMNS: usize = 22;

/// The CSV header: the scorecard's columns, then the history's.
pub(crate) fn csv_header(csv: &mut CsvText, reader: &Reader) {
    csv.line(
        CSV_HEADER
            .split(',')
            .map(String::from)
            .chain(history::csv_header(reader)),
    );
}

/// A unit's summary line, its empty cells filling every column.
pub(crate) fn csv_summary(
    csv: &mut CsvText,
    reader: &Reader,
    node: &crate::config::Unit,
    month: Month,
    summary: Summary,
) {
    let fields = [
        node.id.clone(),
        node.name.clone(),
        month.to_string(),
        "LATEST PERFORMANCE RAG RATING".into(),
        "summary".into(),
        format!(
            "GREEN {} AMBER {} RED {} NONE {}",
            summary.green, summary.amber, summary.red, summary.none
        ),
    ];
    let empty = CSV_COLUMNS - fields.len() + history::csv_columns(reader);
    csv.line(
        fields
            .into_iter()
            .chain(std::iter::repeat_n(String::new(), empty)),
    );
}

/// The CSV report: one line per unit and indicator, then a summary line per
/// unit; `past` knows where the history starts.
pub fn report_csv(reader: &Reader, past: &Past, units: &[UnitIdx], month: Month) -> String {
    let mut csv = CsvText::new();
    csv_header(&mut csv, reader);
    for unit in units {
        let rows = unit_rows(reader, *unit, month);
        let node = reader.config.unit(*unit);
        for row in &rows {
            let def = reader.def(row.slot);
            let (target, floor) = target_text(reader.target(row.slot, row.date));
            let den = if def.kind == Kind::Count {
                String::new()
            } else {
                amount_text(row.now.reading.den, def.den_scale)
            };
            let (r3m_result, r3m_rag, r3m_num, r3m_den) = match &row.r3m {
                Some(r3m) => (
                    value_text(def, r3m.value),
                    r3m.rag
                        .map(|rag| rag.as_str().to_uppercase())
                        .unwrap_or_default(),
                    amount_text(r3m.reading.num, def.num_scale),
                    amount_text(r3m.reading.den, def.den_scale),
                ),
                None => Default::default(),
            };
            let fields = [
                node.id.clone(),
                node.name.clone(),
                month.to_string(),
                section(reader, row.slot),
                reader.catalogue.slots[row.slot as usize].id.clone(),
                display_name(reader, row.slot),
                def.polarity.code().to_string(),
                def.window.code().to_string(),
                value_text(def, row.now.value),
                row.now
                    .rag
                    .map(|rag| rag.as_str().to_uppercase())
                    .unwrap_or_default(),
                amount_text(row.now.reading.num, def.num_scale),
                den,
                target,
                floor,
                small_denominator(def, row.now.reading).to_string(),
                value_text(def, row.month_ago),
                value_text(def, row.year_ago),
                row.dot
                    .map(|dot| dot.as_str().to_string())
                    .unwrap_or_default(),
                r3m_result,
                r3m_rag,
                r3m_num,
                r3m_den,
            ];
            let history = history::exact(reader, past, row.slot, row.unit, row.date);
            let extra = history::csv_fields(
                reader,
                def,
                &history,
                history::benchmarks(reader, row.slot, row.date),
            );
            csv.line(fields.iter().chain(&extra));
        }
        csv_summary(&mut csv, reader, node, month, Summary::of(&rows));
    }
    csv.finish()
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin-bottom:2em;font-size:13px}\
th,td{border:1px solid #999;padding:3px 6px}th{background:#1f3864;color:#fff}\
td.num{text-align:right}tr.section td{background:#d9e1f2;font-weight:bold}\
.green{background:#00b050;color:#fff}.amber{background:#ffc000}.red{background:#c00000;color:#fff}\
.small{background:#ddebf7}.dot-improved{color:#00b050}.dot-same{color:#ffc000}.dot-worsened{color:#c00000}\
.summary td{font-weight:bold;text-align:center;min-width:5em}\
div.commentary{max-width:60em;margin-bottom:2em}div.commentary h4{margin:.8em 0 .2em}p.commentary{margin:.2em 0}p.commentary-author{margin:.2em 0;font-style:italic}\
td.trend{padding:0 4px}svg.spark{display:block}td.benchmark{white-space:nowrap}td.benchmark .year{color:#666;font-size:11px}\
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}\
@page{size:A4 landscape;margin:10mm}\
@media print{body{margin:0;font-size:11px}table{font-size:10px;margin-bottom:1em}th,td{padding:1px 4px}\
thead{display:table-header-group}tr{break-inside:avoid}div.commentary-row{break-inside:avoid}\
section.unit{break-before:page}section.unit:first-of-type{break-before:auto}}";

/// The CSS class of a rating.
pub fn rag_class(rag: Option<Rag>) -> &'static str {
    rag.map(Rag::as_str).unwrap_or("")
}

/// The DOT arrow and its CSS class.
pub fn dot_arrow(dot: Option<crate::scorecard::Dot>) -> (&'static str, &'static str) {
    match dot {
        Some(crate::scorecard::Dot::Improved) => ("&#9650;", "dot-improved"),
        Some(crate::scorecard::Dot::Same) => ("&#9654;", "dot-same"),
        Some(crate::scorecard::Dot::Worsened) => ("&#9660;", "dot-worsened"),
        None => ("", ""),
    }
}

/// The heading and the opening of a unit's scorecard table, with its
/// column headings (exact and published tables alike).
pub(crate) fn table_open(
    reader: &Reader,
    unit: UnitIdx,
    date: Date,
    title: &str,
    class: &str,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<h2>{}</h2>\n<table class=\"{class}\" data-unit=\"{}\">\n",
        escape(title),
        escape(&reader.config.unit(unit).id)
    );
    let _ = writeln!(
        out,
        "<thead><tr><th>Indicator</th><th>Polarity</th><th>Data Period</th><th>Latest Result and RAG</th><th>Num</th><th>Denom</th><th>Target</th><th>Floor</th><th>1 month ago</th><th>1 year ago</th><th>DOT</th><th>Rolling 3 months and RAG</th>{}</tr></thead>",
        history::html_headings(reader, date)
    );
    out
}

/// A section heading row when `slot` starts a new section.
pub(crate) fn section_row(out: &mut String, reader: &Reader, slot: Slot, current: &mut String) {
    let heading = section(reader, slot);
    if heading != *current {
        let _ = writeln!(
            out,
            "<tr class=\"section\"><td colspan=\"{}\">{}</td></tr>",
            12 + history::html_columns(reader),
            escape(&heading)
        );
        *current = heading;
    }
}

/// One unit's scorecard table (shared by the HTML report and the live
/// page), each row with its trend, outturn and benchmarks, then the
/// commentary `shelf` holds on its rows for their month; `past` knows where
/// the history starts.
pub fn unit_table_html(
    reader: &Reader,
    past: &Past,
    shelf: &Shelf,
    unit: UnitIdx,
    rows: &[Row],
    title: &str,
) -> String {
    let date = rows.first().map(|row| row.date).unwrap_or(Date::MIN);
    let mut out = table_open(reader, unit, date, title, "scorecard");
    let mut current_section = String::new();
    for row in rows {
        let def = reader.def(row.slot);
        section_row(&mut out, reader, row.slot, &mut current_section);
        let (target, floor) = target_text(reader.target(row.slot, row.date));
        let den = if def.kind == Kind::Count {
            "-".to_string()
        } else {
            amount_text(row.now.reading.den, def.den_scale)
        };
        let small = if small_denominator(def, row.now.reading) {
            " small"
        } else {
            ""
        };
        let (arrow, arrow_class) = dot_arrow(row.dot);
        let r3m = match &row.r3m {
            Some(r3m) => format!(
                "<td class=\"num {}\">{}</td>",
                rag_class(r3m.rag),
                escape(&value_text(def, r3m.value))
            ),
            None => "<td></td>".to_string(),
        };
        let history = history::exact(reader, past, row.slot, row.unit, row.date);
        let extra = history::html_cells(
            reader,
            def,
            &history,
            history::benchmarks(reader, row.slot, row.date),
        );
        let _ = writeln!(
            out,
            "<tr data-indicator=\"{id}\"><td>{name}</td><td>{polarity}</td><td>{period}</td><td class=\"num {rag}\" data-rag=\"{rag}\">{value}</td><td class=\"num\">{num}</td><td class=\"num{small}\">{den}</td><td class=\"num\">{target}</td><td class=\"num\">{floor}</td><td class=\"num\">{month_ago}</td><td class=\"num\">{year_ago}</td><td class=\"{arrow_class}\">{arrow}</td>{r3m}{extra}</tr>",
            id = escape(&reader.catalogue.slots[row.slot as usize].id),
            name = escape(&display_name(reader, row.slot)),
            polarity = def.polarity.code(),
            period = def.window.code(),
            rag = rag_class(row.now.rag),
            value = escape(&value_text(def, row.now.value)),
            num = amount_text(row.now.reading.num, def.num_scale),
            target = escape(&target),
            floor = escape(&floor),
            month_ago = escape(&value_text(def, row.month_ago)),
            year_ago = escape(&value_text(def, row.year_ago)),
        );
    }
    out.push_str("</table>\n");
    let summary = Summary::of(rows);
    let _ = writeln!(
        out,
        "<table class=\"summary\"><tr><th colspan=\"4\">LATEST PERFORMANCE RAG RATING</th></tr><tr><td class=\"green\">GREEN<br>{}</td><td class=\"amber\">AMBER<br>{}</td><td class=\"red\">RED<br>{}</td><td>NONE<br>{}</td></tr></table>",
        summary.green, summary.amber, summary.red, summary.none
    );
    out.push_str(&commentary_html(
        reader,
        shelf,
        rows.iter().map(|row| (row.slot, row.unit, row.date)),
    ));
    out
}

/// The commentary on a table's rows (slot, unit and as-of date), each under
/// its indicator's name with its author and date; nothing when no row has
/// any.
pub(crate) fn commentary_html(
    reader: &Reader,
    shelf: &Shelf,
    rows: impl IntoIterator<Item = (Slot, UnitIdx, Date)>,
) -> String {
    let mut out = String::new();
    for (slot, unit, date) in rows {
        let id = &reader.catalogue.slots[slot as usize].id;
        let Some(commentary) = shelf.get(unit, id, date.month()) else {
            continue;
        };
        if out.is_empty() {
            out.push_str("<div class=\"commentary\">\n<h3>Commentary</h3>\n");
        }
        let _ = writeln!(
            out,
            "<div class=\"commentary-row\" data-indicator=\"{}\">\n<h4>{}</h4>",
            escape(id),
            escape(&display_name(reader, slot))
        );
        for paragraph in crate::pack::render::paragraphs(&commentary.text) {
            let _ = writeln!(out, "<p class=\"commentary\">{}</p>", escape(paragraph));
        }
        let _ = writeln!(
            out,
            "<p class=\"commentary-author\">&mdash; {}, {}</p>\n</div>",
            escape(&commentary.author),
            commentary.date
        );
    }
    if !out.is_empty() {
        out.push_str("</div>\n");
    }
    out
}

/// The HTML report, one table per unit with the commentary `shelf` holds
/// beneath it, each unit on its own printed page; `past` knows where the
/// history starts.
pub fn report_html(
    reader: &Reader,
    past: &Past,
    shelf: &Shelf,
    units: &[UnitIdx],
    month: Month,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scorecard {month}</title><style>{STYLE}</style></head><body>\n<h1>Scorecard &ndash; {month}</h1>\n<p>Rolling 12 months: {} to {}</p>\n",
        crate::calendar::Window::R12M.start(month.last_day()),
        month.last_day()
    );
    for unit in units {
        let rows = unit_rows(reader, *unit, month);
        let title = format!("Scorecard - {} {month}", reader.config.unit(*unit).name);
        let _ = writeln!(
            out,
            "<section class=\"unit\" data-unit=\"{}\">",
            escape(&reader.config.unit(*unit).id)
        );
        out.push_str(&unit_table_html(reader, past, shelf, *unit, &rows, &title));
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The page style, for other HTML pages.
pub fn style() -> &'static str {
    STYLE
}

/// A children-in-care indicator with and without UASC children: the slots
/// of two configured entries sharing a base, one keeping every child and one
/// excluding UASC children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UascPair {
    /// The catalogue id both entries use.
    pub base: &'static str,
    /// The slot counting every child.
    pub including: Slot,
    /// The slot excluding UASC children.
    pub excluding: Slot,
}

/// Every configured with/without-UASC pair, in configuration order.
pub fn uasc_pairs(reader: &Reader) -> Vec<UascPair> {
    use crate::config::UascFilter;
    let mut pairs = Vec::new();
    for (slot, slot_def) in reader.catalogue.reported() {
        if slot_def.filter != UascFilter::All {
            continue;
        }
        let partner = reader.catalogue.reported().find(|(_, other)| {
            other.def.id == slot_def.def.id && other.filter == UascFilter::Exclude
        });
        if let Some((excluding, _)) = partner {
            if !pairs
                .iter()
                .any(|pair: &UascPair| pair.base == slot_def.def.id)
            {
                pairs.push(UascPair {
                    base: slot_def.def.id,
                    including: slot,
                    excluding,
                });
            }
        }
    }
    pairs
}

/// The units of the UASC view: each authority's root and its areas (the
/// units directly below it), or just `unit`.
pub fn uasc_view_units(reader: &Reader, unit: Option<UnitIdx>) -> Vec<UnitIdx> {
    if let Some(unit) = unit {
        return vec![unit];
    }
    let mut units = Vec::new();
    for authority in &reader.config.authorities {
        units.push(authority.root);
        units.extend(reader.config.unit(authority.root).children.iter().copied());
    }
    units
}

/// One line of the UASC view: both evaluations and the difference of the
/// values (including minus excluding), at the end of `month`.
pub struct UascLine {
    /// The pair.
    pub pair: UascPair,
    /// Including UASC children.
    pub including: Row,
    /// Excluding them.
    pub excluding: Row,
}

impl UascLine {
    /// Including minus excluding, when both have data.
    pub fn difference(&self) -> Option<f64> {
        Some(self.including.now.value?.to_f64() - self.excluding.now.value?.to_f64())
    }
}

/// The UASC view's lines for a unit.
pub fn uasc_lines(reader: &Reader, unit: UnitIdx, month: Month) -> Vec<UascLine> {
    uasc_pairs(reader)
        .into_iter()
        .map(|pair| UascLine {
            including: reader.month_row(pair.including, unit, month),
            excluding: reader.month_row(pair.excluding, unit, month),
            pair,
        })
        .collect()
}

fn short_json(reader: &Reader, row: &Row) -> Value {
    let def = reader.def(row.slot);
    let mut object = Map::new();
    object.insert(
        "indicator".into(),
        json!(reader.catalogue.slots[row.slot as usize].id),
    );
    object.insert(
        "num".into(),
        amount_json(row.now.reading.num, def.num_scale),
    );
    if def.kind != Kind::Count {
        object.insert(
            "den".into(),
            amount_json(row.now.reading.den, def.den_scale),
        );
    }
    object.insert("value".into(), value_json(def, row.now.value));
    object.insert("rag".into(), rag_json(row.now.rag));
    Value::Object(object)
}

/// The UASC view as JSON: unit id to base indicator id to `including`,
/// `excluding` and `difference`.
pub fn uasc_view_json(reader: &Reader, units: &[UnitIdx], month: Month) -> Value {
    let mut object = Map::new();
    for unit in units {
        let mut lines = Map::new();
        for line in uasc_lines(reader, *unit, month) {
            lines.insert(
                line.pair.base.to_string(),
                json!({
                    "name": display_name(reader, line.pair.including),
                    "polarity": reader.def(line.pair.including).polarity.code(),
                    "including": short_json(reader, &line.including),
                    "excluding": short_json(reader, &line.excluding),
                    "difference": line.difference(),
                }),
            );
        }
        object.insert(reader.config.unit(*unit).id.clone(), Value::Object(lines));
    }
    Value::Object(object)
}

/// The UASC view as CSV.
pub fn uasc_view_csv(reader: &Reader, units: &[UnitIdx], month: Month) -> String {
    let mut csv = CsvText::new();
    csv.line(
        "unit,unit_name,month,indicator,name,polarity,including_result,including_rag,including_num,including_den,excluding_result,excluding_rag,excluding_num,excluding_den,difference"
            .split(','),
    );
    for unit in units {
        let node = reader.config.unit(*unit);
        for line in uasc_lines(reader, *unit, month) {
            let def = reader.def(line.pair.including);
            let side = |row: &Row| {
                [
                    value_text(def, row.now.value),
                    row.now
                        .rag
                        .map(|rag| rag.as_str().to_uppercase())
                        .unwrap_or_default(),
                    amount_text(row.now.reading.num, def.num_scale),
                    if def.kind == Kind::Count {
                        String::new()
                    } else {
                        amount_text(row.now.reading.den, def.den_scale)
                    },
                ]
            };
            let mut fields = vec![
                node.id.clone(),
                node.name.clone(),
                month.to_string(),
                line.pair.base.to_string(),
                display_name(reader, line.pair.including),
                def.polarity.code().to_string(),
            ];
            fields.extend(side(&line.including));
            fields.extend(side(&line.excluding));
            fields.push(
                line.difference()
                    .map(|difference| format!("{difference:+.1}"))
                    .unwrap_or_default(),
            );
            csv.line(&fields);
        }
    }
    csv.finish()
}

/// The UASC view as HTML, laid out like the published "Scorecard - Impact of UASC".
pub fn uasc_view_html(reader: &Reader, units: &[UnitIdx], month: Month) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Impact of UASC {month}</title><style>{STYLE}</style></head><body>\n<h1>Scorecard &ndash; Impact of UASC &ndash; {month}</h1>\n"
    );
    for unit in units {
        let node = reader.config.unit(*unit);
        let _ = write!(
            out,
            "<h2>CHILDREN IN CARE &ndash; {}</h2>\n<table class=\"uasc\" data-unit=\"{}\"><tr><th rowspan=\"2\">Indicator</th><th rowspan=\"2\">Polarity</th><th colspan=\"4\">INCLUDING UASC</th><th colspan=\"4\">EXCLUDING UASC</th><th rowspan=\"2\">Difference</th></tr><tr><th>Result and RAG</th><th>Num</th><th>Denom</th><th>Target</th><th>Result and RAG</th><th>Num</th><th>Denom</th><th>Target</th></tr>\n",
            escape(&node.name.to_uppercase()),
            escape(&node.id)
        );
        for line in uasc_lines(reader, *unit, month) {
            let def = reader.def(line.pair.including);
            let cells = |row: &Row| {
                let (target, _) = target_text(reader.target(row.slot, row.date));
                let den = if def.kind == Kind::Count {
                    "-".to_string()
                } else {
                    amount_text(row.now.reading.den, def.den_scale)
                };
                format!(
                    "<td class=\"num {}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                    rag_class(row.now.rag),
                    escape(&value_text(def, row.now.value)),
                    amount_text(row.now.reading.num, def.num_scale),
                    den,
                    escape(&target)
                )
            };
            let _ = writeln!(
                out,
                "<tr data-indicator=\"{}\"><td>{}</td><td>{}</td>{}{}<td class=\"num\">{}</td></tr>",
                escape(line.pair.base),
                escape(&display_name(reader, line.pair.including)),
                def.polarity.code(),
                cells(&line.including),
                cells(&line.excluding),
                line.difference().map(|difference| format!("{difference:+.1}")).unwrap_or_default()
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The indicator reference table (Markdown), generated from the catalogue and
/// the configuration's targets: id, name, kind, period, polarity, numerator,
/// denominator, default target and floor.
pub fn reference_table(
    config: &crate::config::Config,
    catalogue: &crate::indicators::Catalogue,
) -> String {
    let mut out = String::from(
        "| id | name | kind | period | polarity | numerator | denominator | UASC | target / floor |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for (_, slot) in catalogue.reported() {
        let def = slot.def;
        let entry = slot.entry.map(|entry| &config.indicators[entry]);
        let name = entry
            .and_then(|entry| entry.name.clone())
            .unwrap_or_else(|| def.name.to_string());
        let target = match entry.and_then(|entry| entry.default_target.as_ref()) {
            Some(TargetSpec::Bound { target, floor }) => {
                format!("{} / {}", decimal_text(*target), decimal_text(*floor))
            }
            Some(TargetSpec::Range {
                target,
                target_range,
                floor_range,
            }) => format!(
                "{} (range {}-{}) / floor range {}-{}",
                decimal_text(*target),
                decimal_text(target_range.0),
                decimal_text(target_range.1),
                decimal_text(floor_range.0),
                decimal_text(floor_range.1)
            ),
            None => "none".to_string(),
        };
        let base = if slot.id == def.id {
            String::new()
        } else {
            format!(" (variant of {})", def.id)
        };
        let _ = writeln!(
            out,
            "| {}{base} | {} | {} | {} | {} | {} | {} | {} | {} |",
            slot.id,
            name.replace('|', "/"),
            def.kind.as_str(),
            def.window.code(),
            def.polarity.code(),
            def.numerator.replace('|', "/"),
            def.denominator.replace('|', "/"),
            slot.filter,
            target
        );
    }
    out
}

/// The whole reference document: a heading, how it is made, and the table.
pub fn reference_document(
    config: &crate::config::Config,
    catalogue: &crate::indicators::Catalogue,
) -> String {
    format!(
        "# Indicator reference\n\nGenerated by `ragline catalogue --config {}` from the indicator\ndefinitions in `src/indicators/` and the targets in the configuration; do\nnot edit by hand (a test checks it is current). Kinds, periods and\npolarities are defined in `docs/scorecard.md`, and each indicator in full in\n`docs/indicator-definitions.md`.\n\n{}",
        config.path.display(),
        reference_table(config, catalogue)
    )
}

#[cfg(test)]
mod tests {
    use super::CsvText;

    #[test]
    fn csv_text_quotes_only_fields_that_need_it() {
        let mut csv = CsvText::new();
        csv.line(["unit", "name", "month"]);
        csv.line([
            "kent",
            "Referrals per 10,000",
            "say \"hi\"",
            "two\nlines",
            "",
        ]);
        csv.line(["", "", "x"]);
        assert_eq!(
            csv.finish(),
            "unit,name,month\nkent,\"Referrals per 10,000\",\"say \"\"hi\"\"\",\"two\nlines\",\n,,x\n"
        );
    }
}
