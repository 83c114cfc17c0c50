//! Internal series: 1 at a leaf from its first staffing snapshot onwards.
//!
//! Caseload indicators sum only the leaves that have a snapshot on the date
//! (decision D21: leaves without one add nothing); this series tells which do.

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::{UascFilter, UnitIdx};
use crate::fold::UnitFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "_staffing_gate",
    name: "Leaves with a staffing snapshot",
    section: "STAFFING",
    kind: Kind::Count,
    window: Window::Ss,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "leaves with a staffing snapshot dated <= D",
    denominator: "-",
    default_target: "none",
    child: None,
    unit: Some(contribute),
    query: Query::Plain,
};

fn contribute(unit: UnitIdx, facts: &UnitFacts, out: &mut Emit) {
    if let Some(first) = facts.staffing.first() {
        out.span(unit, first.span.from, crate::calendar::Date::MAX, 1, 0);
    }
}
