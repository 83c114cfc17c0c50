//! CP04 — % of CP plans lasting 2 years or more at the point of de-registration.
//!
//! Catalogue: percent, L, R12M; counted on the plan end E (the first end, decision D5);
//! denominator plans ended; numerator E >= S + 2 years. Target 5.0, floor 10.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP04",
    name: "% of CP plans lasting 2 years or more at the point of de-registration",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "plans with E >= S + 2 years",
    denominator: "CP plans ended",
    default_target: "5.0 / 10.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for plan in &facts.plans {
        if let Some(end) = plan.end {
            out.flow_responsible(facts, end, one_if(end >= plan.start.add_months(24)), 1);
        }
    }
}
