//! Events of the units rather than of a child: monthly staffing snapshots and
//! case file audits.

use super::dates::this_or_next_weekday;
use super::facts::{EventType, Fact, DAY_SECONDS, NO_CHILD};
use super::generator::Generator;
use super::units::{Kind, UnitModel};
use crate::calendar::Date;
use rand::Rng;

/// Case file audits a year at Kent's scale.
const KENT_AUDITS_YEAR: f64 = 470.0;

/// Full-time equivalents rounded to a half, in tenths.
fn half_fte_tenths(x: f64) -> u32 {
    ((x.max(0.0) * 2.0).round() as u32) * 5
}

impl Generator {
    /// Records a unit-level fact (`child` is [`NO_CHILD`] or the child audited),
    /// recorded the same day or a few days later.
    #[allow(clippy::too_many_arguments)]
    fn unit_fact(
        &mut self,
        event_type: EventType,
        date: Date,
        unit: u16,
        child: u32,
        code: u8,
        primary: u32,
        secondary: u32,
    ) {
        let uid = self.next_uid;
        self.next_uid += 1;
        let lag = if self.chance(0.85) {
            0
        } else {
            self.int_between(1, 4)
        };
        let seconds = self.int_between(7 * 3600, 19 * 3600) as i64;
        let recorded_at = i64::from(date.add_days(lag).days()) * DAY_SECONDS + seconds;
        self.facts.push(Fact {
            uid,
            date,
            recorded_at,
            child,
            unit,
            event_type,
            code,
            primary,
            secondary,
        });
    }

    /// Monthly staffing snapshots (case-holding FTE from the unit's open cases) and
    /// case file audits.
    pub(super) fn unit_events(&mut self) {
        let (start, end) = (self.start, self.end);
        // Open cases of each unit on each day of the history (and the day after).
        let days = (end.days_since(start) + 2) as usize;
        let unit_count = self.units.len();
        let mut open = vec![0i32; unit_count * days];
        let mut spells_of_unit: Vec<Vec<(Date, Date, u32)>> = vec![Vec::new(); unit_count];
        for &(u, from, to, child) in &self.case_spells {
            let (a, b) = (from.max(start), to.min(end.add_days(1)));
            if a >= b {
                continue;
            }
            open[u as usize * days + a.days_since(start) as usize] += 1;
            open[u as usize * days + b.days_since(start) as usize] -= 1;
            spells_of_unit[u as usize].push((from, to, child));
        }
        for u in 0..unit_count {
            let row = &mut open[u * days..(u + 1) * days];
            for i in 1..days {
                row[i] += row[i - 1];
            }
            spells_of_unit[u].sort_unstable();
        }
        let open_at =
            |u: usize, d: Date| open[u * days + d.days_since(start) as usize].max(0) as f64;
        for u in 0..unit_count {
            let (lo, hi) = match self.units[u].kind {
                Kind::Cswt => (16, 22),
                Kind::Cic => (13, 18),
                _ => (15, 24),
            };
            let base_ratio = self.int_between(lo, hi) as f64 + self.uniform();
            let permanent_share = 0.70 + 0.20 * self.uniform();
            let mut d = start;
            while d <= end {
                let month_end = d.add_months(1).add_days(-1).min(end);
                let cases = open_at(u, month_end).max(open_at(u, d));
                let ratio = base_ratio + 3.0 * self.uniform() - 1.5;
                let caseholding = half_fte_tenths(cases / ratio).max(5);
                let establishment = caseholding
                    + half_fte_tenths(caseholding as f64 / 10.0 * 0.15 * self.uniform());
                let share = permanent_share + 0.1 * self.uniform() - 0.05;
                let permanent =
                    half_fte_tenths(establishment as f64 / 10.0 * share).min(establishment);
                let agency = half_fte_tenths(
                    (establishment as f64 / 10.0 * (0.05 + 0.2 * self.uniform()))
                        .min((establishment - permanent) as f64 / 10.0),
                );
                self.unit_fact(
                    EventType::StaffingSnapshot,
                    d,
                    u as u16,
                    NO_CHILD,
                    0,
                    (establishment << 16) | caseholding,
                    (permanent << 16) | agency,
                );
                d = d.add_months(1);
            }
        }
        let caseload: [fn(&UnitModel) -> f64; 1] = [|u| u.profile.caseload];
        let shares = self.shares(&caseload);
        for (u, share) in shares.iter().enumerate() {
            let rate = KENT_AUDITS_YEAR * self.scale * share / 365.25;
            if rate <= 0.0 {
                continue;
            }
            let quality = 0.58 + 0.27 * self.uniform();
            let mut t = 0.0f64;
            loop {
                let x: f64 = self.uniform();
                t += -(1.0 - x).ln() / rate;
                let d = this_or_next_weekday(start.add_days(t as i32));
                if d > end {
                    break;
                }
                let grade = if self.chance(quality) {
                    if self.chance(0.12) {
                        0
                    } else {
                        1
                    }
                } else if self.chance(0.2) {
                    3
                } else {
                    2
                };
                let mut child = NO_CHILD;
                if self.chance(0.7) {
                    let list = &spells_of_unit[u];
                    let n = list.partition_point(|s| s.0 <= d);
                    for _ in 0..30 {
                        if n == 0 {
                            break;
                        }
                        let s = list[self.rng.gen_range(0..n)];
                        if s.1 > d {
                            child = s.2;
                            break;
                        }
                    }
                }
                self.unit_fact(
                    EventType::CaseAuditCompleted,
                    d,
                    u as u16,
                    child,
                    grade,
                    0,
                    0,
                );
            }
        }
    }
}
