//! CIN01 — % of children in need seen in the last 28 days.
//!
//! Catalogue: percent, H, SS; denominator case open at D, not on a CP plan, not
//! in care, case opened at least 28 days before D (opened <= D - 28 days, decision D22);
//! numerator a `visit` of any type (decision D12) dated V <= D with D <= V + 28 days.
//! Target 90.0, floor 80.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIN01",
    name: "% of children in need seen in the last 28 days",
    section: "CHILDREN IN NEED",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "a visit dated V with V <= D <= V + 28 days",
    denominator: "children in need at D (open case, no plan, not in care, opened <= D - 28 days)",
    default_target: "90.0 / 80.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for case in &facts.cases {
        out.candidate(case.from);
        out.candidate(case.from.add_days(28));
        out.candidate(case.to);
    }
    for plan in &facts.plans {
        out.candidate(plan.start);
        out.candidate(plan.span().to);
    }
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
    }
    for visit in &facts.visits {
        out.candidate(*visit);
        out.candidate(visit.add_days(29));
    }
    out.snapshot(facts, |date| {
        let Some(case) = facts.case_at(date) else {
            return (0, 0);
        };
        let in_need = facts.plan_at(date).is_none()
            && facts.period_at(date).is_none()
            && case.from <= date.add_days(-28);
        if !in_need {
            return (0, 0);
        }
        let latest = facts.visits.partition_point(|visit| *visit <= date);
        let seen = latest > 0 && date <= facts.visits[latest - 1].add_days(28);
        (one_if(seen), 1)
    });
}
