//! The SSDA903 children looked after return: CSV tables, one directory per
//! collection year (docs/import.md).

pub mod codes;
mod derive;
pub mod records;
pub mod table;

use super::error::ImportError;
use super::mapping::Mapping;
use super::report::{FileCounts, Problem, Reason, Summary};
use super::versions::{self, States};
use crate::config::Config;
use records::{Read, Records};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use table::{DateRules, Row, Table};

/// What to import.
pub struct Options<'a> {
    /// The configuration (units, `[validation]`).
    pub config: &'a Config,
    /// Where the children go.
    pub mapping: &'a Mapping,
    /// The directory holding one subdirectory per collection year (`2021`
    /// for the return of the year ending 31 March 2021).
    pub dir: PathBuf,
    /// The years to import (all when empty).
    pub years: Vec<i32>,
    /// Stop at the first bad row.
    pub strict: bool,
}

/// Imports the returns into `out` (JSON Lines events).
pub fn import(options: &Options, out: &Path) -> Result<Summary, ImportError> {
    let years = years(&options.dir, &options.years)?;
    let mut summary = Summary::default();
    let mut records = Records::default();
    let mut states: States = Vec::new();
    let mut findings = None;
    for (year, directory) in &years {
        let read = read_year(options, *year, directory, &mut summary)?;
        records.apply(*year, read);
        let (facts, found) = derive::facts(&records, options.mapping);
        states.push((*year, facts));
        findings = Some(found);
    }
    if let Some(findings) = findings {
        for problem in findings.problems {
            if options.strict {
                return Err(ImportError::Strict(problem));
            }
            summary.problem(problem);
        }
        for (note, count) in findings.notes {
            *summary.notes.entry(note).or_default() += count;
        }
        summary.children = findings.children;
        summary.unmapped_children = findings.unmapped;
    }
    let versioned = versions::version(&states);
    super::output::write(options.config, &versioned, out, &mut summary)?;
    Ok(summary)
}

/// The year directories to read, oldest first.
fn years(dir: &Path, wanted: &[i32]) -> Result<Vec<(i32, PathBuf)>, ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|error| ImportError::io(dir, error))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| ImportError::io(dir, error))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.path().is_dir() && name.len() == 4 && name.bytes().all(|b| b.is_ascii_digit()) {
            found.push((name.parse::<i32>().expect("four digits"), entry.path()));
        }
    }
    found.sort();
    if !wanted.is_empty() {
        for year in wanted {
            if !found.iter().any(|(have, _)| have == year) {
                return Err(ImportError::Input(format!(
                    "--year {year}: no directory {}",
                    dir.join(year.to_string()).display()
                )));
            }
        }
        found.retain(|(year, _)| wanted.contains(year));
    }
    if found.is_empty() {
        return Err(ImportError::Input(format!(
            "{}: no collection year directories (named YYYY)",
            dir.display()
        )));
    }
    Ok(found)
}

/// Reads the CSV files of one year.
fn read_year(
    options: &Options,
    year: i32,
    directory: &Path,
    summary: &mut Summary,
) -> Result<Records, ImportError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(|error| ImportError::io(directory, error))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"))
        })
        .collect();
    files.sort();
    let rules = DateRules::new(year, &options.config.validation);
    let mut records = Records::default();
    let report = |summary: &mut Summary, problem: Problem| -> Result<(), ImportError> {
        if options.strict {
            return Err(ImportError::Strict(problem));
        }
        summary.problem(problem);
        Ok(())
    };
    for path in files {
        let name = format!(
            "{year}/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(&path)
            .map_err(|error| ImportError::io(&path, std::io::Error::other(error)))?;
        let header: Vec<String> = match reader.headers() {
            Ok(header) => header
                .iter()
                .map(|column| {
                    column
                        .trim_start_matches('\u{feff}')
                        .trim()
                        .to_ascii_uppercase()
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let Some(table) = Table::recognise(&header) else {
            summary.files.insert(
                name.clone(),
                FileCounts {
                    table: "unknown".into(),
                    ..FileCounts::default()
                },
            );
            report(
                summary,
                Problem {
                    file: name,
                    row: 1,
                    column: None,
                    reason: Reason::UnknownTable,
                    detail: "the header matches no table of the return".into(),
                },
            )?;
            continue;
        };
        if records.present.contains(&table) {
            return Err(ImportError::Input(format!(
                "{name}: a second {} table for {year}",
                table.name()
            )));
        }
        records.present.insert(table);
        summary.files.insert(
            name.clone(),
            FileCounts {
                table: table.name().into(),
                ..FileCounts::default()
            },
        );
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(index, column)| (column.clone(), index))
            .collect();
        let mut record = csv::StringRecord::new();
        loop {
            let result = reader.read_record(&mut record);
            let line = reader.position().line();
            if let Some(counts) = summary.files.get_mut(&name) {
                counts.rows += u64::from(!matches!(result, Ok(false)));
            }
            let outcome = match result {
                Ok(false) => break,
                Ok(true) => {
                    let row = Row {
                        file: &name,
                        line: record.position().map_or(line, csv::Position::line),
                        record: &record,
                        columns: &columns,
                        rules,
                    };
                    records.read(table, &row)
                }
                Err(error) => Err(Problem {
                    file: name.clone(),
                    row: error.position().map_or(line, csv::Position::line),
                    column: None,
                    reason: Reason::MalformedRow,
                    detail: match error.kind() {
                        csv::ErrorKind::UnequalLengths { .. } => {
                            "a different number of fields than the header".into()
                        }
                        csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
                        _ => "not CSV".into(),
                    },
                }),
            };
            match outcome {
                Ok(Read::Taken) => {}
                Ok(Read::Left(note)) => {
                    summary.note(note);
                    if let Some(counts) = summary.files.get_mut(&name) {
                        counts.not_imported += 1;
                    }
                }
                Err(problem) => report(summary, problem)?,
            }
        }
    }
    Ok(records)
}
