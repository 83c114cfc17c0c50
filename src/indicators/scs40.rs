//! SCS40 — % of case-holding posts filled by permanent qualified social workers.
//!
//! Catalogue: percent, SS, summed over the unit and the units below it; per
//! leaf the latest `staffing_snapshot` dated <= D, leaves without one adding
//! nothing (decision D21); numerator `permanent_qsw_fte`, denominator `establishment_fte`, both
//! exact decimal sums. Target and floor 85.0 / 75.0.

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::{UascFilter, UnitIdx};
use crate::event::Fixed6;
use crate::fold::UnitFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS40",
    name: "% of case-holding posts filled by permanent qualified social workers",
    section: "STAFFING",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: Fixed6::ONE,
    den_scale: Fixed6::ONE,
    numerator: "permanent_qsw_fte",
    denominator: "establishment_fte",
    default_target: "85.0 / 75.0",
    child: None,
    unit: Some(contribute),
    query: Query::Plain,
};

fn contribute(unit: UnitIdx, facts: &UnitFacts, out: &mut Emit) {
    for snapshot in &facts.staffing {
        out.span(
            unit,
            snapshot.span.from,
            snapshot.span.to,
            snapshot.permanent_qsw_fte.0,
            snapshot.establishment_fte.0,
        );
    }
}
