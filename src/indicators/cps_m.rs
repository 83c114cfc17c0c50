//! CPS-M — CP plans started in month.
//!
//! Catalogue: count, period M; plans started, counted at the unit responsible on the
//! counted date (decision D11); an end is the first end event (decision D5).

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CPS-M",
    name: "CP plans started in month",
    section: "ACTIVITY",
    kind: Kind::Count,
    window: Window::M,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "plans started",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for plan in &facts.plans {
        out.flow_responsible(facts, plan.start, 1, 0);
    }
}
