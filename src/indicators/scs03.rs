//! SCS03 — % of referrals with a previous referral within 12 months.
//!
//! Catalogue: percent, L, R12M; counted on the referral date R at the
//! referral's own `unit` (decision D11); denominator referrals; numerator another
//! referral of the child dated P with R - 12 months <= P < R. Target 25.0,
//! floor 30.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS03",
    name: "% of referrals with a previous referral within 12 months",
    section: "REFERRAL AND ASSESSMENT",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::Low,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "referrals with another referral of the child dated P, R - 12 months <= P < R",
    denominator: "referrals (at the referral's unit)",
    default_target: "25.0 / 30.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for referral in &facts.referrals {
        let since = referral.date.add_months(-12);
        let repeat = facts
            .referrals
            .iter()
            .any(|other| since <= other.date && other.date < referral.date);
        out.flow(referral.unit, referral.date, one_if(repeat), 1);
    }
}
