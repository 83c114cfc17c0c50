//! The tables of an SSDA903 return, recognised by their header row, and a
//! reader of one row's values that reports what is wrong by column.

use crate::calendar::Date;
use crate::config::Validation;
use crate::import::report::{Problem, Reason};
use std::collections::HashMap;

/// A table of the return.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Table {
    /// One row per child: date of birth and characteristics.
    Header,
    /// Episodes of care.
    Episodes,
    /// Unaccompanied asylum-seeking children.
    Uasc,
    /// Reviews of children looked after.
    Reviews,
    /// Missing and away-from-placement episodes.
    Missing,
    /// Children adopted: decision and match dates.
    Ad1,
    /// Children who should be placed for adoption.
    PlacedForAdoption,
    /// Previous permanence.
    PreviousPermanence,
    /// Outcomes of children looked after for a year.
    Oc2,
    /// Care leavers.
    Oc3,
}

/// Every table with its columns, as the guidance names them.
pub const TABLES: [(Table, &str, &[&str]); 10] = [
    (
        Table::Header,
        "header",
        &["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    ),
    (
        Table::Episodes,
        "episodes",
        &[
            "CHILD",
            "DECOM",
            "RNE",
            "LS",
            "CIN",
            "PLACE",
            "PLACE_PROVIDER",
            "DEC",
            "REC",
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
            "URN",
        ],
    ),
    (Table::Uasc, "uasc", &["CHILD", "SEX", "DOB", "DUC"]),
    (
        Table::Reviews,
        "reviews",
        &["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
    ),
    (
        Table::Missing,
        "missing",
        &["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    ),
    (
        Table::Ad1,
        "ad1",
        &[
            "CHILD",
            "DOB",
            "DATE_INT",
            "DATE_MATCH",
            "FOSTER_CARE",
            "NB_ADOPTR",
            "SEX_ADOPTR",
            "LS_ADOPTR",
        ],
    ),
    (
        Table::PlacedForAdoption,
        "placed_for_adoption",
        &[
            "CHILD",
            "DOB",
            "DATE_PLACED",
            "DATE_PLACED_CEASED",
            "REASON_PLACED_CEASED",
        ],
    ),
    (
        Table::PreviousPermanence,
        "previous_permanence",
        &["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"],
    ),
    (
        Table::Oc2,
        "oc2",
        &[
            "CHILD",
            "DOB",
            "SDQ_SCORE",
            "SDQ_REASON",
            "CONVICTED",
            "HEALTH_CHECK",
            "IMMUNISATIONS",
            "TEETH_CHECK",
            "HEALTH_ASSESSMENT",
            "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED",
        ],
    ),
    (
        Table::Oc3,
        "oc3",
        &["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    ),
];

impl Table {
    /// The table's name in the summary.
    pub fn name(self) -> &'static str {
        TABLES
            .iter()
            .find(|(table, _, _)| *table == self)
            .map(|(_, name, _)| *name)
            .unwrap_or("unknown")
    }

    /// The table whose columns a header holds (all of them; extra columns
    /// are allowed); the one with most columns when several fit.
    pub fn recognise(header: &[String]) -> Option<Table> {
        TABLES
            .iter()
            .filter(|(_, _, columns)| {
                columns
                    .iter()
                    .all(|column| header.iter().any(|h| h == column))
            })
            .max_by_key(|(_, _, columns)| columns.len())
            .map(|(table, _, _)| *table)
    }
}

/// What a row's dates must respect: the collection year and the
/// configuration's plausible ranges.
#[derive(Clone, Copy, Debug)]
pub struct DateRules {
    /// The last day of the collection year (31 March).
    pub year_end: Date,
    /// Earliest event date.
    pub earliest: Date,
    /// Earliest date of birth.
    pub earliest_birth: Date,
    /// Latest date.
    pub latest: Date,
}

impl DateRules {
    /// The rules of collection year `year` (ending 31 March `year`).
    pub fn new(year: i32, validation: &Validation) -> DateRules {
        DateRules {
            year_end: Date::from_ymd(year, 3, 31).unwrap_or(Date::MAX),
            earliest: validation.earliest_event_date,
            earliest_birth: validation.earliest_birth_date,
            latest: validation.latest_date,
        }
    }
}

/// One data row of a CSV file.
pub struct Row<'a> {
    /// The file, as named in the summary.
    pub file: &'a str,
    /// The row's line (the header is line 1).
    pub line: u64,
    /// The fields.
    pub record: &'a csv::StringRecord,
    /// Column name to field index.
    pub columns: &'a HashMap<String, usize>,
    /// Date rules.
    pub rules: DateRules,
}

/// Most characters of a code a problem quotes.
const CODE_QUOTE_CHARS: usize = 8;

impl Row<'_> {
    /// A problem of this row.
    pub fn problem(&self, column: &str, reason: Reason, detail: impl Into<String>) -> Problem {
        Problem {
            file: self.file.to_string(),
            row: self.line,
            column: Some(column.to_string()),
            reason,
            detail: detail.into(),
        }
    }

    /// The trimmed value of a column; `None` when blank.
    pub fn optional(&self, column: &str) -> Option<&str> {
        self.columns
            .get(column)
            .and_then(|index| self.record.get(*index))
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }

    /// A value that must not be blank.
    pub fn required(&self, column: &str) -> Result<&str, Problem> {
        self.optional(column)
            .ok_or_else(|| self.problem(column, Reason::MissingValue, "blank"))
    }

    /// A code of a list; case-insensitive, returned in upper case.
    pub fn code(&self, column: &str, codes: &[&str]) -> Result<String, Problem> {
        let value = self.required(column)?;
        self.known(column, value, codes)
    }

    /// An optional code of a list.
    pub fn optional_code(&self, column: &str, codes: &[&str]) -> Result<Option<String>, Problem> {
        self.optional(column)
            .map(|value| self.known(column, value, codes))
            .transpose()
    }

    fn known(&self, column: &str, value: &str, codes: &[&str]) -> Result<String, Problem> {
        let upper = value.to_ascii_uppercase();
        if codes.contains(&upper.as_str()) {
            return Ok(upper);
        }
        let quoted: String = value
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(CODE_QUOTE_CHARS)
            .collect();
        Err(self.problem(
            column,
            Reason::UnknownCode,
            format!("'{quoted}' is not a code of the guidance"),
        ))
    }

    /// An event date: within the configured range and not after the end of
    /// the collection year.
    pub fn date(&self, column: &str) -> Result<Date, Problem> {
        let date = self.parse_date(column, self.required(column)?)?;
        self.event_date(column, date)
    }

    /// An optional event date.
    pub fn optional_date(&self, column: &str) -> Result<Option<Date>, Problem> {
        match self.optional(column) {
            None => Ok(None),
            Some(text) => {
                let date = self.parse_date(column, text)?;
                self.event_date(column, date).map(Some)
            }
        }
    }

    /// An optional date that may fall after the collection year (the date
    /// a child stops being UASC, at 18): only its form and range are checked.
    pub fn optional_any_date(&self, column: &str) -> Result<Option<Date>, Problem> {
        let Some(text) = self.optional(column) else {
            return Ok(None);
        };
        let date = self.parse_date(column, text)?;
        if date < self.rules.earliest || date > self.rules.latest {
            return Err(self.problem(
                column,
                Reason::OutOfRange,
                "outside the accepted event dates",
            ));
        }
        Ok(Some(date))
    }

    /// A date of birth.
    pub fn birth_date(&self, column: &str) -> Result<Date, Problem> {
        let date = self.parse_date(column, self.required(column)?)?;
        if date < self.rules.earliest_birth || date > self.rules.latest {
            return Err(self.problem(
                column,
                Reason::OutOfRange,
                "outside the accepted dates of birth",
            ));
        }
        if date > self.rules.year_end {
            return Err(self.problem(
                column,
                Reason::OutsideYear,
                "after the end of the collection year",
            ));
        }
        Ok(date)
    }

    fn event_date(&self, column: &str, date: Date) -> Result<Date, Problem> {
        if date < self.rules.earliest || date > self.rules.latest {
            return Err(self.problem(
                column,
                Reason::OutOfRange,
                "outside the accepted event dates",
            ));
        }
        if date > self.rules.year_end {
            return Err(self.problem(
                column,
                Reason::OutsideYear,
                "after the end of the collection year",
            ));
        }
        Ok(date)
    }

    fn parse_date(&self, column: &str, text: &str) -> Result<Date, Problem> {
        parse_date(text).ok_or_else(|| {
            self.problem(
                column,
                Reason::BadDate,
                "not a date (dd/mm/yyyy or yyyy-mm-dd)",
            )
        })
    }
}

/// `dd/mm/yyyy` (the guidance's form) or `yyyy-mm-dd`; the day must exist.
pub fn parse_date(text: &str) -> Option<Date> {
    if let Some(date) = Date::parse(text) {
        return Some(date);
    }
    let mut parts = text.split('/');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |part: &str, lengths: &[usize]| {
        (lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    if parts.next().is_some() {
        return None;
    }
    Date::from_ymd(
        digits(year, &[4])? as i32,
        digits(month, &[1, 2])?,
        digits(day, &[1, 2])?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_either_form_must_exist() {
        assert_eq!(parse_date("03/06/2019"), Date::from_ymd(2019, 6, 3));
        assert_eq!(parse_date("2019-06-03"), Date::from_ymd(2019, 6, 3));
        assert_eq!(parse_date("29/02/2019"), None);
        assert_eq!(parse_date("03/06/19"), None);
        assert_eq!(parse_date("03/06/2019/1"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn tables_are_recognised_by_their_columns() {
        let header = |columns: &[&str]| columns.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Table::recognise(&header(&["CHILD", "SEX", "DOB", "DUC"])),
            Some(Table::Uasc)
        );
        assert_eq!(
            Table::recognise(&header(&["CHILD", "DOB", "REVIEW", "REVIEW_CODE", "EXTRA"])),
            Some(Table::Reviews)
        );
        assert_eq!(Table::recognise(&header(&["CHILD", "DOB"])), None);
    }
}
