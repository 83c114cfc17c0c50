//! CIN02 — Number of unallocated cases.
//!
//! Catalogue: count, L, SS; case open at D and no `qualified` worker allocated
//! at D (the latest worker event dated <= D; allocations outlive case closure,
//! decision D9). Target 0, floor 10.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIN02",
    name: "Number of unallocated cases",
    section: "CHILDREN IN NEED",
    kind: Kind::Count,
    window: Window::Ss,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "cases open at D with no qualified worker allocated",
    denominator: "-",
    default_target: "0 / 10",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for case in &facts.cases {
        out.candidate(case.from);
        out.candidate(case.to);
    }
    for change in &facts.worker_changes {
        out.candidate(change.date);
    }
    out.snapshot(facts, |date| {
        let open = facts.case_at(date).is_some();
        let allocated = facts
            .worker_at(date)
            .is_some_and(|(_, qualified, _)| qualified);
        (one_if(open && !allocated), 0)
    });
}
