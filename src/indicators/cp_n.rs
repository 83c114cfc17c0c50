//! CP-N — Number of children with a CP plan.
//!
//! Catalogue: count, SS; on a CP plan at D (some plan started <= D with no end
//! dated <= D); a child counts once however many plans overlap.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP-N",
    name: "Number of children with a CP plan",
    section: "CHILD PROTECTION",
    kind: Kind::Count,
    window: Window::Ss,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "children on a CP plan at D",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for plan in &facts.plans {
        out.candidate(plan.start);
        out.candidate(plan.span().to);
    }
    out.snapshot(facts, |date| (one_if(facts.plan_at(date).is_some()), 0));
}
