//! The published reports and page tables: the layouts of [`crate::report`]
//! with the published rows, symbols in place of withheld numbers.
//!
//! JSON keeps the shape of the exact report; a symbol is a string (`"c"`),
//! and a shown value is rounded as displayed (one decimal place; counts
//! as published). CSV and HTML show the symbol in the cell.

use super::table::{PublishedEvaluation, PublishedRow, Publisher};
use super::{DisclosureError, Policy, Published};
use crate::calendar::Month;
use crate::config::UnitIdx;
use crate::history::{self, RowHistory, Span};
use crate::indicators::{Indicator, Kind};
use crate::pack::commentary::{self, Shelf};
use crate::report::{
    commentary_html, csv_header, csv_summary, display_name, dot_arrow, escape, rag_class, section,
    section_row, style, table_open, target_json, target_text, CsvText, Summary,
};
use crate::scorecard::{amount_json, amount_text, value_text, Rag, Ratio, Reader};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// Counts the published ratings; a withheld rating counts as none.
pub fn summary(rows: &[PublishedRow]) -> Summary {
    let mut summary = Summary::default();
    for row in rows {
        match row.now.rag {
            Published::Shown(Some(Rag::Green)) => summary.green += 1,
            Published::Shown(Some(Rag::Amber)) => summary.amber += 1,
            Published::Shown(Some(Rag::Red)) => summary.red += 1,
            _ => summary.none += 1,
        }
    }
    summary
}

fn amount_of(amount: Published<i64>, scale: i64) -> Value {
    match amount {
        Published::Shown(amount) => amount_json(amount, scale),
        Published::Symbol(symbol) => json!(symbol.as_str()),
    }
}

fn amount_str(amount: Published<i64>, scale: i64) -> String {
    match amount {
        Published::Shown(amount) => amount_text(amount, scale),
        Published::Symbol(symbol) => symbol.as_str().to_string(),
    }
}

/// A published value as JSON: a count as an integer, any other value
/// rounded to one decimal place (decision D28); a symbol as a string.
pub fn value_json(def: &Indicator, value: Published<Ratio>) -> Value {
    match value {
        Published::Symbol(symbol) => json!(symbol.as_str()),
        Published::Shown(ratio) if def.kind == Kind::Count && ratio.denominator == 1 => {
            json!(ratio.numerator as i64)
        }
        Published::Shown(ratio) => {
            let shown = Decimal::from_i128_with_scale(ratio.tenths(), 1);
            serde_json::Number::from_f64(shown.to_string().parse::<f64>().unwrap_or(0.0))
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }
    }
}

/// A published value as shown in CSV and HTML ("22.0%", "c").
pub fn value_str(def: &Indicator, value: Published<Ratio>) -> String {
    match value {
        Published::Shown(ratio) => value_text(def, Some(ratio)),
        Published::Symbol(symbol) => symbol.as_str().to_string(),
    }
}

fn rag_of(rag: Published<Option<Rag>>) -> Value {
    match rag {
        Published::Shown(Some(rag)) => json!(rag.as_str()),
        Published::Shown(None) => Value::Null,
        Published::Symbol(symbol) => json!(symbol.as_str()),
    }
}

fn rag_str(rag: Published<Option<Rag>>) -> String {
    match rag {
        Published::Shown(rag) => rag
            .map(|rag| rag.as_str().to_uppercase())
            .unwrap_or_default(),
        Published::Symbol(symbol) => symbol.as_str().to_string(),
    }
}

fn shown_rag(rag: Published<Option<Rag>>) -> Option<Rag> {
    rag.shown().flatten()
}

fn evaluation_json(
    def: &Indicator,
    evaluation: &PublishedEvaluation,
    with_den: bool,
) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("num".into(), amount_of(evaluation.num, def.num_scale));
    if with_den {
        object.insert("den".into(), amount_of(evaluation.den, def.den_scale));
    }
    object.insert("value".into(), value_json(def, evaluation.value));
    object.insert("rag".into(), rag_of(evaluation.rag));
    object
}

/// One published row as a JSON object (the fields of an exact row).
pub fn row_json(reader: &Reader, row: &PublishedRow) -> Value {
    let def = reader.def(row.slot);
    let mut object = Map::new();
    object.insert("name".into(), json!(display_name(reader, row.slot)));
    object.insert("kind".into(), json!(def.kind.as_str()));
    object.insert("polarity".into(), json!(def.polarity.code()));
    object.insert("period".into(), json!(def.window.code()));
    object.extend(evaluation_json(def, &row.now, def.kind != Kind::Count));
    target_json(reader.target(row.slot, row.date), &mut object);
    object.insert(
        "small_den".into(),
        match row.now.small_den {
            Published::Shown(small) => json!(small),
            Published::Symbol(symbol) => json!(symbol.as_str()),
        },
    );
    object.insert("one_month_ago".into(), value_json(def, row.month_ago));
    object.insert("one_year_ago".into(), value_json(def, row.year_ago));
    object.insert(
        "dot".into(),
        match row.dot {
            Published::Shown(dot) => dot.map(|dot| json!(dot.as_str())).unwrap_or(Value::Null),
            Published::Symbol(symbol) => json!(symbol.as_str()),
        },
    );
    if let Some(r3m) = &row.r3m {
        object.insert("r3m".into(), Value::Object(evaluation_json(def, r3m, true)));
    }
    Value::Object(object)
}

/// A unit's published scorecard object: indicator id to row, plus `summary`.
pub fn unit_json(reader: &Reader, rows: &[PublishedRow]) -> Value {
    let mut object = Map::new();
    for row in rows {
        object.insert(
            reader.catalogue.slots[row.slot as usize].id.clone(),
            row_json(reader, row),
        );
    }
    object.insert("summary".into(), summary(rows).to_json());
    Value::Object(object)
}

/// The published history of each row: every past value as the published
/// scorecard of its month shows it.
pub fn histories(
    publisher: &mut Publisher,
    span: Span,
    rows: &[PublishedRow],
) -> Result<Vec<RowHistory<Published<Ratio>>>, DisclosureError> {
    rows.iter()
        .map(|row| {
            let def = publisher.reader().def(row.slot);
            history::published(publisher, span, def, row.slot, row.unit, row.date)
        })
        .collect()
}

/// The published JSON report: unit id to the unit's published scorecard,
/// each row with its published trend and outturn, its benchmark and the
/// `commentary` `shelf` holds on it (`null` when none); `span` is where the
/// history starts.
pub fn report_json(
    reader: &Reader,
    policy: &Policy,
    span: Span,
    shelf: &Shelf,
    units: &[UnitIdx],
    month: Month,
) -> Result<Value, DisclosureError> {
    let mut publisher = Publisher::new(reader, policy)?;
    let mut object = Map::new();
    for unit in units {
        let rows = publisher.unit_rows(*unit, month)?;
        let pasts = histories(&mut publisher, span, &rows)?;
        let mut card = Map::new();
        for (row, past) in rows.iter().zip(&pasts) {
            let mut fields = match row_json(reader, row) {
                Value::Object(fields) => fields,
                _ => Map::new(),
            };
            history::json_fields(
                reader,
                reader.def(row.slot),
                past,
                history::benchmarks(reader, row.slot, row.date),
                &mut fields,
            );
            let id = &reader.catalogue.slots[row.slot as usize].id;
            fields.insert(
                "commentary".into(),
                commentary::json(shelf.get(row.unit, id, month)),
            );
            card.insert(id.clone(), Value::Object(fields));
        }
        card.insert("summary".into(), summary(&rows).to_json());
        object.insert(reader.config.unit(*unit).id.clone(), Value::Object(card));
    }
    Ok(Value::Object(object))
}

/// The published CSV report: the columns of the exact one, symbols in the cells.
pub fn report_csv(
    reader: &Reader,
    policy: &Policy,
    span: Span,
    units: &[UnitIdx],
    month: Month,
) -> Result<String, DisclosureError> {
    let mut publisher = Publisher::new(reader, policy)?;
    let mut csv = CsvText::new();
    csv_header(&mut csv, reader);
    for unit in units {
        let rows = publisher.unit_rows(*unit, month)?;
        let pasts = histories(&mut publisher, span, &rows)?;
        let node = reader.config.unit(*unit);
        for (row, past) in rows.iter().zip(&pasts) {
            let def = reader.def(row.slot);
            let (target, floor) = target_text(reader.target(row.slot, row.date));
            let (r3m_result, r3m_rag, r3m_num, r3m_den) = match &row.r3m {
                Some(r3m) => (
                    value_str(def, r3m.value),
                    rag_str(r3m.rag),
                    amount_str(r3m.num, def.num_scale),
                    amount_str(r3m.den, def.den_scale),
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
                value_str(def, row.now.value),
                rag_str(row.now.rag),
                amount_str(row.now.num, def.num_scale),
                amount_str(row.now.den, def.den_scale),
                target,
                floor,
                match row.now.small_den {
                    Published::Shown(small) => small.to_string(),
                    Published::Symbol(symbol) => symbol.as_str().to_string(),
                },
                value_str(def, row.month_ago),
                value_str(def, row.year_ago),
                match row.dot {
                    Published::Shown(dot) => {
                        dot.map(|dot| dot.as_str().to_string()).unwrap_or_default()
                    }
                    Published::Symbol(symbol) => symbol.as_str().to_string(),
                },
                r3m_result,
                r3m_rag,
                r3m_num,
                r3m_den,
            ];
            let extra = history::csv_fields(
                reader,
                def,
                past,
                history::benchmarks(reader, row.slot, row.date),
            );
            csv.line(fields.iter().chain(&extra));
        }
        csv_summary(&mut csv, reader, node, month, summary(&rows));
    }
    Ok(csv.finish())
}

/// The note under a published table: the policy and the symbols.
pub fn legend_html(policy: &Policy) -> String {
    let rounding = if policy.round_to() > 1 {
        format!(" Counts are rounded to the nearest {}.", policy.round_to())
    } else {
        String::new()
    };
    format!(
        "<p class=\"disclosure\">Published under disclosure control: counts from 1 to {} are \
         withheld, and further figures where they would let a withheld one be worked out.{rounding} \
         <b>c</b> confidential (withheld), <b>z</b> not applicable, <b>k</b> rounds to zero, \
         <b>x</b> not available.</p>\n",
        policy.threshold() - 1
    )
}

/// One unit's published scorecard table (the published report and page),
/// `pasts` holding each row's published history ([`histories`]), then the
/// commentary `shelf` holds on its rows.
pub fn unit_table_html(
    reader: &Reader,
    shelf: &Shelf,
    unit: UnitIdx,
    rows: &[PublishedRow],
    pasts: &[RowHistory<Published<Ratio>>],
    title: &str,
) -> String {
    let date = rows
        .first()
        .map(|row| row.date)
        .unwrap_or(crate::calendar::Date::MIN);
    let mut out = table_open(reader, unit, date, title, "scorecard published");
    let mut current_section = String::new();
    for (row, past) in rows.iter().zip(pasts) {
        let def = reader.def(row.slot);
        section_row(&mut out, reader, row.slot, &mut current_section);
        let (target, floor) = target_text(reader.target(row.slot, row.date));
        let small = if row.now.small_den == Published::Shown(true) {
            " small"
        } else {
            ""
        };
        let (arrow, arrow_class) = match row.dot {
            Published::Shown(dot) => dot_arrow(dot),
            Published::Symbol(symbol) => (symbol.as_str(), ""),
        };
        let r3m = match &row.r3m {
            Some(r3m) => format!(
                "<td class=\"num {}\">{}</td>",
                rag_class(shown_rag(r3m.rag)),
                escape(&value_str(def, r3m.value))
            ),
            None => "<td></td>".to_string(),
        };
        let rag = rag_class(shown_rag(row.now.rag));
        let extra = history::html_cells(
            reader,
            def,
            past,
            history::benchmarks(reader, row.slot, row.date),
        );
        let _ = writeln!(
            out,
            "<tr data-indicator=\"{id}\"><td>{name}</td><td>{polarity}</td><td>{period}</td><td class=\"num {rag}\" data-rag=\"{rag}\">{value}</td><td class=\"num\">{num}</td><td class=\"num{small}\">{den}</td><td class=\"num\">{target}</td><td class=\"num\">{floor}</td><td class=\"num\">{month_ago}</td><td class=\"num\">{year_ago}</td><td class=\"{arrow_class}\">{arrow}</td>{r3m}{extra}</tr>",
            id = escape(&reader.catalogue.slots[row.slot as usize].id),
            name = escape(&display_name(reader, row.slot)),
            polarity = def.polarity.code(),
            period = def.window.code(),
            value = escape(&value_str(def, row.now.value)),
            num = amount_str(row.now.num, def.num_scale),
            den = amount_str(row.now.den, def.den_scale),
            target = escape(&target),
            floor = escape(&floor),
            month_ago = escape(&value_str(def, row.month_ago)),
            year_ago = escape(&value_str(def, row.year_ago)),
        );
    }
    out.push_str("</table>\n");
    let summary = summary(rows);
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

/// The published HTML report, one table per unit (each on its own printed
/// page), with the legend; `span` is where the history starts.
pub fn report_html(
    reader: &Reader,
    policy: &Policy,
    span: Span,
    shelf: &Shelf,
    units: &[UnitIdx],
    month: Month,
) -> Result<String, DisclosureError> {
    let mut publisher = Publisher::new(reader, policy)?;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scorecard {month} (published)</title><style>{}</style></head><body>\n<h1>Scorecard &ndash; {month}</h1>\n<p>Rolling 12 months: {} to {}</p>\n{}",
        style(),
        crate::calendar::Window::R12M.start(month.last_day()),
        month.last_day(),
        legend_html(policy)
    );
    for unit in units {
        let rows = publisher.unit_rows(*unit, month)?;
        let pasts = histories(&mut publisher, span, &rows)?;
        let title = format!("Scorecard - {} {month}", reader.config.unit(*unit).name);
        let _ = writeln!(
            out,
            "<section class=\"unit\" data-unit=\"{}\">",
            escape(&reader.config.unit(*unit).id)
        );
        out.push_str(&unit_table_html(
            reader, shelf, *unit, &rows, &pasts, &title,
        ));
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    Ok(out)
}
