//! The SSDA903 return of one collection year, from the children's
//! histories: the header, episodes, UASC, reviews, missing and AD1 tables
//! in the columns the importer reads (`crate::import::ssda903::table`).

use super::super::facts::{CIC_END_REASONS, LEGAL_STATUSES, PLACEMENT_TYPES};
use super::history::{CarePeriod, ChildHistory};
use super::{child_id, CollectionYear};
use crate::calendar::Date;
use crate::import::ssda903::codes;
use crate::import::ssda903::table::{Table, TABLES};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// An episode of care: a change of placement, of legal status or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::generate) struct Episode {
    /// `DECOM`.
    pub start: Date,
    /// `RNE`.
    pub reason_new: &'static str,
    /// `LS`.
    pub legal_status: &'static str,
    /// Index of the placement type.
    pub placement: u8,
    /// `DEC` and `REC`.
    pub end: Option<(Date, &'static str)>,
}

/// The episodes of a period of care: one from each placement, and one from
/// the placement order when it falls between placements (decision D35 read
/// the other way round).
pub(in crate::generate) fn episodes(period: &CarePeriod) -> Vec<Episode> {
    let status = match LEGAL_STATUSES[period.legal_status as usize] {
        "" => codes::DEFAULT_LEGAL_STATUS,
        code => code,
    };
    // Dates on which something changes: placement (with its type), order.
    let mut changes: BTreeMap<Date, (Option<u8>, bool)> = BTreeMap::new();
    for (date, placement) in &period.placements {
        changes.entry(*date).or_default().0 = Some(*placement);
    }
    if let Some(order) = period.order {
        changes.entry(order.max(period.start)).or_default().1 = true;
    }
    let mut out: Vec<Episode> = Vec::new();
    let mut placement = period.placements.first().map_or(7, |(_, kind)| *kind);
    let mut under_order = false;
    for (index, (date, (new_placement, order))) in changes.into_iter().enumerate() {
        under_order |= order;
        let reason_new = match (index, new_placement.is_some(), order) {
            (0, _, _) => "S",
            (_, true, true) => "T",
            (_, true, false) => "P",
            _ => "L",
        };
        if let Some(kind) = new_placement {
            placement = kind;
        }
        if let Some(previous) = out.last_mut() {
            previous.end = Some((date, codes::EPISODE_CONTINUES));
        }
        out.push(Episode {
            start: date,
            reason_new,
            legal_status: if under_order {
                codes::PLACEMENT_ORDER
            } else {
                status
            },
            placement,
            end: None,
        });
    }
    if let (Some(last), Some((date, reason))) = (out.last_mut(), period.end) {
        let reason = CIC_END_REASONS[reason as usize];
        last.end = Some((date, codes::rec_of_reason(reason).unwrap_or("E8")));
    }
    out
}

/// `dd/mm/yyyy`, as the guidance writes dates.
fn date(date: Date) -> String {
    let (year, month, day) = date.ymd();
    format!("{day:02}/{month:02}/{year:04}")
}

fn optional(value: Option<Date>) -> String {
    value.map(date).unwrap_or_default()
}

/// The columns of a table, as the importer reads them.
fn columns(table: Table) -> &'static [&'static str] {
    TABLES
        .iter()
        .find(|(held, _, _)| *held == table)
        .map(|(_, _, columns)| *columns)
        .expect("every table has columns")
}

/// A CSV file of `table`: rows of (column, value), in the table's columns.
struct TableFile {
    table: Table,
    rows: Vec<Vec<(&'static str, String)>>,
}

impl TableFile {
    fn new(table: Table) -> TableFile {
        TableFile {
            table,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, values: Vec<(&'static str, String)>) {
        self.rows.push(values);
    }

    fn write(&self, path: &Path) -> io::Result<()> {
        let columns = columns(self.table);
        let mut writer = csv::Writer::from_path(path)?;
        writer.write_record(columns)?;
        for row in &self.rows {
            let record: Vec<&str> = columns
                .iter()
                .map(|column| {
                    row.iter()
                        .find(|(name, _)| name == column)
                        .map_or("", |(_, value)| value.as_str())
                })
                .collect();
            writer.write_record(&record)?;
        }
        writer.flush()
    }
}

/// Writes the return of `year` into `dir` (created); returns the rows of
/// episodes written.
pub(in crate::generate) fn write_year(
    children: &[&ChildHistory],
    year: CollectionYear,
    dir: &Path,
) -> io::Result<u64> {
    let (first, last) = (year.first, year.last);
    let open_during =
        |start: Date, end: Option<Date>| start <= last && end.is_none_or(|end| end >= first);
    let within = |date: Date| (date <= last).then_some(date);
    let mut header = TableFile::new(Table::Header);
    let mut episodes_file = TableFile::new(Table::Episodes);
    let mut uasc = TableFile::new(Table::Uasc);
    let mut reviews = TableFile::new(Table::Reviews);
    let mut missing = TableFile::new(Table::Missing);
    let mut ad1 = TableFile::new(Table::Ad1);
    let mut episode_rows = 0;
    for child in children {
        let id = child_id(child.child);
        let Some(birth) = child.birth else {
            continue;
        };
        let sex = if child.child % 2 == 0 { "1" } else { "2" };
        let mut any = false;
        for period in &child.periods {
            let episodes = episodes(period);
            for episode in &episodes {
                if !open_during(episode.start, episode.end.map(|(end, _)| end)) {
                    continue;
                }
                any = true;
                episode_rows += 1;
                let kind = PLACEMENT_TYPES[episode.placement as usize];
                let (place, provider) = codes::place_of_type(kind).unwrap_or(("Z1", None));
                let end = episode.end.filter(|(end, _)| *end <= last);
                episodes_file.row(vec![
                    ("CHILD", id.clone()),
                    ("DECOM", date(episode.start)),
                    ("RNE", episode.reason_new.into()),
                    ("LS", episode.legal_status.into()),
                    ("CIN", "N1".into()),
                    ("PLACE", place.into()),
                    ("PLACE_PROVIDER", provider.unwrap_or_default().into()),
                    ("DEC", optional(end.map(|(end, _)| end))),
                    (
                        "REC",
                        end.map(|(_, rec)| rec.to_string()).unwrap_or_default(),
                    ),
                ]);
            }
            for (day, participated) in &period.reviews {
                if *day >= first && *day <= last {
                    let under_four = day.age_years_since(birth) < 4;
                    reviews.row(vec![
                        ("CHILD", id.clone()),
                        ("DOB", date(birth)),
                        ("REVIEW", date(*day)),
                        (
                            "REVIEW_CODE",
                            codes::review_code(*participated, under_four).into(),
                        ),
                    ]);
                }
            }
            // AD1: in the return of the year the child was adopted.
            if let Some((ended, reason)) = period.end {
                if CIC_END_REASONS[reason as usize] == "adopted" && ended >= first && ended <= last
                {
                    let decided = period
                        .order
                        .filter(|order| period.matched.is_none_or(|matched| *order <= matched));
                    ad1.row(vec![
                        ("CHILD", id.clone()),
                        ("DOB", date(birth)),
                        ("DATE_INT", optional(decided)),
                        ("DATE_MATCH", optional(period.matched)),
                        ("FOSTER_CARE", "0".into()),
                        ("NB_ADOPTR", "2".into()),
                        ("SEX_ADOPTR", "MF".into()),
                        ("LS_ADOPTR", "L0".into()),
                    ]);
                }
            }
        }
        // Missing episodes of a child looked after (begun within a period).
        for (start, end) in &child.missing {
            let looked_after = child.periods.iter().any(|period| {
                period.start <= *start && period.end.is_none_or(|(ended, _)| *start <= ended)
            });
            if looked_after && open_during(*start, *end) {
                missing.row(vec![
                    ("CHILD", id.clone()),
                    ("DOB", date(birth)),
                    ("MISSING", codes::MISSING_CHILD.into()),
                    ("MIS_START", date(*start)),
                    ("MIS_END", optional(end.and_then(within))),
                ]);
            }
        }
        if any {
            header.row(vec![
                ("CHILD", id.clone()),
                ("SEX", sex.into()),
                ("DOB", date(birth)),
                ("ETHNIC", "NOBT".into()),
            ]);
            if child.uasc {
                uasc.row(vec![
                    ("CHILD", id.clone()),
                    ("SEX", sex.into()),
                    ("DOB", date(birth)),
                    ("DUC", date(birth.add_months(12 * 18))),
                ]);
            }
        }
    }
    std::fs::create_dir_all(dir)?;
    for (file, name) in [
        (&header, "header.csv"),
        (&episodes_file, "episodes.csv"),
        (&uasc, "uasc.csv"),
        (&reviews, "reviews.csv"),
        (&missing, "missing.csv"),
        (&ad1, "ad1.csv"),
    ] {
        file.write(&dir.join(name))?;
    }
    Ok(episode_rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn a_period_becomes_a_chain_of_episodes() {
        // In care under C2 (index 2) in in-house foster care, moved to
        // agency foster care, placement order between placements, placed
        // for adoption, adopted.
        let period = CarePeriod {
            start: day("2020-01-10"),
            legal_status: 2,
            placements: vec![
                (day("2020-01-10"), 0),
                (day("2020-06-01"), 2),
                (day("2021-02-01"), 4),
            ],
            order: Some(day("2020-10-05")),
            end: Some((day("2021-09-30"), 0)),
            ..CarePeriod::default()
        };
        type Row<'a> = (Date, &'a str, &'a str, u8, Option<(Date, &'a str)>);
        let got: Vec<Row> = episodes(&period)
            .into_iter()
            .map(|e| (e.start, e.reason_new, e.legal_status, e.placement, e.end))
            .collect();
        assert_eq!(
            got,
            [
                (
                    day("2020-01-10"),
                    "S",
                    "C2",
                    0,
                    Some((day("2020-06-01"), "X1"))
                ),
                (
                    day("2020-06-01"),
                    "P",
                    "C2",
                    2,
                    Some((day("2020-10-05"), "X1"))
                ),
                (
                    day("2020-10-05"),
                    "L",
                    "E1",
                    2,
                    Some((day("2021-02-01"), "X1"))
                ),
                (
                    day("2021-02-01"),
                    "P",
                    "E1",
                    4,
                    Some((day("2021-09-30"), "E11"))
                ),
            ]
        );
        // An order on a placement's day changes both: one episode (T).
        let period = CarePeriod {
            order: Some(day("2020-06-01")),
            end: None,
            legal_status: 0,
            ..period
        };
        let reasons: Vec<(&str, &str)> = episodes(&period)
            .iter()
            .map(|e| (e.reason_new, e.legal_status))
            .collect();
        assert_eq!(reasons, [("S", "C2"), ("T", "E1"), ("P", "E1")]);
        assert_eq!(episodes(&period).last().unwrap().end, None);
    }
}
