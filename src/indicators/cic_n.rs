//! CIC-N — Number of children in care.
//!
//! Catalogue: count, SS; in care at D (some period started <= D with no end
//! dated <= D).

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC-N",
    name: "Number of children in care",
    section: "CHILDREN IN CARE",
    kind: Kind::Count,
    window: Window::Ss,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "children in care at D",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

pub(super) fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
    }
    out.snapshot(facts, |date| (one_if(facts.period_at(date).is_some()), 0));
}
