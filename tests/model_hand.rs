//! Hand-built histories with values worked out by hand in the comments.
//!
//! Calendar used throughout (2017): Fri 25 Aug, Mon 28 Aug = bank holiday,
//! Tue 29 Aug, Wed 30, Thu 31, Fri 1 Sep, Mon 4 Sep, Tue 5 Sep.
//! Test tree: la > {north > {n-cswt, n-cic}, south > {s-cswt, s-cic}}.

mod common;
#[allow(dead_code)]
mod model;
use common::*;
use model::*;
use serde_json::json;
use std::collections::HashSet;

// ===========================================================================
// Date helpers
// ===========================================================================

#[test]
fn add_months_clamps() {
    assert_eq!(add_months(d("2016-08-31"), 6), d("2017-02-28"));
    assert_eq!(add_months(d("2016-02-29"), 12), d("2017-02-28"));
    assert_eq!(add_months(d("2017-03-31"), -1), d("2017-02-28"));
    assert_eq!(add_months(d("2017-08-14"), -12), d("2016-08-14"));
    assert_eq!(add_months(d("2017-01-15"), -13), d("2015-12-15"));
}

#[test]
fn working_days_skip_weekend_and_bank_holiday() {
    let hols: HashSet<_> = cfg().bank_holidays.into_iter().collect();
    // Fri 25 Aug: 1st working day after is Tue 29 (Sat, Sun, bank holiday Mon).
    assert_eq!(add_working_days(d("2017-08-25"), 1, &hols), d("2017-08-29"));
    assert_eq!(add_working_days(d("2017-08-25"), 3, &hols), d("2017-08-31"));
    assert_eq!(add_working_days(d("2017-08-25"), 5, &hols), d("2017-09-04"));
    // Starting on a non-working day: Sat 26 Aug + 1 = Tue 29.
    assert_eq!(add_working_days(d("2017-08-26"), 1, &hols), d("2017-08-29"));
    assert_eq!(add_working_days(d("2017-08-25"), 0, &hols), d("2017-08-25"));
    // Mon 3 Jul + 45: Jul 7 = 4th, +5 a week: Aug 25 = 39th, (28 BH), Aug 29 = 40, ... Sep 5 = 45.
    assert_eq!(
        add_working_days(d("2017-07-03"), 45, &hols),
        d("2017-09-05")
    );
}

#[test]
fn age_with_29_february_birthday() {
    // Birthdays of 2000-02-29 fall on 28 February in common years.
    assert_eq!(age_at(d("2000-02-29"), d("2017-02-27")), 16);
    assert_eq!(age_at(d("2000-02-29"), d("2017-02-28")), 17);
    assert_eq!(age_at(d("2000-02-29"), d("2016-02-28")), 15);
    assert_eq!(age_at(d("2000-02-29"), d("2016-02-29")), 16);
    assert_eq!(age_at(d("2000-02-29"), d("2000-02-29")), 0);
    assert_eq!(age_at(d("2000-03-01"), d("2000-02-29")), -1);
}

#[test]
fn windows() {
    // Month-end: whole calendar months.
    assert_eq!(
        window_range(d("2017-08-31"), Window::R12M),
        (d("2016-09-01"), d("2017-08-31"))
    );
    assert_eq!(
        window_range(d("2017-08-31"), Window::R3M),
        (d("2017-06-01"), d("2017-08-31"))
    );
    assert_eq!(
        window_range(d("2017-02-28"), Window::R12M),
        (d("2016-03-01"), d("2017-02-28"))
    );
    // Other dates: the day after the same date 12 (3) months before.
    assert_eq!(
        window_range(d("2017-08-14"), Window::R12M),
        (d("2016-08-15"), d("2017-08-14"))
    );
    // 2016-02-28 is not a month end in a leap year: 2015-02-28 + 1 day.
    assert_eq!(
        window_range(d("2016-02-28"), Window::R12M),
        (d("2015-03-01"), d("2016-02-28"))
    );
    // 2017-05-30 - 3 months = 2017-02-28 (clamped) + 1 = 2017-03-01.
    assert_eq!(
        window_range(d("2017-05-30"), Window::R3M),
        (d("2017-03-01"), d("2017-05-30"))
    );
    assert_eq!(
        window_range(d("2017-08-31"), Window::Ytd),
        (d("2017-04-01"), d("2017-08-31"))
    );
    assert_eq!(
        window_range(d("2018-03-31"), Window::Ytd),
        (d("2017-04-01"), d("2018-03-31"))
    );
    assert_eq!(
        window_range(d("2018-04-01"), Window::Ytd),
        (d("2018-04-01"), d("2018-04-01"))
    );
    assert_eq!(
        window_range(d("2017-08-14"), Window::M),
        (d("2017-08-01"), d("2017-08-14"))
    );
}

// ===========================================================================
// Revisions, duplicates, voids
// ===========================================================================

fn ids(v: &[serde_json::Value]) -> Vec<String> {
    let mut x: Vec<String> = v
        .iter()
        .map(|e| format!("{}:{}", e["event_id"], e["unit"]))
        .collect();
    x.sort();
    x
}

#[test]
fn surviving_keeps_highest_revision_and_first_duplicate() {
    let a0 = json!({"event_id": "a", "type": "referral", "child_id": "c", "date": "2017-08-01", "unit": "n-cswt"});
    let a1 = json!({"event_id": "a", "revision": 1, "type": "referral", "child_id": "c", "date": "2017-08-01", "unit": "s-cswt"});
    let a1b = json!({"event_id": "a", "revision": 1, "type": "referral", "child_id": "c", "date": "2017-08-01", "unit": "s-cic"});
    // rev 1 replaces rev 0; a later rev 0 changes nothing; a second rev 1 changes nothing.
    let out = surviving(&[a0.clone(), a1.clone(), a0.clone(), a1b.clone()]);
    assert_eq!(ids(&out), vec!["\"a\":\"s-cswt\""]);
    // Rev 1 arriving first, then rev 0: still rev 1.
    let out = surviving(&[a1b.clone(), a0.clone(), a1.clone()]);
    assert_eq!(ids(&out), vec!["\"a\":\"s-cic\""]);
}

#[test]
fn surviving_voids() {
    let r = |rev: u64, void: bool| json!({"event_id": "a", "revision": rev, "void": void, "type": "referral", "child_id": "c", "date": "2017-08-01", "unit": "n-cswt"});
    let b = referral("b", "c2", "2017-08-01", "n-cswt");
    // Void at rev 1 removes the rev 0 fact.
    assert_eq!(surviving(&[r(0, false), r(1, true), b.clone()]).len(), 1);
    // Void at rev 1 then the fact at rev 2 restores it (decision D3).
    assert_eq!(surviving(&[r(1, true), r(2, false)]).len(), 1);
    // Only ever voided: nothing.
    assert_eq!(surviving(&[r(0, true)]).len(), 0);
    // A lower-revision non-void after the void changes nothing.
    assert_eq!(surviving(&[r(1, true), r(0, false)]).len(), 0);
    // value() applies the same rules: the voided referral is not counted.
    let evs = vec![r(0, false), r(1, true), b];
    assert_eq!(
        valw(
            &evs,
            "REF-M",
            UascFilter::All,
            "la",
            "2017-08-31",
            Window::M
        ),
        (1.0, 0.0)
    );
}

/// (num, den) from the reference model, filter All, window R12M.
fn val(evs: &[serde_json::Value], ind: &str, unit: &str, date: &str) -> (f64, f64) {
    valw(evs, ind, UascFilter::All, unit, date, Window::R12M)
}

/// (num, den) from the reference model.
fn valw(
    evs: &[serde_json::Value],
    ind: &str,
    f: UascFilter,
    unit: &str,
    date: &str,
    w: Window,
) -> (f64, f64) {
    let v = value(&cfg(), evs, ind, f, unit, d(date), w);
    (v.num, v.den)
}

include!("hand/cases.rs");
