//! CIC09 — % of children in care 18 months or more with the same worker for
//! the last 12 months.
//!
//! Catalogue: percent, H, SS; denominator in care at D with C <= D - 18
//! months; numerator one worker allocated continuously since a date <= D - 12
//! months and still holding the case at D; re-allocating the same worker keeps
//! the allocation continuous and `qualified` does not matter (decision D18).
//! Target 60.0, floor 45.0.

use super::{first_date_months_after, one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC09",
    name: "% of children in care 18 months or more with the same worker for the last 12 months",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "the worker at D has held the case since a date <= D - 12 months",
    denominator: "children in care at D with C <= D - 18 months",
    default_target: "60.0 / 45.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    if facts.periods.is_empty() {
        return;
    }
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        out.candidate(first_date_months_after(period.start, 18));
    }
    for change in &facts.worker_changes {
        out.candidate(change.date);
        out.candidate(first_date_months_after(change.date, 12));
    }
    out.snapshot(facts, |date| {
        let Some(period) = facts.period_at(date) else {
            return (0, 0);
        };
        if period.start > date.add_months(-18) {
            return (0, 0);
        }
        let stable = facts
            .worker_at(date)
            .is_some_and(|(_, _, since)| since <= date.add_months(-12));
        (one_if(stable), 1)
    });
}
