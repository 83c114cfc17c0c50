//! CL01 — % of care leavers the authority is in touch with.
//!
//! Catalogue: percent, H, R12M; counted on the contact date; denominator
//! `care_leaver_contact` events; numerator `in_touch`. Target 85.0, floor 80.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CL01",
    name: "% of care leavers the authority is in touch with",
    section: "CARE LEAVERS",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "contacts in touch",
    denominator: "care leaver contacts",
    default_target: "85.0 / 80.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for contact in &facts.contacts {
        out.flow_responsible(facts, contact.date, one_if(contact.in_touch), 1);
    }
}
