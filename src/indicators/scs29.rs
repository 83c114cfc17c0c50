//! SCS29 — Average days between becoming looked after and moving in with the
//! adoptive family.
//!
//! Catalogue: average, L, R12M; counted on the period end with reason
//! `adopted`; denominator those periods that had a `placed_for_adoption`
//! placement; numerator the sum of days from the period start C to the start
//! of the first such placement. Target 426.0, floor 487.0.

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::{CareEndReason, PlacementType};
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS29",
    name: "Average days between becoming looked after and moving in with the adoptive family",
    section: "ADOPTION",
    kind: Kind::Average,
    window: Window::R12M,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "days from C to the first placed_for_adoption placement",
    denominator: "periods ended by adoption with a placed_for_adoption placement",
    default_target: "426.0 / 487.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        let Some((end, CareEndReason::Adopted)) = period.end else {
            continue;
        };
        let first = period
            .placements
            .iter()
            .find(|placement| placement.placement_type == PlacementType::PlacedForAdoption);
        if let Some(placement) = first {
            let days = placement.start.days_since(period.start);
            out.flow_responsible(facts, end, i64::from(days), 1);
        }
    }
}
