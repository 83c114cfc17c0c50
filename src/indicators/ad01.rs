//! AD01 — % of children leaving care who were adopted (exc UASC).
//!
//! Catalogue: percent, H, R12M, exc UASC; counted on the period end (the first
//! end, decision D5); denominator periods ended; numerator reason `adopted`.
//! Target and floor 15.0 / 10.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::CareEndReason;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "AD01",
    name: "% of children leaving care who were adopted (exc UASC)",
    section: "ADOPTION",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::Exclude,
    num_scale: 1,
    den_scale: 1,
    numerator: "periods ended with reason adopted",
    denominator: "periods of care ended",
    default_target: "15.0 / 10.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        if let Some((end, reason)) = period.end {
            out.flow_responsible(facts, end, one_if(reason == CareEndReason::Adopted), 1);
        }
    }
}
