//! SCS42 — Average caseload in children in care teams.
//!
//! Catalogue: ratio, L, SS; the open cases (SCS01's definition) of the
//! `cic` leaves under the unit divided by those leaves' `caseholding_fte`,
//! counting only leaves with a staffing snapshot dated <= D (decision D21); a unit with
//! no such leaf has no data. Target and floor 15.0 / 18.0.

use super::{caseload, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::{UascFilter, UnitIdx};
use crate::event::Fixed6;
use crate::fold::{ChildFacts, UnitFacts};

pub(super) static DEF: Indicator = Indicator {
    id: "SCS42",
    name: "Average caseload in children in care teams",
    section: "STAFFING",
    kind: Kind::Ratio,
    window: Window::Ss,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: Fixed6::ONE,
    numerator: "open cases of cic leaves with a staffing snapshot",
    denominator: "caseholding_fte of those leaves",
    default_target: "15.0 / 18.0",
    child: Some(contribute_child),
    unit: Some(contribute_unit),
    query: Query::Caseload {
        leaf_kind: LEAF_KIND,
    },
};

/// Leaves of this kind are the teams whose caseload it reports.
const LEAF_KIND: &str = "cic";

fn contribute_child(facts: &ChildFacts, out: &mut Emit) {
    caseload::contribute_child(LEAF_KIND, facts, out);
}

fn contribute_unit(unit: UnitIdx, facts: &UnitFacts, out: &mut Emit) {
    caseload::contribute_unit(LEAF_KIND, unit, facts, out);
}
