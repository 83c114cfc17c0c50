//! The Children in Need census: one XML file per collection year
//! (docs/import.md). Referrals and closures, assessments, section 47
//! enquiries with their initial conferences, and child protection plans
//! with their reviews become events.

pub mod xml;

use super::error::ImportError;
use super::ids::{dated_fact, Collection};
use super::mapping::Mapping;
use super::output::{child_event, with};
use super::report::{FileCounts, Problem, Reason, Summary};
use super::ssda903::table::{parse_date, DateRules};
use super::versions::{self, Fact, States};
use crate::calendar::Date;
use crate::config::Config;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use xml::{Children, Node};

const C: Collection = Collection::Cin;

/// Reasons for closure (`ReasonForClosure`).
pub const REASONS_FOR_CLOSURE: [&str; 8] = ["RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8"];

/// Categories of abuse (`InitialCategoryOfAbuse`).
pub const CATEGORIES: [&str; 5] = ["NEG", "PHY", "SAB", "EMO", "MUL"];

/// What to import.
pub struct Options<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// Where the children go.
    pub mapping: &'a Mapping,
    /// The census files (any order; read by their collection year).
    pub files: Vec<PathBuf>,
    /// Stop at the first bad record.
    pub strict: bool,
}

/// A child protection plan.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
struct Plan {
    end: Option<Date>,
    category: Option<String>,
    reviews: BTreeSet<Date>,
}

/// One `<CINdetails>`: an episode of need from referral to closure.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
struct Episode {
    closure: Option<(Date, Option<String>)>,
    /// Assessment start to authorisation (completion).
    assessments: BTreeMap<Date, Date>,
    /// Section 47 start to initial conference.
    conferences: BTreeMap<Date, Date>,
    plans: BTreeMap<Date, Plan>,
}

/// Episodes by child and referral date.
type Records = BTreeMap<(String, Date), Episode>;

/// Imports the census files into `out`.
pub fn import(options: &Options, out: &Path) -> Result<Summary, ImportError> {
    let mut summary = Summary::default();
    let mut years: Vec<(i32, Records)> = Vec::new();
    for path in &options.files {
        let (year, records) = read_file(options, path, &mut summary)?;
        if years.iter().any(|(held, _)| *held == year) {
            return Err(ImportError::Input(format!(
                "{}: a second census for {year}",
                path.display()
            )));
        }
        years.push((year, records));
    }
    years.sort_by_key(|(year, _)| *year);
    let mut merged = Records::new();
    let mut states: States = Vec::new();
    for (year, later) in years {
        apply(&mut merged, year, later);
        let (facts, children, unmapped) = derive(&merged, options.mapping);
        summary.children = children;
        summary.unmapped_children = unmapped;
        states.push((year, facts));
    }
    let versioned = versions::version(&states);
    super::output::write(options.config, &versioned, out, &mut summary)?;
    Ok(summary)
}

/// A later census replaces the episodes of the same identity; earlier
/// episodes open during its year that it lacks are dropped (decision D37).
fn apply(merged: &mut Records, year: i32, later: Records) {
    let first = Date::from_ymd(year - 1, 4, 1).unwrap_or(Date::MIN);
    let last = Date::from_ymd(year, 3, 31).unwrap_or(Date::MAX);
    merged.retain(|key, episode| {
        later.contains_key(key)
            || !(key.1 <= last
                && episode
                    .closure
                    .as_ref()
                    .is_none_or(|(end, _)| *end >= first))
    });
    merged.extend(later);
}

/// Where problems of one file are reported.
struct Place<'a> {
    file: &'a str,
    row: u64,
    rules: DateRules,
}

impl Place<'_> {
    fn problem(&self, column: &str, reason: Reason, detail: impl Into<String>) -> Problem {
        Problem {
            file: self.file.to_string(),
            row: self.row,
            column: Some(column.to_string()),
            reason,
            detail: detail.into(),
        }
    }

    fn date(&self, node: &Node, name: &str) -> Result<Option<Date>, Problem> {
        node.text_of(name)
            .map(|text| self.date_text(name, text))
            .transpose()
    }

    fn date_text(&self, name: &str, text: &str) -> Result<Date, Problem> {
        let date = parse_date(text)
            .ok_or_else(|| self.problem(name, Reason::BadDate, "not a date (yyyy-mm-dd)"))?;
        if date < self.rules.earliest || date > self.rules.latest {
            return Err(self.problem(name, Reason::OutOfRange, "outside the accepted event dates"));
        }
        if date > self.rules.year_end {
            return Err(self.problem(name, Reason::OutsideYear, "after the census reference date"));
        }
        Ok(date)
    }

    fn required_date(&self, node: &Node, name: &str) -> Result<Date, Problem> {
        self.date(node, name)?
            .ok_or_else(|| self.problem(name, Reason::MissingValue, "absent or blank"))
    }

    fn code(&self, node: &Node, name: &str, codes: &[&str]) -> Result<Option<String>, Problem> {
        let Some(text) = node.text_of(name) else {
            return Ok(None);
        };
        let upper = text.to_ascii_uppercase();
        if codes.contains(&upper.as_str()) {
            return Ok(Some(upper));
        }
        let quoted: String = text
            .chars()
            .filter(char::is_ascii_graphic)
            .take(8)
            .collect();
        Err(self.problem(
            name,
            Reason::UnknownCode,
            format!("'{quoted}' is not a code of the guidance"),
        ))
    }
}

fn read_file(
    options: &Options,
    path: &Path,
    summary: &mut Summary,
) -> Result<(i32, Records), ImportError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string());
    let file = std::fs::File::open(path).map_err(|error| ImportError::io(path, error))?;
    let mut children = Children::new(std::io::BufReader::new(file));
    summary.files.insert(
        name.clone(),
        FileCounts {
            table: "cin_census".into(),
            ..FileCounts::default()
        },
    );
    let mut records = Records::new();
    let mut year = None;
    let mut row = 0;
    let malformed = |position: u64, message: &str| {
        ImportError::Input(format!(
            "{name}: not a readable CIN census (XML error at byte {position}: {})",
            message.chars().take(120).collect::<String>()
        ))
    };
    while let Some(child) = children
        .next_child()
        .map_err(|error| malformed(error.position, &error.message))?
    {
        row += 1;
        let rules = match year {
            Some((_, rules)) => rules,
            None => {
                let found = children
                    .outside_text("Message/Header/CollectionDetails/Year")
                    .and_then(|text| text.parse::<i32>().ok())
                    .ok_or_else(|| {
                        ImportError::Input(format!(
                            "{name}: no <Year> in <Header><CollectionDetails> before the children"
                        ))
                    })?;
                let mut rules = DateRules::new(found, &options.config.validation);
                if let Some(reference) = children
                    .outside_text("Message/Header/CollectionDetails/ReferenceDate")
                    .and_then(parse_date)
                {
                    rules.year_end = reference;
                }
                year = Some((found, rules));
                rules
            }
        };
        let place = Place {
            file: &name,
            row,
            rules,
        };
        if let Some(counts) = summary.files.get_mut(&name) {
            counts.rows += 1;
        }
        let mut report = |problem: Problem| -> Result<(), ImportError> {
            if options.strict {
                return Err(ImportError::Strict(problem));
            }
            summary.problem(problem);
            Ok(())
        };
        let child_id = child
            .child("ChildIdentifiers")
            .and_then(|identifiers| identifiers.text_of("LAchildID"));
        let child_id = match child_id {
            Some(id) if id.chars().count() <= 64 => id.to_string(),
            Some(_) => {
                report(place.problem(
                    "LAchildID",
                    Reason::MalformedRow,
                    "longer than 64 characters",
                ))?;
                continue;
            }
            None => {
                report(place.problem("LAchildID", Reason::MissingValue, "absent or blank"))?;
                continue;
            }
        };
        for details in child.all("CINdetails") {
            match read_episode(&place, details, &mut report)? {
                Ok((referral, episode)) => {
                    if records
                        .insert((child_id.clone(), referral), episode)
                        .is_some()
                    {
                        report(place.problem(
                            "CINreferralDate",
                            Reason::DuplicateRecord,
                            "a second episode of the child with the same referral date",
                        ))?;
                    }
                }
                Err(problem) => report(problem)?,
            }
        }
    }
    let (year, _) =
        year.ok_or_else(|| ImportError::Input(format!("{name}: no <Child> in the census")))?;
    Ok((year, records))
}

/// One `<CINdetails>`: the episode, or the problem that rules it out; bad
/// assessments, enquiries and plans inside it are reported and left out.
fn read_episode(
    place: &Place,
    details: &Node,
    report: &mut dyn FnMut(Problem) -> Result<(), ImportError>,
) -> Result<Result<(Date, Episode), Problem>, ImportError> {
    let referral = match place.required_date(details, "CINreferralDate") {
        Ok(date) => date,
        Err(problem) => return Ok(Err(problem)),
    };
    let closure = match (
        place.date(details, "CINclosureDate"),
        place.code(details, "ReasonForClosure", &REASONS_FOR_CLOSURE),
    ) {
        (Err(problem), _) | (_, Err(problem)) => return Ok(Err(problem)),
        (Ok(Some(date)), _) if date < referral => {
            return Ok(Err(place.problem(
                "CINclosureDate",
                Reason::DateOrder,
                "before CINreferralDate",
            )))
        }
        (Ok(date), Ok(reason)) => date.map(|date| (date, reason)),
    };
    let mut episode = Episode {
        closure,
        ..Episode::default()
    };
    for assessment in details.all("Assessments") {
        let read = (|| {
            let started = place.required_date(assessment, "AssessmentActualStartDate")?;
            let completed = place.date(assessment, "AssessmentAuthorisationDate")?;
            if completed.is_some_and(|completed| completed < started) {
                return Err(place.problem(
                    "AssessmentAuthorisationDate",
                    Reason::DateOrder,
                    "before AssessmentActualStartDate",
                ));
            }
            Ok((started, completed))
        })();
        match read {
            Ok((started, Some(completed))) => {
                episode.assessments.insert(started, completed);
            }
            Ok((_, None)) => {}
            Err(problem) => report(problem)?,
        }
    }
    for enquiry in details.all("Section47") {
        let read = (|| {
            let started = place.required_date(enquiry, "S47ActualStartDate")?;
            let conference = place.date(enquiry, "DateOfInitialCPC")?;
            if conference.is_some_and(|conference| conference < started) {
                return Err(place.problem(
                    "DateOfInitialCPC",
                    Reason::DateOrder,
                    "before S47ActualStartDate",
                ));
            }
            Ok((started, conference))
        })();
        match read {
            Ok((started, Some(conference))) => {
                episode.conferences.insert(started, conference);
            }
            Ok((_, None)) => {}
            Err(problem) => report(problem)?,
        }
    }
    for plan in details.all("ChildProtectionPlans") {
        let read = (|| {
            let started = place.required_date(plan, "CPPstartDate")?;
            let end = place.date(plan, "CPPendDate")?;
            if end.is_some_and(|end| end < started) {
                return Err(place.problem("CPPendDate", Reason::DateOrder, "before CPPstartDate"));
            }
            let category = place.code(plan, "InitialCategoryOfAbuse", &CATEGORIES)?;
            let mut reviews = BTreeSet::new();
            for list in plan.all("Reviews") {
                for review in list.all("CPPreviewDate") {
                    if !review.text.is_empty() {
                        reviews.insert(place.date_text("CPPreviewDate", &review.text)?);
                    }
                }
            }
            Ok((
                started,
                Plan {
                    end,
                    category,
                    reviews,
                },
            ))
        })();
        match read {
            Ok((started, plan)) => {
                episode.plans.insert(started, plan);
            }
            Err(problem) => report(problem)?,
        }
    }
    Ok(Ok((referral, episode)))
}

/// The events of every episode: (facts by id, children, unmapped children).
fn derive(records: &Records, mapping: &Mapping) -> (BTreeMap<String, Fact>, u64, u64) {
    let la = mapping.la_id.as_str();
    let mut facts = BTreeMap::new();
    let mut children = BTreeSet::new();
    let mut unmapped = 0;
    let mut add = |fact: Fact| {
        facts.insert(
            fact["event_id"].as_str().unwrap_or_default().to_string(),
            fact,
        );
    };
    for ((child, referral), episode) in records {
        let (unit, mapped) = mapping.unit_for(child);
        if children.insert(child.as_str()) && !mapped {
            unmapped += 1;
        }
        let event = child_event(
            dated_fact(C, child, "referral", *referral),
            "referral",
            la,
            child,
            *referral,
        );
        add(with(event, "unit", unit));
        if let Some((date, reason)) = &episode.closure {
            let closed = child_event(
                dated_fact(C, child, "closure", *referral),
                "case_closed",
                la,
                child,
                *date,
            );
            add(match reason {
                Some(reason) => with(closed, "reason", reason.clone()),
                None => closed,
            });
        }
        for (started, completed) in &episode.assessments {
            let event = child_event(
                dated_fact(C, child, "assessment", *started),
                "assessment_completed",
                la,
                child,
                *completed,
            );
            let event = with(event, "started", started.to_string());
            // decision D36: the census does not say whether the child was seen.
            add(with(event, "child_seen", true));
        }
        for (started, conference) in &episode.conferences {
            let event = child_event(
                dated_fact(C, child, "icpc", *started),
                "icpc_held",
                la,
                child,
                *conference,
            );
            add(with(event, "s47_started", started.to_string()));
        }
        for (started, plan) in &episode.plans {
            let plan_id = dated_fact(C, child, "plan", *started);
            let event = child_event(plan_id.clone(), "cp_plan_started", la, child, *started);
            add(match &plan.category {
                Some(category) => with(event, "category", category.clone()),
                None => event,
            });
            if let Some(end) = plan.end {
                let ended = child_event(
                    dated_fact(C, child, "plan-end", *started),
                    "cp_plan_ended",
                    la,
                    child,
                    end,
                );
                add(with(ended, "plan_id", plan_id.clone()));
            }
            for review in &plan.reviews {
                let held = child_event(
                    dated_fact(C, child, "cp-review", *review),
                    "cp_review_held",
                    la,
                    child,
                    *review,
                );
                add(with(held, "plan_id", plan_id.clone()));
            }
        }
    }
    let count = children.len() as u64;
    (facts, count, unmapped)
}
