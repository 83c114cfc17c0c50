//! CL02 — % of care leavers in suitable accommodation (of those in touch).
//!
//! Catalogue: percent, H, R12M; counted on the contact date; denominator
//! contacts with `in_touch`; numerator `accommodation_suitable`. Target and floor 90.0 / 85.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CL02",
    name: "% of care leavers in suitable accommodation (of those in touch)",
    section: "CARE LEAVERS",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "contacts in touch with accommodation_suitable",
    denominator: "care leaver contacts in touch",
    default_target: "90.0 / 85.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for contact in facts.contacts.iter().filter(|contact| contact.in_touch) {
        out.flow_responsible(
            facts,
            contact.date,
            one_if(contact.accommodation_suitable == Some(true)),
            1,
        );
    }
}
