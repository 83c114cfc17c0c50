//! From a child's (or unit's) surviving events to the facts indicators use.
//!
//! `fold` is pure and never fails: contradictory facts become [`Anomaly`]
//! records and count only as far as the definitions in `docs/indicator-definitions.md`
//! allow. Events are taken in the order of `docs/events.md` (date, then
//! `recorded_at`, then `event_id`), so the result does not depend on arrival
//! order. References between events (`plan_id`, `period_id`, `placement_id`,
//! `episode_id`) resolve only to a surviving start event of the right type of
//! the same child (decision D4); unresolved ones count nowhere.

use crate::calendar::Date;
use crate::config::UnitIdx;
use crate::event::{AuditGrade, Body, CareEndReason, Event, Fixed6, HealthKind, PlacementType};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A half-open date interval `[from, to)`; `to = Date::MAX` when open-ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Span {
    /// First date inside.
    pub from: Date,
    /// First date outside.
    pub to: Date,
}

impl Span {
    /// Whether `date` lies inside.
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date < self.to
    }

    /// Whether the span holds no date.
    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }
}

/// A referral with its own unit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Referral {
    /// Referral date.
    pub date: Date,
    /// The unit named on the referral.
    pub unit: UnitIdx,
}

/// A completed assessment or section 47 enquiry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Completion {
    /// Completion date.
    pub date: Date,
    /// Start date.
    pub started: Date,
    /// Whether the child was seen.
    pub child_seen: bool,
}

/// An initial child protection conference.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Conference {
    /// Conference date.
    pub date: Date,
    /// When the section 47 enquiry started.
    pub s47_started: Date,
}

/// A change of who holds the case: from `date`, `worker` (or nobody).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WorkerChange {
    /// Date of the change.
    pub date: Date,
    /// The worker id and whether qualified, or `None` when unallocated.
    pub worker: Option<(String, bool)>,
}

/// A child protection plan.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Plan {
    /// Start date.
    pub start: Date,
    /// End date (first end event, decision D5), if ended.
    pub end: Option<Date>,
    /// Review conference dates, sorted.
    pub reviews: Vec<Date>,
}

impl Plan {
    /// The dates the child is on this plan.
    pub fn span(&self) -> Span {
        Span {
            from: self.start,
            to: self.end.unwrap_or(Date::MAX),
        }
    }
}

/// A placement within a period of care.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Placement {
    /// Start date.
    pub start: Date,
    /// The dates it holds: until the next placement of the period or the period's end.
    pub span: Span,
    /// Placement type.
    pub placement_type: PlacementType,
    /// Distance from home, if recorded.
    pub distance_miles: Option<Fixed6>,
    /// Placement arrangement meeting dates, sorted.
    pub meetings: Vec<Date>,
}

/// A period of care (a "period" in `docs/events.md`; `CarePeriod` in code).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CarePeriod {
    /// Start date.
    pub start: Date,
    /// End date and reason (first end event), if ended.
    pub end: Option<(Date, CareEndReason)>,
    /// Placements in order.
    pub placements: Vec<Placement>,
    /// Looked-after reviews: date and whether the child participated, sorted by date.
    pub reviews: Vec<(Date, bool)>,
    /// Health assessments, sorted by date.
    pub health_assessments: Vec<(Date, HealthKind)>,
    /// IHA referral dates, sorted.
    pub iha_referrals: Vec<Date>,
    /// Dental check dates, sorted.
    pub dental_checks: Vec<Date>,
    /// Placement order dates, sorted.
    pub placement_orders: Vec<Date>,
    /// Adoption match dates, sorted.
    pub adoption_matches: Vec<Date>,
}

impl CarePeriod {
    /// The dates the child is in care in this period.
    pub fn span(&self) -> Span {
        Span {
            from: self.start,
            to: self.end.map(|(date, _)| date).unwrap_or(Date::MAX),
        }
    }

    /// The placement holding `date`, with its index.
    pub fn placement_at(&self, date: Date) -> Option<(usize, &Placement)> {
        self.placements
            .iter()
            .enumerate()
            .find(|(_, placement)| placement.span.contains(date))
    }
}

/// A missing episode.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Episode {
    /// Date the child went missing.
    pub start: Date,
    /// Date the child returned (first end event), if ended.
    pub end: Option<Date>,
    /// Return interview dates, sorted.
    pub interviews: Vec<Date>,
}

/// A care leaver contact.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Contact {
    /// Contact date.
    pub date: Date,
    /// In touch.
    pub in_touch: bool,
    /// In suitable accommodation (when in touch).
    pub accommodation_suitable: Option<bool>,
    /// In education, employment or training (when in touch).
    pub eet: Option<bool>,
}

/// Why a well-formed fact is contradictory.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AnomalyReason {
    /// A reference names no surviving start event of the right type of this child.
    UnresolvedReference,
    /// An end (or a completion) dated before its start.
    EndBeforeStart,
    /// A second end event for the same plan, period or episode.
    DuplicateEnd,
    /// A plan started while another was open.
    OverlappingPlan,
    /// A period of care started while another was open.
    OverlappingPeriod,
    /// A `case_closed` with no open case.
    CloseWithoutOpenCase,
    /// A fact dated when the child had no responsible unit (counts at the root only).
    NoResponsibleUnit,
    /// A placement dated outside its period of care.
    PlacementOutsidePeriod,
}

impl AnomalyReason {
    /// Every reason, for metrics initialisation.
    pub const ALL: [AnomalyReason; 8] = [
        AnomalyReason::UnresolvedReference,
        AnomalyReason::EndBeforeStart,
        AnomalyReason::DuplicateEnd,
        AnomalyReason::OverlappingPlan,
        AnomalyReason::OverlappingPeriod,
        AnomalyReason::CloseWithoutOpenCase,
        AnomalyReason::NoResponsibleUnit,
        AnomalyReason::PlacementOutsidePeriod,
    ];

    /// The snake_case label.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyReason::UnresolvedReference => "unresolved_reference",
            AnomalyReason::EndBeforeStart => "end_before_start",
            AnomalyReason::DuplicateEnd => "duplicate_end",
            AnomalyReason::OverlappingPlan => "overlapping_plan",
            AnomalyReason::OverlappingPeriod => "overlapping_period",
            AnomalyReason::CloseWithoutOpenCase => "close_without_open_case",
            AnomalyReason::NoResponsibleUnit => "no_responsible_unit",
            AnomalyReason::PlacementOutsidePeriod => "placement_outside_period",
        }
    }
}

/// One anomaly: the reason and the event it is about.
#[derive(Clone, PartialEq, Eq, Debug, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Anomaly {
    /// The reason.
    pub reason: AnomalyReason,
    /// The event at fault.
    pub event_id: String,
    /// Its date.
    pub date: Date,
}

/// Everything the indicators need to know about one child.
#[derive(Clone, Debug, Default)]
pub struct ChildFacts {
    /// Date of birth from the latest `child_details` (decision D1).
    pub date_of_birth: Option<Date>,
    /// UASC flag from the latest `child_details` (decision D1).
    pub uasc: bool,
    /// Responsible-unit changes in order (decision D9); several may share a date.
    pub unit_changes: Vec<(Date, UnitIdx)>,
    /// Open-case intervals in order.
    pub cases: Vec<Span>,
    /// Every referral.
    pub referrals: Vec<Referral>,
    /// Worker changes in order.
    pub worker_changes: Vec<WorkerChange>,
    /// Visit dates, sorted.
    pub visits: Vec<Date>,
    /// Completed C&F assessments.
    pub assessments: Vec<Completion>,
    /// Completed section 47 enquiries.
    pub s47_enquiries: Vec<Completion>,
    /// Initial child protection conferences.
    pub conferences: Vec<Conference>,
    /// CP plans in order of their start events.
    pub plans: Vec<Plan>,
    /// Periods of care in order of their start events.
    pub periods: Vec<CarePeriod>,
    /// Missing episodes in order of their start events.
    pub episodes: Vec<Episode>,
    /// Care leaver contacts.
    pub contacts: Vec<Contact>,
}

impl ChildFacts {
    /// The responsible unit at the end of `date`, if any (decision D9).
    pub fn unit_at(&self, date: Date) -> Option<UnitIdx> {
        let index = self.unit_changes.partition_point(|(day, _)| *day <= date);
        index.checked_sub(1).map(|index| self.unit_changes[index].1)
    }

    /// Dates on which the responsible unit may change.
    pub fn unit_change_dates(&self) -> impl Iterator<Item = Date> + '_ {
        self.unit_changes.iter().map(|(date, _)| *date)
    }

    /// The open case interval holding `date`.
    pub fn case_at(&self, date: Date) -> Option<Span> {
        self.cases.iter().copied().find(|span| span.contains(date))
    }

    /// The open plan at `date`: the earliest-started open one (decision D6).
    pub fn plan_at(&self, date: Date) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.span().contains(date))
    }

    /// The current period of care at `date`: the earliest-started open one (decision D6).
    pub fn period_at(&self, date: Date) -> Option<&CarePeriod> {
        self.periods
            .iter()
            .find(|period| period.span().contains(date))
    }

    /// Age in whole years at `date`, if the date of birth is known (decision D14).
    pub fn age_at(&self, date: Date) -> Option<i32> {
        self.date_of_birth.map(|birth| date.age_years_since(birth))
    }

    /// The worker holding the case at the end of `date`, with the date since
    /// which that worker has held it continuously (decision D18).
    pub fn worker_at(&self, date: Date) -> Option<(&str, bool, Date)> {
        let mut current: Option<(&str, bool, Date)> = None;
        for change in &self.worker_changes {
            if change.date > date {
                break;
            }
            current = match (&change.worker, current) {
                (None, _) => None,
                (Some((worker, qualified)), Some((held, _, since))) if held == worker => {
                    Some((held, *qualified, since))
                }
                (Some((worker, qualified)), _) => Some((worker.as_str(), *qualified, change.date)),
            };
        }
        current
    }
}

/// Everything the indicators need to know about one unit's own events.
#[derive(Clone, Debug, Default)]
pub struct UnitFacts {
    /// Case audits: date and grade.
    pub audits: Vec<(Date, AuditGrade)>,
    /// Staffing snapshots in order, each with the date its successor takes over.
    pub staffing: Vec<StaffingPeriod>,
    /// Commentary on the unit's figures: per indicator id and month, the
    /// latest surviving one in the order within a day (no indicator reads it;
    /// the committee pack shows it).
    pub commentary: std::collections::BTreeMap<(String, crate::calendar::Month), Commentary>,
}

/// Commentary written by the service on one indicator, unit and month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commentary {
    /// The event that carries it.
    pub event_id: String,
    /// Its date.
    pub date: Date,
    /// The text.
    pub text: String,
    /// Who wrote it.
    pub author: String,
}

/// A staffing snapshot and the dates it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StaffingPeriod {
    /// The dates it is the latest snapshot.
    pub span: Span,
    /// Establishment FTE.
    pub establishment_fte: Fixed6,
    /// Case-holding FTE.
    pub caseholding_fte: Fixed6,
    /// Permanent qualified social worker FTE.
    pub permanent_qsw_fte: Fixed6,
    /// Agency FTE.
    pub agency_fte: Fixed6,
}

/// Sorts events into the order within a day of `docs/events.md`.
pub fn sort_events(events: &mut [Event]) {
    events.sort_by(|left, right| left.order_key().cmp(&right.order_key()));
}

/// Folds a child's surviving events (sorted with [`sort_events`]) into facts.
pub fn fold_child(events: &[Event], anomalies: &mut Vec<Anomaly>) -> ChildFacts {
    debug_assert!(events
        .windows(2)
        .all(|pair| pair[0].order_key() <= pair[1].order_key()));
    let mut facts = ChildFacts::default();
    let mut plan_index: HashMap<&str, usize> = HashMap::new();
    let mut period_index: HashMap<&str, usize> = HashMap::new();
    let mut episode_index: HashMap<&str, usize> = HashMap::new();
    let mut placement_index: HashMap<&str, (usize, usize)> = HashMap::new();
    let anomaly = |anomalies: &mut Vec<Anomaly>, reason, event: &Event| {
        anomalies.push(Anomaly {
            reason,
            event_id: String::from(event.id.as_str()),
            date: event.date,
        })
    };

    // Pass 1: start events, so references resolve whatever the order (decision D4).
    for event in events {
        match &event.body {
            Body::CpPlanStarted { .. } => {
                plan_index.insert(event.id.as_str(), facts.plans.len());
                facts.plans.push(Plan {
                    start: event.date,
                    end: None,
                    reviews: Vec::new(),
                });
            }
            Body::CicStarted { .. } => {
                period_index.insert(event.id.as_str(), facts.periods.len());
                facts.periods.push(CarePeriod {
                    start: event.date,
                    end: None,
                    placements: Vec::new(),
                    reviews: Vec::new(),
                    health_assessments: Vec::new(),
                    iha_referrals: Vec::new(),
                    dental_checks: Vec::new(),
                    placement_orders: Vec::new(),
                    adoption_matches: Vec::new(),
                });
            }
            Body::MissingStarted => {
                episode_index.insert(event.id.as_str(), facts.episodes.len());
                facts.episodes.push(Episode {
                    start: event.date,
                    end: None,
                    interviews: Vec::new(),
                });
            }
            _ => {}
        }
    }
    // Placements need their period resolved first.
    for event in events {
        if let Body::PlacementStarted {
            period_id,
            placement_type,
            distance_miles,
        } = &event.body
        {
            match period_index.get(period_id.as_str()) {
                Some(&period) => {
                    let placements = &mut facts.periods[period].placements;
                    placement_index.insert(event.id.as_str(), (period, placements.len()));
                    placements.push(Placement {
                        start: event.date,
                        span: Span {
                            from: event.date,
                            to: Date::MAX,
                        },
                        placement_type: *placement_type,
                        distance_miles: *distance_miles,
                        meetings: Vec::new(),
                    });
                }
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            }
        }
    }

    // Pass 2: everything else, in order.
    let mut case_open: Option<Date> = None;
    let mut latest_details: Option<(Date, bool)> = None;
    for event in events {
        match &event.body {
            Body::ChildDetails {
                date_of_birth,
                uasc,
            } => latest_details = Some((*date_of_birth, *uasc)),
            Body::Referral => {
                let unit = event.unit.expect("decode requires a unit on referrals");
                facts.referrals.push(Referral {
                    date: event.date,
                    unit,
                });
                if case_open.is_none() {
                    case_open = Some(event.date);
                    facts.unit_changes.push((event.date, unit));
                }
            }
            Body::CaseTransferred => {
                let unit = event.unit.expect("decode requires a unit on transfers");
                facts.unit_changes.push((event.date, unit));
            }
            Body::CaseClosed { .. } => match case_open.take() {
                Some(opened) => facts.cases.push(Span {
                    from: opened,
                    to: event.date,
                }),
                None => anomaly(anomalies, AnomalyReason::CloseWithoutOpenCase, event),
            },
            Body::WorkerAllocated {
                worker_id,
                qualified,
            } => facts.worker_changes.push(WorkerChange {
                date: event.date,
                worker: Some((worker_id.clone(), *qualified)),
            }),
            Body::WorkerUnallocated => facts.worker_changes.push(WorkerChange {
                date: event.date,
                worker: None,
            }),
            Body::Visit { .. } => facts.visits.push(event.date),
            Body::AssessmentCompleted {
                started,
                child_seen,
            } => facts.assessments.push(Completion {
                date: event.date,
                started: *started,
                child_seen: *child_seen,
            }),
            Body::S47Completed {
                started,
                child_seen,
            } => facts.s47_enquiries.push(Completion {
                date: event.date,
                started: *started,
                child_seen: *child_seen,
            }),
            Body::IcpcHeld { s47_started } => facts.conferences.push(Conference {
                date: event.date,
                s47_started: *s47_started,
            }),
            Body::CpPlanEnded { plan_id } => match plan_index.get(plan_id.as_str()) {
                Some(&plan) => {
                    let plan = &mut facts.plans[plan];
                    if plan.end.is_some() {
                        anomaly(anomalies, AnomalyReason::DuplicateEnd, event);
                    } else {
                        if event.date < plan.start {
                            anomaly(anomalies, AnomalyReason::EndBeforeStart, event);
                        }
                        plan.end = Some(event.date);
                    }
                }
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            },
            Body::CpReviewHeld { plan_id } => match plan_index.get(plan_id.as_str()) {
                Some(&plan) => facts.plans[plan].reviews.push(event.date),
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            },
            Body::CicEnded { period_id, reason } => match period_index.get(period_id.as_str()) {
                Some(&period) => {
                    let period = &mut facts.periods[period];
                    if period.end.is_some() {
                        anomaly(anomalies, AnomalyReason::DuplicateEnd, event);
                    } else {
                        if event.date < period.start {
                            anomaly(anomalies, AnomalyReason::EndBeforeStart, event);
                        }
                        period.end = Some((event.date, *reason));
                    }
                }
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            },
            Body::PlacementArrangementMeeting { placement_id } => {
                match placement_index.get(placement_id.as_str()) {
                    Some(&(period, placement)) => facts.periods[period].placements[placement]
                        .meetings
                        .push(event.date),
                    None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
                }
            }
            Body::CicReviewHeld {
                period_id,
                participated,
            } => match period_index.get(period_id.as_str()) {
                Some(&period) => facts.periods[period]
                    .reviews
                    .push((event.date, *participated)),
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            },
            Body::HealthAssessment { period_id, kind } => {
                match period_index.get(period_id.as_str()) {
                    Some(&period) => facts.periods[period]
                        .health_assessments
                        .push((event.date, *kind)),
                    None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
                }
            }
            Body::IhaReferral { period_id }
            | Body::DentalCheck { period_id }
            | Body::PlacementOrderGranted { period_id }
            | Body::AdoptionMatch { period_id } => match period_index.get(period_id.as_str()) {
                Some(&period) => {
                    let period = &mut facts.periods[period];
                    let dates = match &event.body {
                        Body::IhaReferral { .. } => &mut period.iha_referrals,
                        Body::DentalCheck { .. } => &mut period.dental_checks,
                        Body::PlacementOrderGranted { .. } => &mut period.placement_orders,
                        _ => &mut period.adoption_matches,
                    };
                    dates.push(event.date);
                }
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            },
            Body::MissingEnded { episode_id } => match episode_index.get(episode_id.as_str()) {
                Some(&episode) => {
                    let episode = &mut facts.episodes[episode];
                    if episode.end.is_some() {
                        anomaly(anomalies, AnomalyReason::DuplicateEnd, event);
                    } else {
                        if event.date < episode.start {
                            anomaly(anomalies, AnomalyReason::EndBeforeStart, event);
                        }
                        episode.end = Some(event.date);
                    }
                }
                None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
            },
            Body::ReturnInterviewHeld { episode_id } => {
                match episode_index.get(episode_id.as_str()) {
                    Some(&episode) => facts.episodes[episode].interviews.push(event.date),
                    None => anomaly(anomalies, AnomalyReason::UnresolvedReference, event),
                }
            }
            Body::CareLeaverContact {
                in_touch,
                accommodation_suitable,
                eet,
            } => facts.contacts.push(Contact {
                date: event.date,
                in_touch: *in_touch,
                accommodation_suitable: *accommodation_suitable,
                eet: *eet,
            }),
            Body::CpPlanStarted { .. }
            | Body::CicStarted { .. }
            | Body::MissingStarted
            | Body::PlacementStarted { .. } => {}
            Body::CaseAuditCompleted { .. }
            | Body::StaffingSnapshot { .. }
            | Body::Commentary(..) => {
                debug_assert!(false, "unit-level event in a child log");
            }
        }
    }
    if let Some(opened) = case_open {
        facts.cases.push(Span {
            from: opened,
            to: Date::MAX,
        });
    }
    if let Some((birth, uasc)) = latest_details {
        facts.date_of_birth = Some(birth);
        facts.uasc = uasc;
    }

    // Pass 3: placement intervals, overlaps, unattributed facts.
    for period in &mut facts.periods {
        let period_end = period.span().to;
        let count = period.placements.len();
        for index in 0..count {
            let next_start = period
                .placements
                .get(index + 1)
                .map(|next| next.start)
                .unwrap_or(Date::MAX);
            let placement = &mut period.placements[index];
            placement.span.to = next_start.min(period_end);
        }
    }
    for event in events {
        match &event.body {
            Body::CpPlanStarted { .. } => {
                let me = plan_index[event.id.as_str()];
                if facts.plans[..me]
                    .iter()
                    .any(|plan| plan.span().contains(event.date))
                {
                    anomaly(anomalies, AnomalyReason::OverlappingPlan, event);
                }
            }
            Body::CicStarted { .. } => {
                let me = period_index[event.id.as_str()];
                if facts.periods[..me]
                    .iter()
                    .any(|period| period.span().contains(event.date))
                {
                    anomaly(anomalies, AnomalyReason::OverlappingPeriod, event);
                }
            }
            Body::PlacementStarted { .. } => {
                if let Some(&(period, _)) = placement_index.get(event.id.as_str()) {
                    if !facts.periods[period].span().contains(event.date) {
                        anomaly(anomalies, AnomalyReason::PlacementOutsidePeriod, event);
                    }
                }
            }
            _ => {}
        }
        let needs_unit = !matches!(
            event.body,
            Body::ChildDetails { .. }
                | Body::Referral
                | Body::WorkerAllocated { .. }
                | Body::WorkerUnallocated
        );
        if needs_unit && facts.unit_at(event.date).is_none() {
            anomaly(anomalies, AnomalyReason::NoResponsibleUnit, event);
        }
    }
    facts.visits.sort_unstable();
    for plan in &mut facts.plans {
        plan.reviews.sort_unstable();
    }
    for period in &mut facts.periods {
        period.reviews.sort_by_key(|(date, _)| *date);
        period.health_assessments.sort_by_key(|(date, _)| *date);
        period.iha_referrals.sort_unstable();
        period.dental_checks.sort_unstable();
        period.placement_orders.sort_unstable();
        period.adoption_matches.sort_unstable();
        for placement in &mut period.placements {
            placement.meetings.sort_unstable();
        }
    }
    for episode in &mut facts.episodes {
        episode.interviews.sort_unstable();
    }
    anomalies.sort();
    facts
}

/// Folds a unit's surviving events (sorted with [`sort_events`]) into facts.
pub fn fold_unit(events: &[Event]) -> UnitFacts {
    let mut facts = UnitFacts::default();
    for event in events {
        match &event.body {
            Body::CaseAuditCompleted { grade } => facts.audits.push((event.date, *grade)),
            Body::StaffingSnapshot {
                establishment_fte,
                caseholding_fte,
                permanent_qsw_fte,
                agency_fte,
            } => {
                if let Some(previous) = facts.staffing.last_mut() {
                    previous.span.to = event.date;
                }
                facts.staffing.push(StaffingPeriod {
                    span: Span {
                        from: event.date,
                        to: Date::MAX,
                    },
                    establishment_fte: *establishment_fte,
                    caseholding_fte: *caseholding_fte,
                    permanent_qsw_fte: *permanent_qsw_fte,
                    agency_fte: *agency_fte,
                });
            }
            Body::Commentary(commentary) => {
                let crate::event::CommentaryBody {
                    indicator,
                    month,
                    text,
                    author,
                } = &**commentary;
                // Events come in the order within a day: a later one replaces.
                facts.commentary.insert(
                    (indicator.clone(), *month),
                    Commentary {
                        event_id: String::from(event.id.as_str()),
                        date: event.date,
                        text: text.clone(),
                        author: author.clone(),
                    },
                );
            }
            _ => debug_assert!(false, "child event in a unit log"),
        }
    }
    facts
}
