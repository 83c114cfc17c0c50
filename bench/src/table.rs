//! The result table: one row per measurement, its ceiling (or comparison
//! point) measured in the same run, the ratio, the target and whether it is met.

use serde_json::{json, Value};

/// A target a row's value (or ratio) is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// value >= bound
    ValueAtLeast(f64),
    /// value < bound
    ValueBelow(f64),
    /// ratio > bound
    RatioAbove(f64),
}

impl Target {
    fn text(self, unit: &str) -> String {
        match self {
            Target::ValueAtLeast(bound) => format!(">= {} {unit}", number(bound)),
            Target::ValueBelow(bound) => format!("< {} {unit}", number(bound)),
            Target::RatioAbove(bound) => format!("ratio > {}", number(bound)),
        }
    }

    fn met(self, value: f64, ratio: Option<f64>) -> bool {
        match self {
            Target::ValueAtLeast(bound) => value >= bound,
            Target::ValueBelow(bound) => value < bound,
            Target::RatioAbove(bound) => ratio.is_some_and(|ratio| ratio > bound),
        }
    }
}

/// One measurement.
#[derive(Clone, Debug)]
pub struct Row {
    /// Measurement number (1-6, as numbered in `bench/README.md`): the table's
    /// `#` column and row order.
    pub item: u8,
    /// What was measured.
    pub name: String,
    /// The value, or why there is none.
    pub value: Result<f64, String>,
    /// Unit of `value` and `ceiling`.
    pub unit: String,
    /// The ceiling or comparison point, with what it is.
    pub ceiling: Option<(f64, String)>,
    /// value / ceiling unless stated otherwise in `ratio_note`.
    pub ratio: Option<f64>,
    /// Target.
    pub target: Option<Target>,
    /// A note (shown under the table).
    pub note: Option<String>,
}

impl Row {
    /// A measured row without ceiling or target.
    pub fn new(item: u8, name: impl Into<String>, value: f64, unit: &str) -> Row {
        Row {
            item,
            name: name.into(),
            value: Ok(value),
            unit: unit.to_string(),
            ceiling: None,
            ratio: None,
            target: None,
            note: None,
        }
    }

    /// A row that could not be measured.
    pub fn missing(item: u8, name: impl Into<String>, why: impl Into<String>) -> Row {
        Row {
            item,
            name: name.into(),
            value: Err(why.into()),
            unit: String::new(),
            ceiling: None,
            ratio: None,
            target: None,
            note: None,
        }
    }

    /// Adds a ceiling; the ratio is value / ceiling.
    pub fn ceiling(mut self, ceiling: f64, what: impl Into<String>) -> Row {
        if let Ok(value) = self.value {
            self.ratio = (ceiling != 0.0).then(|| value / ceiling);
        }
        self.ceiling = Some((ceiling, what.into()));
        self
    }

    /// Adds a comparison point where the ratio is ceiling / value (a time
    /// or a latency of something else divided by ragline's).
    pub fn versus(mut self, other: f64, what: impl Into<String>) -> Row {
        if let Ok(value) = self.value {
            self.ratio = (value != 0.0).then(|| other / value);
        }
        self.ceiling = Some((other, what.into()));
        self
    }

    /// Adds a target.
    pub fn target(mut self, target: Target) -> Row {
        self.target = Some(target);
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }

    /// Whether the target is met (`None` without target or value).
    pub fn met(&self) -> Option<bool> {
        let value = *self.value.as_ref().ok()?;
        Some(self.target?.met(value, self.ratio))
    }
}

/// A number with thousands separators (integers) or three significant-ish decimals.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.abs() >= 1000.0 {
        let rounded = value.round() as i64;
        let digits = rounded.abs().to_string();
        let mut out = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index) % 3 == 0 {
                out.push(',');
            }
            out.push(digit);
        }
        if rounded < 0 {
            out.insert(0, '-');
        }
        out
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The Markdown table and its notes.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| # | measurement | value | ceiling / comparison | ratio | target | met? |\n| --- | --- | ---: | --- | ---: | --- | --- |\n",
    );
    let mut notes = Vec::new();
    for row in rows {
        let value = match &row.value {
            Ok(value) => format!("{} {}", number(*value), row.unit),
            Err(why) => format!("n/a ({why})"),
        };
        let ceiling = row
            .ceiling
            .as_ref()
            .map(|(value, what)| format!("{} {} ({what})", number(*value), row.unit))
            .unwrap_or_else(|| "-".into());
        let ratio = row
            .ratio
            .map(|ratio| format!("{ratio:.3}"))
            .unwrap_or_else(|| "-".into());
        let target = row
            .target
            .map(|target| target.text(&row.unit))
            .unwrap_or_else(|| "-".into());
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let mut name = row.name.clone();
        if let Some(note) = &row.note {
            notes.push(note.clone());
            name.push_str(&format!(" [{}]", notes.len()));
        }
        out.push_str(&format!(
            "| {} | {name} | {value} | {ceiling} | {ratio} | {target} | {met} |\n",
            row.item
        ));
    }
    if !notes.is_empty() {
        out.push('\n');
        for (index, note) in notes.iter().enumerate() {
            out.push_str(&format!("[{}] {note}\n", index + 1));
        }
    }
    out
}

/// The rows as JSON.
pub fn json_rows(rows: &[Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                json!({
                    "item": row.item,
                    "measurement": row.name,
                    "value": row.value.as_ref().ok(),
                    "missing": row.value.as_ref().err(),
                    "unit": row.unit,
                    "ceiling": row.ceiling.as_ref().map(|(value, _)| value),
                    "ceiling_is": row.ceiling.as_ref().map(|(_, what)| what),
                    "ratio": row.ratio,
                    "target": row.target.map(|target| target.text(&row.unit)),
                    "met": row.met(),
                    "note": row.note,
                })
            })
            .collect(),
    )
}
