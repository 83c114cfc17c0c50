//! CP06 — % of ICPCs held within 15 working days of the S47 enquiry starting.
//!
//! Catalogue: percent, H, R12M; counted on the conference date; denominator
//! ICPCs; numerator held no later than the 15th working day after
//! `s47_started`. Target 85.0, floor 75.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP06",
    name: "% of ICPCs held within 15 working days of the S47 enquiry starting",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "ICPCs within 15 working days of s47_started",
    denominator: "ICPCs held",
    default_target: "85.0 / 75.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for conference in &facts.conferences {
        let limit = out.working_days_after(conference.s47_started, 15);
        out.flow_responsible(facts, conference.date, one_if(conference.date <= limit), 1);
    }
}
