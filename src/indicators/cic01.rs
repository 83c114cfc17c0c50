//! CIC01 — % of children in care with 3 or more placements in the last 12 months.
//!
//! Catalogue: percent, L, SS; denominator in care at D; numerator >= 3
//! placements, of any of the child's periods (decision D16), whose interval overlaps the
//! 12 months ending on D (the R12M window, decision D26); an empty interval (replaced
//! the day it started) overlaps nothing. Target 10.0, floor 13.0.

use super::{first_date_r12m_starts_after, one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC01",
    name: "% of children in care with 3 or more placements in the last 12 months",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "3 or more placements overlapping the R12M window of D",
    denominator: "children in care at D",
    default_target: "10.0 / 13.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    if facts.periods.is_empty() {
        return;
    }
    let mut placements = Vec::new();
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        for placement in period
            .placements
            .iter()
            .filter(|placement| !placement.span.is_empty())
        {
            placements.push(placement.span);
            out.candidate(placement.span.from);
            out.candidate(first_date_r12m_starts_after(placement.span.to.add_days(-1)));
        }
    }
    out.snapshot(facts, |date| {
        if facts.period_at(date).is_none() {
            return (0, 0);
        }
        let window_start = Window::R12M.start(date);
        let overlapping = placements
            .iter()
            .filter(|span| span.from <= date && span.to > window_start)
            .count();
        (one_if(overlapping >= 3), 1)
    });
}
