//! The contributions shared by the caseload indicators (SCS42, SCS43):
//! the open cases (SCS01's definition) of the leaves of one kind, over
//! those leaves' `caseholding_fte` from their staffing snapshots. Which
//! leaves have a snapshot on a date is the internal `_staffing_gate`
//! series (decision D21).

use super::{one_if, Emit};
use crate::config::UnitIdx;
use crate::fold::{ChildFacts, UnitFacts};

/// 1 on each date the child has an open case while allocated to a leaf of
/// kind `leaf_kind`; every case start and end is a candidate date.
pub(super) fn contribute_child(leaf_kind: &str, facts: &ChildFacts, out: &mut Emit) {
    for case in &facts.cases {
        out.candidate(case.from);
        out.candidate(case.to);
    }
    let kinds: Vec<bool> = facts
        .unit_changes
        .iter()
        .map(|(_, unit)| out.unit_kind(*unit) == leaf_kind)
        .collect();
    out.snapshot(facts, |date| {
        let index = facts.unit_changes.partition_point(|(day, _)| *day <= date);
        let in_team = index > 0 && kinds[index - 1];
        (one_if(in_team && facts.case_at(date).is_some()), 0)
    });
}

/// The `caseholding_fte` of a leaf of kind `leaf_kind`, over each staffing
/// snapshot's span.
pub(super) fn contribute_unit(leaf_kind: &str, unit: UnitIdx, facts: &UnitFacts, out: &mut Emit) {
    if out.unit_kind(unit) != leaf_kind {
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
