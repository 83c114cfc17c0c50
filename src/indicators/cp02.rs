//! CP02 — % of children on a CP plan seen within the last 10 working days.
//!
//! Catalogue: percent, H, SS; denominator on a CP plan at D with
//! D >= S + 10 working days (S the open plan's start, decision D6); numerator a `visit`
//! of any type (decision D12) V with S <= V <= D and D no later than the 10th working
//! day after V. Target 90.0, floor 80.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP02",
    name: "% of children on a CP plan seen within the last 10 working days",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "a visit V with S <= V <= D and D <= V + 10 working days",
    denominator: "children on a CP plan at D with D >= S + 10 working days",
    default_target: "90.0 / 80.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    let calendar = out.calendar();
    for plan in &facts.plans {
        out.candidate(plan.start);
        out.candidate(plan.span().to);
        out.candidate(calendar.add_working_days(plan.start, 10));
    }
    for visit in &facts.visits {
        out.candidate(*visit);
        out.candidate(calendar.add_working_days(*visit, 10).add_days(1));
    }
    out.snapshot(facts, |date| {
        let Some(plan) = facts.plan_at(date) else {
            return (0, 0);
        };
        if date < calendar.add_working_days(plan.start, 10) {
            return (0, 0);
        }
        let latest = facts.visits.partition_point(|visit| *visit <= date);
        let seen = latest > 0 && {
            let visit = facts.visits[latest - 1];
            visit >= plan.start && date <= calendar.add_working_days(visit, 10)
        };
        (one_if(seen), 1)
    });
}
