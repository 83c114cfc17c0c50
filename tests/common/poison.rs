//! A history with one poisoned line, for tests of fault isolation.

use serde_json::Value;

/// The id of the poisoned event.
pub const POISON: &str = "poison";

/// `lines` with a copy of a child event from their second half inserted a
/// third of the way in, its event id [`POISON`] and its child one no other
/// event names, so that the other events' facts are untouched.
pub fn with_poison(lines: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut poison: Value = lines[lines.len() / 2..]
        .iter()
        .map(|line| serde_json::from_slice::<Value>(line).unwrap())
        .find(|event| event.get("child_id").is_some())
        .expect("a child event in the second half");
    poison["event_id"] = POISON.into();
    poison["child_id"] = "poisoned-child".into();
    let mut poisoned = lines.to_vec();
    poisoned.insert(lines.len() / 3, serde_json::to_vec(&poison).unwrap());
    poisoned
}
