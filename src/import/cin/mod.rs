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

/// What a writer of returns (`ragline generate --returns-dir`) writes as
/// `ReasonForClosure` for each `reason` of `case_closed` (docs/events.md);
/// a closure without a reason is written as services ceasing (`RC7`).
pub const CLOSURE_CODE: [(&str, &str); 7] = [
    ("no_further_action", "RC8"),
    ("cin_closed", "RC7"),
    ("stepped_down", "RC7"),
    ("moved_out_of_area", "RC5"),
    ("reached_18", "RC6"),
    ("adopted_or_sgo", "RC1"),
    ("other", "RC7"),
];

/// The closure code a writer of returns gives a closure without a reason.
pub const CLOSURE_CODE_OTHERWISE: &str = "RC7";

/// What a writer of returns writes as `InitialCategoryOfAbuse` for each
/// `category` of `cp_plan_started`.
pub const CATEGORY_CODE: [(&str, &str); 5] = [
    ("neglect", "NEG"),
    ("emotional_abuse", "EMO"),
    ("physical_abuse", "PHY"),
    ("sexual_abuse", "SAB"),
    ("multiple", "MUL"),
];

/// The elements of the census the importer reads, by their local names: a
/// writer of returns writes these.
pub mod element {
    /// `<Year>` of `<Header><CollectionDetails>`.
    pub const YEAR: &str = "Year";
    /// `<ReferenceDate>` of `<Header><CollectionDetails>`.
    pub const REFERENCE_DATE: &str = "ReferenceDate";
    /// A child.
    pub const CHILD: &str = "Child";
    /// The child's identifiers.
    pub const CHILD_IDENTIFIERS: &str = "ChildIdentifiers";
    /// The child's id.
    pub const CHILD_ID: &str = "LAchildID";
    /// An episode of need.
    pub const DETAILS: &str = "CINdetails";
    /// Its referral date.
    pub const REFERRAL: &str = "CINreferralDate";
    /// Its closure date.
    pub const CLOSURE: &str = "CINclosureDate";
    /// Its reason for closure.
    pub const CLOSURE_REASON: &str = "ReasonForClosure";
    /// An assessment.
    pub const ASSESSMENT: &str = "Assessments";
    /// Its start.
    pub const ASSESSMENT_START: &str = "AssessmentActualStartDate";
    /// Its authorisation (completion).
    pub const ASSESSMENT_DONE: &str = "AssessmentAuthorisationDate";
    /// A section 47 enquiry.
    pub const ENQUIRY: &str = "Section47";
    /// Its start.
    pub const ENQUIRY_START: &str = "S47ActualStartDate";
    /// Its initial child protection conference.
    pub const CONFERENCE: &str = "DateOfInitialCPC";
    /// A child protection plan.
    pub const PLAN: &str = "ChildProtectionPlans";
    /// Its start.
    pub const PLAN_START: &str = "CPPstartDate";
    /// Its end.
    pub const PLAN_END: &str = "CPPendDate";
    /// Its initial category of abuse.
    pub const CATEGORY: &str = "InitialCategoryOfAbuse";
    /// Its reviews.
    pub const REVIEWS: &str = "Reviews";
    /// A review's date.
    pub const REVIEW: &str = "CPPreviewDate";
}

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
/// Within an episode it holds, the census need hold only the assessments,
/// enquiries and plans open during its year and the plan reviews held in
/// it: those of earlier years it does not hold are kept (decision D40).
fn apply(merged: &mut Records, year: i32, later: Records) {
    let first = Date::from_ymd(year - 1, 4, 1).unwrap_or(Date::MIN);
    let last = Date::from_ymd(year, 3, 31).unwrap_or(Date::MAX);
    let during =
        |start: Date, end: Option<Date>| start <= last && end.is_none_or(|end| end >= first);
    merged.retain(|key, episode| {
        later.contains_key(key) || !during(key.1, episode.closure.as_ref().map(|(end, _)| *end))
    });
    for (key, episode) in later {
        let episode = match merged.remove(&key) {
            Some(earlier) => combine(earlier, episode, first, &during),
            None => episode,
        };
        merged.insert(key, episode);
    }
}

/// An episode as a later census gives it, with what of the earlier reading
/// that census need not hold (decision D40).
fn combine(
    earlier: Episode,
    later: Episode,
    first: Date,
    during: &dyn Fn(Date, Option<Date>) -> bool,
) -> Episode {
    let mut assessments = earlier.assessments;
    assessments.retain(|start, completed| !during(*start, Some(*completed)));
    assessments.extend(later.assessments);
    let mut conferences = earlier.conferences;
    conferences.retain(|start, conference| !during(*start, Some(*conference)));
    conferences.extend(later.conferences);
    let mut plans = BTreeMap::new();
    let mut earlier_plans = earlier.plans;
    for (start, mut plan) in later.plans {
        if let Some(held) = earlier_plans.remove(&start) {
            plan.reviews
                .extend(held.reviews.into_iter().filter(|review| *review < first));
        }
        plans.insert(start, plan);
    }
    for (start, plan) in earlier_plans {
        if !during(start, plan.end) {
            plans.insert(start, plan);
        }
    }
    Episode {
        closure: later.closure,
        assessments,
        conferences,
        plans,
    }
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
            .child(element::CHILD_IDENTIFIERS)
            .and_then(|identifiers| identifiers.text_of(element::CHILD_ID));
        let child_id = match child_id {
            Some(id) if id.chars().count() <= 64 => id.to_string(),
            Some(_) => {
                report(place.problem(
                    element::CHILD_ID,
                    Reason::MalformedRow,
                    "longer than 64 characters",
                ))?;
                continue;
            }
            None => {
                report(place.problem(element::CHILD_ID, Reason::MissingValue, "absent or blank"))?;
                continue;
            }
        };
        for details in child.all(element::DETAILS) {
            match read_episode(&place, details, &mut report)? {
                Ok((referral, episode)) => {
                    if records
                        .insert((child_id.clone(), referral), episode)
                        .is_some()
                    {
                        report(place.problem(
                            element::REFERRAL,
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
    let referral = match place.required_date(details, element::REFERRAL) {
        Ok(date) => date,
        Err(problem) => return Ok(Err(problem)),
    };
    let closure = match (
        place.date(details, element::CLOSURE),
        place.code(details, element::CLOSURE_REASON, &REASONS_FOR_CLOSURE),
    ) {
        (Err(problem), _) | (_, Err(problem)) => return Ok(Err(problem)),
        (Ok(Some(date)), _) if date < referral => {
            return Ok(Err(place.problem(
                element::CLOSURE,
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
    for assessment in details.all(element::ASSESSMENT) {
        let read = (|| {
            let started = place.required_date(assessment, element::ASSESSMENT_START)?;
            let completed = place.date(assessment, element::ASSESSMENT_DONE)?;
            if completed.is_some_and(|completed| completed < started) {
                return Err(place.problem(
                    element::ASSESSMENT_DONE,
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
    for enquiry in details.all(element::ENQUIRY) {
        let read = (|| {
            let started = place.required_date(enquiry, element::ENQUIRY_START)?;
            let conference = place.date(enquiry, element::CONFERENCE)?;
            if conference.is_some_and(|conference| conference < started) {
                return Err(place.problem(
                    element::CONFERENCE,
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
    for plan in details.all(element::PLAN) {
        let read = (|| {
            let started = place.required_date(plan, element::PLAN_START)?;
            let end = place.date(plan, element::PLAN_END)?;
            if end.is_some_and(|end| end < started) {
                return Err(place.problem(
                    element::PLAN_END,
                    Reason::DateOrder,
                    "before CPPstartDate",
                ));
            }
            let category = place.code(plan, element::CATEGORY, &CATEGORIES)?;
            let mut reviews = BTreeSet::new();
            for list in plan.all(element::REVIEWS) {
                for review in list.all(element::REVIEW) {
                    if !review.text.is_empty() {
                        reviews.insert(place.date_text(element::REVIEW, &review.text)?);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn a_later_census_keeps_what_it_need_not_hold_and_drops_what_it_should() {
        let key = |child: &str, referral: &str| (child.to_string(), day(referral));
        let mut earlier = Episode::default();
        // Completed before the 2022 year: the 2022 census need not hold them.
        earlier
            .assessments
            .insert(day("2020-05-02"), day("2020-06-10"));
        earlier
            .assessments
            .insert(day("2021-03-01"), day("2021-03-20"));
        earlier
            .assessments
            .insert(day("2021-03-25"), day("2021-03-31"));
        earlier
            .conferences
            .insert(day("2020-06-12"), day("2020-06-28"));
        earlier.plans.insert(
            day("2020-06-28"),
            Plan {
                end: None,
                category: Some("NEG".into()),
                reviews: [day("2020-09-20"), day("2021-03-10")].into(),
            },
        );
        // Open during the 2022 year and not repeated by its census: dropped.
        earlier.plans.insert(day("2021-01-10"), Plan::default());
        let mut merged = Records::new();
        merged.insert(key("a", "2020-05-01"), earlier);
        // Closed before the 2022 year: kept. Open in it and not repeated: dropped.
        merged.insert(
            key("b", "2019-05-01"),
            Episode {
                closure: Some((day("2020-01-01"), None)),
                ..Episode::default()
            },
        );
        merged.insert(key("c", "2021-02-01"), Episode::default());
        let mut later = Episode {
            closure: Some((day("2021-12-01"), Some("RC7".into()))),
            ..Episode::default()
        };
        later.plans.insert(
            day("2020-06-28"),
            Plan {
                end: Some(day("2021-11-20")),
                category: Some("EMO".into()),
                reviews: [day("2021-09-01")].into(),
            },
        );
        apply(&mut merged, 2022, [(key("a", "2020-05-01"), later)].into());
        assert_eq!(
            merged.keys().cloned().collect::<Vec<_>>(),
            [key("a", "2020-05-01"), key("b", "2019-05-01")]
        );
        let episode = &merged[&key("a", "2020-05-01")];
        assert_eq!(
            episode.closure,
            Some((day("2021-12-01"), Some("RC7".into())))
        );
        assert_eq!(
            episode.assessments.keys().copied().collect::<Vec<_>>(),
            [day("2020-05-02"), day("2021-03-01"), day("2021-03-25")]
        );
        assert_eq!(episode.plans.len(), 1);
        assert_eq!(episode.conferences.len(), 1);
        let plan = &episode.plans[&day("2020-06-28")];
        assert_eq!(plan.end, Some(day("2021-11-20")));
        assert_eq!(plan.category.as_deref(), Some("EMO"));
        assert_eq!(
            plan.reviews.iter().copied().collect::<Vec<_>>(),
            [day("2020-09-20"), day("2021-03-10"), day("2021-09-01")]
        );
    }
}
