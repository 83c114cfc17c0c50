//! CIC02 — % of children in care placed within 20 miles of home (exc UASC).
//!
//! Catalogue: percent, H, SS, exc UASC; denominator in care at D whose current
//! placement has `distance_miles`; numerator `distance_miles` <= 20. With no
//! placement holding D the child is in no denominator (decision D20).
//! Target 80.0, floor 75.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::Fixed6;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC02",
    name: "% of children in care placed within 20 miles of home (exc UASC)",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::Exclude,
    num_scale: 1,
    den_scale: 1,
    numerator: "current placement distance_miles <= 20",
    denominator: "children in care at D whose placement has distance_miles",
    default_target: "80.0 / 75.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    let twenty_miles = Fixed6::from_units(20);
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        for placement in &period.placements {
            out.candidate(placement.span.from);
            out.candidate(placement.span.to);
        }
    }
    out.snapshot(facts, |date| {
        let distance = facts
            .period_at(date)
            .and_then(|period| period.placement_at(date))
            .and_then(|(_, placement)| placement.distance_miles);
        match distance {
            Some(miles) => (one_if(miles <= twenty_miles), 1),
            None => (0, 0),
        }
    });
}
