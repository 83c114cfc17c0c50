//! Dated delta series per (indicator slot, unit), with prefix sums.
//!
//! Every contribution point lands on its unit and on every unit above it, so
//! a unit's series covers all the children it or any unit below it is
//! responsible for. A flow value over a window is a difference of two prefix
//! sums; a snapshot value at D is the prefix sum through D. Series live in
//! memory; the pipeline persists the months that changed, in chunks of one
//! calendar month per (slot, unit).

use crate::calendar::{Date, Month};
use crate::config::{Config, UnitIdx};
use crate::contrib::{Point, Slot};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// Identifies one series.
pub type SeriesKey = (Slot, UnitIdx);

/// Numerator and denominator sums (scaled as the indicator declares).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Sums {
    /// Numerator.
    pub num: i64,
    /// Denominator.
    pub den: i64,
}

impl std::ops::Add for Sums {
    type Output = Sums;
    fn add(self, other: Sums) -> Sums {
        Sums {
            num: self.num + other.num,
            den: self.den + other.den,
        }
    }
}

impl std::ops::Sub for Sums {
    type Output = Sums;
    fn sub(self, other: Sums) -> Sums {
        Sums {
            num: self.num - other.num,
            den: self.den - other.den,
        }
    }
}

/// One series: sorted dated deltas and their running totals.
#[derive(Clone, Debug, Default)]
pub struct Series {
    dates: Vec<Date>,
    deltas: Vec<Sums>,
    totals: Vec<Sums>,
}

impl Series {
    /// The sum of every delta dated on or before `date`.
    pub fn through(&self, date: Date) -> Sums {
        let index = self.dates.partition_point(|day| *day <= date);
        if index == 0 {
            Sums::default()
        } else {
            self.totals[index - 1]
        }
    }

    /// The sum of deltas dated `from..=to`.
    pub fn between(&self, from: Date, to: Date) -> Sums {
        if to < from {
            return Sums::default();
        }
        self.through(to) - self.through(from.add_days(-1))
    }

    /// Number of dated points.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether the series holds no point.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// The points of one month, as (day of month, deltas).
    pub fn month_points(&self, month: Month) -> Vec<(u8, Sums)> {
        let first = month.first_day();
        let last = month.last_day();
        let start = self.dates.partition_point(|day| *day < first);
        let end = self.dates.partition_point(|day| *day <= last);
        (start..end)
            .map(|index| (self.dates[index].ymd().2 as u8, self.deltas[index]))
            .collect()
    }

    /// Merges sorted (date, delta) pairs in and rebuilds the totals from the
    /// first incoming date on: points before it keep their totals, so a live
    /// batch dated today costs what it adds, not the series' length.
    fn merge(&mut self, incoming: &[(Date, Sums)]) {
        let Some(&(first, _)) = incoming.first() else {
            return;
        };
        let start = self.dates.partition_point(|day| *day < first);
        let tail_dates = self.dates.split_off(start);
        let tail_deltas = self.deltas.split_off(start);
        self.totals.truncate(start);
        let mut running = self.totals.last().copied().unwrap_or_default();
        let mut pending: Option<(Date, Sums)> = None;
        let mut flush = |series: &mut Series, point: Option<(Date, Sums)>| {
            if let Some((date, delta)) = point {
                if delta != Sums::default() {
                    running = running + delta;
                    series.dates.push(date);
                    series.deltas.push(delta);
                    series.totals.push(running);
                }
            }
        };
        let (mut left, mut right) = (0usize, 0usize);
        while left < tail_dates.len() || right < incoming.len() {
            let (date, delta) = if right == incoming.len()
                || (left < tail_dates.len() && tail_dates[left] <= incoming[right].0)
            {
                left += 1;
                (tail_dates[left - 1], tail_deltas[left - 1])
            } else {
                right += 1;
                incoming[right - 1]
            };
            match &mut pending {
                Some((held, sum)) if *held == date => *sum = *sum + delta,
                _ => {
                    let done = pending.replace((date, delta));
                    flush(self, done);
                }
            }
        }
        flush(self, pending);
    }

    /// Replaces one month's points (used when loading from the store).
    fn load_month(&mut self, month: Month, points: &[(u8, Sums)]) {
        let (year, number) = month.year_month();
        let incoming: Vec<(Date, Sums)> = points
            .iter()
            .filter_map(|(day, sums)| {
                Date::from_ymd(year, number, u32::from(*day)).map(|date| (date, *sums))
            })
            .collect();
        self.merge(&incoming);
    }
}

/// Every series, plus what changed since the last [`SeriesStore::take_changes`].
#[derive(Default)]
pub struct SeriesStore {
    series: FxHashMap<SeriesKey, Series>,
    earliest_change: FxHashMap<SeriesKey, Date>,
    dirty_months: FxHashSet<(SeriesKey, Month)>,
}

impl SeriesStore {
    /// An empty store.
    pub fn new() -> SeriesStore {
        SeriesStore::default()
    }

    /// Applies contribution deltas to their unit and every unit above it.
    pub fn apply(&mut self, config: &Config, deltas: &[Point]) {
        // Deltas are summed by day at the unit they name first, then passed
        // up its path: a unit above takes its units' daily sums, not every
        // delta again (a county's series would sort all of its teams'
        // deltas). A day whose deltas cancel stays, at zero: it still marks
        // its month and the earliest change.
        let mut named: FxHashMap<SeriesKey, Vec<(Date, Sums)>> = FxHashMap::default();
        for point in deltas {
            let sums = Sums {
                num: point.num,
                den: point.den,
            };
            named
                .entry((point.slot, point.unit))
                .or_default()
                .push((point.date, sums));
        }
        let mut grouped: FxHashMap<SeriesKey, Vec<(Date, Sums)>> = FxHashMap::default();
        for ((slot, unit), mut points) in named {
            points.sort_unstable_by_key(|(date, _)| *date);
            points.dedup_by(|later, kept| {
                let same_day = later.0 == kept.0;
                if same_day {
                    kept.1 = kept.1 + later.1;
                }
                same_day
            });
            for above in &config.unit(unit).path_to_root {
                grouped
                    .entry((slot, *above))
                    .or_default()
                    .extend_from_slice(&points);
            }
        }
        for (key, mut points) in grouped {
            // Runs already in date order, one per unit below: a stable
            // sort merges them.
            points.sort_by_key(|(date, _)| *date);
            let mut last_month = None;
            for (date, _) in &points {
                let month = date.month();
                if last_month != Some(month) {
                    self.dirty_months.insert((key, month));
                    last_month = Some(month);
                }
            }
            let earliest = points[0].0;
            self.earliest_change
                .entry(key)
                .and_modify(|date| *date = (*date).min(earliest))
                .or_insert(earliest);
            self.series.entry(key).or_default().merge(&points);
        }
    }

    /// Loads a stored month chunk.
    pub fn load_chunk(&mut self, key: SeriesKey, month: Month, points: &[(u8, Sums)]) {
        self.series
            .entry(key)
            .or_default()
            .load_month(month, points);
    }

    /// The series of a slot at a unit (empty when nothing was ever counted).
    pub fn get(&self, key: SeriesKey) -> Option<&Series> {
        self.series.get(&key)
    }

    /// Sum through `date`.
    pub fn through(&self, key: SeriesKey, date: Date) -> Sums {
        self.series
            .get(&key)
            .map(|series| series.through(date))
            .unwrap_or_default()
    }

    /// Sum over `from..=to`.
    pub fn between(&self, key: SeriesKey, from: Date, to: Date) -> Sums {
        self.series
            .get(&key)
            .map(|series| series.between(from, to))
            .unwrap_or_default()
    }

    /// The series changed since the last call, each with its earliest changed
    /// date, and the month chunks to persist.
    pub fn take_changes(&mut self) -> (FxHashMap<SeriesKey, Date>, Vec<(SeriesKey, Month)>) {
        let changed = std::mem::take(&mut self.earliest_change);
        let mut months: Vec<(SeriesKey, Month)> = self.dirty_months.drain().collect();
        months.sort_unstable();
        (changed, months)
    }

    /// Number of series and of dated points, for the state-size metric.
    pub fn size(&self) -> (usize, usize) {
        (
            self.series.len(),
            self.series.values().map(Series::len).sum(),
        )
    }

    /// Every series key.
    pub fn keys(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn merge_sums_and_prefixes() {
        let mut series = Series::default();
        series.merge(&[
            (d("2017-01-05"), Sums { num: 1, den: 1 }),
            (d("2017-02-01"), Sums { num: 0, den: 1 }),
        ]);
        series.merge(&[
            (d("2017-01-05"), Sums { num: -1, den: -1 }),
            (d("2017-01-20"), Sums { num: 2, den: 2 }),
        ]);
        assert_eq!(series.len(), 2);
        assert_eq!(series.through(d("2017-01-19")), Sums::default());
        assert_eq!(series.through(d("2017-01-20")), Sums { num: 2, den: 2 });
        assert_eq!(series.through(d("2017-12-31")), Sums { num: 2, den: 3 });
        assert_eq!(
            series.between(d("2017-01-21"), d("2017-02-01")),
            Sums { num: 0, den: 1 }
        );
        assert_eq!(
            series.month_points(Month::new(2017, 1).unwrap()),
            vec![(20, Sums { num: 2, den: 2 })]
        );
    }

    /// Deltas summed by day where they are named and passed up: each unit
    /// holds the sums of everything at and below it; a day whose deltas
    /// cancel leaves no point but still marks its month and the earliest
    /// change, as applying the deltas one at a time does.
    #[test]
    fn apply_sums_each_unit_and_every_unit_above_it() {
        let config = crate::harness::config();
        let unit = |id: &str| config.unit_by_id(id).unwrap();
        let point = |unit: UnitIdx, date: &str, num: i64, den: i64| Point {
            slot: 0,
            unit,
            date: d(date),
            num,
            den,
        };
        let deltas = [
            point(unit("n-cswt"), "2017-01-05", 1, 1),
            point(unit("n-cswt"), "2017-01-05", 2, 0),
            point(unit("n-cic"), "2017-01-05", 1, 1),
            point(unit("s-cswt"), "2017-02-10", 1, 1),
            point(unit("n-cswt"), "2017-01-03", 0, 1),
            point(unit("s-cswt"), "2017-02-10", -1, -1),
            point(unit("north"), "2017-01-05", 10, 10),
        ];
        let mut store = SeriesStore::new();
        store.apply(&config, &deltas);
        let through =
            |store: &SeriesStore, id: &str, date: &str| store.through((0, unit(id)), d(date));
        let sums = |num, den| Sums { num, den };
        assert_eq!(through(&store, "n-cswt", "2017-01-04"), sums(0, 1));
        assert_eq!(through(&store, "n-cswt", "2017-01-05"), sums(3, 2));
        assert_eq!(through(&store, "n-cic", "2017-12-31"), sums(1, 1));
        assert_eq!(through(&store, "north", "2017-01-04"), sums(0, 1));
        assert_eq!(through(&store, "north", "2017-01-05"), sums(14, 13));
        assert_eq!(through(&store, "la", "2017-12-31"), sums(14, 13));
        assert_eq!(through(&store, "south", "2017-12-31"), sums(0, 0));
        assert!(store.get((0, unit("s-cswt"))).unwrap().is_empty());

        let mut one_at_a_time = SeriesStore::new();
        for delta in &deltas {
            one_at_a_time.apply(&config, std::slice::from_ref(delta));
        }
        let (changed, months) = store.take_changes();
        let (changed_alone, months_alone) = one_at_a_time.take_changes();
        assert_eq!(changed, changed_alone);
        assert_eq!(months, months_alone);
        assert_eq!(changed[&(0, unit("south"))], d("2017-02-10"));
        assert_eq!(changed[&(0, unit("la"))], d("2017-01-03"));
        let february = Month::new(2017, 2).unwrap();
        for id in ["s-cswt", "south", "la"] {
            assert!(months.contains(&((0, unit(id)), february)), "{id}");
        }
        assert_eq!(months.len(), 7, "{months:?}");
        for key in one_at_a_time.keys() {
            for day in ["2017-01-03", "2017-01-04", "2017-01-05", "2017-02-10"] {
                assert_eq!(
                    store.through(*key, d(day)),
                    one_at_a_time.through(*key, d(day))
                );
            }
        }
    }
}
