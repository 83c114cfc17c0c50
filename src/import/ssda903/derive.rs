//! From a child's records to events: periods of care from chains of
//! episodes, placements, legal status, reviews, missing episodes, matches,
//! the child's details and unit (docs/import.md).

use super::codes;
use super::records::{of_child, Episode, Records};
use crate::calendar::Date;
use crate::import::ids::{child_fact, dated_fact, Collection};
use crate::import::mapping::Mapping;
use crate::import::output::{child_event, with};
use crate::import::report::{Problem, Reason};
use crate::import::versions::Fact;
use std::collections::BTreeMap;

const C: Collection = Collection::Ssda903;

/// A period of care built from a chain of episodes.
#[derive(Debug)]
struct Period {
    start: Date,
    legal_status: String,
    placements: Vec<(Date, &'static str)>,
    order: Option<Date>,
    end: Option<(Date, &'static str)>,
}

impl Period {
    fn covers(&self, date: Date) -> bool {
        self.start <= date && self.end.is_none_or(|(end, _)| date <= end)
    }
}

/// What building the events found besides the events.
#[derive(Default, Debug)]
pub struct Findings {
    /// Records that fit no period of care.
    pub problems: Vec<Problem>,
    /// Notes by name.
    pub notes: BTreeMap<&'static str, u64>,
    /// Children with events.
    pub children: u64,
    /// Of them, children the mapping does not list.
    pub unmapped: u64,
}

/// The events of every child of `records`, keyed by event id.
pub fn facts(records: &Records, mapping: &Mapping) -> (BTreeMap<String, Fact>, Findings) {
    let mut all = BTreeMap::new();
    let mut findings = Findings::default();
    for child in records.children() {
        let facts = child_facts(records, mapping, child, &mut findings);
        if facts.is_empty() {
            continue;
        }
        let first = facts
            .iter()
            .filter_map(|fact| fact.get("date").and_then(|date| date.as_str()))
            .min()
            .and_then(Date::parse)
            .expect("every fact is dated");
        let la = mapping.la_id.as_str();
        let (unit, mapped) = mapping.unit_for(child);
        findings.children += 1;
        findings.unmapped += u64::from(!mapped);
        // decision D38: the child is placed in the mapped unit from its
        // first imported fact, without opening a case.
        let placed = child_event(
            child_fact(C, child, "unit"),
            "case_transferred",
            la,
            child,
            first,
        );
        all.insert(id_of(&placed), with(placed, "unit", unit));
        let birth = records.birth.get(child).or_else(|| records.uasc.get(child));
        if let Some(birth) = birth {
            let details = child_event(
                child_fact(C, child, "details"),
                "child_details",
                la,
                child,
                first,
            );
            let details = with(details, "date_of_birth", birth.to_string());
            all.insert(
                id_of(&details),
                with(details, "uasc", records.uasc.contains_key(child)),
            );
        }
        for fact in facts {
            all.insert(id_of(&fact), fact);
        }
    }
    (all, findings)
}

fn id_of(fact: &Fact) -> String {
    fact["event_id"].as_str().unwrap_or_default().to_string()
}

fn child_facts(
    records: &Records,
    mapping: &Mapping,
    child: &str,
    findings: &mut Findings,
) -> Vec<Fact> {
    let la = mapping.la_id.as_str();
    let birth = records
        .birth
        .get(child)
        .or_else(|| records.uasc.get(child))
        .copied();
    let episodes: Vec<(Date, &Episode)> = of_child(&records.episodes, child).collect();
    let periods = periods(&episodes, birth, findings);
    let mut facts = Vec::new();
    for period in &periods {
        let period_id = dated_fact(C, child, "cic", period.start);
        let started = child_event(period_id.clone(), "cic_started", la, child, period.start);
        facts.push(with(started, "legal_status", period.legal_status.clone()));
        for (date, placement_type) in &period.placements {
            let placement = child_event(
                dated_fact(C, child, "placement", *date),
                "placement_started",
                la,
                child,
                *date,
            );
            let placement = with(placement, "period_id", period_id.clone());
            facts.push(with(placement, "placement_type", *placement_type));
        }
        if let Some(date) = period.order {
            let order = child_event(
                dated_fact(C, child, "order", period.start),
                "placement_order_granted",
                la,
                child,
                date,
            );
            facts.push(with(order, "period_id", period_id.clone()));
        }
        if let Some((date, reason)) = period.end {
            let ended = child_event(
                dated_fact(C, child, "cic-end", period.start),
                "cic_ended",
                la,
                child,
                date,
            );
            let ended = with(ended, "period_id", period_id.clone());
            facts.push(with(ended, "reason", reason));
        }
    }
    let period_of = |date: Date| {
        periods
            .iter()
            .find(|period| period.covers(date))
            .map(|period| dated_fact(C, child, "cic", period.start))
    };
    let outside = |source: &super::records::Source, column: &str, findings: &mut Findings| {
        findings.problems.push(Problem {
            file: source.file.clone(),
            row: source.line,
            column: Some(column.to_string()),
            reason: Reason::NoPeriod,
            detail: "dated when the child was in no imported period of care".into(),
        });
    };
    for (date, review) in of_child(&records.reviews, child) {
        match period_of(date) {
            Some(period_id) => {
                let held = child_event(
                    dated_fact(C, child, "review", date),
                    "cic_review_held",
                    la,
                    child,
                    date,
                );
                let held = with(held, "period_id", period_id);
                facts.push(with(
                    held,
                    "participated",
                    codes::participated(&review.code),
                ));
            }
            None => outside(&review.source, "REVIEW", findings),
        }
    }
    for (date, episode) in of_child(&records.missing, child) {
        let episode_id = dated_fact(C, child, "missing", date);
        facts.push(child_event(
            episode_id.clone(),
            "missing_started",
            la,
            child,
            date,
        ));
        if let Some(end) = episode.end {
            let ended = child_event(
                dated_fact(C, child, "missing-end", date),
                "missing_ended",
                la,
                child,
                end,
            );
            facts.push(with(ended, "episode_id", episode_id));
        }
    }
    if let Some(matched) = records.matches.get(child) {
        match period_of(matched.date) {
            Some(period_id) => {
                let start = period_id
                    .rsplit(':')
                    .next()
                    .and_then(Date::parse)
                    .unwrap_or(matched.date);
                let event = child_event(
                    dated_fact(C, child, "match", start),
                    "adoption_match",
                    la,
                    child,
                    matched.date,
                );
                facts.push(with(event, "period_id", period_id));
            }
            None => outside(&matched.source, "DATE_MATCH", findings),
        }
    }
    facts
}

/// Periods of care from a child's episodes in date order: a period starts
/// at an episode started to be looked after (`RNE` = `S`), or at the first
/// episode known when the returns begin later; it ends at the first episode
/// that ends for a reason other than `X1` (decision D35).
fn periods(
    episodes: &[(Date, &Episode)],
    birth: Option<Date>,
    findings: &mut Findings,
) -> Vec<Period> {
    let mut periods = Vec::new();
    let mut current: Option<Period> = None;
    for (start, episode) in episodes {
        let new_period = episode.reason_new == "S" || current.is_none();
        if new_period {
            if episode.reason_new != "S" {
                *findings
                    .notes
                    .entry("periods starting before the returns")
                    .or_default() += 1;
            }
            periods.extend(current.take());
            current = Some(Period {
                start: *start,
                legal_status: episode.legal_status.clone(),
                placements: Vec::new(),
                order: None,
                end: None,
            });
        }
        let period = current.as_mut().expect("a period is open");
        if new_period || codes::RNE_NEW_PLACEMENT.contains(&episode.reason_new.as_str()) {
            period.placements.push((
                *start,
                codes::placement_type(&episode.place, episode.provider.as_deref()),
            ));
        }
        if episode.legal_status == codes::PLACEMENT_ORDER && period.order.is_none() {
            period.order = Some(*start);
        }
        if let Some((ended, reason)) = &episode.end {
            if reason != codes::EPISODE_CONTINUES {
                period.end = Some((*ended, codes::end_reason(reason, birth, *ended)));
                periods.extend(current.take());
            }
        }
    }
    periods.extend(current);
    periods
}
