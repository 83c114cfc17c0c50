//! CIC07 — % of children in care with health assessments in timescale.
//!
//! Catalogue: percent, H, SS; denominator in care at D with D >= C + 20
//! working days; numerator an `initial` assessment of the current period dated
//! <= C + 20 working days (and <= D; no lower bound, decision D17), and D within 6
//! months (under 5 at D) or 12 months (otherwise, including unknown age, decision D14)
//! of the latest assessment of either kind of the current period dated <= D.
//! Target 90.0, floor 85.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::HealthKind;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC07",
    name: "% of children in care with health assessments in timescale",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator:
        "initial assessment <= C + 20 working days and the latest within 6 (under 5) or 12 months",
    denominator: "children in care at D with D >= C + 20 working days",
    default_target: "90.0 / 85.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    let calendar = out.calendar();
    if let Some(birth) = facts.date_of_birth {
        out.candidate(birth.add_months(5 * 12));
    }
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        out.candidate(calendar.add_working_days(period.start, 20));
        for (assessment, _) in &period.health_assessments {
            out.candidate(*assessment);
            out.candidate(assessment.add_months(6).add_days(1));
            out.candidate(assessment.add_months(12).add_days(1));
        }
    }
    out.snapshot(facts, |date| {
        let Some(period) = facts.period_at(date) else {
            return (0, 0);
        };
        let due = calendar.add_working_days(period.start, 20);
        if date < due {
            return (0, 0);
        }
        let initial_on_time = period.health_assessments.iter().any(|(assessment, kind)| {
            *kind == HealthKind::Initial && *assessment <= due && *assessment <= date
        });
        let latest = period
            .health_assessments
            .iter()
            .map(|(assessment, _)| *assessment)
            .filter(|assessment| *assessment <= date)
            .max();
        let months = if facts.age_at(date).is_some_and(|age| age < 5) {
            6
        } else {
            12
        };
        let current = latest.is_some_and(|latest| date <= latest.add_months(months));
        (one_if(initial_on_time && current), 1)
    });
}
