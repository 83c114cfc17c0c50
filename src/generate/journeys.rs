//! A child's journey through its cases: entry, referrals, assessments,
//! section 47 enquiries, child protection plans, child in need and closure.
//! Periods of care are in `care`, visits, workers and missing episodes in
//! `casework`.

use super::dates::{this_or_next_weekday, this_or_previous_weekday, OPEN_ENDED};
use super::facts::{encode_date, EventType, NO_UNIT};
use super::generator::{ChildInProgress, ChildRecord, Entry, Generator};
use super::units::Kind;
use crate::calendar::Date;

/// Age in whole years at entry, by weight over age bands (years, weight).
fn age_band(generator: &mut Generator, bands: &[(i32, i32, f64)]) -> i32 {
    let weights: Vec<f64> = bands.iter().map(|band| band.2).collect();
    let i = generator.pick_weighted(&weights);
    generator.int_between(bands[i].0, bands[i].1)
}

/// Ages of children referred to children's social work teams (and of the
/// opening stock of children in need).
const AGES_GENERAL: &[(i32, i32, f64)] = &[
    (0, 0, 0.12),
    (1, 4, 0.20),
    (5, 9, 0.25),
    (10, 15, 0.31),
    (16, 17, 0.12),
];
/// Ages of the opening stock of children on a plan.
const AGES_CP: &[(i32, i32, f64)] = &[
    (0, 0, 0.15),
    (1, 4, 0.30),
    (5, 9, 0.30),
    (10, 15, 0.22),
    (16, 17, 0.03),
];
/// Ages of the opening stock of children in care.
const AGES_CIC: &[(i32, i32, f64)] = &[
    (0, 0, 0.05),
    (1, 4, 0.15),
    (5, 9, 0.20),
    (10, 15, 0.40),
    (16, 17, 0.20),
];
/// Ages of arriving unaccompanied asylum-seeking children.
const AGES_UASC: &[(i32, i32, f64)] = &[(14, 14, 0.08), (15, 15, 0.20), (16, 17, 0.72)];
/// Ages of the opening stock of unaccompanied asylum-seeking children in care.
const AGES_STOCK_UASC: &[(i32, i32, f64)] = &[(15, 15, 0.10), (16, 17, 0.90)];

impl Generator {
    /// Generates one child's whole history from its entry on `day` at `unit`.
    pub(super) fn child_life(&mut self, unit: u16, day: Date, entry: Entry) {
        let age = match entry {
            Entry::General | Entry::StockCin => age_band(self, AGES_GENERAL),
            Entry::StockCp => age_band(self, AGES_CP),
            Entry::StockCic => age_band(self, AGES_CIC),
            Entry::Uasc => age_band(self, AGES_UASC),
            Entry::StockUascCic => age_band(self, AGES_STOCK_UASC),
            Entry::Disability | Entry::StockDisabledCin => self.int_between(1, 17),
            Entry::Support | Entry::StockSupport => self.int_between(1, 15),
            Entry::StockCareLeaver => self.int_between(18, 20),
        };
        let date_of_birth = day.add_days(-(age * 365) - self.int_between(age / 4, 364));
        let index = self.children.len() as u32;
        let authority = self.units[unit as usize].authority;
        self.children.push(ChildRecord { authority });
        self.child = ChildInProgress::new(
            index,
            authority,
            date_of_birth,
            matches!(entry, Entry::Uasc | Entry::StockUascCic),
            self.facts.len(),
            unit,
        );
        let write_uasc = self.child.uasc || self.chance(0.5);
        let code = (self.child.uasc as u8) | ((write_uasc as u8) << 1);
        let dob = encode_date(date_of_birth);
        self.emit(EventType::ChildDetails, day, NO_UNIT, code, dob, 0);

        let mut closed = self.first_case(unit, day, entry);
        while closed <= self.end {
            match self.next_referral(closed) {
                Some((referred, unit)) => {
                    self.referral(unit, referred);
                    closed = self.case_path(referred);
                }
                None => break,
            }
        }
        if self.child.open {
            let spell = (self.child.unit, self.child.spell_start, OPEN_ENDED);
            self.child.case_spells.push(spell);
            self.child.open = false;
        }
        // A few children get their details recorded again later (same facts).
        if self.chance(0.03) {
            let d = day.add_days(self.int_between(30, 900));
            self.emit(EventType::ChildDetails, d, NO_UNIT, code | 2, dob, 0);
        }
        self.visits();
        self.workers_for_child();
        self.missing();
        self.finish_child();
    }

    /// The case the child enters with on `entered`; returns its closure day.
    fn first_case(&mut self, unit: u16, entered: Date, entry: Entry) -> Date {
        self.referral(unit, entered);
        match entry {
            Entry::Uasc => self.uasc_path(entered),
            Entry::General | Entry::Disability | Entry::Support => self.case_path(entered),
            Entry::StockCin => {
                // Some open cases of the opening stock are heading for a (repeat) plan:
                // this stands in for the plans that a history already running would start.
                if self.chance(0.09) && self.age(entered) < 16 {
                    let s = this_or_next_weekday(entered.add_days(self.int_between(14, 300)));
                    return self.s47_route(s, s, true);
                }
                let d = self.cin_duration(true);
                self.cin_phase(entered, d, 0.03)
            }
            Entry::StockCp => {
                let s = entered.add_days(self.int_between(0, 3));
                self.cp_plan(s, true)
            }
            Entry::StockCic | Entry::StockUascCic => self.care_route(entered, true),
            Entry::StockDisabledCin => {
                let d = self.exp_days(6.0 * 365.0).max(20);
                self.cin_phase(entered, d, 0.01)
            }
            Entry::StockSupport => {
                let d = entered.add_days(self.int_between(7, 540));
                self.close_at(d, 6)
            }
            Entry::StockCareLeaver => self.care_leaver_phase(entered),
        }
    }

    /// What follows a case-opening referral dated r, by the kind of the unit it opened at.
    fn case_path(&mut self, r: Date) -> Date {
        match self.unit_kind() {
            Kind::Suasc if self.child.uasc => self.uasc_path(r),
            Kind::Disability => self.disability_path(r),
            Kind::Adoption | Kind::CareLeavers => self.support_path(r),
            _ => self.general_path(r),
        }
    }

    /// The next referral after a case closed on `closed`: about a quarter come back
    /// within 12 months of the last referral, some years later.
    fn next_referral(&mut self, closed: Date) -> Option<(Date, u16)> {
        if self.age(closed.add_days(30)) >= 18 {
            return None;
        }
        let year_after_last = self.child.last_referral.add_days(364);
        let week_after_closure = closed.add_days(7);
        let x = self.uniform();
        let r = if x < 0.26 && year_after_last.days_since(week_after_closure) >= 7 {
            self.date_between(week_after_closure, year_after_last)
        } else if x < 0.36 {
            closed.add_days(self.int_between(365, 1460))
        } else {
            return None;
        };
        let r = this_or_next_weekday(r);
        if r > self.end || self.age(r) >= 18 {
            return None;
        }
        let kind = self.unit_kind();
        let unit =
            if matches!(kind, Kind::Cswt | Kind::Disability | Kind::Suasc) && self.chance(0.85) {
                self.child.unit
            } else {
                self.pick_general()
            };
        Some((r, unit))
    }

    /// A Child and Family assessment started around r; returns its completion day.
    fn assessment(&mut self, r: Date, p_done: f64) -> Date {
        let started = if self.chance(0.7) {
            r
        } else {
            this_or_next_weekday(r.add_days(self.int_between(1, 3)))
        };
        let working_days = if self.chance(0.88) {
            self.int_between(10, 45)
        } else {
            self.int_between(46, 60)
        };
        let completed = self.add_working_days(started, working_days);
        if self.chance(p_done) {
            let seen = self.chance(0.97) as u8;
            self.emit(
                EventType::AssessmentCompleted,
                completed,
                NO_UNIT,
                seen,
                encode_date(started),
                0,
            );
        }
        completed
    }

    /// Days of a child-in-need phase; for the opening stock, the part still to run.
    pub(super) fn cin_duration(&mut self, stock: bool) -> i32 {
        let base = |generator: &mut Generator| {
            if generator.chance(0.5) {
                generator.int_between(60, 180)
            } else {
                generator.int_between(180, 480)
            }
        };
        if !stock {
            return base(self);
        }
        // Length-biased total, then the part still to run.
        loop {
            let d = base(self);
            if self.uniform() * 480.0 < d as f64 {
                return self.int_between(7, d);
            }
        }
    }

    /// A referral to a children's social work team; returns the closure day.
    fn general_path(&mut self, r: Date) -> Date {
        let completed = self.assessment(r, 0.97);
        let age = self.age(r);
        let mut p47 = 0.29 * self.units[self.child.unit as usize].s47_propensity;
        if self.child.cp_plan_count > 0 {
            p47 += 0.2;
        }
        if age >= 17 {
            p47 *= 0.3;
        }
        let x = self.uniform();
        if x < p47 {
            let s = this_or_next_weekday(r.add_days(self.int_between(0, 4)));
            return self.s47_route(s, completed, false);
        }
        if x < p47 + 0.025 && age < 17 {
            let c = r.add_days(self.int_between(0, 30));
            return self.care_route(c, false);
        }
        if x < p47 + 0.58 {
            let d = completed.add_days(self.int_between(0, 14));
            return self.close_at(d, 1);
        }
        let d = self.cin_duration(false);
        self.cin_phase(completed, d, 0.03)
    }

    /// Child in need from `from` for about `days` days, then care (with probability
    /// `care_p`) or closure. Returns the closure day.
    pub(super) fn cin_phase(&mut self, from: Date, days: i32, care_p: f64) -> Date {
        let mut to = from.add_days(days.max(1));
        let eighteenth = self.eighteenth_birthday();
        if to >= eighteenth {
            to = eighteenth
                .add_days(-self.int_between(1, 30))
                .max(from.add_days(1));
        }
        self.child.cin_plans.push((from, to));
        self.extras(from, to, true);
        if self.age(to) < 17 && self.chance(care_p) {
            return self.care_route(to, false);
        }
        self.close_at(to, 2)
    }

    /// Occasional referrals while the case is open (they never move it) and
    /// transfers between teams of the same kind.
    fn extras(&mut self, from: Date, to: Date, allow_transfer: bool) {
        let length = to.days_since(from);
        if length > 60 && self.chance(0.05) {
            let d = this_or_next_weekday(from.add_days(self.int_between(20, length - 2)));
            let unit = if self.chance(0.5) {
                self.child.unit
            } else {
                self.pick_general()
            };
            if d < to {
                self.emit(EventType::Referral, d, unit, 0, 0, 0);
                self.child.last_referral = d;
            }
        }
        if allow_transfer && length > 90 && self.unit_kind() == Kind::Cswt && self.chance(0.03) {
            let d = this_or_next_weekday(from.add_days(self.int_between(30, length - 2)));
            let here = self.child.unit;
            if let Some(unit) = self.pick_unit(&|u| {
                if u.kind == Kind::Cswt {
                    u.profile.referrals_a_month + 1.0
                } else {
                    0.0
                }
            }) {
                if unit != here && d < to {
                    self.transfer(unit, d);
                }
            }
        }
    }

    /// A section 47 enquiry started on s, perhaps an ICPC and a plan. `after` is the
    /// earliest day the case may close (the assessment's completion).
    fn s47_route(&mut self, s: Date, after: Date, repeat: bool) -> Date {
        let icpc = repeat || self.chance(0.27);
        let icpc_working_days = if self.chance(0.85) {
            self.int_between(4, 15)
        } else {
            self.int_between(16, 28)
        };
        let s47_working_days = if icpc {
            self.int_between(1, icpc_working_days.min(12))
        } else {
            self.int_between(3, 25)
        };
        let done = self.add_working_days(s, s47_working_days);
        let seen = self.chance(0.97) as u8;
        self.emit(
            EventType::S47Completed,
            done,
            NO_UNIT,
            seen,
            encode_date(s),
            0,
        );
        if icpc {
            let conference = self.add_working_days(s, icpc_working_days);
            self.emit(
                EventType::IcpcHeld,
                conference,
                NO_UNIT,
                0,
                encode_date(s),
                0,
            );
            if repeat || self.chance(0.88) {
                return self.cp_plan(conference, false);
            }
            let d = self.cin_duration(false);
            return self.cin_phase(conference.max(after), d, 0.03);
        }
        if self.chance(0.5) {
            let d = self.cin_duration(false);
            self.cin_phase(done.max(after), d, 0.04)
        } else {
            let d = done.max(after).add_days(self.int_between(0, 14));
            self.close_at(d, 1)
        }
    }

    /// Days of a child protection plan; for the opening stock, the part still to run.
    fn plan_duration(&mut self, stock: bool) -> i32 {
        let base = |generator: &mut Generator| {
            let x = generator.uniform();
            if x < 0.35 {
                generator.int_between(90, 270)
            } else if x < 0.83 {
                generator.int_between(270, 540)
            } else if x < 0.95 {
                generator.int_between(540, 730)
            } else {
                generator.int_between(731, 1100)
            }
        };
        if !stock {
            return base(self);
        }
        loop {
            let d = base(self);
            if self.uniform() * 1100.0 < d as f64 {
                return self.int_between(14, d);
            }
        }
    }

    /// A child protection plan from s; returns the closure day of the case.
    fn cp_plan(&mut self, s: Date, stock: bool) -> Date {
        let category = if self.chance(0.95) {
            1 + self.pick_weighted(&[0.45, 0.35, 0.08, 0.04, 0.08]) as u8
        } else {
            0
        };
        let plan = match self.emit(EventType::CpPlanStarted, s, NO_UNIT, category, 0, 0) {
            Some(uid) => uid,
            None => return OPEN_ENDED,
        };
        let eighteenth = self.eighteenth_birthday();
        let mut e = s.add_days(self.plan_duration(stock));
        if e >= eighteenth {
            e = eighteenth
                .add_days(-self.int_between(1, 30))
                .max(s.add_days(14));
        }
        // Review conferences: 3 months, then every 6 months; a few late.
        let mut reviews = Vec::new();
        let mut review = if self.chance(0.97) {
            this_or_previous_weekday(s.add_months(3).add_days(-self.int_between(0, 14)))
        } else {
            this_or_next_weekday(s.add_months(3).add_days(self.int_between(1, 10)))
        };
        while review < e {
            reviews.push(review);
            review = if self.chance(0.97) {
                this_or_previous_weekday(review.add_months(6).add_days(-self.int_between(0, 25)))
            } else {
                this_or_next_weekday(review.add_months(6).add_days(self.int_between(1, 15)))
            };
        }
        if let Some(&last) = reviews.last() {
            if e.days_since(last) < 60 && self.chance(0.6) {
                e = last; // the plan ends at its review conference
            }
        }
        for d in reviews {
            self.emit(EventType::CpReviewHeld, d, NO_UNIT, 0, plan, 0);
        }
        self.extras(s, e, false);
        self.child.cp_plans.push((s, e));
        self.child.cp_plan_count += 1;
        self.emit(EventType::CpPlanEnded, e, NO_UNIT, 0, plan, 0);
        if e > self.end {
            return OPEN_ENDED;
        }
        let age = self.age(e);
        let x = self.uniform();
        if age < 17 && x < 0.20 {
            let c = if self.chance(0.3) {
                e.add_days(-self.int_between(0, 60)).max(s.add_days(1))
            } else {
                e
            };
            return self.care_route(c, false);
        }
        if age < 16 && x < 0.40 {
            let next = this_or_next_weekday(e.add_days(self.int_between(90, 600)));
            if next < self.eighteenth_birthday().add_days(-60) {
                return self.s47_route(next, next, true);
            }
        }
        if x < 0.81 {
            let d = self.int_between(60, 270);
            return self.cin_phase(e, d, 0.02);
        }
        let d = e.add_days(self.int_between(0, 14));
        self.close_at(d, 3)
    }

    /// An unaccompanied asylum-seeking child referred on r; returns the closure day.
    fn uasc_path(&mut self, r: Date) -> Date {
        let working_days = self.int_between(10, 30);
        let completed = self.add_working_days(r, working_days);
        let seen = self.chance(0.99) as u8;
        let started = encode_date(r);
        self.emit(
            EventType::AssessmentCompleted,
            completed,
            NO_UNIT,
            seen,
            started,
            0,
        );
        if self.chance(0.9) && self.age(r) < 18 {
            let c = r.add_days(self.int_between(0, 7));
            return self.care_route(c, false);
        }
        let d = completed.add_days(self.int_between(0, 10));
        self.close_at(d, 7)
    }

    /// A referral to a disabled children's team; returns the closure day.
    fn disability_path(&mut self, r: Date) -> Date {
        let completed = self.assessment(r, 0.97);
        let x = self.uniform();
        if x < 0.03 {
            let s = this_or_next_weekday(r.add_days(self.int_between(0, 4)));
            return self.s47_route(s, completed, false);
        }
        if x < 0.05 && self.age(r) < 17 {
            let c = r.add_days(self.int_between(0, 60));
            return self.care_route(c, false);
        }
        if x < 0.45 {
            let d = completed.add_days(self.int_between(0, 14));
            return self.close_at(d, 1);
        }
        let d = self.exp_days(6.0 * 365.0).max(30);
        self.cin_phase(completed, d, 0.01)
    }

    /// A referral for adoption or care leaver support; returns the closure day.
    fn support_path(&mut self, r: Date) -> Date {
        if self.chance(0.6) {
            self.assessment(r, 1.0);
        }
        let d = r.add_days(self.int_between(30, 365));
        self.close_at(d, 7)
    }
}
