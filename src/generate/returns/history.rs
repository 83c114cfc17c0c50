//! Each child's history read back from the generated facts, in the shape
//! the statutory returns record it: periods of care with their placements,
//! orders, reviews, matches and endings; missing episodes; and cases (from
//! a referral made when no case was open to the closure) with their
//! assessments, enquiries and child protection plans.

use super::super::facts::{decode_date, EventType, Fact, NO_UNIT};
use crate::calendar::Date;
use std::collections::{BTreeMap, HashMap};

/// A period of care.
#[derive(Clone, Debug)]
pub(in crate::generate) struct CarePeriod {
    /// `cic_started`.
    pub start: Date,
    /// Index of the legal status in the generator's list (0: none given).
    pub legal_status: u8,
    /// Placements: start and index of the placement type.
    pub placements: Vec<(Date, u8)>,
    /// The first placement order.
    pub order: Option<Date>,
    /// Reviews: date and whether the child participated.
    pub reviews: Vec<(Date, bool)>,
    /// The first adoption match.
    pub matched: Option<Date>,
    /// `cic_ended`: date and index of the reason.
    pub end: Option<(Date, u8)>,
}

/// A child protection plan.
#[derive(Clone, Debug, Default)]
pub(in crate::generate) struct Plan {
    /// Index of the category (0: none given).
    pub category: u8,
    /// The end.
    pub end: Option<Date>,
    /// Review conferences.
    pub reviews: Vec<Date>,
}

/// A section 47 enquiry: its completion and its initial conference.
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::generate) struct Enquiry {
    /// `s47_completed`.
    pub completed: Option<Date>,
    /// `icpc_held`.
    pub conference: Option<Date>,
}

/// A case from the referral that opened it; a referral made while a case
/// is open is a case of its own, closed with the case open.
#[derive(Clone, Debug)]
pub(in crate::generate) struct Case {
    /// The referral.
    pub referral: Date,
    /// Closure: date and index of the reason (0: none given).
    pub closure: Option<(Date, u8)>,
    /// Assessments: start to completion.
    pub assessments: BTreeMap<Date, Date>,
    /// Section 47 enquiries by start.
    pub enquiries: BTreeMap<Date, Enquiry>,
    /// Plans by start.
    pub plans: BTreeMap<Date, Plan>,
}

impl Default for CarePeriod {
    fn default() -> CarePeriod {
        CarePeriod {
            start: Date::MIN,
            legal_status: 0,
            placements: Vec::new(),
            order: None,
            reviews: Vec::new(),
            matched: None,
            end: None,
        }
    }
}

impl Default for Case {
    fn default() -> Case {
        Case {
            referral: Date::MIN,
            closure: None,
            assessments: BTreeMap::new(),
            enquiries: BTreeMap::new(),
            plans: BTreeMap::new(),
        }
    }
}

impl Case {
    /// The last date anything of the case happened (its closure, or the
    /// latest of its assessments, enquiries and plans).
    pub fn last_activity(&self) -> Option<Date> {
        let mut last = self.referral;
        for completed in self.assessments.values() {
            last = last.max(*completed);
        }
        for enquiry in self.enquiries.values() {
            for date in [enquiry.completed, enquiry.conference]
                .into_iter()
                .flatten()
            {
                last = last.max(date);
            }
        }
        for plan in self.plans.values() {
            match plan.end {
                Some(end) => last = last.max(end),
                None => return None,
            }
        }
        self.closure.map(|(closed, _)| last.max(closed))
    }
}

/// One child's history.
#[derive(Clone, Debug, Default)]
pub(in crate::generate) struct ChildHistory {
    /// Index of the child.
    pub child: u32,
    /// Date of birth.
    pub birth: Option<Date>,
    /// Unaccompanied asylum-seeking child.
    pub uasc: bool,
    /// The unit responsible at the end of the history.
    pub unit: Option<u16>,
    /// Periods of care.
    pub periods: Vec<CarePeriod>,
    /// Missing episodes: start and end.
    pub missing: Vec<(Date, Option<Date>)>,
    /// Cases by referral.
    pub cases: Vec<Case>,
}

/// The histories of every child with a fact, from facts in file order.
pub(in crate::generate) fn histories(facts: &[Fact]) -> Vec<ChildHistory> {
    let mut by_child: BTreeMap<u32, Vec<&Fact>> = BTreeMap::new();
    for fact in facts {
        by_child.entry(fact.child).or_default().push(fact);
    }
    by_child.remove(&super::super::facts::NO_CHILD);
    by_child
        .into_iter()
        .map(|(child, facts)| history(child, &facts))
        .collect()
}

/// Parts of a case (assessments, enquiries, plans), filed to the case by
/// their start date once the cases
/// are known.
enum Part {
    Assessment(Date, Date),
    Enquiry(Date, Enquiry),
    Plan(Date, Plan),
}

fn history(child: u32, facts: &[&Fact]) -> ChildHistory {
    let mut out = ChildHistory {
        child,
        ..ChildHistory::default()
    };
    let mut periods: HashMap<u32, usize> = HashMap::new();
    let mut missing: HashMap<u32, usize> = HashMap::new();
    let mut open: Option<usize> = None;
    // Referrals made while a case was open, with the case open.
    let mut nested: Vec<(Date, usize)> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut plans: HashMap<u32, usize> = HashMap::new();
    for fact in facts {
        let date = fact.date;
        match fact.event_type {
            EventType::ChildDetails => {
                out.birth = Some(decode_date(fact.primary));
                out.uasc = fact.code & 1 != 0;
            }
            EventType::Referral => match open {
                Some(case) => nested.push((date, case)),
                None => {
                    out.cases.push(Case {
                        referral: date,
                        ..Case::default()
                    });
                    open = Some(out.cases.len() - 1);
                    out.unit = Some(fact.unit).filter(|unit| *unit != NO_UNIT);
                }
            },
            EventType::CaseTransferred => out.unit = Some(fact.unit),
            EventType::CaseClosed => {
                if let Some(case) = open.take() {
                    out.cases[case].closure = Some((date, fact.code));
                }
            }
            EventType::AssessmentCompleted => {
                parts.push(Part::Assessment(decode_date(fact.primary), date));
            }
            EventType::S47Completed => parts.push(Part::Enquiry(
                decode_date(fact.primary),
                Enquiry {
                    completed: Some(date),
                    conference: None,
                },
            )),
            EventType::IcpcHeld => parts.push(Part::Enquiry(
                decode_date(fact.primary),
                Enquiry {
                    completed: None,
                    conference: Some(date),
                },
            )),
            EventType::CpPlanStarted => {
                plans.insert(fact.uid, parts.len());
                parts.push(Part::Plan(
                    date,
                    Plan {
                        category: fact.code,
                        ..Plan::default()
                    },
                ));
            }
            EventType::CpPlanEnded | EventType::CpReviewHeld => {
                if let Some(Part::Plan(_, plan)) =
                    plans.get(&fact.primary).and_then(|i| parts.get_mut(*i))
                {
                    if fact.event_type == EventType::CpPlanEnded {
                        plan.end = Some(date);
                    } else {
                        plan.reviews.push(date);
                    }
                }
            }
            EventType::CicStarted => {
                periods.insert(fact.uid, out.periods.len());
                out.periods.push(CarePeriod {
                    start: date,
                    legal_status: fact.code,
                    ..CarePeriod::default()
                });
            }
            EventType::PlacementStarted
            | EventType::PlacementOrderGranted
            | EventType::AdoptionMatch
            | EventType::CicReviewHeld
            | EventType::CicEnded => {
                let Some(period) = periods
                    .get(&fact.primary)
                    .and_then(|i| out.periods.get_mut(*i))
                else {
                    continue;
                };
                match fact.event_type {
                    EventType::PlacementStarted => period.placements.push((date, fact.code)),
                    EventType::PlacementOrderGranted => {
                        period.order = Some(period.order.map_or(date, |held| held.min(date)));
                    }
                    EventType::AdoptionMatch => {
                        period.matched = Some(period.matched.map_or(date, |held| held.min(date)));
                    }
                    EventType::CicReviewHeld => period.reviews.push((date, fact.code & 1 != 0)),
                    _ => period.end = Some((date, fact.code)),
                }
            }
            EventType::MissingStarted => {
                missing.insert(fact.uid, out.missing.len());
                out.missing.push((date, None));
            }
            EventType::MissingEnded => {
                if let Some(episode) = missing
                    .get(&fact.primary)
                    .and_then(|i| out.missing.get_mut(*i))
                {
                    episode.1 = Some(date);
                }
            }
            _ => {}
        }
    }
    // Parts go to the latest case referred on or before their start.
    let case_of = |cases: &[Case], start: Date| {
        cases
            .iter()
            .rposition(|case| case.referral <= start)
            .unwrap_or(0)
    };
    for part in parts {
        if out.cases.is_empty() {
            break;
        }
        match part {
            Part::Assessment(start, completed) => {
                let case = case_of(&out.cases, start);
                out.cases[case].assessments.insert(start, completed);
            }
            Part::Enquiry(start, enquiry) => {
                let case = case_of(&out.cases, start);
                let held = out.cases[case].enquiries.entry(start).or_default();
                held.completed = held.completed.or(enquiry.completed);
                held.conference = held.conference.or(enquiry.conference);
            }
            Part::Plan(start, plan) => {
                let case = case_of(&out.cases, start);
                out.cases[case].plans.insert(start, plan);
            }
        }
    }
    for (referral, case) in nested {
        if out.cases.iter().any(|held| held.referral == referral) {
            continue;
        }
        let closure = out.cases[case].closure;
        out.cases.push(Case {
            referral,
            closure: closure.map(|(date, reason)| (date.max(referral), reason)),
            ..Case::default()
        });
    }
    out
}
