//! CP01 — % of current CP plans lasting 18 months or more.
//!
//! Catalogue: percent, L, SS; denominator on a CP plan at D; numerator
//! D >= S + 18 months for the open plan (the earliest-started open one, decision D6).
//! Target 10.0, floor 15.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP01",
    name: "% of current CP plans lasting 18 months or more",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "open plan with D >= S + 18 months",
    denominator: "children on a CP plan at D",
    default_target: "10.0 / 15.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for plan in &facts.plans {
        out.candidate(plan.start);
        out.candidate(plan.span().to);
        out.candidate(plan.start.add_months(18));
    }
    out.snapshot(facts, |date| match facts.plan_at(date) {
        None => (0, 0),
        Some(plan) => (one_if(date >= plan.start.add_months(18)), 1),
    });
}
