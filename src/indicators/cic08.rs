//! CIC08 — % of IHA referrals within 5 working days of becoming looked after.
//!
//! Catalogue: percent, H, R12M; counted on the period start C; denominator
//! periods started; numerator an `iha_referral` of the period dated
//! C..C + 5 working days (decision D19: with a lower bound). Target 90.0, floor 80.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC08",
    name: "% of IHA referrals within 5 working days of becoming looked after",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "periods with an IHA referral dated C..C + 5 working days",
    denominator: "periods of care started",
    default_target: "90.0 / 80.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        let limit = out.working_days_after(period.start, 5);
        let timely = period
            .iha_referrals
            .iter()
            .any(|date| period.start <= *date && *date <= limit);
        out.flow_responsible(facts, period.start, one_if(timely), 1);
    }
}
