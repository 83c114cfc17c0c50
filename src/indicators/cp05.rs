//! CP05 — % of children seen at section 47 enquiry.
//!
//! Catalogue: percent, H, R12M; counted on the completion date; denominator
//! S47 enquiries completed; numerator `child_seen`. Target 98.0, floor 95.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CP05",
    name: "% of children seen at section 47 enquiry",
    section: "CHILD PROTECTION",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "S47 enquiries with child_seen",
    denominator: "S47 enquiries completed",
    default_target: "98.0 / 95.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for enquiry in &facts.s47_enquiries {
        out.flow_responsible(facts, enquiry.date, one_if(enquiry.child_seen), 1);
    }
}
