#![allow(dead_code)]
//! Shared test helpers: the small test unit tree, event builders, a
//! deterministic random history generator, and the engine harness.

pub mod engine;
pub mod scaled;
use crate::model::*;
use chrono::NaiveDate;
use serde_json::{json, Value};

/// Test tree:
///   la (county, root)
///     north (area): n-cswt (cswt), n-cic (cic)
///     south (area): s-cswt (cswt), s-cic (cic)
pub fn cfg() -> ModelConfig {
    let u = |id: &str, parent: Option<&str>, kind: &str| ModelUnit {
        id: id.to_string(),
        parent: parent.map(str::to_string),
        kind: kind.to_string(),
    };
    ModelConfig {
        units: vec![
            u("la", None, "county"),
            u("north", Some("la"), "area"),
            u("south", Some("la"), "area"),
            u("n-cswt", Some("north"), "cswt"),
            u("n-cic", Some("north"), "cic"),
            u("s-cswt", Some("south"), "cswt"),
            u("s-cic", Some("south"), "cic"),
        ],
        // England and Wales bank holidays of 2017 that matter here.
        bank_holidays: [
            "2017-04-14",
            "2017-04-17",
            "2017-05-01",
            "2017-05-29",
            "2017-08-28",
            "2017-12-25",
            "2017-12-26",
            "2018-01-01",
        ]
        .iter()
        .map(|s| d(s))
        .collect(),
    }
}

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A child event: envelope plus the extra fields in `extra` (a JSON object).
pub fn ev(id: &str, ty: &str, child: &str, date: &str, extra: Value) -> Value {
    let mut v = json!({"event_id": id, "type": ty, "child_id": child, "date": date});
    if let Value::Object(m) = extra {
        for (k, x) in m {
            v[k] = x;
        }
    }
    v
}

/// A unit-level event.
pub fn uev(id: &str, ty: &str, unit: &str, date: &str, extra: Value) -> Value {
    let mut v = json!({"event_id": id, "type": ty, "unit": unit, "date": date});
    if let Value::Object(m) = extra {
        for (k, x) in m {
            v[k] = x;
        }
    }
    v
}

pub fn referral(id: &str, child: &str, date: &str, unit: &str) -> Value {
    ev(id, "referral", child, date, json!({"unit": unit}))
}

pub fn details(id: &str, child: &str, date: &str, dob: &str, uasc: bool) -> Value {
    ev(
        id,
        "child_details",
        child,
        date,
        json!({"date_of_birth": dob, "uasc": uasc}),
    )
}

/// A tiny deterministic generator (splitmix64), so the random histories need no extra crate.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

pub const LEAVES: &[&str] = &["n-cswt", "n-cic", "s-cswt", "s-cic"];

/// A random but plausible history: `children` children with about `per_child` events each,
/// dated 2015-2018, with some dangling references, same-day events and recorded_at values,
/// plus audits and staffing snapshots.
pub fn random_history(seed: u64, children: usize, per_child: usize) -> Vec<Value> {
    let mut r = Rng(seed);
    let base = d("2015-01-01");
    let mut out = Vec::new();
    let mut n = 0u64;
    let mut next_id = |r: &mut Rng| {
        n += 1;
        // Mixed-case ids so that code point order differs from case-insensitive order.
        format!("{}{}", if r.chance(50) { "E" } else { "e" }, n)
    };
    for c in 0..children {
        let child = format!("c{c}");
        let mut plans: Vec<String> = vec!["missing-plan".into()];
        let mut periods: Vec<String> = vec!["missing-period".into()];
        let mut placements: Vec<String> = vec!["missing-placement".into()];
        let mut episodes: Vec<String> = vec!["missing-episode".into()];
        for _ in 0..per_child {
            let date = (base + chrono::Duration::days(r.below(1460) as i64)).to_string();
            let id = next_id(&mut r);
            let ty = r.pick(&[
                "child_details",
                "referral",
                "referral",
                "case_transferred",
                "case_closed",
                "worker_allocated",
                "worker_unallocated",
                "visit",
                "visit",
                "assessment_completed",
                "s47_completed",
                "icpc_held",
                "cp_plan_started",
                "cp_plan_ended",
                "cp_review_held",
                "cic_started",
                "cic_ended",
                "placement_started",
                "placement_started",
                "placement_arrangement_meeting",
                "cic_review_held",
                "health_assessment",
                "iha_referral",
                "dental_check",
                "placement_order_granted",
                "adoption_match",
                "missing_started",
                "missing_ended",
                "return_interview_held",
                "care_leaver_contact",
            ]);
            let some =
                |r: &mut Rng, xs: &Vec<String>| xs[r.below(xs.len() as u64) as usize].clone();
            let earlier =
                |r: &mut Rng| (d(&date) - chrono::Duration::days(r.below(80) as i64)).to_string();
            let extra = match ty {
                "child_details" => {
                    let dob = (d("2000-01-01") + chrono::Duration::days(r.below(6000) as i64))
                        .to_string();
                    json!({"date_of_birth": dob, "uasc": r.chance(20)})
                }
                "referral" | "case_transferred" => json!({"unit": r.pick(LEAVES)}),
                "worker_allocated" => {
                    json!({"worker_id": r.pick(&["w1", "w2", "w3"]), "qualified": r.chance(80)})
                }
                "visit" => json!({"visit_type": r.pick(&["cin", "cp", "cic", "other"])}),
                "assessment_completed" | "s47_completed" => {
                    json!({"started": earlier(&mut r), "child_seen": r.chance(80)})
                }
                "icpc_held" => json!({"s47_started": earlier(&mut r)}),
                "cp_plan_started" => {
                    plans.push(id.clone());
                    json!({})
                }
                "cp_plan_ended" | "cp_review_held" => json!({"plan_id": some(&mut r, &plans)}),
                "cic_started" => {
                    periods.push(id.clone());
                    json!({})
                }
                "cic_ended" => json!({"period_id": some(&mut r, &periods),
                                      "reason": r.pick(&["adopted", "sgo", "returned_home", "age_18", "other"])}),
                "placement_started" => {
                    placements.push(id.clone());
                    let mut x = json!({"period_id": some(&mut r, &periods), "placement_type": r.pick(&[
                        "foster_inhouse", "foster_relative_friend", "foster_agency", "residential",
                        "placed_for_adoption", "placed_with_parents", "independent_living", "other"])});
                    if r.chance(70) {
                        x["distance_miles"] = json!(r.below(60) as f64 / 2.0);
                    }
                    x
                }
                "placement_arrangement_meeting" => {
                    json!({"placement_id": some(&mut r, &placements)})
                }
                "cic_review_held" => {
                    json!({"period_id": some(&mut r, &periods), "participated": r.chance(80)})
                }
                "health_assessment" => {
                    json!({"period_id": some(&mut r, &periods), "kind": r.pick(&["initial", "review"])})
                }
                "iha_referral" | "dental_check" | "placement_order_granted" | "adoption_match" => {
                    json!({"period_id": some(&mut r, &periods)})
                }
                "missing_started" => {
                    episodes.push(id.clone());
                    json!({})
                }
                "missing_ended" | "return_interview_held" => {
                    json!({"episode_id": some(&mut r, &episodes)})
                }
                "care_leaver_contact" => {
                    json!({"in_touch": r.chance(80), "accommodation_suitable": r.chance(80), "eet": r.chance(60)})
                }
                _ => json!({}),
            };
            let mut v = ev(&id, ty, &child, &date, extra);
            if r.chance(30) {
                v["recorded_at"] = json!(format!(
                    "{date}T{:02}:00:00+0{}:00",
                    r.below(20),
                    r.below(3)
                ));
            }
            out.push(v);
        }
    }
    for _ in 0..(children * 4) {
        let date = (base + chrono::Duration::days(r.below(1460) as i64)).to_string();
        let id = next_id(&mut r);
        let unit = r.pick(LEAVES);
        if r.chance(50) {
            out.push(uev(&id, "case_audit_completed", unit, &date,
                json!({"grade": r.pick(&["outstanding", "good", "requires_improvement", "inadequate"])})));
        } else {
            out.push(uev(&id, "staffing_snapshot", unit, &date, json!({
                "establishment_fte": r.below(20) as f64 / 2.0, "caseholding_fte": r.below(20) as f64 / 2.0,
                "permanent_qsw_fte": r.below(20) as f64 / 2.0, "agency_fte": r.below(6) as f64 / 2.0})));
        }
    }
    out
}

/// 30 as-of dates: month ends and mid-month days from 2015 to 2018.
pub fn some_dates() -> Vec<NaiveDate> {
    let mut v = Vec::new();
    for i in 0..15 {
        let first = add_months(d("2015-06-01"), 2 * i);
        v.push(add_months(first, 1).pred_opt().unwrap()); // month end
        v.push(first + chrono::Duration::days(13));
    }
    v
}

/// A history whose dates cluster on the boundaries the contract names
/// (`docs/scorecard.md`, `docs/indicator-definitions.md`): each child
/// has an anchor date (a month end, a 29 February, a day before a bank
/// holiday...) and events fall on the anchor plus whole months (3, 6, 12, 18,
/// 24, 30) plus a few days either side, so same-day ties, "exactly 12 months"
/// and "one day late" cases are common.
pub fn boundary_history(seed: u64, children: usize, per_child: usize) -> Vec<Value> {
    let mut r = Rng(seed ^ 0xb0_0da1);
    let anchors = [
        "2015-01-31",
        "2015-08-31",
        "2016-02-29",
        "2016-02-28",
        "2016-08-25",
        "2016-08-31",
        "2016-12-23",
        "2017-02-28",
        "2017-03-31",
        "2017-08-24",
        "2017-08-25",
        "2017-08-31",
        "2015-06-15",
        "2016-04-01",
    ];
    let months = [0, 0, 0, 1, 3, 6, 12, 12, 18, 24, 30];
    let days = [-1, 0, 0, 0, 1, 2, 3, 5, 10, 20, 28, 29];
    let mut out = Vec::new();
    let mut n = 0u64;
    for c in 0..children {
        let child = format!("k{c}");
        let anchor = d(r.pick(&anchors));
        let date_of = |r: &mut Rng| -> String {
            let month = months[r.below(months.len() as u64) as usize];
            let day = days[r.below(days.len() as u64) as usize];
            let base = anchor
                .checked_add_months(chrono::Months::new(month))
                .unwrap();
            (base + chrono::Duration::days(day)).to_string()
        };
        let mut ids: std::collections::HashMap<&str, Vec<String>> =
            std::collections::HashMap::new();
        // Every child gets details and a referral first, most of the time.
        let mut plan: Vec<(&str, Value)> = Vec::new();
        if r.chance(85) {
            let dob = anchor
                .checked_sub_months(chrono::Months::new(12 * (r.below(18) as u32)))
                .unwrap();
            let dob = (dob + chrono::Duration::days(r.below(3) as i64 - 1)).to_string();
            plan.push((
                "child_details",
                json!({"date_of_birth": dob, "uasc": r.chance(25)}),
            ));
        }
        if r.chance(90) {
            plan.push(("referral", json!({"unit": r.pick(LEAVES)})));
        }
        for _ in 0..per_child {
            let ty = r.pick(&[
                "referral",
                "case_transferred",
                "case_closed",
                "worker_allocated",
                "worker_unallocated",
                "visit",
                "visit",
                "assessment_completed",
                "s47_completed",
                "icpc_held",
                "cp_plan_started",
                "cp_plan_ended",
                "cp_review_held",
                "cp_review_held",
                "cic_started",
                "cic_ended",
                "placement_started",
                "placement_started",
                "placement_arrangement_meeting",
                "cic_review_held",
                "cic_review_held",
                "health_assessment",
                "iha_referral",
                "dental_check",
                "placement_order_granted",
                "adoption_match",
                "missing_started",
                "missing_ended",
                "return_interview_held",
                "care_leaver_contact",
                "child_details",
            ]);
            plan.push((ty, json!({})));
        }
        for (ty, preset) in plan {
            n += 1;
            let id = format!("{}{n}", if r.chance(50) { "K" } else { "k" });
            let date = date_of(&mut r);
            let pick_ref = |r: &mut Rng, kind: &str| -> String {
                match ids.get(kind) {
                    Some(list) if !list.is_empty() && r.chance(92) => {
                        list[r.below(list.len() as u64) as usize].clone()
                    }
                    _ => format!("dangling-{kind}"),
                }
            };
            let earlier = |r: &mut Rng| {
                (d(&date)
                    - chrono::Duration::days([0i64, 1, 14, 21, 22, 63, 64][r.below(7) as usize]))
                .to_string()
            };
            let extra = if preset.as_object().is_some_and(|o| !o.is_empty()) {
                preset
            } else {
                match ty {
                    "child_details" => {
                        let dob = (d("2001-02-28") + chrono::Duration::days(r.below(5000) as i64))
                            .to_string();
                        json!({"date_of_birth": dob, "uasc": r.chance(25)})
                    }
                    "referral" | "case_transferred" => json!({"unit": r.pick(LEAVES)}),
                    "worker_allocated" => {
                        json!({"worker_id": r.pick(&["w1", "w2"]), "qualified": r.chance(75)})
                    }
                    "visit" => json!({"visit_type": r.pick(&["cin", "cp", "cic", "other"])}),
                    "assessment_completed" | "s47_completed" => {
                        json!({"started": earlier(&mut r), "child_seen": r.chance(80)})
                    }
                    "icpc_held" => json!({"s47_started": earlier(&mut r)}),
                    "cp_plan_ended" | "cp_review_held" => {
                        json!({"plan_id": pick_ref(&mut r, "plan")})
                    }
                    "cic_ended" => json!({"period_id": pick_ref(&mut r, "period"),
                        "reason": r.pick(&["adopted", "adopted", "sgo", "returned_home", "age_18", "other"])}),
                    "placement_started" => {
                        let mut x = json!({"period_id": pick_ref(&mut r, "period"), "placement_type": r.pick(&[
                            "foster_inhouse", "foster_relative_friend", "foster_agency", "residential",
                            "placed_for_adoption", "placed_for_adoption", "placed_with_parents", "independent_living", "other"])});
                        if r.chance(70) {
                            x["distance_miles"] =
                                json!([0.0, 19.5, 20.0, 20.000001, 35.25][r.below(5) as usize]);
                        }
                        x
                    }
                    "placement_arrangement_meeting" => {
                        json!({"placement_id": pick_ref(&mut r, "placement")})
                    }
                    "cic_review_held" => {
                        json!({"period_id": pick_ref(&mut r, "period"), "participated": r.chance(80)})
                    }
                    "health_assessment" => {
                        json!({"period_id": pick_ref(&mut r, "period"), "kind": r.pick(&["initial", "review"])})
                    }
                    "iha_referral"
                    | "dental_check"
                    | "placement_order_granted"
                    | "adoption_match" => {
                        json!({"period_id": pick_ref(&mut r, "period")})
                    }
                    "missing_ended" | "return_interview_held" => {
                        json!({"episode_id": pick_ref(&mut r, "episode")})
                    }
                    "care_leaver_contact" => {
                        if r.chance(80) {
                            json!({"in_touch": true, "accommodation_suitable": r.chance(80), "eet": r.chance(60)})
                        } else {
                            json!({"in_touch": false})
                        }
                    }
                    _ => json!({}),
                }
            };
            match ty {
                "cp_plan_started" => ids.entry("plan").or_default().push(id.clone()),
                "cic_started" => ids.entry("period").or_default().push(id.clone()),
                "placement_started" => ids.entry("placement").or_default().push(id.clone()),
                "missing_started" => ids.entry("episode").or_default().push(id.clone()),
                _ => {}
            }
            let mut v = ev(&id, ty, &child, &date, extra);
            if r.chance(40) {
                v["recorded_at"] = json!(format!(
                    "{date}T{:02}:{:02}:00+0{}:00",
                    8 + r.below(3),
                    r.below(2) * 30,
                    r.below(2)
                ));
            }
            out.push(v);
        }
    }
    for _ in 0..(children * 2) {
        n += 1;
        let id = format!("u{n}");
        let date =
            (d(r.pick(&anchors)) + chrono::Duration::days(r.below(3) as i64 - 1)).to_string();
        let unit = r.pick(LEAVES);
        if r.chance(40) {
            out.push(uev(&id, "case_audit_completed", unit, &date,
                json!({"grade": r.pick(&["outstanding", "good", "requires_improvement", "inadequate"])})));
        } else {
            out.push(uev(&id, "staffing_snapshot", unit, &date, json!({
                "establishment_fte": r.below(40) as f64 / 4.0, "caseholding_fte": r.below(40) as f64 / 4.0,
                "permanent_qsw_fte": r.below(30) as f64 / 10.0, "agency_fte": r.below(6) as f64 / 2.0})));
        }
    }
    out
}

/// Wraps the surviving `facts` in noise; the result's surviving set is `facts`
/// (apart from `revision`).
pub fn messy(facts: &[Value], seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed ^ 0x5eed);
    let mut arrivals = Vec::new();
    let mut extra = 0u64;
    for fact in facts {
        let mut fact = fact.clone();
        if rng.chance(20) {
            // Earlier revisions with another fact's content (maybe another child's).
            let final_revision = 1 + rng.below(3);
            for revision in 0..final_revision {
                if rng.chance(70) {
                    let mut wrong = facts[rng.below(facts.len() as u64) as usize].clone();
                    wrong["event_id"] = fact["event_id"].clone();
                    wrong["revision"] = json!(revision);
                    if rng.chance(20) {
                        wrong["void"] = json!(true);
                    }
                    arrivals.push(wrong);
                }
            }
            fact["revision"] = json!(final_revision);
        }
        if rng.chance(10) {
            arrivals.push(fact.clone());
        }
        arrivals.push(fact);
        if rng.chance(5) {
            // A voided extra event, its revisions in any order.
            extra += 1;
            let mut fake = facts[rng.below(facts.len() as u64) as usize].clone();
            fake["event_id"] = json!(format!("void-{seed}-{extra}"));
            fake["revision"] = json!(0);
            let mut void = fake.clone();
            void["revision"] = json!(1);
            void["void"] = json!(true);
            arrivals.push(fake);
            arrivals.push(void);
        }
    }
    // Shuffle (Fisher-Yates with the deterministic generator).
    for index in (1..arrivals.len()).rev() {
        let other = rng.below(index as u64 + 1) as usize;
        arrivals.swap(index, other);
    }
    arrivals
}
