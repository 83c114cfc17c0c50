//! Periods of care: placements, reviews, health and dental checks, adoption
//! steps, and care leavers' contacts.

use super::dates::{birthday, this_or_next_weekday, this_or_previous_weekday, OPEN_ENDED};
use super::facts::{
    EventType, ENDED_ADOPTED, ENDED_AGE_18, ENDED_OTHER, ENDED_RETURNED_HOME, ENDED_SGO,
    LEGAL_STATUS_PLACEMENT_ORDER, NO_DISTANCE, NO_UNIT, PLACEMENT_ADOPTION, PLACEMENT_AGENCY,
    PLACEMENT_INDEPENDENT, PLACEMENT_INHOUSE, PLACEMENT_OTHER, PLACEMENT_PARENTS,
    PLACEMENT_RELATIVE, PLACEMENT_RESIDENTIAL,
};
use super::generator::Generator;
use super::units::Kind;
use crate::calendar::Date;

impl Generator {
    /// A period of care from c and what follows it; returns the closure day of the case.
    pub(super) fn care_route(&mut self, c: Date, stock: bool) -> Date {
        let (end, reason) = self.care_period(c, stock);
        if end > self.end {
            return OPEN_ENDED;
        }
        match reason {
            ENDED_AGE_18 => self.care_leaver_phase(end),
            ENDED_ADOPTED | ENDED_SGO => {
                let to = self.pick_unit(&|u| if u.kind == Kind::Adoption { 1.0 } else { 0.0 });
                match to {
                    Some(u) if self.chance(0.9) => {
                        self.transfer(u, end);
                        let d = end.add_days(self.int_between(60, 540));
                        self.close_at(d, 6)
                    }
                    _ => {
                        let d = end.add_days(self.int_between(0, 30));
                        self.close_at(d, 6)
                    }
                }
            }
            ENDED_RETURNED_HOME => {
                if self.chance(0.55) {
                    let k = self.unit_kind();
                    let back = self.int_between(0, 30);
                    if k == Kind::Cic && self.chance(0.5) {
                        let u = self.pick_general();
                        self.transfer(u, end.add_days(back));
                    }
                    let d = self.int_between(30.max(back), 180);
                    self.cin_phase(end, d, 0.05)
                } else {
                    let d = end.add_days(self.int_between(0, 30));
                    self.close_at(d, 2)
                }
            }
            _ => {
                let d = end.add_days(self.int_between(0, 60));
                self.close_at(d, 7)
            }
        }
    }

    /// How a period of care starting at `age` ends.
    fn care_outcome(&mut self, age: i32) -> u8 {
        let (w, rs): (&[f64], &[u8]) = if self.child.uasc {
            if age >= 15 {
                (&[0.85, 0.15], &[ENDED_AGE_18, ENDED_OTHER])
            } else {
                (
                    &[0.6, 0.2, 0.2],
                    &[ENDED_AGE_18, ENDED_OTHER, ENDED_RETURNED_HOME],
                )
            }
        } else {
            match age {
                0 => (
                    &[0.60, 0.15, 0.15, 0.10],
                    &[ENDED_ADOPTED, ENDED_SGO, ENDED_RETURNED_HOME, ENDED_OTHER],
                ),
                1..=4 => (
                    &[0.40, 0.20, 0.28, 0.12],
                    &[ENDED_ADOPTED, ENDED_SGO, ENDED_RETURNED_HOME, ENDED_OTHER],
                ),
                5..=9 => (
                    &[0.08, 0.17, 0.45, 0.30],
                    &[ENDED_ADOPTED, ENDED_SGO, ENDED_RETURNED_HOME, ENDED_OTHER],
                ),
                10..=15 => (
                    &[0.05, 0.45, 0.30, 0.20],
                    &[ENDED_SGO, ENDED_RETURNED_HOME, ENDED_AGE_18, ENDED_OTHER],
                ),
                _ => (
                    &[0.75, 0.15, 0.10],
                    &[ENDED_AGE_18, ENDED_RETURNED_HOME, ENDED_OTHER],
                ),
            }
        };
        let i = self.pick_weighted(w);
        rs[i]
    }

    /// Days of a period of care ending for `reason`; for the opening stock,
    /// the part still to run.
    fn care_duration(&mut self, reason: u8, stock: bool) -> i32 {
        let base = |g: &mut Generator| match reason {
            ENDED_ADOPTED => g.int_between(420, 800),
            ENDED_SGO => g.int_between(300, 900),
            ENDED_RETURNED_HOME => {
                if g.chance(0.3) {
                    g.int_between(7, 90)
                } else {
                    g.int_between(90, 720)
                }
            }
            _ => g.int_between(60, 1200),
        };
        if !stock {
            return base(self);
        }
        loop {
            let d = base(self);
            if self.uniform() * 1200.0 < d as f64 {
                return self.int_between(14, d);
            }
        }
    }

    /// One period of care from c: placements, reviews, health, adoption steps.
    /// Returns its end day and reason (OPEN_ENDED when it started after the history).
    fn care_period(&mut self, c: Date, stock: bool) -> (Date, u8) {
        let age = self.age(c);
        let eighteenth = self.eighteenth_birthday();
        let legal_status = if self.child.uasc {
            3
        } else if self.chance(0.9) {
            1 + self.pick_weighted(&[0.1, 0.3, 0.35, 0.05, 0.1, 0.1]) as u8
        } else {
            0
        };
        let period = match self.emit(EventType::CicStarted, c, NO_UNIT, legal_status, 0, 0) {
            Some(p) => p,
            None => return (OPEN_ENDED, ENDED_OTHER),
        };
        // A period that starts under a placement order (legal status E1) has
        // its order from the first day.
        let under_order = legal_status == LEGAL_STATUS_PLACEMENT_ORDER;
        if under_order {
            self.emit(EventType::PlacementOrderGranted, c, NO_UNIT, 0, period, 0);
        }
        let mut reason = self.care_outcome(age);
        let mut end = if reason == ENDED_AGE_18 {
            eighteenth
        } else {
            c.add_days(self.care_duration(reason, stock).max(1))
        };
        if end >= eighteenth {
            end = eighteenth;
            reason = ENDED_AGE_18;
        }
        if end <= c {
            end = c.add_days(1);
        }
        // Teams: children's teams hand children in care to a CIC team; some UASC move too.
        let k = self.unit_kind();
        if k == Kind::Cswt && end.days_since(c) > 45 {
            if let Some(u) = self.pick_cic_team() {
                let d = c.add_days(self.int_between(0, 42));
                self.transfer(u, d);
            }
        } else if k == Kind::Suasc && end.days_since(c) > 200 && self.chance(0.4) {
            if let Some(u) = self.pick_cic_team() {
                let d = c.add_days(self.int_between(30, 180));
                self.transfer(u, d);
            }
        }
        // Adoption: court order, match, then the move to the adoptive family.
        let mut placed: Option<Date> = None;
        let mut already_adoptive = false;
        if reason == ENDED_ADOPTED {
            let span = end.days_since(c);
            if stock && span < 200 {
                already_adoptive = true;
            } else {
                let placed_for_adoption =
                    end.add_days(-self.int_between(90, 300).min((span / 2).max(1)));
                let matched = placed_for_adoption.add_days(-self.int_between(7, 40));
                let mut order = matched.add_days(-self.int_between(40, 200));
                if !stock && order < c {
                    order = c.add_days(matched.days_since(c) / 3);
                }
                if order >= c && !under_order {
                    self.emit(
                        EventType::PlacementOrderGranted,
                        order,
                        NO_UNIT,
                        0,
                        period,
                        0,
                    );
                }
                if matched >= c {
                    self.emit(EventType::AdoptionMatch, matched, NO_UNIT, 0, period, 0);
                }
                placed = Some(placed_for_adoption.max(c.add_days(1)));
            }
        } else if age < 5 && self.chance(0.05) {
            let order = c.add_days(self.int_between(150, 400));
            if order < end && !under_order {
                self.emit(
                    EventType::PlacementOrderGranted,
                    order,
                    NO_UNIT,
                    0,
                    period,
                    0,
                );
            }
        }
        self.placements(period, c, end, placed, already_adoptive, reason);
        self.care_checks(period, c, end);
        self.child.care_periods.push((c, end));
        let seventeenth = birthday(self.child.date_of_birth, 17);
        if seventeenth >= c && seventeenth < end {
            let d = seventeenth
                .add_days(self.int_between(-20, 30))
                .clamp(c, end.add_days(-1));
            self.contact(d, 17);
        }
        self.emit(EventType::CicEnded, end, NO_UNIT, reason, period, 0);
        (end, reason)
    }

    /// The type of a placement starting at `age`.
    fn placement_type(&mut self, age: i32) -> u8 {
        let (w, ts): (&[f64], &[u8]) = if self.child.uasc {
            if age >= 16 {
                (
                    &[0.22, 0.33, 0.08, 0.27, 0.10],
                    &[
                        PLACEMENT_INHOUSE,
                        PLACEMENT_AGENCY,
                        PLACEMENT_RESIDENTIAL,
                        PLACEMENT_INDEPENDENT,
                        PLACEMENT_OTHER,
                    ],
                )
            } else {
                (
                    &[0.35, 0.45, 0.10, 0.10],
                    &[
                        PLACEMENT_INHOUSE,
                        PLACEMENT_AGENCY,
                        PLACEMENT_RESIDENTIAL,
                        PLACEMENT_OTHER,
                    ],
                )
            }
        } else if age >= 16 {
            (
                &[0.35, 0.12, 0.15, 0.12, 0.04, 0.17, 0.05],
                &[
                    PLACEMENT_INHOUSE,
                    PLACEMENT_RELATIVE,
                    PLACEMENT_AGENCY,
                    PLACEMENT_RESIDENTIAL,
                    PLACEMENT_PARENTS,
                    PLACEMENT_INDEPENDENT,
                    PLACEMENT_OTHER,
                ],
            )
        } else if age >= 10 {
            (
                &[0.48, 0.15, 0.15, 0.12, 0.05, 0.05],
                &[
                    PLACEMENT_INHOUSE,
                    PLACEMENT_RELATIVE,
                    PLACEMENT_AGENCY,
                    PLACEMENT_RESIDENTIAL,
                    PLACEMENT_PARENTS,
                    PLACEMENT_OTHER,
                ],
            )
        } else {
            (
                &[0.55, 0.22, 0.12, 0.01, 0.07, 0.03],
                &[
                    PLACEMENT_INHOUSE,
                    PLACEMENT_RELATIVE,
                    PLACEMENT_AGENCY,
                    PLACEMENT_RESIDENTIAL,
                    PLACEMENT_PARENTS,
                    PLACEMENT_OTHER,
                ],
            )
        };
        let i = self.pick_weighted(w);
        ts[i]
    }

    /// A placement of the period `period` from `p`, with its arrangement meeting.
    fn placement(&mut self, period: u32, p: Date, placement_type: u8) {
        let distance = if self.chance(0.05) {
            NO_DISTANCE
        } else if placement_type == PLACEMENT_PARENTS {
            self.int_between(0, 100) as u32
        } else if self.chance(0.8) {
            self.int_between(1, 200) as u32
        } else {
            self.int_between(201, 1200) as u32
        };
        let placement = match self.emit(
            EventType::PlacementStarted,
            p,
            NO_UNIT,
            placement_type,
            period,
            distance,
        ) {
            Some(x) => x,
            None => return,
        };
        if self.chance(0.96) {
            let x = self.uniform();
            let d = if x < 0.03 && p.add_days(-3) >= self.start {
                p.add_days(-self.int_between(1, 3))
            } else if x < 0.90 {
                {
                    let working_days = self.int_between(0, 5);
                    self.add_working_days(p, working_days)
                }
            } else {
                {
                    let working_days = self.int_between(6, 15);
                    self.add_working_days(p, working_days)
                }
            };
            self.emit(
                EventType::PlacementArrangementMeeting,
                d,
                NO_UNIT,
                0,
                placement,
                0,
            );
        }
    }

    fn placements(
        &mut self,
        period: u32,
        c: Date,
        end: Date,
        placed: Option<Date>,
        adoptive: bool,
        reason: u8,
    ) {
        let limit = placed.unwrap_or(end);
        let x = self.uniform();
        let mean = if x < 0.62 {
            4000.0
        } else if x < 0.90 {
            420.0
        } else {
            100.0
        };
        let mut p = c;
        loop {
            let placement_type = if adoptive {
                PLACEMENT_ADOPTION
            } else {
                self.placement_type(self.age(p))
            };
            self.placement(period, p, placement_type);
            let next = p.add_days(self.exp_days(mean).max(7));
            if next >= limit || adoptive || next > self.end {
                break;
            }
            p = next;
        }
        if reason == ENDED_RETURNED_HOME && placed.is_none() && self.chance(0.2) {
            let q = end.add_days(-self.int_between(30, 120));
            if q > p {
                self.placement(period, q, PLACEMENT_PARENTS);
            }
        }
        if let Some(placed_for_adoption) = placed {
            if placed_for_adoption > p && placed_for_adoption < end {
                self.placement(period, placed_for_adoption, PLACEMENT_ADOPTION);
            }
        }
    }

    /// IHA referral, health assessments, dental checks and looked-after reviews.
    fn care_checks(&mut self, period: u32, c: Date, end: Date) {
        if self.chance(0.97) {
            let wd = if self.chance(0.86) {
                self.int_between(0, 5)
            } else {
                self.int_between(6, 15)
            };
            let d = self.add_working_days(c, wd);
            if d < end {
                self.emit(EventType::IhaReferral, d, NO_UNIT, 0, period, 0);
            }
        }
        let wd = if self.chance(0.86) {
            self.int_between(5, 20)
        } else {
            self.int_between(21, 45)
        };
        let mut health_check = self.add_working_days(c, wd);
        if self.chance(0.98) && health_check < end {
            self.emit(
                EventType::HealthAssessment,
                health_check,
                NO_UNIT,
                0,
                period,
                0,
            );
            loop {
                let m = if self.age(health_check) < 5 { 6 } else { 12 };
                health_check = if self.chance(0.9) {
                    this_or_previous_weekday(
                        health_check
                            .add_months(m)
                            .add_days(-self.int_between(0, 30)),
                    )
                } else {
                    this_or_next_weekday(
                        health_check.add_months(m).add_days(self.int_between(1, 60)),
                    )
                };
                if health_check >= end || health_check > self.end {
                    break;
                }
                self.emit(
                    EventType::HealthAssessment,
                    health_check,
                    NO_UNIT,
                    1,
                    period,
                    0,
                );
            }
        }
        let mut dental_check = this_or_next_weekday(c.add_days(self.int_between(20, 180)));
        while dental_check < end && dental_check <= self.end {
            self.emit(EventType::DentalCheck, dental_check, NO_UNIT, 0, period, 0);
            dental_check = if self.chance(0.85) {
                this_or_previous_weekday(
                    dental_check
                        .add_months(12)
                        .add_days(-self.int_between(0, 60)),
                )
            } else {
                this_or_next_weekday(
                    dental_check
                        .add_months(12)
                        .add_days(self.int_between(1, 90)),
                )
            };
        }
        let wd = if self.chance(0.96) {
            self.int_between(5, 20)
        } else {
            self.int_between(21, 30)
        };
        let mut review = self.add_working_days(c, wd);
        let mut k = 0;
        while review < end && review <= self.end {
            let p = if self.age(review) < 4 { 0.85 } else { 0.94 };
            let part = self.chance(p) as u8;
            self.emit(EventType::CicReviewHeld, review, NO_UNIT, part, period, 0);
            let m = if k == 0 { 3 } else { 6 };
            review = if self.chance(0.97) {
                this_or_previous_weekday(review.add_months(m).add_days(-self.int_between(0, 25)))
            } else {
                this_or_next_weekday(review.add_months(m).add_days(self.int_between(1, 20)))
            };
            k += 1;
        }
    }

    /// A care leaver from `from` (usually the 18th birthday): contacts around the
    /// birthdays up to 21, then closure. Returns the closure day.
    pub(super) fn care_leaver_phase(&mut self, from: Date) -> Date {
        if self.unit_kind() != Kind::CareLeavers {
            if let Some(u) = self.pick_unit(&|u| {
                if u.kind == Kind::CareLeavers {
                    1.0
                } else {
                    0.0
                }
            }) {
                self.transfer(u, from);
            }
        }
        let date_of_birth = self.child.date_of_birth;
        let mut last = from;
        for age in 18..=21 {
            let b = birthday(date_of_birth, age);
            if b.add_days(30) < from {
                continue;
            }
            let d = b.add_days(self.int_between(-20, 30)).max(from);
            if d > self.end {
                break;
            }
            self.contact(d, age);
            last = d;
        }
        let d = birthday(date_of_birth, 21)
            .add_days(self.int_between(0, 45))
            .max(last.add_days(1));
        self.close_at(d, 5)
    }
}
