//! What happens while a child's case is open: visits at the rhythm of the
//! child's status, worker allocations and missing episodes; then the child's
//! facts are stamped with `recorded_at` and its case spells filed.

use super::dates::{birthday, is_weekend, this_or_next_weekday, OPEN_ENDED};
use super::facts::{EventType, DAY_SECONDS, NO_UNIT, VISIT_CIC, VISIT_CIN, VISIT_CP, VISIT_OTHER};
use super::generator::Generator;
use super::units::Kind;
use crate::calendar::Date;
use rand::Rng;

/// Open-case intervals (from, to, first spell, last spell) of spells sorted by start.
fn merge_case_spells(case_spells: &[(u16, Date, Date)]) -> Vec<(Date, Date, usize, usize)> {
    let mut out: Vec<(Date, Date, usize, usize)> = Vec::new();
    for (i, &(_, f, t)) in case_spells.iter().enumerate() {
        match out.last_mut() {
            Some(last) if last.1 == f || (f >= last.0 && f < last.1) => {
                last.1 = last.1.max(t);
                last.3 = i;
            }
            _ => out.push((f, t, i, i)),
        }
    }
    out
}

impl Generator {
    /// The kind of the unit responsible on `d`.
    fn unit_kind_at(&self, case_spells: &[(u16, Date, Date)], d: Date) -> Kind {
        for &(u, f, t) in case_spells {
            if f <= d && d < t {
                return self.units[u as usize].kind;
            }
        }
        self.unit_kind()
    }

    /// Visits while the case is open, at the rhythm of the child's status (see the
    /// module documentation): child protection about every 10 working days, children
    /// in care every 6 weeks in the first year of a period and every 3-4 months after
    /// it, children in need on a CIN plan every 6-12 weeks, disabled children in need
    /// every 3-6 months. A case in assessment or enquiry without a plan, a care leaver
    /// and adoption support have no routine visits; the first visit follows the start
    /// of a plan, a period of care or a CIN plan within a few days.
    pub(super) fn visits(&mut self) {
        let mut case_spells = std::mem::take(&mut self.child.case_spells);
        case_spells.sort_by_key(|s| (s.1, s.2));
        let starts: Vec<Date> = self
            .child
            .cp_plans
            .iter()
            .chain(self.child.care_periods.iter())
            .chain(self.child.cin_plans.iter())
            .map(|x| x.0)
            .collect();
        for (f, t, _, _) in merge_case_spells(&case_spells) {
            let stop = t.min(self.end.add_days(1));
            let mut v = f.add_days(self.int_between(0, 6));
            while v < stop {
                let mut d = v;
                if is_weekend(d) && self.chance(0.8) {
                    d = this_or_next_weekday(d);
                    if d >= stop {
                        break;
                    }
                }
                let in_cp = self.child.cp_plans.iter().any(|&(s, e)| s <= d && d < e);
                let cic_from = self
                    .child
                    .care_periods
                    .iter()
                    .find(|&&(s, e)| s <= d && d < e)
                    .map(|x| x.0);
                let in_cin = self.child.cin_plans.iter().any(|&(s, e)| s <= d && d < e);
                let kind = self.unit_kind_at(&case_spells, d);
                let rhythm = if in_cp {
                    Some((
                        VISIT_CP,
                        if self.chance(0.6) {
                            self.int_between(10, 14)
                        } else {
                            self.int_between(15, 28)
                        },
                    ))
                } else if let Some(c) = cic_from {
                    let long_term = d.days_since(c) >= 365;
                    Some((
                        VISIT_CIC,
                        match (long_term, self.chance(0.85)) {
                            (false, true) => self.int_between(35, 42),
                            (false, false) => self.int_between(43, 60),
                            (true, true) => self.int_between(84, 112),
                            (true, false) => self.int_between(113, 150),
                        },
                    ))
                } else {
                    match kind {
                        Kind::CareLeavers | Kind::Adoption => None,
                        Kind::Disability if in_cin => Some((VISIT_CIN, self.int_between(90, 180))),
                        _ if in_cin => Some((
                            VISIT_CIN,
                            if self.chance(0.5) {
                                self.int_between(42, 56)
                            } else {
                                self.int_between(57, 84)
                            },
                        )),
                        _ => None,
                    }
                };
                let Some((visit_type, gap)) = rhythm else {
                    // No routine visits: on to the next start of a plan or period.
                    match starts.iter().filter(|&&s| s > d).min() {
                        Some(&s) if s < stop => {
                            v = s.add_days(self.int_between(0, 3));
                            continue;
                        }
                        _ => break,
                    }
                };
                let visit_type = if self.chance(0.03) {
                    VISIT_OTHER
                } else {
                    visit_type
                };
                self.emit(EventType::Visit, d, NO_UNIT, visit_type, 0, 0);
                let mut next = d.add_days(gap.max(1));
                for &s in &starts {
                    if s > d && s < next {
                        let k = self.int_between(0, 3);
                        next = next.min(s.add_days(k));
                    }
                }
                v = next;
            }
        }
        self.child.case_spells = case_spells;
    }

    /// Allocates a qualified worker of unit u on d (not `current` if the pool allows).
    fn allocate(&mut self, u: u16, d: Date, current: Option<u32>) -> u32 {
        let n = self.units[u as usize].workers.len();
        let mut w = self.units[u as usize].workers[self.rng.gen_range(0..n)];
        if Some(w) == current && n > 1 {
            w = self.units[u as usize].workers[self.rng.gen_range(0..n)];
        }
        let q = self.workers[w as usize].qualified as u8;
        self.emit(EventType::WorkerAllocated, d, NO_UNIT, q, w, 0);
        w
    }

    /// Allocation on d; now and then an unqualified worker holds the case for a few
    /// days first. Returns the worker holding it afterwards.
    fn allocate_maybe_unqualified(
        &mut self,
        u: u16,
        d: Date,
        until: Date,
        current: Option<u32>,
    ) -> u32 {
        if self.chance(0.01) {
            let w = self.units[u as usize].unqualified;
            self.emit(EventType::WorkerAllocated, d, NO_UNIT, 0, w, 0);
            let d2 = d.add_days(self.int_between(1, 10));
            if d2 < until {
                return self.allocate(u, d2, Some(w));
            }
            return w;
        }
        self.allocate(u, d, current)
    }

    /// Worker allocations: at opening and transfers, changes now and then, short
    /// unallocated spells, and sometimes an unallocation at closure.
    pub(super) fn workers_for_child(&mut self) {
        let case_spells = std::mem::take(&mut self.child.case_spells);
        for (_, t, i0, i1) in merge_case_spells(&case_spells) {
            let mut current: Option<u32> = None;
            for (si, &(u, sf, st)) in case_spells.iter().enumerate().take(i1 + 1).skip(i0) {
                if st <= sf || sf > self.end {
                    continue;
                }
                let first = si == i0;
                let x = self.uniform();
                let d0 = sf.add_days(if x < 0.93 {
                    0
                } else if x < 0.99 {
                    self.int_between(1, 2)
                } else {
                    self.int_between(3, 15)
                });
                if d0 >= st {
                    continue;
                }
                if first || current.is_none() || self.chance(0.85) {
                    current = Some(self.allocate_maybe_unqualified(u, d0, st, current));
                }
                let mean = match self.units[u as usize].kind {
                    Kind::Cic | Kind::Suasc | Kind::CareLeavers => 700.0,
                    _ => 730.0,
                };
                let mut d = d0.add_days(self.exp_days(mean).max(14));
                while d < st && d <= self.end {
                    if self.chance(0.03) {
                        self.emit(EventType::WorkerUnallocated, d, NO_UNIT, 0, 0, 0);
                        current = None;
                        let d2 = d.add_days(self.int_between(1, 10));
                        if d2 < st {
                            current = Some(self.allocate(u, d2, None));
                        }
                        d = d2;
                    } else {
                        current = Some(self.allocate_maybe_unqualified(u, d, st, current));
                    }
                    d = d.add_days(self.exp_days(mean).max(14));
                }
            }
            if t < OPEN_ENDED && self.chance(0.05) {
                self.emit(EventType::WorkerUnallocated, t, NO_UNIT, 0, 0, 0);
            }
        }
        self.child.case_spells = case_spells;
    }

    /// A missing episode from `d`, its end and perhaps a return interview;
    /// returns the day it ended.
    fn episode(&mut self, d: Date) -> Date {
        let x = self.uniform();
        let e = d.add_days(if x < 0.6 {
            0
        } else if x < 0.88 {
            1
        } else {
            self.int_between(2, 6)
        });
        if let Some(episode) = self.emit(EventType::MissingStarted, d, NO_UNIT, 0, 0, 0) {
            self.emit(EventType::MissingEnded, e, NO_UNIT, 0, episode, 0);
            if self.chance(0.9) {
                let working_days = if self.chance(0.87) {
                    self.int_between(0, 3)
                } else {
                    self.int_between(4, 10)
                };
                let interview = self.add_working_days(e, working_days);
                let held = EventType::ReturnInterviewHeld;
                self.emit(held, interview, NO_UNIT, 0, episode, 0);
            }
        }
        e
    }

    /// Missing episodes of children aged 11-17 while their case is open.
    pub(super) fn missing(&mut self) {
        let p = if self.child.care_periods.is_empty() {
            0.035
        } else {
            0.2
        };
        let prone = self.chance(p);
        if !prone && !self.chance(0.02) {
            return;
        }
        let lo = birthday(self.child.date_of_birth, 11);
        let hi = self.eighteenth_birthday().min(self.end.add_days(1));
        let mean = self.int_between(25, 150) as f64;
        let case_spells = std::mem::take(&mut self.child.case_spells);
        for (f, t, _, _) in merge_case_spells(&case_spells) {
            let (a, b) = (f.max(lo), t.min(hi));
            if a >= b {
                continue;
            }
            if prone {
                let mut d = a.add_days(self.exp_days(mean));
                while d < b {
                    let e = self.episode(d);
                    d = e.add_days(1 + self.exp_days(mean));
                }
            } else if self.chance(0.5) {
                let d = self.date_between(a, b.add_days(-1));
                self.episode(d);
            }
        }
        self.child.case_spells = case_spells;
    }

    /// Orders the child's facts by date (keeping the order of generation within a
    /// day), stamps recorded_at so that it grows within a day, and files the segments.
    pub(super) fn finish_child(&mut self) {
        let s = self.child.first_fact;
        self.facts[s..].sort_by_key(|f| f.date);
        let mut previous_date: Option<Date> = None;
        let mut previous_recorded_at = 0i64;
        for i in s..self.facts.len() {
            let x = self.uniform();
            let lag = if x < 0.78 {
                0
            } else if x < 0.92 {
                1
            } else if x < 0.98 {
                self.int_between(2, 4)
            } else {
                self.int_between(5, 10)
            };
            let secs = self.int_between(8 * 3600, 18 * 3600) as i64;
            let date = self.facts[i].date;
            let mut recorded_at = i64::from(date.add_days(lag).days()) * DAY_SECONDS + secs;
            if previous_date == Some(date) && recorded_at <= previous_recorded_at {
                recorded_at = previous_recorded_at + self.int_between(30, 900) as i64;
            }
            self.facts[i].recorded_at = recorded_at;
            previous_date = Some(date);
            previous_recorded_at = recorded_at;
        }
        let child = self.child.index;
        for &(u, f, t) in &self.child.case_spells {
            if t > f {
                self.case_spells.push((u, f, t, child));
            }
        }
    }
}
