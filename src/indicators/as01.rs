//! AS01 — % of C&F assessments completed within 45 working days.
//!
//! Catalogue: percent, H, R12M; counted on the completion date; denominator
//! assessments completed; numerator completed within 45 working days of
//! `started` (no later than the 45th working day after it). Target 90.0, floor 80.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "AS01",
    name: "% of C&F assessments completed within 45 working days",
    section: "REFERRAL AND ASSESSMENT",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "completed within 45 working days of started",
    denominator: "C&F assessments completed",
    default_target: "90.0 / 80.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for assessment in &facts.assessments {
        let limit = out.working_days_after(assessment.started, 45);
        out.flow_responsible(facts, assessment.date, one_if(assessment.date <= limit), 1);
    }
}
