//! SCS37 — % of case file audits graded good or outstanding.
//!
//! Catalogue: percent, H, R12M; a unit-level flow counted on the audit date at
//! the audit's own `unit`; denominator audits; numerator grade `good` or
//! `outstanding`. Target 80.0, floor 65.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::{UascFilter, UnitIdx};
use crate::event::AuditGrade;
use crate::fold::UnitFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS37",
    name: "% of case file audits graded good or outstanding",
    section: "QUALITY ASSURANCE",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "audits graded good or outstanding",
    denominator: "case file audits (at the audit's unit)",
    default_target: "80.0 / 65.0",
    child: None,
    unit: Some(contribute),
    query: Query::Plain,
};

fn contribute(unit: UnitIdx, facts: &UnitFacts, out: &mut Emit) {
    for (date, grade) in &facts.audits {
        let good = matches!(grade, AuditGrade::Good | AuditGrade::Outstanding);
        out.flow(unit, *date, one_if(good), 1);
    }
}
