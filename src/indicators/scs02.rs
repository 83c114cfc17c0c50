//! SCS02 — Referrals per 10,000 population under 18.
//!
//! Catalogue: rate, no polarity, R12M; counted on the referral date at the
//! referral's own `unit` (decision D11); numerator referrals; denominator the
//! configured population / 10,000 (decision D25), read at report time.

use super::{Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS02",
    name: "Referrals per 10,000 population under 18",
    section: "REFERRAL AND ASSESSMENT",
    kind: Kind::Rate,
    window: Window::R12M,
    polarity: Polarity::None,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1_000_000,
    numerator: "referrals (at the referral's unit)",
    denominator: "configured population under 18 / 10,000",
    default_target: "none",
    child: Some(contribute),
    unit: None,
    query: Query::Population,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for referral in &facts.referrals {
        out.flow(referral.unit, referral.date, 1, 0);
    }
}
