//! AD02 — Average days between court authority to place and the decision on a match.
//!
//! Catalogue: average, L, R12M; counted on the period end with reason
//! `adopted`; denominator those periods with both a `placement_order_granted`
//! and an `adoption_match`; numerator the sum of days from the period's first
//! order to its first match (decision D13). Target 121.0, floor 152.0.

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::CareEndReason;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "AD02",
    name: "Average days between court authority to place and the decision on a match",
    section: "ADOPTION",
    kind: Kind::Average,
    window: Window::R12M,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "days from the first placement order to the first adoption match",
    denominator: "periods ended by adoption with an order and a match",
    default_target: "121.0 / 152.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        let Some((end, CareEndReason::Adopted)) = period.end else {
            continue;
        };
        if let (Some(order), Some(matched)) = (
            period.placement_orders.first(),
            period.adoption_matches.first(),
        ) {
            out.flow_responsible(facts, end, i64::from(matched.days_since(*order)), 1);
        }
    }
}
