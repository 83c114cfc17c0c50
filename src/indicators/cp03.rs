//! CP03 — % of CP cases reviewed within required timescales.
//!
//! Catalogue: percent, H, SS; denominator on a CP plan at D with
//! D >= S + 3 months; numerator: the open plan's reviews dated <= D (decision D15) have
//! the first <= S + 3 months, each next <= previous + 6 months, and the next
//! is not overdue at D (D <= last + 6 months). No review by D fails.
//! Target 98.0, floor 95.0.

use super::{one_if, review_chain_ok, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP03",
    name: "% of CP cases reviewed within required timescales",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "review chain on time and the next review not overdue at D",
    denominator: "children on a CP plan at D with D >= S + 3 months",
    default_target: "98.0 / 95.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for plan in &facts.plans {
        out.candidate(plan.start);
        out.candidate(plan.span().to);
        out.candidate(plan.start.add_months(3));
        for review in &plan.reviews {
            out.candidate(*review);
            out.candidate(review.add_months(6).add_days(1));
        }
    }
    out.snapshot(facts, |date| {
        let Some(plan) = facts.plan_at(date) else {
            return (0, 0);
        };
        let due = plan.start.add_months(3);
        if date < due {
            return (0, 0);
        }
        let on_time = review_chain_ok(plan.reviews.iter().copied(), date, due, 6);
        (one_if(on_time), 1)
    });
}
