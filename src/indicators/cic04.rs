//! CIC04 — % of children who participated in their CIC reviews.
//!
//! Catalogue: percent, H, R12M; counted on the review date; denominator
//! reviews (resolved to a period of the child, decision D4); numerator `participated`.
//! Target 95.0, floor 90.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC04",
    name: "% of children who participated in their CIC reviews",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "reviews with participated",
    denominator: "CIC reviews",
    default_target: "95.0 / 90.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        for (date, participated) in &period.reviews {
            out.flow_responsible(facts, *date, one_if(*participated), 1);
        }
    }
}
