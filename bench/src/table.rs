//! The result table: one row per measurement, its ceiling (or comparison
//! point) measured in the same run, the ratio, the target and whether it is met.

use serde_json::{json, Value};

/// What a group of rows measures; rows are printed in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Section {
    /// `ragline replay --input` against reading and parsing the file.
    FileReplay,
    /// Peak RSS and RocksDB size of that replay.
    Memory,
    /// Every month-end scorecard of every unit, in-process on the replayed state.
    MonthEnds,
    /// The whole rebuild (replay + every month-end report) against DuckDB.
    Rebuild,
    /// One month end from the file against DuckDB.
    Duckdb,
    /// `ragline run` latency, event produced to indicator value received.
    Live,
    /// `ragline replay --from-topic` against a bare consumer.
    Kafka,
    /// Kafka replay against Quix Streams.
    Quix,
    /// Scaled out: an instance's death to its partition's values flowing
    /// again from another.
    Failover,
}

impl Section {
    /// The section's name in the JSON output.
    pub fn key(self) -> &'static str {
        match self {
            Section::FileReplay => "file-replay",
            Section::Memory => "memory",
            Section::MonthEnds => "month-ends",
            Section::Rebuild => "rebuild",
            Section::Duckdb => "duckdb",
            Section::Live => "live",
            Section::Kafka => "kafka",
            Section::Quix => "quix",
            Section::Failover => "failover",
        }
    }
}

/// A target a row's value (or ratio) is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// value >= bound
    ValueAtLeast(f64),
    /// value < bound
    ValueBelow(f64),
    /// ratio > bound
    RatioAbove(f64),
    /// ragline at least `bound` times faster (a `versus` row: ratio >= bound)
    FasterAtLeast(f64),
}

impl Target {
    fn text(self, unit: &str) -> String {
        match self {
            Target::ValueAtLeast(bound) => format!(">= {} {unit}", number(bound)),
            Target::ValueBelow(bound) => format!("< {} {unit}", number(bound)),
            Target::RatioAbove(bound) => format!("ratio > {}", number(bound)),
            Target::FasterAtLeast(bound) => format!("ragline >= {}x faster", number(bound)),
        }
    }

    fn met(self, value: f64, ratio: Option<f64>) -> bool {
        match self {
            Target::ValueAtLeast(bound) => value >= bound,
            Target::ValueBelow(bound) => value < bound,
            Target::RatioAbove(bound) => ratio.is_some_and(|ratio| ratio > bound),
            Target::FasterAtLeast(bound) => ratio.is_some_and(|ratio| ratio >= bound),
        }
    }
}

/// One measurement.
#[derive(Clone, Debug)]
pub struct Row {
    /// What the row belongs to (the row order).
    pub section: Section,
    /// What was measured.
    pub name: String,
    /// The value, or why there is none.
    pub value: Result<f64, String>,
    /// Unit of `value` and `ceiling`.
    pub unit: String,
    /// The ceiling or comparison point, with what it is.
    pub ceiling: Option<(f64, String)>,
    /// value / ceiling, or comparison / value for a `versus` row.
    pub ratio: Option<f64>,
    /// Whether the ratio is comparison / value (printed "N.NNx faster").
    pub versus: bool,
    /// Target.
    pub target: Option<Target>,
    /// A note (shown under the table).
    pub note: Option<String>,
}

impl Row {
    /// A measured row without ceiling or target.
    pub fn new(section: Section, name: impl Into<String>, value: f64, unit: &str) -> Row {
        Row {
            section,
            name: name.into(),
            value: Ok(value),
            unit: unit.to_string(),
            ceiling: None,
            ratio: None,
            versus: false,
            target: None,
            note: None,
        }
    }

    /// A row that could not be measured.
    pub fn missing(section: Section, name: impl Into<String>, why: impl Into<String>) -> Row {
        Row {
            section,
            name: name.into(),
            value: Err(why.into()),
            unit: String::new(),
            ceiling: None,
            ratio: None,
            versus: false,
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
        self.versus = true;
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

/// The ratio column: a plain ratio, or "N.NNx faster" / "N.NNx slower" for
/// a `versus` row.
fn ratio_text(row: &Row) -> String {
    match row.ratio {
        None => "-".into(),
        Some(ratio) if !row.versus => format!("{ratio:.3}"),
        Some(ratio) => faster_text(ratio),
    }
}

/// A time ratio (other / ragline) as "N.NNx faster" or "N.NNx slower".
pub fn faster_text(ratio: f64) -> String {
    if ratio >= 1.0 {
        format!("{ratio:.2}x faster")
    } else if ratio > 0.0 {
        format!("{:.2}x slower", 1.0 / ratio)
    } else {
        format!("{ratio:.3}")
    }
}

/// The Markdown table and its notes; `#` is the row's position.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| # | measurement | value | ceiling / comparison | ratio | target | met? |\n| --- | --- | ---: | --- | ---: | --- | --- |\n",
    );
    let mut notes = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let value = match &row.value {
            Ok(value) => format!("{} {}", number(*value), row.unit),
            Err(why) => format!("n/a ({why})"),
        };
        let ceiling = row
            .ceiling
            .as_ref()
            .map(|(value, what)| format!("{} {} ({what})", number(*value), row.unit))
            .unwrap_or_else(|| "-".into());
        let ratio = ratio_text(row);
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
            index + 1
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
            .enumerate()
            .map(|(index, row)| {
                json!({
                    "position": index + 1,
                    "section": row.section.key(),
                    "measurement": row.name,
                    "value": row.value.as_ref().ok(),
                    "missing": row.value.as_ref().err(),
                    "unit": row.unit,
                    "ceiling": row.ceiling.as_ref().map(|(value, _)| value),
                    "ceiling_is": row.ceiling.as_ref().map(|(_, what)| what),
                    "ratio": row.ratio,
                    "ratio_is": if row.versus { "comparison / value (times faster)" } else { "value / ceiling" },
                    "target": row.target.map(|target| target.text(&row.unit)),
                    "met": row.met(),
                    "note": row.note,
                })
            })
            .collect(),
    )
}
