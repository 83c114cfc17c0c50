//! SCS01 — Number of open cases.
//!
//! Catalogue: count, SS; a case is open at D when a referral dated <= D opened
//! it and no `case_closed` dated <= D closed it; counted at the unit
//! responsible on D.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS01",
    name: "Number of open cases",
    section: "CHILDREN IN NEED",
    kind: Kind::Count,
    window: Window::Ss,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "cases open at D",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for case in &facts.cases {
        out.candidate(case.from);
        out.candidate(case.to);
    }
    out.snapshot(facts, |date| (one_if(facts.case_at(date).is_some()), 0));
}
