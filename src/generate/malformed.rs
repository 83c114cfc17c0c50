//! Malformed lines of the messy history: lines that no validator may accept
//! (not JSON, truncated, unknown types, missing fields, impossible dates,
//! unknown units and authorities, wrongly typed fields).

use super::facts::{EventType, Fact};
use super::noise::{has_started, required_fields, Noise};
use super::render::{json_string_literal, RenderTables};
use rand::Rng;

impl<'a> Noise<'a> {
    /// A line that is not a valid event, made from a real fact under a fresh id.
    pub(super) fn malformed(&mut self, tables: &RenderTables, t: &Fact) -> Vec<u8> {
        use serde_json::Value;
        let id = self.next_id;
        self.next_id += 1;
        let mut line = Vec::new();
        self.generator.render(tables, t, id, None, false, &mut line);
        line.pop();
        let mut v: Value = serde_json::from_slice(&line).expect("own output parses");
        let year = t.date.ymd().0;
        let variant = self.rng.gen_range(0..12);
        {
            let obj = v.as_object_mut().expect("object");
            match variant {
                0 => {
                    let n = self.rng.gen_range(8..60);
                    let mut b = vec![0xFFu8];
                    for _ in 0..n {
                        let x: u8 = self.rng.gen();
                        b.push(if x == b'\n' || x == b'\r' { 0xFE } else { x });
                    }
                    return b;
                }
                1 => {
                    let cut = self.rng.gen_range(line.len() / 3..line.len() - 1);
                    line.truncate(cut);
                    return line;
                }
                2 => {
                    let names = [
                        "visit_planned",
                        "case_reopened",
                        "Referral",
                        "placement_ended",
                    ];
                    obj.insert(
                        "type".into(),
                        names[self.rng.gen_range(0..names.len())].into(),
                    );
                }
                3 => {
                    let mut fields: Vec<&str> = vec!["event_id", "type", "date"];
                    fields.extend_from_slice(required_fields(t.event_type));
                    let f = fields[self.rng.gen_range(0..fields.len())];
                    obj.remove(f);
                    if f == "in_touch" {
                        obj.remove("accommodation_suitable");
                        obj.remove("eet");
                    }
                }
                4 => {
                    let bad = ["02-30", "02-31", "04-31", "13-01", "00-10"];
                    let b = bad[self.rng.gen_range(0..bad.len())];
                    obj.insert("date".into(), format!("{:04}-{}", year, b).into());
                }
                5 => {
                    let la_name =
                        serde_json::from_str::<String>(&self.generator.authorities[0].json)
                            .unwrap_or_default();
                    let is_leaf = |s: &str| self.generator.units.iter().any(|u| u.id == s);
                    let unit =
                        if self.rng.gen_bool(0.5) && !la_name.is_empty() && !is_leaf(&la_name) {
                            la_name
                        } else {
                            let mut n = 0;
                            loop {
                                let s = format!("unknown-unit-{}", n);
                                if !is_leaf(&s) {
                                    break s;
                                }
                                n += 1;
                            }
                        };
                    obj.insert("unit".into(), unit.into());
                }
                6 if has_started(t.event_type) => {
                    let mut b = Vec::new();
                    tables
                        .dates
                        .put(&mut b, t.date.add_days(self.rng.gen_range(1..=10)));
                    let s = String::from_utf8(b).expect("ascii");
                    let name = if t.event_type == EventType::IcpcHeld {
                        "s47_started"
                    } else {
                        "started"
                    };
                    obj.insert(name.into(), s.into());
                }
                7 => {
                    let wrong: [(&str, Value); 6] = [
                        ("revision", Value::from("1")),
                        ("revision", serde_json::json!(1.5)),
                        ("revision", Value::from(-1)),
                        ("revision", Value::from(true)),
                        ("date", Value::from(20170801)),
                        ("void", Value::from("false")),
                    ];
                    let (k, val) = wrong[self.rng.gen_range(0..wrong.len())].clone();
                    obj.insert(k.into(), val);
                }
                8 => {
                    let k = self.rng.gen_range(0..4);
                    return match k {
                        0 => Vec::new(),
                        1 => format!("[{}]", String::from_utf8_lossy(&line)).into_bytes(),
                        2 => b"\"event\"".to_vec(),
                        _ => {
                            let mut b = line.clone();
                            b.pop();
                            b.extend_from_slice(b",\"distance_miles\":NaN}");
                            b
                        }
                    };
                }
                9 => {
                    let mut b = Vec::new();
                    tables.dates.put(&mut b, t.date);
                    let s = format!("{}T25:61:00Z", String::from_utf8(b).expect("ascii"));
                    obj.insert("recorded_at".into(), s.into());
                }
                10 => {
                    let mut n = 0;
                    let la = loop {
                        let s = format!("atlantis-{}", n);
                        if !self
                            .generator
                            .authorities
                            .iter()
                            .any(|l| l.json == json_string_literal(&s))
                        {
                            break s;
                        }
                        n += 1;
                    };
                    obj.insert("la".into(), la.into());
                }
                _ => {
                    let opt = ["recorded_at", "la", "revision", "void"];
                    let k = opt[self.rng.gen_range(0..opt.len())];
                    obj.insert(k.into(), Value::Null);
                }
            }
        }
        serde_json::to_vec(&v).expect("serialises")
    }
}
