//! SCS08 — % of return interviews completed.
//!
//! Catalogue: percent, H, R12M; counted on the `missing_ended` date (the first
//! end, decision D5); denominator episodes ended of children under 18 at the episode
//! start (age known, decision D14); numerator the episode has a `return_interview_held`
//! (any date, decision D10). Target 90.0, floor 80.0.

use super::{one_if, Emit, Indicator, Kind, Polarity, Query};
use crate::calendar::Window;
use crate::config::UascFilter;
use crate::fold::ChildFacts;

pub(super) static DEF: Indicator = Indicator {
    id: "SCS08",
    name: "% of return interviews completed",
    section: "MISSING CHILDREN",
    kind: Kind::Percent,
    window: Window::R12M,
    polarity: Polarity::High,
    default_uasc: UascFilter::All,
    num_scale: 1,
    den_scale: 1,
    numerator: "episodes with a return interview",
    denominator: "missing episodes ended, child under 18 at the start",
    default_target: "90.0 / 80.0",
    child: Some(contribute),
    unit: None,
    query: Query::Plain,
};

fn contribute(facts: &ChildFacts, out: &mut Emit) {
    for episode in &facts.episodes {
        let Some(end) = episode.end else { continue };
        if facts.age_at(episode.start).is_some_and(|age| age < 18) {
            out.flow_responsible(facts, end, one_if(!episode.interviews.is_empty()), 1);
        }
    }
}
