//! Writing events: compact JSON, byte by byte, in the order and with the ids
//! of the history (`docs/events.md`).

use super::facts::{
    decode_date, EventType, Fact, CATEGORIES, CIC_END_REASONS, CLOSE_REASONS, DAY_SECONDS,
    EVENT_TYPE_NAMES, GRADES, LEGAL_STATUSES, NO_CHILD, NO_DISTANCE, NO_UNIT, PLACEMENT_TYPES,
    VISIT_TYPES,
};
use super::generator::Generator;
use super::{GenOptions, GenStats};
use crate::calendar::Date;
use std::io::Write;

/// Bytes written to the output at a time.
pub(super) const WRITE_CHUNK: usize = 1 << 20;

/// A string as a JSON string literal (quoted, escaped).
pub(super) fn json_string_literal(s: &str) -> String {
    serde_json::to_string(s).expect("string serialises")
}

/// Appends `YYYY-MM-DD`.
fn write_date(out: &mut Vec<u8>, date: Date) {
    let (y, m, dd) = date.ymd();
    if (0..=9999).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (dd / 10) as u8,
            b'0' + (dd % 10) as u8,
        ]);
    } else {
        out.extend_from_slice(format!("{:04}-{:02}-{:02}", y, m, dd).as_bytes());
    }
}

/// Formatted dates for the days of the history (and a margin), so that the hot
/// path formats a date by copying ten bytes.
pub(super) struct DateCache {
    first: Date,
    bytes: Vec<[u8; 10]>,
}

impl DateCache {
    /// The dates first..=last, formatted.
    pub(super) fn new(first: Date, last: Date) -> Self {
        let mut bytes = Vec::with_capacity((last.days_since(first) + 1).max(0) as usize);
        let mut buf = Vec::with_capacity(10);
        let mut day = first;
        while day <= last {
            buf.clear();
            write_date(&mut buf, day);
            let mut formatted = [0u8; 10];
            formatted.copy_from_slice(&buf[..10]);
            bytes.push(formatted);
            day = day.add_days(1);
        }
        DateCache { first, bytes }
    }

    /// Appends `YYYY-MM-DD`.
    pub(super) fn put(&self, out: &mut Vec<u8>, d: Date) {
        let i = d.days_since(self.first);
        if i >= 0 && (i as usize) < self.bytes.len() {
            out.extend_from_slice(&self.bytes[i as usize]);
        } else {
            write_date(out, d);
        }
    }
}

/// Appends a number in decimal.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends a number in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = Vec::with_capacity(20);
    push_u64(&mut tmp, n);
    for _ in tmp.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(&tmp);
}

/// Tenths as a JSON number with exactly one decimal ("18.0", "3.5").
fn push_tenths(out: &mut Vec<u8>, t: u32) {
    push_u64(out, (t / 10) as u64);
    out.push(b'.');
    out.push(b'0' + (t % 10) as u8);
}

/// What rendering needs besides the generator.
pub(super) struct RenderTables {
    /// The dates of the history, formatted.
    pub(super) dates: DateCache,
    /// Output id number (1-based) of each fact, by uid.
    pub(super) id_of: Vec<u32>,
}

/// Appends an event id (`e` and eight digits).
fn push_event_id(out: &mut Vec<u8>, id: u32) {
    out.push(b'e');
    push_padded(out, id as u64, 8);
}

impl Generator {
    /// One event as a compact JSON object and a newline.
    pub(super) fn render(
        &self,
        tables: &RenderTables,
        f: &Fact,
        id: u32,
        revision: Option<u32>,
        void: bool,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(b"{\"event_id\":\"");
        push_event_id(out, id);
        out.push(b'"');
        if let Some(n) = revision {
            out.extend_from_slice(b",\"revision\":");
            push_u64(out, n as u64);
        }
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(EVENT_TYPE_NAMES[f.event_type as usize].as_bytes());
        out.push(b'"');
        if self.several_authorities {
            let la = if f.unit != NO_UNIT {
                self.units[f.unit as usize].authority
            } else {
                self.children[f.child as usize].authority
            };
            out.extend_from_slice(b",\"la\":");
            out.extend_from_slice(self.authorities[la as usize].json.as_bytes());
        }
        if f.child != NO_CHILD {
            out.extend_from_slice(b",\"child_id\":\"c");
            push_padded(out, f.child as u64 + 1, 6);
            out.push(b'"');
        }
        out.extend_from_slice(b",\"date\":\"");
        tables.dates.put(out, f.date);
        out.extend_from_slice(b"\",\"recorded_at\":\"");
        let day = Date::from_days(f.recorded_at.div_euclid(DAY_SECONDS) as i32);
        let sod = f.recorded_at.rem_euclid(DAY_SECONDS) as u32;
        tables.dates.put(out, day);
        out.extend_from_slice(&[
            b'T',
            b'0' + (sod / 36_000) as u8,
            b'0' + (sod / 3600 % 10) as u8,
            b':',
            b'0' + (sod % 3600 / 600) as u8,
            b'0' + (sod % 3600 / 60 % 10) as u8,
            b':',
            b'0' + (sod % 60 / 10) as u8,
            b'0' + (sod % 10) as u8,
            b'Z',
            b'"',
        ]);
        if f.unit != NO_UNIT {
            out.extend_from_slice(b",\"unit\":");
            out.extend_from_slice(self.units[f.unit as usize].json.as_bytes());
        }
        let reference = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            push_event_id(out, tables.id_of[f.primary as usize]);
            out.push(b'"');
        };
        let flag = |out: &mut Vec<u8>, name: &str, v: bool| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(if v { b"\":true" } else { b"\":false" });
        };
        let text = |out: &mut Vec<u8>, name: &str, v: &str| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            out.extend_from_slice(v.as_bytes());
            out.push(b'"');
        };
        let date_field = |out: &mut Vec<u8>, name: &str, d: Date| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            tables.dates.put(out, d);
            out.push(b'"');
        };
        match f.event_type {
            EventType::ChildDetails => {
                date_field(out, "date_of_birth", decode_date(f.primary));
                if f.code & 2 != 0 {
                    flag(out, "uasc", f.code & 1 != 0);
                }
            }
            EventType::Referral
            | EventType::CaseTransferred
            | EventType::WorkerUnallocated
            | EventType::MissingStarted => {}
            EventType::CaseClosed => {
                if f.code != 0 {
                    text(out, "reason", CLOSE_REASONS[f.code as usize]);
                }
            }
            EventType::WorkerAllocated => {
                out.extend_from_slice(b",\"worker_id\":\"w");
                push_padded(out, f.primary as u64, 5);
                out.push(b'"');
                flag(out, "qualified", f.code & 1 != 0);
            }
            EventType::Visit => text(out, "visit_type", VISIT_TYPES[f.code as usize]),
            EventType::AssessmentCompleted | EventType::S47Completed => {
                date_field(out, "started", decode_date(f.primary));
                flag(out, "child_seen", f.code & 1 != 0);
            }
            EventType::IcpcHeld => date_field(out, "s47_started", decode_date(f.primary)),
            EventType::CpPlanStarted => {
                if f.code != 0 {
                    text(out, "category", CATEGORIES[f.code as usize]);
                }
            }
            EventType::CpPlanEnded | EventType::CpReviewHeld => reference(out, "plan_id"),
            EventType::CicStarted => {
                if f.code != 0 {
                    text(out, "legal_status", LEGAL_STATUSES[f.code as usize]);
                }
            }
            EventType::CicEnded => {
                reference(out, "period_id");
                text(out, "reason", CIC_END_REASONS[f.code as usize]);
            }
            EventType::PlacementStarted => {
                reference(out, "period_id");
                text(out, "placement_type", PLACEMENT_TYPES[f.code as usize]);
                if f.secondary != NO_DISTANCE {
                    out.extend_from_slice(b",\"distance_miles\":");
                    push_tenths(out, f.secondary);
                }
            }
            EventType::PlacementArrangementMeeting => reference(out, "placement_id"),
            EventType::CicReviewHeld => {
                reference(out, "period_id");
                flag(out, "participated", f.code & 1 != 0);
            }
            EventType::HealthAssessment => {
                reference(out, "period_id");
                text(out, "kind", if f.code == 0 { "initial" } else { "review" });
            }
            EventType::IhaReferral
            | EventType::DentalCheck
            | EventType::PlacementOrderGranted
            | EventType::AdoptionMatch => reference(out, "period_id"),
            EventType::MissingEnded | EventType::ReturnInterviewHeld => {
                reference(out, "episode_id")
            }
            EventType::CareLeaverContact => {
                flag(out, "in_touch", f.code & 1 != 0);
                if f.code & 1 != 0 {
                    flag(out, "accommodation_suitable", f.code & 2 != 0);
                    flag(out, "eet", f.code & 4 != 0);
                }
            }
            EventType::CaseAuditCompleted => text(out, "grade", GRADES[f.code as usize]),
            EventType::StaffingSnapshot => {
                for (name, v) in [
                    ("establishment_fte", f.primary >> 16),
                    ("caseholding_fte", f.primary & 0xffff),
                    ("permanent_qsw_fte", f.secondary >> 16),
                    ("agency_fte", f.secondary & 0xffff),
                ] {
                    out.extend_from_slice(b",\"");
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b"\":");
                    push_tenths(out, v);
                }
            }
        }
        if void {
            out.extend_from_slice(b",\"void\":true");
        }
        out.extend_from_slice(b"}\n");
    }

    /// Sorts the facts into file order, numbers them and writes the history.
    pub(super) fn finish(
        &mut self,
        options: &GenOptions,
        out: &mut dyn Write,
    ) -> std::io::Result<GenStats> {
        self.facts
            .sort_unstable_by_key(|f| (f.date, f.recorded_at, f.uid));
        let mut id_of = vec![0u32; self.next_uid as usize];
        for (i, f) in self.facts.iter().enumerate() {
            id_of[f.uid as usize] = i as u32 + 1;
        }
        let tables = RenderTables {
            dates: DateCache::new(self.start.add_days(-60), self.end.add_days(500)),
            id_of,
        };
        let mut stats = GenStats {
            facts: self.facts.len() as u64,
            children: self.children.len() as u64,
            ..GenStats::default()
        };
        if options.messy {
            self.write_messy(&tables, out, &mut stats)?;
        } else {
            let mut buf: Vec<u8> = Vec::with_capacity(WRITE_CHUNK);
            for f in &self.facts {
                let id = tables.id_of[f.uid as usize];
                self.render(&tables, f, id, None, false, &mut buf);
                if buf.len() >= WRITE_CHUNK {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
            out.write_all(&buf)?;
            stats.lines = self.facts.len() as u64;
        }
        out.flush()?;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{GenUnit, Scale};

    fn d(y: i32, m: u32, dd: u32) -> Date {
        Date::from_ymd(y, m, dd).unwrap()
    }

    #[test]
    fn formatting() {
        let mut b = Vec::new();
        push_tenths(&mut b, 205);
        b.push(b' ');
        push_tenths(&mut b, 0);
        b.push(b' ');
        push_padded(&mut b, 42, 6);
        b.push(b' ');
        write_date(&mut b, d(2017, 8, 1));
        assert_eq!(String::from_utf8(b).unwrap(), "20.5 0.0 000042 2017-08-01");
        let cache = DateCache::new(d(2017, 1, 1), d(2017, 12, 31));
        let mut c = Vec::new();
        cache.put(&mut c, d(2017, 3, 4));
        cache.put(&mut c, d(1999, 12, 31));
        assert_eq!(String::from_utf8(c).unwrap(), "2017-03-041999-12-31");
    }

    #[test]
    fn a_rendered_event_is_compact_json() {
        let leaves = vec![GenUnit {
            id: "t\"1".into(),
            kind: "cswt".into(),
            la: "x".into(),
        }];
        let options = GenOptions {
            seed: 1,
            start: d(2017, 1, 1),
            months: 1,
            scale: Scale::Small,
            messy: false,
        };
        let generator = Generator::new(&options, &leaves);
        let tables = RenderTables {
            dates: DateCache::new(generator.start, generator.end),
            id_of: vec![0, 7],
        };
        let f = Fact {
            uid: 1,
            date: d(2017, 1, 5),
            recorded_at: i64::from(d(2017, 1, 6).days()) * DAY_SECONDS + 10 * 3600 + 15 * 60 + 7,
            child: NO_CHILD,
            unit: 0,
            event_type: EventType::StaffingSnapshot,
            code: 0,
            primary: (205 << 16) | 180,
            secondary: (165 << 16) | 30,
        };
        let mut out = Vec::new();
        generator.render(&tables, &f, 7, Some(2), true, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event_id\":\"e00000007\",\"revision\":2,\"type\":\"staffing_snapshot\",\"date\":\"2017-01-05\",\
             \"recorded_at\":\"2017-01-06T10:15:07Z\",\"unit\":\"t\\\"1\",\"establishment_fte\":20.5,\
             \"caseholding_fte\":18.0,\"permanent_qsw_fte\":16.5,\"agency_fte\":3.0,\"void\":true}\n"
        );
    }
}
