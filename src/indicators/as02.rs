//! AS02 — % of children seen at C&F assessment.
//!
//! Catalogue: percent, H, R12M; counted on the completion date; denominator
//! assessments completed; numerator `child_seen`. Target 98.0, floor 95.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "AS02",
    name: "% of children seen at C&F assessment",
    section: "REFERRAL AND ASSESSMENT",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "assessments with child_seen",
    denominator: "C&F assessments completed",
    default_target: "98.0 / 95.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for assessment in &facts.assessments {
        out.flow_responsible(facts, assessment.date, one_if(assessment.child_seen), 1);
    }
}
