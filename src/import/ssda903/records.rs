//! The rows of the tables the importer turns into events, typed, keyed by
//! their identity (child, and the start date for dated records), and merged
//! return by return: a later return's row replaces the same record of an
//! earlier one, and a record a later return should hold but does not is
//! dropped (decision D37).

use super::codes;
use super::table::{Row, Table};
use crate::calendar::Date;
use crate::import::report::{Problem, Reason};
use std::collections::{BTreeMap, BTreeSet};

/// Where a record was read: for problems found when its events are built.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Source {
    /// The file.
    pub file: String,
    /// The line.
    pub line: u64,
}

/// An episode of care.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Episode {
    /// `DECOM`.
    pub start: Date,
    /// `RNE`.
    pub reason_new: String,
    /// `LS`.
    pub legal_status: String,
    /// `PLACE`.
    pub place: String,
    /// `PLACE_PROVIDER`.
    pub provider: Option<String>,
    /// `DEC` and `REC`, together or neither.
    pub end: Option<(Date, String)>,
}

/// A review.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Review {
    /// `REVIEW_CODE`.
    pub code: String,
    /// Where it was read.
    pub source: Source,
}

/// A missing episode (`MISSING` = `M`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MissingEpisode {
    /// `MIS_END`.
    pub end: Option<Date>,
}

/// An adoption match (AD1 with `DATE_MATCH`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Match {
    /// `DATE_MATCH`.
    pub date: Date,
    /// Where it was read.
    pub source: Source,
}

/// A child and a date: the identity of dated records.
pub type Key = (String, Date);

/// The records of one return, or of several merged.
#[derive(Clone, Default, Debug)]
pub struct Records {
    /// Tables present (in the last return applied).
    pub present: BTreeSet<Table>,
    /// Date of birth by child (header).
    pub birth: BTreeMap<String, Date>,
    /// Children of the UASC table, with their date of birth.
    pub uasc: BTreeMap<String, Date>,
    /// Episodes by child and `DECOM`.
    pub episodes: BTreeMap<Key, Episode>,
    /// Reviews by child and date.
    pub reviews: BTreeMap<Key, Review>,
    /// Missing episodes by child and `MIS_START`.
    pub missing: BTreeMap<Key, MissingEpisode>,
    /// Adoption matches by child.
    pub matches: BTreeMap<String, Match>,
}

/// What reading a row gave.
pub enum Read {
    /// The row was taken.
    Taken,
    /// The row is fine but holds nothing the importer turns into events
    /// (the note names why).
    Left(&'static str),
}

impl Records {
    /// Reads one row of `table` into the records of its return.
    pub fn read(&mut self, table: Table, row: &Row) -> Result<Read, Problem> {
        let child = row.required("CHILD")?.to_string();
        if child.chars().count() > 64 {
            return Err(row.problem("CHILD", Reason::MalformedRow, "longer than 64 characters"));
        }
        let source = Source {
            file: row.file.to_string(),
            line: row.line,
        };
        let duplicate = |column: &str| {
            row.problem(
                column,
                Reason::DuplicateRecord,
                "a second row for the same child and date",
            )
        };
        match table {
            Table::Header => {
                let birth = row.birth_date("DOB")?;
                if self.birth.insert(child, birth).is_some() {
                    return Err(duplicate("CHILD"));
                }
            }
            Table::Uasc => {
                let birth = row.birth_date("DOB")?;
                row.optional_any_date("DUC")?;
                if self.uasc.insert(child, birth).is_some() {
                    return Err(duplicate("CHILD"));
                }
            }
            Table::Episodes => {
                let start = row.date("DECOM")?;
                let reason_new = row.code("RNE", &codes::RNE)?;
                let legal_status = row.code("LS", &codes::LEGAL_STATUS)?;
                let place = row.code("PLACE", &codes::place_codes())?;
                let provider = row.optional_code("PLACE_PROVIDER", &codes::PLACE_PROVIDER)?;
                if provider.is_none() && codes::needs_provider(&place) {
                    return Err(row.problem(
                        "PLACE_PROVIDER",
                        Reason::MissingValue,
                        "blank for a foster placement",
                    ));
                }
                let ended = row.optional_date("DEC")?;
                let reason_end = row.optional_code("REC", &codes::REC)?;
                let end = match (ended, reason_end) {
                    (Some(date), Some(reason)) => {
                        if date < start {
                            return Err(row.problem("DEC", Reason::DateOrder, "before DECOM"));
                        }
                        Some((date, reason))
                    }
                    (None, None) => None,
                    (Some(_), None) => {
                        return Err(row.problem(
                            "REC",
                            Reason::MissingValue,
                            "blank when DEC is given",
                        ))
                    }
                    (None, Some(_)) => {
                        return Err(row.problem(
                            "DEC",
                            Reason::MissingValue,
                            "blank when REC is given",
                        ))
                    }
                };
                if codes::SHORT_BREAKS.contains(&legal_status.as_str()) {
                    return Ok(Read::Left("short-break episodes left out"));
                }
                let episode = Episode {
                    start,
                    reason_new,
                    legal_status,
                    place,
                    provider,
                    end,
                };
                if self.episodes.insert((child, start), episode).is_some() {
                    return Err(duplicate("DECOM"));
                }
            }
            Table::Reviews => {
                let date = row.date("REVIEW")?;
                let code = row.code("REVIEW_CODE", &codes::REVIEW_CODE)?;
                if self
                    .reviews
                    .insert((child, date), Review { code, source })
                    .is_some()
                {
                    return Err(duplicate("REVIEW"));
                }
            }
            Table::Missing => {
                let kind = row.code("MISSING", &codes::MISSING)?;
                let start = row.date("MIS_START")?;
                let end = row.optional_date("MIS_END")?;
                if end.is_some_and(|end| end < start) {
                    return Err(row.problem("MIS_END", Reason::DateOrder, "before MIS_START"));
                }
                if kind == "A" {
                    return Ok(Read::Left("away-from-placement episodes left out"));
                }
                if self
                    .missing
                    .insert((child, start), MissingEpisode { end })
                    .is_some()
                {
                    return Err(duplicate("MIS_START"));
                }
            }
            Table::Ad1 => {
                let decided = row.optional_date("DATE_INT")?;
                let Some(date) = row.optional_date("DATE_MATCH")? else {
                    return Ok(Read::Left("adoption decisions without a match left out"));
                };
                if decided.is_some_and(|decided| date < decided) {
                    return Err(row.problem("DATE_MATCH", Reason::DateOrder, "before DATE_INT"));
                }
                if self.matches.insert(child, Match { date, source }).is_some() {
                    return Err(duplicate("CHILD"));
                }
            }
            Table::PlacedForAdoption | Table::PreviousPermanence | Table::Oc2 | Table::Oc3 => {
                return Ok(Read::Left("rows of tables not imported"))
            }
        }
        Ok(Read::Taken)
    }

    /// Applies a later return (collection year `year`) to the records held:
    /// its rows replace the same records; records of a table it has, dated
    /// so that it should hold them, and that it does not hold, are dropped
    /// (decision D37).
    pub fn apply(&mut self, year: i32, later: Records) {
        let first = Date::from_ymd(year - 1, 4, 1).unwrap_or(Date::MIN);
        let last = Date::from_ymd(year, 3, 31).unwrap_or(Date::MAX);
        let overlaps =
            |start: Date, end: Option<Date>| start <= last && end.is_none_or(|end| end >= first);
        let has = |table: Table| later.present.contains(&table);
        if has(Table::Episodes) {
            self.episodes.retain(|key, episode| {
                later.episodes.contains_key(key)
                    || !overlaps(key.1, episode.end.as_ref().map(|end| end.0))
            });
        }
        if has(Table::Reviews) {
            self.reviews
                .retain(|key, _| later.reviews.contains_key(key) || !overlaps(key.1, Some(key.1)));
        }
        if has(Table::Missing) {
            self.missing.retain(|key, episode| {
                later.missing.contains_key(key) || !overlaps(key.1, episode.end)
            });
        }
        self.present = later.present;
        self.birth.extend(later.birth);
        self.uasc.extend(later.uasc);
        self.episodes.extend(later.episodes);
        self.reviews.extend(later.reviews);
        self.missing.extend(later.missing);
        self.matches.extend(later.matches);
    }

    /// Every child with a record.
    pub fn children(&self) -> BTreeSet<&str> {
        let mut children: BTreeSet<&str> = BTreeSet::new();
        children.extend(self.episodes.keys().map(|key| key.0.as_str()));
        children.extend(self.reviews.keys().map(|key| key.0.as_str()));
        children.extend(self.missing.keys().map(|key| key.0.as_str()));
        children.extend(self.matches.keys().map(String::as_str));
        children
    }
}

/// The records of one child in a map keyed by (child, date), in date order.
pub fn of_child<'a, V>(
    map: &'a BTreeMap<Key, V>,
    child: &str,
) -> impl Iterator<Item = (Date, &'a V)> {
    map.range((child.to_string(), Date::MIN)..=(child.to_string(), Date::MAX))
        .map(|(key, value)| (key.1, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    fn episode(start: Date, end: Option<Date>) -> Episode {
        Episode {
            start,
            reason_new: "S".into(),
            legal_status: "C2".into(),
            place: "U1".into(),
            provider: None,
            end: end.map(|end| (end, "E8".into())),
        }
    }

    #[test]
    fn a_later_return_drops_only_what_it_should_hold() {
        let mut held = Records::default();
        // Ended before the 2021 year: the 2021 return need not repeat it.
        held.episodes.insert(
            ("a".into(), day(2019, 5, 1)),
            episode(day(2019, 5, 1), Some(day(2020, 3, 31))),
        );
        // Open on 1 April 2020: the 2021 return must hold it.
        held.episodes.insert(
            ("b".into(), day(2019, 6, 1)),
            episode(day(2019, 6, 1), None),
        );
        // Ended on 1 April 2020: still open during the 2021 year.
        held.episodes.insert(
            ("c".into(), day(2019, 7, 1)),
            episode(day(2019, 7, 1), Some(day(2020, 4, 1))),
        );
        held.reviews.insert(
            ("a".into(), day(2020, 3, 1)),
            Review {
                code: "PN1".into(),
                source: Source {
                    file: String::new(),
                    line: 2,
                },
            },
        );
        let mut later = Records::default();
        later.present.insert(Table::Episodes);
        later.episodes.insert(
            ("c".into(), day(2019, 7, 1)),
            episode(day(2019, 7, 1), Some(day(2020, 4, 2))),
        );
        held.apply(2021, later);
        let kept: Vec<(&str, Option<Date>)> = held
            .episodes
            .iter()
            .map(|(key, episode)| (key.0.as_str(), episode.end.as_ref().map(|end| end.0)))
            .collect();
        assert_eq!(
            kept,
            [("a", Some(day(2020, 3, 31))), ("c", Some(day(2020, 4, 2)))]
        );
        // The later return has no reviews table: reviews are kept.
        assert_eq!(held.reviews.len(), 1);
    }
}
