//! The messy history: the same facts delivered out of order, duplicated,
//! preceded by wrong earlier revisions (some voided), mixed with fake events
//! whose highest revision is void and with malformed lines (`malformed`).

use super::facts::{decode_date, encode_date, EventType, Fact, DAY_SECONDS, NO_DISTANCE};
use super::generator::Generator;
use super::render::{RenderTables, WRITE_CHUNK};
use super::GenStats;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

/// Where the content of a delivered line comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A fact of the history at its final revision (`index` into the facts).
    Fact,
    /// An alternative content: earlier revision, void or fake (`index` into
    /// the alternatives).
    Alternative,
    /// A malformed line (`index` into the malformed lines).
    Malformed,
}

/// One delivered line: a fact at its final revision, an alternative content
/// (earlier revision, void or fake) or a malformed line.
struct Arrival {
    /// Delivery time (seconds, on the scale of `recorded_at`): the file order.
    delivered_at: i64,
    /// Order of creation, breaking ties of `delivered_at`.
    sequence: u32,
    source: Source,
    index: u32,
    /// The `revision` field, or negative for none.
    revision: i32,
    void: bool,
}

/// The noise being built over the generator's facts, with its own random generator.
pub(super) struct Noise<'a> {
    pub(super) generator: &'a Generator,
    pub(super) rng: ChaCha8Rng,
    arrivals: Vec<Arrival>,
    /// (content, event id number)
    alternatives: Vec<(Fact, u32)>,
    malformed_lines: Vec<Vec<u8>>,
    next_sequence: u32,
    /// The next fresh event id number (after the facts').
    pub(super) next_id: u32,
}

/// Whether the type carries a start date (`started`, `s47_started`) that its
/// date may not precede.
pub(super) fn has_started(event_type: EventType) -> bool {
    matches!(
        event_type,
        EventType::AssessmentCompleted | EventType::S47Completed | EventType::IcpcHeld
    )
}

impl<'a> Noise<'a> {
    /// Delivers a line at `delivered_at`.
    fn push(&mut self, delivered_at: i64, source: Source, index: u32, revision: i32, void: bool) {
        self.arrivals.push(Arrival {
            delivered_at,
            sequence: self.next_sequence,
            source,
            index,
            revision,
            void,
        });
        self.next_sequence += 1;
    }

    /// Files an alternative content for event id number `id`; returns its index.
    fn alternative(&mut self, f: Fact, id: u32) -> u32 {
        self.alternatives.push((f, id));
        self.alternatives.len() as u32 - 1
    }

    /// Delivery delay: mostly within two days, often within three weeks, a few months late.
    fn jitter(&mut self) -> i64 {
        let x: f64 = self.rng.gen();
        if x < 0.70 {
            self.rng.gen_range(0..2 * DAY_SECONDS)
        } else if x < 0.97 {
            self.rng.gen_range(0..21 * DAY_SECONDS)
        } else {
            self.rng.gen_range(30 * DAY_SECONDS..180 * DAY_SECONDS)
        }
    }

    /// Moves the fact's date by up to 20 days within the history (never before
    /// its start date); false if no move was found.
    fn shift_date(&mut self, f: &mut Fact) -> bool {
        let (s, e) = (self.generator.start, self.generator.end);
        for _ in 0..4 {
            let k: i32 = self.rng.gen_range(1..=20);
            let k = if self.rng.gen_bool(0.5) { k } else { -k };
            let mut d = f.date.add_days(k).clamp(s, e);
            let started = decode_date(f.primary);
            if has_started(f.event_type) && d < started {
                d = f.date.add_days(k.abs()).min(e);
            }
            if d != f.date && (!has_started(f.event_type) || d >= started) {
                f.recorded_at += i64::from(d.days_since(f.date)) * DAY_SECONDS;
                f.date = d;
                return true;
            }
        }
        false
    }

    /// Another unit of the same authority as `u`, if there is one.
    fn other_unit(&mut self, u: u16) -> Option<u16> {
        let authority = self.generator.units[u as usize].authority;
        let others: Vec<u16> = self.generator.units_of_authority[authority as usize]
            .iter()
            .copied()
            .filter(|&i| i != u)
            .collect();
        if others.is_empty() {
            None
        } else {
            Some(others[self.rng.gen_range(0..others.len())])
        }
    }

    /// Changes a field of the fact to another valid value; false if it has none to change.
    fn change_field(&mut self, f: &mut Fact) -> bool {
        let coin = self.rng.gen_bool(0.5);
        match f.event_type {
            EventType::ChildDetails => {
                if coin {
                    let days: u32 = self.rng.gen_range(1..=400);
                    f.primary = encode_date(decode_date(f.primary).add_days(-(days as i32)));
                } else {
                    f.code = (f.code ^ 1) | 2;
                }
            }
            EventType::Referral | EventType::CaseTransferred => match self.other_unit(f.unit) {
                Some(u) => f.unit = u,
                None => return false,
            },
            EventType::CaseAuditCompleted => {
                let other = if coin { self.other_unit(f.unit) } else { None };
                match other {
                    Some(u) => f.unit = u,
                    None => f.code = (f.code + self.rng.gen_range(1..=3)) % 4,
                }
            }
            EventType::StaffingSnapshot => {
                let caseholding = (f.primary & 0xffff) + 5 * self.rng.gen_range(1..=6);
                f.primary = (f.primary & 0xffff_0000) | caseholding.min(0xffff);
            }
            EventType::CaseClosed => f.code = 1 + (f.code + self.rng.gen_range(0..=5)) % 7,
            EventType::WorkerAllocated => {
                if coin {
                    f.code ^= 1;
                } else {
                    let n = self.generator.workers.len() as u32;
                    f.primary = (f.primary + self.rng.gen_range(1..n.max(2))) % n;
                }
            }
            EventType::Visit => f.code = (f.code + self.rng.gen_range(1..=3)) % 4,
            EventType::AssessmentCompleted | EventType::S47Completed => {
                if coin {
                    f.code ^= 1;
                } else {
                    let days: u32 = self.rng.gen_range(1..=10);
                    f.primary = encode_date(decode_date(f.primary).add_days(-(days as i32)));
                }
            }
            EventType::IcpcHeld => {
                let days: u32 = self.rng.gen_range(1..=10);
                f.primary = encode_date(decode_date(f.primary).add_days(-(days as i32)));
            }
            EventType::CpPlanStarted => f.code = (f.code + self.rng.gen_range(1..=5)) % 6,
            EventType::CicStarted => f.code = (f.code + self.rng.gen_range(1..=6)) % 7,
            EventType::CicEnded => f.code = (f.code + self.rng.gen_range(1..=4)) % 5,
            EventType::PlacementStarted => {
                if coin {
                    f.code = (f.code + self.rng.gen_range(1..=7)) % 8;
                } else if f.secondary == NO_DISTANCE {
                    f.secondary = self.rng.gen_range(0..300);
                } else {
                    f.secondary += self.rng.gen_range(1..200);
                }
            }
            EventType::CicReviewHeld | EventType::HealthAssessment => f.code ^= 1,
            EventType::CareLeaverContact => {
                if f.code & 1 != 0 {
                    f.code ^= if coin { 2 } else { 4 };
                } else {
                    f.code = 1 | 2;
                }
            }
            _ => return false,
        }
        true
    }

    /// A different but valid content for the same kind of fact.
    pub(super) fn perturb(&mut self, f: &Fact) -> Fact {
        let mut changed = *f;
        let by_date = self.rng.gen_bool(0.5);
        if by_date {
            if !self.shift_date(&mut changed) && !self.change_field(&mut changed) {
                changed.recorded_at += DAY_SECONDS; // last resort: a different recorded_at
            }
        } else if !self.change_field(&mut changed) && !self.shift_date(&mut changed) {
            changed.recorded_at += DAY_SECONDS;
        }
        changed
    }
}

/// Required fields of each type besides event_id, type and date.
pub(super) fn required_fields(event_type: EventType) -> &'static [&'static str] {
    match event_type {
        EventType::ChildDetails => &["child_id", "date_of_birth"],
        EventType::Referral | EventType::CaseTransferred => &["child_id", "unit"],
        EventType::CaseClosed
        | EventType::WorkerUnallocated
        | EventType::CpPlanStarted
        | EventType::CicStarted
        | EventType::MissingStarted => &["child_id"],
        EventType::WorkerAllocated => &["child_id", "worker_id"],
        EventType::Visit => &["child_id", "visit_type"],
        EventType::AssessmentCompleted | EventType::S47Completed => {
            &["child_id", "started", "child_seen"]
        }
        EventType::IcpcHeld => &["child_id", "s47_started"],
        EventType::CpPlanEnded | EventType::CpReviewHeld => &["child_id", "plan_id"],
        EventType::CicEnded => &["child_id", "period_id", "reason"],
        EventType::PlacementStarted => &["child_id", "period_id", "placement_type"],
        EventType::PlacementArrangementMeeting => &["child_id", "placement_id"],
        EventType::CicReviewHeld => &["child_id", "period_id", "participated"],
        EventType::HealthAssessment => &["child_id", "period_id", "kind"],
        EventType::IhaReferral
        | EventType::DentalCheck
        | EventType::PlacementOrderGranted
        | EventType::AdoptionMatch => &["child_id", "period_id"],
        EventType::MissingEnded | EventType::ReturnInterviewHeld => &["child_id", "episode_id"],
        EventType::CareLeaverContact => &["child_id", "in_touch"],
        EventType::CaseAuditCompleted => &["unit", "grade"],
        EventType::StaffingSnapshot => &[
            "unit",
            "establishment_fte",
            "caseholding_fte",
            "permanent_qsw_fte",
            "agency_fte",
        ],
    }
}

impl Generator {
    /// Writes the messy history of the facts (see the module documentation).
    pub(super) fn write_messy(
        &self,
        tables: &RenderTables,
        out: &mut dyn Write,
        stats: &mut GenStats,
    ) -> std::io::Result<()> {
        let n = self.facts.len();
        let mut noise = Noise {
            generator: self,
            rng: ChaCha8Rng::seed_from_u64(self.seed ^ 0x6d65_7373_795f_6e6f),
            arrivals: Vec::with_capacity(n + n / 5 + 16),
            alternatives: Vec::new(),
            malformed_lines: Vec::new(),
            next_sequence: 0,
            next_id: n as u32 + 1,
        };
        // Real facts: delivery delays, earlier revisions with wrong content, duplicates.
        for (i, f) in self.facts.iter().enumerate() {
            let id = i as u32 + 1;
            let base = f.recorded_at + noise.jitter();
            let mut revision = -1;
            if noise.rng.gen_bool(0.05) {
                let x: f64 = noise.rng.gen();
                let k = if x < 0.7 {
                    1
                } else if x < 0.95 {
                    2
                } else {
                    3
                };
                let void_last = k >= 2 && noise.rng.gen_bool(0.2);
                let mut previous = 0u32;
                for j in 0..k {
                    let key = base + noise.rng.gen_range(-20 * DAY_SECONDS..20 * DAY_SECONDS);
                    if void_last && j == k - 1 {
                        noise.push(key, Source::Alternative, previous, j, true);
                    } else {
                        let wrong = noise.perturb(f);
                        previous = noise.alternative(wrong, id);
                        noise.push(key, Source::Alternative, previous, j, false);
                    }
                    stats.noise_revisions += 1;
                    if noise.rng.gen_bool(0.05) {
                        let last = noise.arrivals.last().expect("just pushed");
                        let (at, source, index, revision, void) = (
                            last.delivered_at,
                            last.source,
                            last.index,
                            last.revision,
                            last.void,
                        );
                        let later = noise.rng.gen_range(0..10 * DAY_SECONDS);
                        noise.push(at + later, source, index, revision, void);
                        stats.noise_duplicates += 1;
                    }
                }
                revision = k;
            }
            noise.push(base, Source::Fact, i as u32, revision, false);
            if noise.rng.gen_bool(0.05) {
                let key = base + noise.rng.gen_range(-5 * DAY_SECONDS..30 * DAY_SECONDS);
                noise.push(key, Source::Fact, i as u32, revision, false);
                stats.noise_duplicates += 1;
            }
        }
        // Fake facts whose highest revision is void.
        let fakes = (n as f64 * 0.02).round() as usize;
        for _ in 0..fakes {
            let t = self.facts[noise.rng.gen_range(0..n)];
            let fake = noise.perturb(&t);
            let id = noise.next_id;
            noise.next_id += 1;
            let base = fake.recorded_at + noise.jitter();
            let x: f64 = noise.rng.gen();
            let a0 = noise.alternative(fake, id);
            if x < 0.55 {
                noise.push(base, Source::Alternative, a0, 0, false);
                let later = base + noise.rng.gen_range(0..40 * DAY_SECONDS);
                noise.push(later, Source::Alternative, a0, 1, true);
                stats.noise_voided += 2;
            } else if x < 0.75 {
                noise.push(base, Source::Alternative, a0, 0, true);
                stats.noise_voided += 1;
            } else if x < 0.90 {
                noise.push(base, Source::Alternative, a0, 0, false);
                let second = noise.perturb(&fake);
                let a1 = noise.alternative(second, id);
                let k1 = base + noise.rng.gen_range(0..20 * DAY_SECONDS);
                noise.push(k1, Source::Alternative, a1, 1, false);
                let third = noise.perturb(&second);
                let a2 = noise.alternative(third, id);
                let k2 = base + noise.rng.gen_range(0..40 * DAY_SECONDS);
                noise.push(k2, Source::Alternative, a2, 2, true);
                stats.noise_voided += 3;
            } else {
                noise.push(base, Source::Alternative, a0, 0, false);
                let void_at = base + noise.rng.gen_range(DAY_SECONDS..10 * DAY_SECONDS);
                noise.push(void_at, Source::Alternative, a0, 2, true);
                let second = noise.perturb(&fake);
                let a1 = noise.alternative(second, id);
                let k1 = void_at + noise.rng.gen_range(5 * DAY_SECONDS..60 * DAY_SECONDS);
                noise.push(k1, Source::Alternative, a1, 1, false);
                stats.noise_voided += 3;
            }
        }
        // Lines that are not valid events.
        let malformed = ((n as f64 * 0.005).round() as usize).max(if n > 0 { 1 } else { 0 });
        for _ in 0..malformed {
            let t = self.facts[noise.rng.gen_range(0..n)];
            let bytes = noise.malformed(tables, &t);
            noise.malformed_lines.push(bytes);
            let key = t.recorded_at + noise.jitter();
            let index = noise.malformed_lines.len() as u32 - 1;
            noise.push(key, Source::Malformed, index, -1, false);
            stats.noise_malformed += 1;
        }
        let Noise {
            mut arrivals,
            alternatives,
            malformed_lines,
            ..
        } = noise;
        arrivals.sort_unstable_by_key(|a| (a.delivered_at, a.sequence));
        let mut buf: Vec<u8> = Vec::with_capacity(WRITE_CHUNK);
        for a in &arrivals {
            let revision = if a.revision >= 0 {
                Some(a.revision as u32)
            } else {
                None
            };
            match a.source {
                Source::Fact => {
                    let f = &self.facts[a.index as usize];
                    self.render(tables, f, a.index + 1, revision, a.void, &mut buf);
                }
                Source::Alternative => {
                    let (f, id) = &alternatives[a.index as usize];
                    self.render(tables, f, *id, revision, a.void, &mut buf);
                }
                Source::Malformed => {
                    buf.extend_from_slice(&malformed_lines[a.index as usize]);
                    buf.push(b'\n');
                }
            }
            if buf.len() >= WRITE_CHUNK {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        stats.lines = arrivals.len() as u64;
        Ok(())
    }
}
