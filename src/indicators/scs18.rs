//! SCS18 — % of children in care for 2.5 years or more in the same placement
//! for 2 years.
//!
//! Catalogue: percent, H, SS; denominator in care at D, aged under 16 at D (age
//! known, decision D14), current period started <= D - 30 months; numerator the current
//! placement started <= D - 2 years, or it is `placed_for_adoption` and the
//! placement before it in the same period started <= D - 2 years (decision D20). With
//! no placement holding D the child is in the denominator only.
//! Target 70.0, floor 65.0.

use super::{first_date_months_after, one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::event::PlacementType;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS18",
    name: "% of children in care for 2.5 years or more in the same placement for 2 years",
    section: "CHILDREN IN CARE",
    kind: Kind::Percent,
    window: Window::Ss,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator:
        "current placement (or, if placed for adoption, the one before it) started <= D - 2 years",
    denominator: "children in care at D, under 16, period started <= D - 30 months",
    default_target: "70.0 / 65.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    let Some(birth) = facts.date_of_birth else {
        return;
    };
    out.candidate(birth.add_months(16 * 12));
    for period in &facts.periods {
        out.candidate(period.start);
        out.candidate(period.span().to);
        out.candidate(first_date_months_after(period.start, 30));
        for placement in &period.placements {
            out.candidate(placement.span.from);
            out.candidate(placement.span.to);
            out.candidate(first_date_months_after(placement.start, 24));
        }
    }
    out.snapshot(facts, |date| {
        let Some(period) = facts.period_at(date) else {
            return (0, 0);
        };
        let under_16 = facts.age_at(date).is_some_and(|age| age < 16);
        if !under_16 || period.start > date.add_months(-30) {
            return (0, 0);
        }
        let two_years_ago = date.add_months(-24);
        let stable = period.placement_at(date).is_some_and(|(index, placement)| {
            placement.start <= two_years_ago
                || (placement.placement_type == PlacementType::PlacedForAdoption
                    && index > 0
                    && period.placements[index - 1].start <= two_years_ago)
        });
        (one_if(stable), 1)
    });
}
