//! SCS13 — % of children becoming subject to a CP plan for a second or
//! subsequent time.
//!
//! Catalogue: percent, T, R12M; counted on the plan start S; denominator plans
//! started; numerator the child has another plan started before S (a start
//! date strictly earlier). Target 20.0 (range 17.5-22.5), floor range 12.5-27.5.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS13",
    name: "% of children becoming subject to a CP plan for a second or subsequent time",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::Target,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "plans whose child has another plan started before S",
    denominator: "CP plans started",
    default_target: "20.0 (range 17.5-22.5) / floor range 12.5-27.5",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for plan in &facts.plans {
        let repeat = facts.plans.iter().any(|other| other.start < plan.start);
        out.flow_responsible(facts, plan.start, one_if(repeat), 1);
    }
}
