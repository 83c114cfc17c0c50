//! SCS43 — Average caseload in children's social work teams.
//!
//! Catalogue: ratio, L, SS; the open cases (SCS01's definition) of the
//! `cswt` leaves under the unit divided by those leaves' `caseholding_fte`,
//! counting only leaves with a staffing snapshot dated <= D (decision D21); a unit with
//! no such leaf has no data. Target and floor 18.0 / 22.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::{UascFilter, UnitIdx};
use crate::event::Fixed6;
use crate::fold::{ChildFacts, UnitFacts};

pub(super) static DEF: Indicator = Indicator {
    id: "SCS43",
    name: "Average caseload in children's social work teams",
    section: "STAFFING",
    kind: Kind::Ratio,
    window: Window::Ss,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: Fixed6::ONE,
    numerator: "open cases of cswt leaves with a staffing snapshot",
    denominator: "caseholding_fte of those leaves",
    default_target: "18.0 / 22.0",
    child: Some(contribute_child),
    unit: Some(contribute_unit),
    query: Query::Caseload { leaf_kind: "cswt" },
};

fn contribute_child(facts: &ChildFacts, out: &mut Emit) {
    for case in &facts.cases {
        out.candidate(case.from);
        out.candidate(case.to);
    }
    let kinds: Vec<bool> = facts
        .unit_changes
        .iter()
        .map(|(_, unit)| out.unit_kind(*unit) == "cswt")
        .collect();
    out.snapshot(facts, |date| {
        let index = facts.unit_changes.partition_point(|(day, _)| *day <= date);
        let in_team = index > 0 && kinds[index - 1];
        (one_if(in_team && facts.case_at(date).is_some()), 0)
    });
}

fn contribute_unit(unit: UnitIdx, facts: &UnitFacts, out: &mut Emit) {
    if out.unit_kind(unit) != "cswt" {
        return;
    }
    for snapshot in &facts.staffing {
        out.span(
            unit,
            snapshot.span.from,
            snapshot.span.to,
            0,
            snapshot.caseholding_fte.0,
        );
    }
}
