//! The import summary: counts per file, per reason and per event type, and
//! the bad rows by file, row and column. Nothing in it names a child.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Why a row (or a value of a row) was not imported.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The row could not be read as CSV (or XML element), or has the wrong
    /// number of fields.
    MalformedRow,
    /// A value the row needs is blank.
    MissingValue,
    /// A code outside the guidance's code list.
    UnknownCode,
    /// A date that is not a date (`dd/mm/yyyy` or `yyyy-mm-dd`) or does not exist.
    BadDate,
    /// An end before its start.
    DateOrder,
    /// A date after the end of the collection year of its return.
    OutsideYear,
    /// A date outside the configuration's `[validation]` ranges.
    OutOfRange,
    /// A second row with the same identity (child and start date) in one return.
    DuplicateRecord,
    /// A fact of a period of care (review, match) dated when the child was
    /// in no imported period of care.
    NoPeriod,
    /// A CSV file whose header matches no table of the return.
    UnknownTable,
}

impl Reason {
    /// The snake_case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MalformedRow => "malformed_row",
            Reason::MissingValue => "missing_value",
            Reason::UnknownCode => "unknown_code",
            Reason::BadDate => "bad_date",
            Reason::DateOrder => "date_order",
            Reason::OutsideYear => "outside_year",
            Reason::OutOfRange => "out_of_range",
            Reason::DuplicateRecord => "duplicate_record",
            Reason::NoPeriod => "no_period",
            Reason::UnknownTable => "unknown_table",
        }
    }
}

/// One bad row: where it is and what is wrong, without its values (a code
/// outside its list excepted).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Problem {
    /// The file, as named under the import directory.
    pub file: String,
    /// The row: the line of a CSV file (the header is line 1), or the
    /// number of the child element in an XML file.
    pub row: u64,
    /// The column (or element) at fault, when one is.
    pub column: Option<String>,
    /// Why.
    pub reason: Reason,
    /// A sentence.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} row {}", self.file, self.row)?;
        if let Some(column) = &self.column {
            write!(f, " column {column}")?;
        }
        write!(f, ": {} ({})", self.detail, self.reason.as_str())
    }
}

/// Rows of one file.
#[derive(Clone, Default, Debug, Serialize)]
pub struct FileCounts {
    /// The table the file holds (recognised by its header).
    pub table: String,
    /// Data rows read.
    pub rows: u64,
    /// Rows skipped as bad.
    pub skipped: u64,
    /// Rows of a table (or kind) the importer does not turn into events.
    pub not_imported: u64,
}

/// What an import did.
#[derive(Clone, Default, Debug, Serialize)]
pub struct Summary {
    /// Per file.
    pub files: BTreeMap<String, FileCounts>,
    /// Bad rows per reason.
    pub reasons: BTreeMap<&'static str, u64>,
    /// The bad rows.
    pub problems: Vec<Problem>,
    /// Readings of the returns worth counting (rows kept out on purpose,
    /// periods whose start is before the returns), by name.
    pub notes: BTreeMap<&'static str, u64>,
    /// Children with at least one event.
    pub children: u64,
    /// Of them, children the mapping does not list (placed in the default unit).
    pub unmapped_children: u64,
    /// Lines written, per event type.
    pub events: BTreeMap<&'static str, u64>,
    /// Lines written.
    pub lines: u64,
    /// Lines repeating a fact of an earlier return unchanged (duplicates on replay).
    pub repeats: u64,
    /// Lines correcting a fact of an earlier return (a higher revision).
    pub corrections: u64,
    /// Lines voiding a fact an earlier return had and a later one dropped.
    pub voids: u64,
}

impl Summary {
    /// Records a bad row.
    pub fn problem(&mut self, problem: Problem) {
        *self.reasons.entry(problem.reason.as_str()).or_default() += 1;
        if let Some(counts) = self.files.get_mut(&problem.file) {
            counts.skipped += 1;
        }
        self.problems.push(problem);
    }

    /// Adds one to a note.
    pub fn note(&mut self, name: &'static str) {
        *self.notes.entry(name).or_default() += 1;
    }

    /// Bad rows in all.
    pub fn skipped(&self) -> u64 {
        self.reasons.values().sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "files")?;
        for (file, counts) in &self.files {
            writeln!(
                f,
                "  {file:<40} {:<20} rows {:>8}  skipped {:>6}  not imported {:>6}",
                counts.table, counts.rows, counts.skipped, counts.not_imported
            )?;
        }
        writeln!(f, "bad rows          {:>10}", self.skipped())?;
        for (reason, count) in &self.reasons {
            writeln!(f, "  {reason:<22}{count:>10}")?;
        }
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        if !self.notes.is_empty() {
            writeln!(f, "readings")?;
            for (note, count) in &self.notes {
                writeln!(f, "  {note:<40}{count:>10}")?;
            }
        }
        writeln!(f, "children          {:>10}", self.children)?;
        writeln!(
            f,
            "  unmapped        {:>10}  (placed in the default unit)",
            self.unmapped_children
        )?;
        writeln!(f, "lines written     {:>10}", self.lines)?;
        writeln!(f, "  repeats         {:>10}", self.repeats)?;
        writeln!(f, "  corrections     {:>10}", self.corrections)?;
        writeln!(f, "  voids           {:>10}", self.voids)?;
        for (event_type, count) in &self.events {
            writeln!(f, "  {event_type:<30}{count:>10}")?;
        }
        Ok(())
    }
}
