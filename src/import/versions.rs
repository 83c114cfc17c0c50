//! Facts of overlapping returns as revisions of one event.
//!
//! Each return (oldest first) gives the facts of everything imported up to
//! it, keyed by event id. A fact gets as its `revision` the collection year
//! of the first return in an unbroken run of returns that give it unchanged:
//! a later return that repeats it repeats the revision (a duplicate on
//! replay), one that corrects it raises the revision to its own year (it
//! supersedes the earlier one), and one that drops it voids it at its own
//! year. Replayed in any order, the newest return's reading survives.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One fact as a JSON object without `revision` and `void`.
pub type Fact = Map<String, Value>;

/// The facts known after each return: (collection year, facts by id).
pub type States = Vec<(i32, BTreeMap<String, Fact>)>;

/// The lines to write, and how many of them repeat, correct or void.
#[derive(Default, Debug)]
pub struct Versioned {
    /// Events with `revision` (and `void` on voids), in date order.
    pub lines: Vec<Fact>,
    /// Lines repeating the revision before them.
    pub repeats: u64,
    /// Lines raising the revision of a fact an earlier return gave.
    pub corrections: u64,
    /// Voids.
    pub voids: u64,
}

/// Versions of every fact across the returns (see the module's text).
pub fn version(states: &States) -> Versioned {
    let mut out = Versioned::default();
    // The last version written of each id: (revision, fact, void).
    let mut last: BTreeMap<&str, (i32, &Fact, bool)> = BTreeMap::new();
    for (year, facts) in states {
        for (id, fact) in facts {
            let revision = match last.get(id.as_str()) {
                Some((revision, held, false)) if *held == fact => {
                    out.repeats += 1;
                    *revision
                }
                Some(_) => {
                    out.corrections += 1;
                    *year
                }
                None => *year,
            };
            out.lines.push(with_revision(fact, revision, false));
            last.insert(id, (revision, fact, false));
        }
        for (id, (revision, held, void)) in last.iter_mut() {
            if !*void && !facts.contains_key(*id) {
                *revision = *year;
                *void = true;
                out.voids += 1;
                out.lines.push(with_revision(held, *year, true));
            }
        }
    }
    out.lines.sort_by(|a, b| order(a).cmp(&order(b)));
    out
}

fn with_revision(fact: &Fact, revision: i32, void: bool) -> Fact {
    let mut line = Map::new();
    for (key, value) in fact {
        line.insert(key.clone(), value.clone());
        if key == "event_id" {
            line.insert("revision".into(), Value::from(revision));
        }
    }
    if void {
        line.insert("void".into(), Value::Bool(true));
    }
    line
}

/// Date, child, id, revision: a chronological file, so that a replay closes
/// months in order.
fn order(line: &Fact) -> (&str, &str, &str, i64) {
    let text = |key: &str| line.get(key).and_then(Value::as_str).unwrap_or("");
    let revision = line.get("revision").and_then(Value::as_i64).unwrap_or(0);
    (text("date"), text("child_id"), text("event_id"), revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fact(id: &str, date: &str, extra: &str) -> (String, Fact) {
        let value = json!({"event_id": id, "type": "visit", "child_id": "c", "date": date, "visit_type": extra});
        (id.to_string(), value.as_object().unwrap().clone())
    }

    #[test]
    fn repeats_keep_the_revision_corrections_raise_it_drops_void() {
        let states: States = vec![
            (
                2020,
                [
                    fact("a", "2019-05-01", "cin"),
                    fact("b", "2019-06-01", "cin"),
                ]
                .into(),
            ),
            (
                2021,
                [
                    fact("a", "2019-05-01", "cin"),
                    fact("b", "2019-06-01", "cp"),
                ]
                .into(),
            ),
            (2022, [fact("b", "2019-06-01", "cp")].into()),
        ];
        let out = version(&states);
        let lines: Vec<String> = out
            .lines
            .iter()
            .map(|line| serde_json::to_string(line).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                r#"{"event_id":"a","revision":2020,"type":"visit","child_id":"c","date":"2019-05-01","visit_type":"cin"}"#,
                r#"{"event_id":"a","revision":2020,"type":"visit","child_id":"c","date":"2019-05-01","visit_type":"cin"}"#,
                r#"{"event_id":"a","revision":2022,"type":"visit","child_id":"c","date":"2019-05-01","visit_type":"cin","void":true}"#,
                r#"{"event_id":"b","revision":2020,"type":"visit","child_id":"c","date":"2019-06-01","visit_type":"cin"}"#,
                r#"{"event_id":"b","revision":2021,"type":"visit","child_id":"c","date":"2019-06-01","visit_type":"cp"}"#,
                r#"{"event_id":"b","revision":2021,"type":"visit","child_id":"c","date":"2019-06-01","visit_type":"cp"}"#,
            ]
        );
        assert_eq!((out.repeats, out.corrections, out.voids), (2, 1, 1));
    }
}
