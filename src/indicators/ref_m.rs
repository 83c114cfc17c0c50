//! REF-M — Referrals in month.
//!
//! Catalogue: count, period M; counted on the referral date at the unit
//! responsible on that date (decision D11: the case's unit when a case is already open).

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "REF-M",
    name: "Referrals in month",
    section: "ACTIVITY",
    kind: Kind::Count,
    window: Window::M,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "referrals (at the responsible unit)",
    denominator: "-",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for referral in &facts.referrals {
        out.flow_responsible(facts, referral.date, 1, 0);
    }
}
