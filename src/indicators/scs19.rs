//! SCS19 — % of children in foster care placed with in-house or relative and
//! friend carers (exc UASC).
//!
//! Catalogue: percent, H, SS, exc UASC; denominator in care at D with a current
//! placement `foster_inhouse`, `foster_relative_friend` or `foster_agency`;
//! numerator `foster_inhouse` or `foster_relative_friend`. With no placement
//! holding D the child is in no denominator (decision D20). Target 85.0, floor 75.0.

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::PlacementType;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS19",
    name:
        "% of children in foster care placed with in-house or relative and friend carers (exc UASC)",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::Exclude,
    num_scale: 1,
    den_scale: 1,
    numerator: "current placement in-house or relative/friend foster care",
    denominator: "children in care at D in foster care",
    default_target: "85.0 / 75.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        for placement in &period.placements {
            out.candidate(placement.span.from);
            out.candidate(placement.span.to);
        }
    }
    out.snapshot(facts, |date| {
        let placement = facts
            .period_at(date)
            .and_then(|period| period.placement_at(date))
            .map(|(_, placement)| placement.placement_type);
        match placement {
            Some(PlacementType::FosterInhouse | PlacementType::FosterRelativeFriend) => (1, 1),
            Some(PlacementType::FosterAgency) => (0, 1),
            _ => (0, 0),
        }
    });
}
