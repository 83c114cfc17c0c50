//! The committee pack as JSON, HTML and Markdown (`docs/committee-pack.md`).
//!
//! Figures follow the scorecard's rules: JSON carries exact numerators and
//! denominators and the unrounded value (decision D27) next to the value as
//! shown; HTML and Markdown show values at one decimal place.

use super::exceptions::{title, ExceptionOptions, ExceptionPage, TrendPoint};
use super::movement::{Direction, Movement, RecordState, Side};
use super::notes::month_label;
use crate::calendar::Month;
use crate::config::TargetSpec;
use crate::indicators::{Indicator, Kind};
use crate::report::{decimal_text, display_name, escape, rag_class, style};
use crate::scorecard::{
    amount_json, amount_text, decimal_json, value_json, value_text, Evaluation, Rag, Reader,
    Reading,
};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// A rating as the pages name it: `Red`, `Amber`, `Green`, or empty.
pub fn rag_word(rag: Option<Rag>) -> &'static str {
    match rag {
        Some(Rag::Red) => "Red",
        Some(Rag::Amber) => "Amber",
        Some(Rag::Green) => "Green",
        None => "",
    }
}

fn rag_json(rag: Option<Rag>) -> Value {
    rag.map(|rag| json!(rag.as_str())).unwrap_or(Value::Null)
}

/// The target as the trend table shows it: one decimal place (`80.0%`,
/// `18.0`), a whole number for counts; the middle target for `T`.
pub fn target_shown(def: &Indicator, target: Option<&TargetSpec>) -> String {
    let Some(target) = target else {
        return String::new();
    };
    let value = match target {
        TargetSpec::Bound { target, .. } | TargetSpec::Range { target, .. } => *target,
    };
    if def.kind == Kind::Count {
        return value.normalize().to_string();
    }
    let text = decimal_text(value.round_dp(1));
    if def.kind == Kind::Percent {
        format!("{text}%")
    } else {
        text
    }
}

fn target_value_json(target: Option<&TargetSpec>) -> Value {
    match target {
        None => Value::Null,
        Some(TargetSpec::Bound { target, .. } | TargetSpec::Range { target, .. }) => {
            decimal_json(*target)
        }
    }
}

fn reading_json(def: &Indicator, reading: Reading, object: &mut Map<String, Value>) {
    object.insert("num".into(), amount_json(reading.num, def.num_scale));
    if def.kind != Kind::Count {
        object.insert("den".into(), amount_json(reading.den, def.den_scale));
    }
}

fn evaluation_json(def: &Indicator, evaluation: &Evaluation) -> Map<String, Value> {
    let mut object = Map::new();
    reading_json(def, evaluation.reading, &mut object);
    object.insert("value".into(), value_json(def, evaluation.value));
    object.insert("shown".into(), json!(value_text(def, evaluation.value)));
    object.insert("rag".into(), rag_json(evaluation.rag));
    object
}

fn num_den_text(def: &Indicator, reading: Reading) -> String {
    if def.kind == Kind::Count {
        amount_text(reading.num, def.num_scale)
    } else {
        format!(
            "{} / {}",
            amount_text(reading.num, def.num_scale),
            amount_text(reading.den, def.den_scale)
        )
    }
}

/// The label of the result row of the trend table: `Kent Result`.
fn result_label(reader: &Reader, page: &ExceptionPage) -> String {
    format!("{} Result", reader.config.unit(page.unit).name)
}

/// The UASC line of a page in words.
fn uasc_sentence(reader: &Reader, page: &ExceptionPage) -> Option<String> {
    let other = page.uasc.as_ref()?;
    let def = reader.def(other.slot);
    let treatment = if other.excluding {
        "Excluding"
    } else {
        "Including"
    };
    let mut details = Vec::new();
    if def.kind != Kind::Count {
        details.push(num_den_text(def, other.evaluation.reading));
    }
    if other.evaluation.rag.is_some() {
        details.push(rag_word(other.evaluation.rag).to_string());
    }
    let details = if details.is_empty() {
        String::new()
    } else {
        format!(" ({})", details.join(", "))
    };
    Some(format!(
        "{treatment} UASC ({}): {}{details}",
        reader.catalogue.slots[other.slot as usize].id,
        value_text(def, other.evaluation.value),
    ))
}

fn trend_json(def: &Indicator, point: &TrendPoint) -> Value {
    let mut object = Map::new();
    object.insert("month".into(), json!(point.month.to_string()));
    object.insert("label".into(), json!(month_label(point.month)));
    object.extend(evaluation_json(def, &point.evaluation));
    object.insert("target".into(), target_value_json(point.target.as_ref()));
    object.insert(
        "target_shown".into(),
        json!(target_shown(def, point.target.as_ref())),
    );
    Value::Object(object)
}

fn page_json(reader: &Reader, page: &ExceptionPage) -> Value {
    let def = reader.def(page.slot);
    let unit = reader.config.unit(page.unit);
    let mut object = Map::new();
    object.insert(
        "indicator".into(),
        json!(reader.catalogue.slots[page.slot as usize].id),
    );
    object.insert("name".into(), json!(title(reader, page)));
    object.insert("unit".into(), json!(unit.id));
    object.insert("unit_name".into(), json!(unit.name));
    object.insert("month".into(), json!(page.month.to_string()));
    object.insert("kind".into(), json!(def.kind.as_str()));
    object.insert("polarity".into(), json!(def.polarity.code()));
    object.insert("period".into(), json!(def.window.code()));
    object.extend(evaluation_json(def, &page.now));
    if let Some((month, rag)) = page.since {
        object.insert(
            "since".into(),
            json!({"month": month.to_string(), "rag": rag_json(rag)}),
        );
    }
    object.insert(
        "trend".into(),
        Value::Array(
            page.trend
                .iter()
                .map(|point| trend_json(def, point))
                .collect(),
        ),
    );
    object.insert(
        "commentary".into(),
        super::commentary::json(page.commentary.as_ref()),
    );
    object.insert(
        "data_notes".into(),
        json!({
            "target": page.notes.target,
            "tolerance": page.notes.tolerance,
            "period": page.notes.period,
            "source": page.notes.source,
        }),
    );
    object.insert(
        "red_units".into(),
        Value::Array(
            page.red_units
                .iter()
                .map(|line| {
                    let node = reader.config.unit(line.unit);
                    let mut unit = Map::new();
                    unit.insert("unit".into(), json!(node.id));
                    unit.insert("unit_name".into(), json!(node.name));
                    unit.extend(evaluation_json(def, &line.evaluation));
                    Value::Object(unit)
                })
                .collect(),
        ),
    );
    object.insert(
        "outside_standard".into(),
        match &page.outside {
            Some(outside) => json!({
                "count": amount_json(outside.outside, outside.scale),
                "of": amount_json(outside.counted, outside.scale),
                "sentence": outside.sentence,
            }),
            None => Value::Null,
        },
    );
    object.insert(
        "uasc".into(),
        match &page.uasc {
            Some(other) => {
                let mut uasc = Map::new();
                uasc.insert(
                    "indicator".into(),
                    json!(reader.catalogue.slots[other.slot as usize].id),
                );
                uasc.insert(
                    "treatment".into(),
                    json!(if other.excluding {
                        "excluding"
                    } else {
                        "including"
                    }),
                );
                uasc.extend(evaluation_json(reader.def(other.slot), &other.evaluation));
                Value::Object(uasc)
            }
            None => Value::Null,
        },
    );
    Value::Object(object)
}

/// The exception pages as JSON.
pub fn exceptions_json(
    reader: &Reader,
    options: &ExceptionOptions,
    pages: &[ExceptionPage],
) -> Value {
    json!({
        "view": "exceptions",
        "month": options.month.to_string(),
        "units": options.units.iter().map(|unit| reader.config.unit(*unit).id.clone()).collect::<Vec<_>>(),
        "include_amber": options.include_amber,
        "since": options.since.map(|since| since.to_string()),
        "trend_months": options.trend,
        "pages": pages.iter().map(|page| page_json(reader, page)).collect::<Vec<_>>(),
    })
}

const PACK_STYLE: &str =
    ".page{page-break-before:always;margin-bottom:3em}.page:first-of-type{page-break-before:auto}\
.rag-label{display:inline-block;padding:2px 10px;font-weight:bold}h2{margin-bottom:0.2em}\
.notes p{margin:0.3em 0}.trend th:first-child{text-align:left}\
@media print{.page{margin-bottom:0}h1{margin:0 0 0.3em}h2{margin:0.2em 0}h3{margin:0.5em 0 0.2em}\
p{margin:0.25em 0}.notes p{margin:0.1em 0}table{margin-bottom:0.5em}table.red-units{font-size:9px}}";

fn heading(view: &str, month: Month) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{view} {month}</title><style>{}{PACK_STYLE}</style></head><body>\n",
        style()
    )
}

/// The exception pages as HTML, one page per indicator and unit.
pub fn exceptions_html(
    reader: &Reader,
    options: &ExceptionOptions,
    pages: &[ExceptionPage],
) -> String {
    let month = options.month;
    let mut out = heading("Exceptions", month);
    let _ = writeln!(
        out,
        "<h1>Exception report &ndash; {}</h1>\n<p>{}</p>",
        month_label(month),
        escape(&selection_sentence(options, pages.len()))
    );
    for page in pages {
        let def = reader.def(page.slot);
        let unit = reader.config.unit(page.unit);
        let _ = writeln!(
            out,
            "<section class=\"page\" data-indicator=\"{}\" data-unit=\"{}\">\n<h2>{}</h2>\n<p><span class=\"rag-label {}\">{}</span> {} &ndash; {}</p>",
            escape(&reader.catalogue.slots[page.slot as usize].id),
            escape(&unit.id),
            escape(&title(reader, page)),
            rag_class(page.now.rag),
            rag_word(page.now.rag),
            escape(&unit.name),
            month_label(month)
        );
        if let Some((since, rag)) = page.since {
            let _ = writeln!(
                out,
                "<p>Rated {} at {}.</p>",
                escape(if rag.is_some() {
                    rag_word(rag)
                } else {
                    "unrated"
                }),
                month_label(since)
            );
        }
        out.push_str("<table class=\"trend\"><tr><th>Trend Data &ndash; Month End</th>");
        for point in &page.trend {
            let _ = write!(out, "<th>{}</th>", month_label(point.month));
        }
        let _ = write!(
            out,
            "</tr>\n<tr><td>{}</td>",
            escape(&result_label(reader, page))
        );
        for point in &page.trend {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td>",
                escape(&shown_or_blank(def, &point.evaluation))
            );
        }
        out.push_str("</tr>\n<tr><td>Target</td>");
        for point in &page.trend {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td>",
                escape(&target_shown(def, point.target.as_ref()))
            );
        }
        out.push_str("</tr>\n<tr><td>RAG Rating</td>");
        for point in &page.trend {
            let _ = write!(
                out,
                "<td class=\"{}\" data-rag=\"{}\">{}</td>",
                rag_class(point.evaluation.rag),
                rag_class(point.evaluation.rag),
                rag_word(point.evaluation.rag)
            );
        }
        out.push_str("</tr>\n</table>\n<h3>Commentary</h3>\n");
        match &page.commentary {
            Some(commentary) => {
                for paragraph in paragraphs(&commentary.text) {
                    let _ = writeln!(out, "<p class=\"commentary\">{}</p>", escape(paragraph));
                }
                let _ = writeln!(
                    out,
                    "<p class=\"commentary-author\">&mdash; {}</p>",
                    escape(&commentary.author)
                );
            }
            None => out.push_str("<p class=\"commentary\">No commentary recorded.</p>\n"),
        }
        out.push_str(&facts_html(reader, page));
        out.push_str("<h3>Data Notes</h3>\n<div class=\"notes\">\n");
        for line in note_lines(page) {
            let _ = writeln!(out, "<p>{}</p>", escape(&line));
        }
        out.push_str("</div>\n</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The paragraphs of a commentary text (split at blank lines).
pub(crate) fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
}

fn shown_or_blank(def: &Indicator, evaluation: &Evaluation) -> String {
    if evaluation.value.is_none() {
        String::new()
    } else {
        value_text(def, evaluation.value)
    }
}

fn note_lines(page: &ExceptionPage) -> Vec<String> {
    let mut lines = vec![
        page.notes.target.clone(),
        page.notes.tolerance.clone(),
        page.notes.period.clone(),
    ];
    lines.extend(page.notes.source.clone());
    lines
}

fn selection_sentence(options: &ExceptionOptions, count: usize) -> String {
    let which = if options.include_amber {
        "red or amber"
    } else {
        "red"
    };
    match options.since {
        Some(since) => format!(
            "{count} indicator page(s): rated {which} at the end of {} and not at the end of {}.",
            month_label(options.month),
            month_label(since)
        ),
        None => format!(
            "{count} indicator page(s): rated {which} at the end of {}.",
            month_label(options.month)
        ),
    }
}

fn facts_html(reader: &Reader, page: &ExceptionPage) -> String {
    let def = reader.def(page.slot);
    let mut out = String::new();
    if let Some(outside) = &page.outside {
        let _ = writeln!(
            out,
            "<p class=\"outside\">{}</p>",
            escape(&outside.sentence)
        );
    }
    if let Some(sentence) = uasc_sentence(reader, page) {
        let _ = writeln!(out, "<p class=\"uasc\">{}</p>", escape(&sentence));
    }
    if page.red_units.is_empty() {
        out.push_str("<p class=\"red-units\">No unit beneath is rated red.</p>\n");
    } else {
        out.push_str("<h3>Units beneath rated red</h3>\n<table class=\"red-units\"><tr><th>Unit</th><th>Result</th><th>Num</th><th>Denom</th></tr>\n");
        for line in &page.red_units {
            let den = if def.kind == Kind::Count {
                "-".to_string()
            } else {
                amount_text(line.evaluation.reading.den, def.den_scale)
            };
            let _ = writeln!(
                out,
                "<tr data-unit=\"{}\"><td>{}</td><td class=\"num red\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&reader.config.unit(line.unit).id),
                escape(&reader.config.unit(line.unit).name),
                escape(&value_text(def, line.evaluation.value)),
                amount_text(line.evaluation.reading.num, def.num_scale),
                den
            );
        }
        out.push_str("</table>\n");
    }
    out
}

fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The exception pages as Markdown.
pub fn exceptions_markdown(
    reader: &Reader,
    options: &ExceptionOptions,
    pages: &[ExceptionPage],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Exception report - {}\n\n{}\n",
        month_label(options.month),
        selection_sentence(options, pages.len())
    );
    for page in pages {
        let def = reader.def(page.slot);
        let unit = reader.config.unit(page.unit);
        let _ = writeln!(
            out,
            "## {} ({})\n\n**{}** - {}, {}\n",
            markdown_cell(&title(reader, page)),
            reader.catalogue.slots[page.slot as usize].id,
            rag_word(page.now.rag),
            unit.name,
            month_label(page.month)
        );
        if let Some((since, rag)) = page.since {
            let _ = writeln!(
                out,
                "Rated {} at {}.\n",
                if rag.is_some() {
                    rag_word(rag)
                } else {
                    "unrated"
                },
                month_label(since)
            );
        }
        out.push_str("| Trend Data - Month End |");
        for point in &page.trend {
            let _ = write!(out, " {} |", month_label(point.month));
        }
        out.push_str("\n| --- |");
        for _ in &page.trend {
            out.push_str(" ---: |");
        }
        let _ = write!(out, "\n| {} |", markdown_cell(&result_label(reader, page)));
        for point in &page.trend {
            let _ = write!(out, " {} |", shown_or_blank(def, &point.evaluation));
        }
        out.push_str("\n| Target |");
        for point in &page.trend {
            let _ = write!(out, " {} |", target_shown(def, point.target.as_ref()));
        }
        out.push_str("\n| RAG Rating |");
        for point in &page.trend {
            let _ = write!(out, " {} |", rag_word(point.evaluation.rag));
        }
        out.push_str("\n\n### Commentary\n\n");
        match &page.commentary {
            Some(commentary) => {
                for paragraph in paragraphs(&commentary.text) {
                    let _ = writeln!(out, "{paragraph}\n");
                }
                let _ = writeln!(out, "-- {}\n", commentary.author);
            }
            None => out.push_str("No commentary recorded.\n\n"),
        }
        if let Some(outside) = &page.outside {
            let _ = writeln!(out, "{}\n", outside.sentence);
        }
        if let Some(sentence) = uasc_sentence(reader, page) {
            let _ = writeln!(out, "{sentence}\n");
        }
        if page.red_units.is_empty() {
            out.push_str("No unit beneath is rated red.\n\n");
        } else {
            out.push_str("Units beneath rated red:\n\n");
            for line in &page.red_units {
                if def.kind == Kind::Count {
                    let _ = writeln!(
                        out,
                        "- {}: {}",
                        reader.config.unit(line.unit).name,
                        value_text(def, line.evaluation.value)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "- {}: {} ({})",
                        reader.config.unit(line.unit).name,
                        value_text(def, line.evaluation.value),
                        num_den_text(def, line.evaluation.reading)
                    );
                }
            }
            out.push('\n');
        }
        out.push_str("### Data Notes\n\n");
        for line in note_lines(page) {
            let _ = writeln!(out, "{line}\n");
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Movement.

fn side_json(reader: &Reader, slot: crate::contrib::Slot, side: &Side) -> Value {
    let def = reader.def(slot);
    let mut object = Map::new();
    object.insert("month".into(), json!(side.month.to_string()));
    object.extend(evaluation_json(def, &side.evaluation));
    match side.record {
        RecordState::Open => {
            object.insert("closed".into(), json!(false));
            object.insert("restatements".into(), Value::Null);
            object.insert("restated".into(), json!(false));
            object.insert("recorded".into(), Value::Null);
        }
        RecordState::Closed {
            restatements,
            recorded,
        } => {
            object.insert("closed".into(), json!(true));
            object.insert("restatements".into(), json!(restatements));
            object.insert("restated".into(), json!(restatements > 0));
            let mut figures = Map::new();
            reading_json(def, recorded, &mut figures);
            object.insert("recorded".into(), Value::Object(figures));
        }
        RecordState::Missing => {
            object.insert("closed".into(), json!(true));
            object.insert("restatements".into(), Value::Null);
            object.insert("restated".into(), json!(false));
            object.insert("recorded".into(), Value::Null);
        }
    }
    Value::Object(object)
}

/// The movement in words, after the published report: "Performance has
/// improved from 84.5% to 88.8%, moving from a Red to Amber RAG rating."
pub fn movement_sentence(reader: &Reader, movement: &Movement) -> String {
    let def = reader.def(movement.slot);
    let verb = match movement.direction {
        Direction::Improved => "improved",
        Direction::Worsened => "decreased",
    };
    let mut sentence = format!(
        "Performance has {verb} from {} to {}, moving from {} {} to {} RAG rating.",
        value_text(def, movement.from.evaluation.value),
        value_text(def, movement.to.evaluation.value),
        if movement.from.evaluation.rag == Some(Rag::Amber) {
            "an"
        } else {
            "a"
        },
        rag_word(movement.from.evaluation.rag),
        rag_word(movement.to.evaluation.rag)
    );
    for side in [&movement.from, &movement.to] {
        if let RecordState::Closed {
            restatements,
            recorded,
        } = side.record
        {
            if restatements > 0 {
                let _ = write!(
                    sentence,
                    " The {} figures were restated after the month closed ({} update{} from late-recorded data; now {}).",
                    month_label(side.month),
                    restatements,
                    if restatements == 1 { "" } else { "s" },
                    num_den_text(def, recorded)
                );
            }
        }
    }
    sentence
}

/// The movement view as JSON.
pub fn movement_json(reader: &Reader, since: Month, month: Month, movements: &[Movement]) -> Value {
    let improved = movements
        .iter()
        .filter(|movement| movement.direction == Direction::Improved)
        .count();
    json!({
        "view": "movement",
        "month": month.to_string(),
        "since": since.to_string(),
        "summary": {"changed": movements.len(), "improved": improved, "worsened": movements.len() - improved},
        "movements": movements.iter().map(|movement| {
            let unit = reader.config.unit(movement.unit);
            json!({
                "indicator": reader.catalogue.slots[movement.slot as usize].id,
                "name": display_name(reader, movement.slot),
                "unit": unit.id,
                "unit_name": unit.name,
                "polarity": reader.def(movement.slot).polarity.code(),
                "period": reader.def(movement.slot).window.code(),
                "direction": movement.direction.as_str(),
                "from": side_json(reader, movement.slot, &movement.from),
                "to": side_json(reader, movement.slot, &movement.to),
                "restated_since_close": movement.from.record.restated(),
                "sentence": movement_sentence(reader, movement),
            })
        }).collect::<Vec<_>>(),
    })
}

fn restated_text(side: &Side) -> String {
    match side.record {
        RecordState::Open => "open".to_string(),
        RecordState::Closed {
            restatements: 0, ..
        } => "no".to_string(),
        RecordState::Closed { restatements, .. } => format!("yes ({restatements})"),
        RecordState::Missing => "no record".to_string(),
    }
}

fn movement_rows(reader: &Reader, movements: &[Movement]) -> Vec<[String; 10]> {
    movements
        .iter()
        .map(|movement| {
            let def = reader.def(movement.slot);
            [
                reader.catalogue.slots[movement.slot as usize].id.clone(),
                display_name(reader, movement.slot),
                reader.config.unit(movement.unit).name.clone(),
                value_text(def, movement.from.evaluation.value),
                num_den_text(def, movement.from.evaluation.reading),
                rag_word(movement.from.evaluation.rag).to_string(),
                value_text(def, movement.to.evaluation.value),
                num_den_text(def, movement.to.evaluation.reading),
                rag_word(movement.to.evaluation.rag).to_string(),
                restated_text(&movement.from),
            ]
        })
        .collect()
}

fn movement_intro(since: Month, month: Month, movements: &[Movement]) -> String {
    let improved = movements
        .iter()
        .filter(|movement| movement.direction == Direction::Improved)
        .count();
    format!(
        "{} indicator and unit line(s) changed RAG band between the {} and {} scorecards: {} improved, {} worsened.",
        movements.len(),
        month_label(since),
        month_label(month),
        improved,
        movements.len() - improved
    )
}

/// The movement view as HTML.
pub fn movement_html(
    reader: &Reader,
    since: Month,
    month: Month,
    movements: &[Movement],
) -> String {
    let mut out = heading("RAG movement", month);
    let _ = writeln!(
        out,
        "<h1>RAG movement &ndash; {} to {}</h1>\n<p>{}</p>",
        month_label(since),
        month_label(month),
        escape(&movement_intro(since, month, movements))
    );
    let _ = writeln!(
        out,
        "<table class=\"movement\"><tr><th>Indicator</th><th>Name</th><th>Unit</th><th>{0}</th><th>{0} num / den</th><th>{0} RAG</th><th>{1}</th><th>{1} num / den</th><th>{1} RAG</th><th>{0} restated after close</th><th>Direction</th></tr>",
        month_label(since),
        month_label(month)
    );
    for (movement, row) in movements.iter().zip(movement_rows(reader, movements)) {
        let _ = writeln!(
            out,
            "<tr data-indicator=\"{}\" data-unit=\"{}\" data-direction=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row[0]),
            escape(&reader.config.unit(movement.unit).id),
            movement.direction.as_str(),
            escape(&row[0]),
            escape(&row[1]),
            escape(&row[2]),
            escape(&row[3]),
            escape(&row[4]),
            rag_class(movement.from.evaluation.rag),
            row[5],
            escape(&row[6]),
            escape(&row[7]),
            rag_class(movement.to.evaluation.rag),
            row[8],
            escape(&row[9]),
            movement.direction.as_str()
        );
    }
    out.push_str("</table>\n<h2>In words</h2>\n<ul>\n");
    for movement in movements {
        let _ = writeln!(
            out,
            "<li><strong>{} &ndash; {}</strong>: {}</li>",
            escape(&display_name(reader, movement.slot)),
            escape(&reader.config.unit(movement.unit).name),
            escape(&movement_sentence(reader, movement))
        );
    }
    out.push_str("</ul>\n</body></html>\n");
    out
}

/// The movement view as Markdown.
pub fn movement_markdown(
    reader: &Reader,
    since: Month,
    month: Month,
    movements: &[Movement],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# RAG movement - {} to {}\n\n{}\n",
        month_label(since),
        month_label(month),
        movement_intro(since, month, movements)
    );
    let _ = writeln!(
        out,
        "| Indicator | Name | Unit | {0} | {0} num / den | {0} RAG | {1} | {1} num / den | {1} RAG | {0} restated after close |\n| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- |",
        month_label(since),
        month_label(month)
    );
    for row in movement_rows(reader, movements) {
        let cells: Vec<String> = row.iter().map(|cell| markdown_cell(cell)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
    for (position, movement) in movements.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. **{} - {}**: {}",
            position + 1,
            markdown_cell(&display_name(reader, movement.slot)),
            reader.config.unit(movement.unit).name,
            movement_sentence(reader, movement)
        );
    }
    out
}
