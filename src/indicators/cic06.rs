//! CIC06 — % of children in care with a dental check in the last 12 months.
//!
//! Catalogue: percent, H, SS; denominator in care at D with C <= D - 12 months;
//! numerator a `dental_check` of the current period dated V <= D with
//! D <= V + 12 months (decision D22). Target 90.0, floor 85.0.

use super::{first_date_months_after, one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC06",
    name: "% of children in care with a dental check in the last 12 months",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "a dental check dated V <= D with D <= V + 12 months",
    denominator: "children in care at D with C <= D - 12 months",
    default_target: "90.0 / 85.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        out.candidate(first_date_months_after(period.start, 12));
        for check in &period.dental_checks {
            out.candidate(*check);
            out.candidate(check.add_months(12).add_days(1));
        }
    }
    out.snapshot(facts, |date| {
        let Some(period) = facts.period_at(date) else {
            return (0, 0);
        };
        if period.start > date.add_months(-12) {
            return (0, 0);
        }
        let latest = period.dental_checks.partition_point(|check| *check <= date);
        let checked = latest > 0 && date <= period.dental_checks[latest - 1].add_months(12);
        (one_if(checked), 1)
    });
}
