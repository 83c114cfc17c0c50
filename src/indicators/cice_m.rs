//! CICE-M — Children ceasing to be looked after in month.
//!
//! Catalogue: count, period M; periods ended, counted at the unit responsible on the
//! counted date (decision D11); an end is the first end event (decision D5).

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CICE-M",
    name: "Children ceasing to be looked after in month",
    section: "ACTIVITY",
    kind: Kind::Count,
    window: Window::M,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "periods ended",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        if let Some((end, _)) = period.end {
            out.flow_responsible(facts, end, 1, 0);
        }
    }
}
