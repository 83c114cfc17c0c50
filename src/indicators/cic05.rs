//! CIC05 — % of children in care reviewed within required timescales.
//!
//! Catalogue: percent, H, SS; denominator in care at D with D >= C + 20
//! working days; numerator: the current period's reviews dated <= D (decision D15) have
//! the first <= C + 20 working days, the second <= first + 3 months, each later
//! <= previous + 6 months, and the next is not overdue at D (D <= last + 3
//! months after a single review, else + 6 months). Target 98.0, floor 95.0.

use super::{one_if, review_chain_ok, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "CIC05",
    name: "% of children in care reviewed within required timescales",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "review chain on time and the next review not overdue at D",
    denominator: "children in care at D with D >= C + 20 working days",
    default_target: "98.0 / 95.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    let calendar = out.calendar();
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        out.candidate(calendar.add_working_days(period.start, 20));
        for (review, _) in &period.reviews {
            out.candidate(*review);
            out.candidate(review.add_months(3).add_days(1));
            out.candidate(review.add_months(6).add_days(1));
        }
    }
    out.snapshot(facts, |date| {
        let Some(period) = facts.period_at(date) else {
            return (0, 0);
        };
        let due = calendar.add_working_days(period.start, 20);
        if date < due {
            return (0, 0);
        }
        let reviews = period.reviews.iter().map(|(review, _)| *review);
        (one_if(review_chain_ok(reviews, date, due, 3)), 1)
    });
}
