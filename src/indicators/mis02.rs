//! MIS02 — % of return interviews completed within 3 working days.
//!
//! Catalogue: percent, H, R12M; counted on the `missing_ended` date R;
//! denominator as SCS08; numerator an interview dated <= R + 3 working days,
//! with no lower bound (decision D19). Target 85.0, floor 75.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "MIS02",
    name: "% of return interviews completed within 3 working days",
    section: "MISSING CHILDREN",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "episodes with an interview dated <= R + 3 working days",
    denominator: "missing episodes ended, child under 18 at the start",
    default_target: "85.0 / 75.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for episode in &facts.episodes {
        let Some(end) = episode.end else { continue };
        if facts.age_at(episode.start).is_some_and(|age| age < 18) {
            let limit = out.working_days_after(end, 3);
            let timely = episode
                .interviews
                .first()
                .is_some_and(|first| *first <= limit);
            out.flow_responsible(facts, end, one_if(timely), 1);
        }
    }
}
