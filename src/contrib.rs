//! Contributions: what one child (or unit) adds to the per-unit series.
//!
//! An indicator turns facts into dated deltas ([`Point`]s): a flow fact is one
//! point on its counted date; a snapshot membership `[from, to)` is `+` at
//! `from` and `-` at `to`. A child's points are kept; when its events change,
//! the new points are diffed against the old ones and only the difference
//! reaches the series. So whatever the arrival order, the series always equal
//! the sum of the current points of every child and unit.

use crate::calendar::Date;
use crate::config::UnitIdx;
use serde::{Deserialize, Serialize};

/// Index of an indicator slot in the catalogue (configured entries, then internal ones).
pub type Slot = u16;

/// A dated delta to the series of one indicator slot at one unit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct Point {
    /// The indicator slot.
    pub slot: Slot,
    /// The unit the fact is attributed to (a leaf, or an authority's root).
    pub unit: UnitIdx,
    /// The date of the delta.
    pub date: Date,
    /// Numerator delta (scaled as the indicator declares).
    pub num: i64,
    /// Denominator delta (scaled as the indicator declares).
    pub den: i64,
}

impl Point {
    fn key(&self) -> (Slot, UnitIdx, Date) {
        (self.slot, self.unit, self.date)
    }
}

/// Sorts points by (slot, unit, date), sums equal keys and drops zero deltas.
pub fn normalise(points: &mut Vec<Point>) {
    points.sort_unstable_by_key(Point::key);
    let mut write = 0usize;
    for read in 0..points.len() {
        let point = points[read];
        if write > 0 && points[write - 1].key() == point.key() {
            points[write - 1].num += point.num;
            points[write - 1].den += point.den;
        } else {
            points[write] = point;
            write += 1;
        }
    }
    points.truncate(write);
    points.retain(|point| point.num != 0 || point.den != 0);
}

/// Appends `new - old` to `out`; both inputs must be normalised.
pub fn diff(old: &[Point], new: &[Point], out: &mut Vec<Point>) {
    let (mut left, mut right) = (0usize, 0usize);
    while left < old.len() || right < new.len() {
        let take_old =
            right == new.len() || (left < old.len() && old[left].key() < new[right].key());
        let take_new =
            left == old.len() || (right < new.len() && new[right].key() < old[left].key());
        if take_old {
            let point = old[left];
            out.push(Point {
                num: -point.num,
                den: -point.den,
                ..point
            });
            left += 1;
        } else if take_new {
            out.push(new[right]);
            right += 1;
        } else {
            let (before, after) = (old[left], new[right]);
            if before.num != after.num || before.den != after.den {
                out.push(Point {
                    num: after.num - before.num,
                    den: after.den - before.den,
                    ..after
                });
            }
            left += 1;
            right += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(slot: Slot, day: i32, num: i64, den: i64) -> Point {
        Point {
            slot,
            unit: UnitIdx(0),
            date: Date::from_days(day),
            num,
            den,
        }
    }

    #[test]
    fn normalise_merges_and_drops_zeros() {
        let mut points = vec![
            point(1, 5, 1, 1),
            point(0, 3, 1, 0),
            point(1, 5, -1, -1),
            point(0, 3, 2, 1),
        ];
        normalise(&mut points);
        assert_eq!(points, vec![point(0, 3, 3, 1)]);
    }

    #[test]
    fn diff_applied_to_old_gives_new() {
        let old = vec![point(0, 1, 1, 1), point(0, 2, 1, 0), point(1, 1, 5, 5)];
        let new = vec![point(0, 2, 1, 0), point(0, 3, 1, 1), point(1, 1, 4, 5)];
        let mut delta = Vec::new();
        diff(&old, &new, &mut delta);
        assert_eq!(
            delta,
            vec![point(0, 1, -1, -1), point(0, 3, 1, 1), point(1, 1, -1, 0)]
        );
        let mut rebuilt = old.clone();
        rebuilt.extend(delta);
        normalise(&mut rebuilt);
        assert_eq!(rebuilt, new);
    }
}
