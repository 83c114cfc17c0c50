//! CIC03 — % of placement arrangement meetings held within 5 working days.
//!
//! Catalogue: percent, H, R12M; counted on the placement start P; denominator
//! placements started; numerator a meeting for the placement dated
//! <= P + 5 working days, with no lower bound (decision D19) and whatever its date
//! relative to the as-of date (decision D10). Target 90.0, floor 75.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC03",
    name: "% of placement arrangement meetings held within 5 working days",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "placements with a meeting dated <= P + 5 working days",
    denominator: "placements started",
    default_target: "90.0 / 75.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        for placement in &period.placements {
            let limit = out.working_days_after(placement.start, 5);
            let held = placement
                .meetings
                .first()
                .is_some_and(|first| *first <= limit);
            out.flow_responsible(facts, placement.start, one_if(held), 1);
        }
    }
}
