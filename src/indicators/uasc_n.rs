//! UASC-N — Number of UASC children in care.
//!
//! Catalogue: count, SS; in care at D and UASC (the latest `child_details`, decision D1).

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "UASC-N",
    name: "Number of UASC children in care",
    section: "CHILDREN IN CARE",
    kind: Kind::Count,
    window: Window::Ss,
    polarity: Polarity::None,
    default_uasc: UascFilter::Only,
    num_scale: 1,
    den_scale: 1,
    numerator: "UASC children in care at D",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    if facts.uasc {
        super::cic_n::contribute(facts, out);
    }
}
