// Hand-built histories with values worked out by hand in the comments,
// shared by `model_hand.rs` (the reference model) and `engine_hand.rs`
// (the real engine through RocksDB): both must give the hand-computed values.
//
// Calendar used throughout (2017): Fri 25 Aug, Mon 28 Aug = bank holiday,
// Tue 29 Aug, Wed 30, Thu 31, Fri 1 Sep, Mon 4 Sep, Tue 5 Sep.
// Test tree: la > {north > {n-cswt, n-cic}, south > {s-cswt, s-cic}}.

// ===========================================================================
// Order within a day, responsible unit
// ===========================================================================

#[test]
fn child_details_latest_by_recorded_at_instant() {
    // Same date; "z" has recorded_at 08:00Z, "a" has 10:00+02:00 = 08:00Z... use 07:30Z for "a".
    // Order: absent recorded_at first ("m"), then a (07:30Z), then z (08:00Z). z wins: not UASC.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("cs", "cic_started", "c", "2017-01-01", json!({})),
        json!({"event_id": "z", "type": "child_details", "child_id": "c", "date": "2017-02-01",
               "recorded_at": "2017-02-01T08:00:00Z", "date_of_birth": "2010-01-01", "uasc": false}),
        json!({"event_id": "a", "type": "child_details", "child_id": "c", "date": "2017-02-01",
               "recorded_at": "2017-02-01T09:30:00+02:00", "date_of_birth": "2010-01-01", "uasc": true}),
        json!({"event_id": "m", "type": "child_details", "child_id": "c", "date": "2017-02-01",
               "date_of_birth": "2010-01-01", "uasc": true}),
    ];
    assert_eq!(valw(&evs, "UASC-N", UascFilter::All, "la", "2017-08-31", Window::Ss), (0.0, 0.0));
    assert_eq!(valw(&evs, "CIC-N", UascFilter::Exclude, "la", "2017-08-31", Window::Ss), (1.0, 0.0));
}

#[test]
fn child_details_latest_record_applies_to_all_dates() {
    // Decision D1: the record dated 2018 sets UASC true even for an as-of date
    // in 2017.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("cs", "cic_started", "c", "2017-01-01", json!({})),
        details("d1", "c", "2017-01-01", "2010-01-01", false),
        details("d2", "c", "2018-01-01", "2010-01-01", true),
    ];
    assert_eq!(valw(&evs, "UASC-N", UascFilter::All, "la", "2017-08-31", Window::Ss), (1.0, 0.0));
    assert_eq!(valw(&evs, "CIC-N", UascFilter::Only, "la", "2017-08-31", Window::Ss), (1.0, 0.0));
    assert_eq!(valw(&evs, "CIC-N", UascFilter::Exclude, "la", "2017-08-31", Window::Ss), (0.0, 0.0));
}

#[test]
fn event_id_breaks_ties_by_code_point() {
    // Same date, no recorded_at: "B" (0x42) comes before "a" (0x61), so "a" is latest.
    let evs = vec![
        ev("cs", "cic_started", "c", "2017-01-01", json!({})),
        details("a", "c", "2017-02-01", "2010-01-01", true),
        details("B", "c", "2017-02-01", "2010-01-01", false),
    ];
    assert_eq!(val(&evs, "UASC-N", "la", "2017-08-31"), (1.0, 0.0));
}

#[test]
fn responsible_unit_referral_transfer_close() {
    // 2017-01-10 referral n-cswt opens the case (unit n-cswt).
    // 2017-02-01 referral s-cswt while open: does not move the child.
    // 2017-03-01 case_closed; 2017-04-01 case_transferred to s-cic with no case open: moves the child.
    // 2017-05-01 referral s-cswt: opens a new case, unit s-cswt.
    let evs = vec![
        referral("r1", "c", "2017-01-10", "n-cswt"),
        referral("r2", "c", "2017-02-01", "s-cswt"),
        ev("cc", "case_closed", "c", "2017-03-01", json!({})),
        ev("t", "case_transferred", "c", "2017-04-01", json!({"unit": "s-cic"})),
        referral("r3", "c", "2017-05-01", "s-cswt"),
        ev("cs", "cic_started", "c", "2017-01-10", json!({})),
    ];
    let ss = |unit: &str, date: &str| valw(&evs, "CIC-N", UascFilter::All, unit, date, Window::Ss).0;
    assert_eq!(ss("n-cswt", "2017-02-15"), 1.0);
    assert_eq!(ss("s-cswt", "2017-02-15"), 0.0);
    assert_eq!(ss("n-cswt", "2017-03-15"), 1.0); // closed: the unit stays
    assert_eq!(ss("s-cic", "2017-04-01"), 1.0);
    assert_eq!(ss("s-cswt", "2017-05-01"), 1.0);
    assert_eq!(ss("south", "2017-05-01"), 1.0);
    assert_eq!(ss("north", "2017-05-01"), 0.0);
    assert_eq!(ss("la", "2017-05-01"), 1.0);
    // SCS01: open 2017-01-10..2017-03-01 and from 2017-05-01.
    let open = |date: &str| val(&evs, "SCS01", "la", date).0;
    assert_eq!(open("2017-01-09"), 0.0);
    assert_eq!(open("2017-01-10"), 1.0);
    assert_eq!(open("2017-02-28"), 1.0);
    assert_eq!(open("2017-03-01"), 0.0);
    assert_eq!(open("2017-04-30"), 0.0);
    assert_eq!(open("2017-05-01"), 1.0);
}

#[test]
fn no_responsible_unit_counts_at_root_only() {
    // In care but never referred: CIC-N and CICS-M count at "la" only.
    let evs = vec![ev("cs", "cic_started", "c", "2017-08-10", json!({}))];
    assert_eq!(val(&evs, "CIC-N", "la", "2017-08-31"), (1.0, 0.0));
    assert_eq!(val(&evs, "CIC-N", "north", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIC-N", "n-cswt", "2017-08-31"), (0.0, 0.0));
    assert_eq!(valw(&evs, "CICS-M", UascFilter::All, "la", "2017-08-31", Window::M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CICS-M", UascFilter::All, "south", "2017-08-31", Window::M), (0.0, 0.0));
}

// ===========================================================================
// SCS03, SCS02, REF-M
// ===========================================================================

#[test]
fn scs03_previous_referral_exactly_12_months() {
    // c1: referrals 2016-08-14 (n-cswt) and 2017-08-14 (s-cswt, case still open so it
    // does not move the child). R - 12 months = 2016-08-14 <= P: numerator.
    // c2: referrals 2016-08-13 and 2017-08-14: P < R - 12 months: not numerator.
    // Window at 2017-08-31: 2016-09-01..2017-08-31, so only the 2017 referrals count.
    let evs = vec![
        referral("a1", "c1", "2016-08-14", "n-cswt"),
        referral("a2", "c1", "2017-08-14", "s-cswt"),
        referral("b1", "c2", "2016-08-13", "n-cswt"),
        referral("b2", "c2", "2017-08-14", "n-cswt"),
    ];
    assert_eq!(val(&evs, "SCS03", "la", "2017-08-31"), (1.0, 2.0));
    // Counted at the referral's own unit.
    assert_eq!(val(&evs, "SCS03", "s-cswt", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "SCS03", "n-cswt", "2017-08-31"), (0.0, 1.0));
    // At 2017-08-14 (not month end) the window is 2016-08-15..2017-08-14.
    assert_eq!(val(&evs, "SCS03", "la", "2017-08-14"), (1.0, 2.0));
    // At 2017-08-13 the window 2016-08-14..2017-08-13 holds a1 only (no earlier referral).
    assert_eq!(val(&evs, "SCS03", "la", "2017-08-13"), (0.0, 1.0));
}

#[test]
fn scs03_same_day_referrals_are_not_previous() {
    // Two referrals on the same day: P < R fails both ways.
    let evs = vec![referral("a1", "c", "2017-08-14", "n-cswt"), referral("a2", "c", "2017-08-14", "n-cswt")];
    assert_eq!(val(&evs, "SCS03", "la", "2017-08-31"), (0.0, 2.0));
    assert_eq!(valw(&evs, "SCS03", UascFilter::All, "la", "2017-08-31", Window::R3M), (0.0, 2.0));
}

#[test]
fn scs02_counts_referrals_at_own_unit() {
    let evs = vec![
        referral("a1", "c1", "2016-08-31", "n-cswt"), // outside R12M of 2017-08-31
        referral("a2", "c1", "2017-08-14", "s-cswt"), // case open at n-cswt: still s-cswt here
        referral("b1", "c2", "2017-01-01", "n-cswt"),
    ];
    assert_eq!(val(&evs, "SCS02", "la", "2017-08-31"), (2.0, 0.0));
    assert_eq!(val(&evs, "SCS02", "south", "2017-08-31"), (1.0, 0.0));
    assert_eq!(val(&evs, "SCS02", "n-cswt", "2017-08-31"), (1.0, 0.0));
    assert_eq!(valw(&evs, "SCS02", UascFilter::All, "la", "2017-08-31", Window::R3M), (1.0, 0.0));
}

#[test]
fn ref_m_counts_at_responsible_unit() {
    // Decision D11: a2 is made while c1's case is open at n-cswt: REF-M counts
    // it at n-cswt.
    // c2: referral at s-cswt then a same-day case_transferred to s-cic: counted at s-cic.
    let evs = vec![
        referral("a1", "c1", "2017-07-20", "n-cswt"),
        referral("a2", "c1", "2017-08-14", "s-cswt"),
        referral("b1", "c2", "2017-08-02", "s-cswt"),
        ev("b2", "case_transferred", "c2", "2017-08-02", json!({"unit": "s-cic"})),
    ];
    let m = |unit: &str| valw(&evs, "REF-M", UascFilter::All, unit, "2017-08-31", Window::M);
    assert_eq!(m("la"), (2.0, 0.0));
    assert_eq!(m("n-cswt"), (1.0, 0.0));
    assert_eq!(m("s-cswt"), (0.0, 0.0));
    assert_eq!(m("s-cic"), (1.0, 0.0));
    // Window argument honoured: R12M includes July's referral too.
    assert_eq!(valw(&evs, "REF-M", UascFilter::All, "north", "2017-08-31", Window::R12M), (2.0, 0.0));
    // M as at 2017-08-10: only b1 so far.
    assert_eq!(valw(&evs, "REF-M", UascFilter::All, "la", "2017-08-10", Window::M), (1.0, 0.0));
}

#[test]
fn case_opened_and_closed_same_day() {
    // Referral then close on 2017-08-10 (recorded_at orders them): open on no date,
    // but the referral still counts for REF-M at its unit.
    let evs = vec![
        json!({"event_id": "z", "type": "referral", "child_id": "c", "date": "2017-08-10",
               "recorded_at": "2017-08-10T09:00:00Z", "unit": "n-cswt"}),
        json!({"event_id": "a", "type": "case_closed", "child_id": "c", "date": "2017-08-10",
               "recorded_at": "2017-08-10T10:00:00Z"}),
    ];
    assert_eq!(val(&evs, "SCS01", "la", "2017-08-10"), (0.0, 0.0));
    assert_eq!(val(&evs, "SCS01", "la", "2017-08-11"), (0.0, 0.0));
    assert_eq!(valw(&evs, "REF-M", UascFilter::All, "n-cswt", "2017-08-31", Window::M), (1.0, 0.0));
    // Without recorded_at, "a" (the close) would come first and close nothing: case open.
    let evs2 = vec![
        json!({"event_id": "z", "type": "referral", "child_id": "c", "date": "2017-08-10", "unit": "n-cswt"}),
        json!({"event_id": "a", "type": "case_closed", "child_id": "c", "date": "2017-08-10"}),
    ];
    assert_eq!(val(&evs2, "SCS01", "la", "2017-08-10"), (1.0, 0.0));
}

// ===========================================================================
// AS01, AS02, CP05, CP06
// ===========================================================================

#[test]
fn as01_45_working_days_across_bank_holiday() {
    // started Mon 2017-07-03: 45th working day after = Tue 2017-09-05 (28 Aug is a holiday).
    let a = |id: &str, child: &str, date: &str| {
        ev(id, "assessment_completed", child, date, json!({"started": "2017-07-03", "child_seen": true}))
    };
    let evs = vec![
        referral("r1", "c1", "2017-07-01", "n-cswt"),
        referral("r2", "c2", "2017-07-01", "s-cswt"),
        a("a1", "c1", "2017-09-05"), // within
        a("a2", "c2", "2017-09-06"), // not
    ];
    assert_eq!(val(&evs, "AS01", "la", "2017-09-30"), (1.0, 2.0));
    assert_eq!(val(&evs, "AS01", "north", "2017-09-30"), (1.0, 1.0));
    assert_eq!(val(&evs, "AS01", "south", "2017-09-30"), (0.0, 1.0));
    // As at 2017-08-31 neither completion is in the window yet.
    assert_eq!(val(&evs, "AS01", "la", "2017-08-31"), (0.0, 0.0));
}

#[test]
fn as02_and_cp05_child_seen() {
    let evs = vec![
        referral("r1", "c1", "2017-01-01", "n-cswt"),
        ev("a1", "assessment_completed", "c1", "2017-08-01", json!({"started": "2017-07-01", "child_seen": true})),
        ev("a2", "assessment_completed", "c1", "2017-08-02", json!({"started": "2017-07-01", "child_seen": false})),
        ev("s1", "s47_completed", "c1", "2017-08-03", json!({"started": "2017-08-01", "child_seen": false})),
        ev("s2", "s47_completed", "c1", "2016-08-31", json!({"started": "2016-08-01", "child_seen": true})), // outside
        ev("s3", "s47_completed", "c1", "2017-06-01", json!({"started": "2017-05-01", "child_seen": true})),
    ];
    assert_eq!(val(&evs, "AS02", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(val(&evs, "CP05", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(valw(&evs, "CP05", UascFilter::All, "la", "2017-08-31", Window::M), (0.0, 1.0));
    assert_eq!(val(&evs, "AS02", "south", "2017-08-31"), (0.0, 0.0));
}

#[test]
fn cp06_15_working_days() {
    // s47_started Mon 2017-08-14: 15th working day after = Tue 2017-09-05
    // (Aug 15-18 = 4, 21-25 = 9, 28 holiday, 29-31 = 12, Sep 1 = 13, Sep 4 = 14, Sep 5 = 15).
    let i = |id: &str, child: &str, date: &str| ev(id, "icpc_held", child, date, json!({"s47_started": "2017-08-14"}));
    let evs = vec![
        referral("r1", "c1", "2017-08-01", "n-cswt"),
        referral("r2", "c2", "2017-08-01", "n-cswt"),
        i("i1", "c1", "2017-09-05"),
        i("i2", "c2", "2017-09-06"),
    ];
    assert_eq!(val(&evs, "CP06", "la", "2017-09-30"), (1.0, 2.0));
    assert_eq!(valw(&evs, "CP06", UascFilter::All, "n-cswt", "2017-09-05", Window::M), (1.0, 1.0));
}

// ===========================================================================
// CP plans: SCS13, CP04, CPS-M, CPE-M, CP-N, CP01, CP02, CP03
// ===========================================================================

#[test]
fn scs13_second_plan() {
    // c1: plan 2016-01-10 (ended 2016-06-01) and plan 2017-03-01: the second counts in num.
    // c2: two plans on the same day: neither has a plan started strictly before.
    let evs = vec![
        referral("r1", "c1", "2016-01-01", "n-cswt"),
        referral("r2", "c2", "2016-01-01", "s-cswt"),
        ev("p1", "cp_plan_started", "c1", "2016-01-10", json!({})),
        ev("p1e", "cp_plan_ended", "c1", "2016-06-01", json!({"plan_id": "p1"})),
        ev("p2", "cp_plan_started", "c1", "2017-03-01", json!({})),
        ev("q1", "cp_plan_started", "c2", "2017-03-01", json!({})),
        ev("q2", "cp_plan_started", "c2", "2017-03-01", json!({})),
    ];
    assert_eq!(val(&evs, "SCS13", "la", "2017-08-31"), (1.0, 3.0));
    assert_eq!(val(&evs, "SCS13", "north", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "SCS13", "south", "2017-08-31"), (0.0, 2.0));
    // As at 2016-12-31 the window 2016-01-01..2016-12-31 holds p1 only.
    assert_eq!(val(&evs, "SCS13", "la", "2016-12-31"), (0.0, 1.0));
    // CPS-M in March 2017: p2, q1, q2.
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-03-31", Window::M), (3.0, 0.0));
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-04-30", Window::M), (0.0, 0.0));
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-08-31", Window::Ytd), (0.0, 0.0));
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-03-31", Window::Ytd), (3.0, 0.0));
}

#[test]
fn cp04_two_years_at_deregistration() {
    // a: 2015-08-31 .. 2017-08-31: S + 24 months = 2017-08-31 <= E: num (ends on the as-of date).
    // b: 2015-09-01 .. 2017-08-31: S + 24 months = 2017-09-01 > E: den only.
    // c: 2016-02-29 .. 2018-02-28: S + 24 months clamps to 2018-02-28: num.
    let evs = vec![
        referral("r", "c", "2015-01-01", "n-cswt"),
        ev("a", "cp_plan_started", "c", "2015-08-31", json!({})),
        ev("ae", "cp_plan_ended", "c", "2017-08-31", json!({"plan_id": "a"})),
        ev("b", "cp_plan_started", "c", "2015-09-01", json!({})),
        ev("be", "cp_plan_ended", "c", "2017-08-31", json!({"plan_id": "b"})),
        ev("c", "cp_plan_started", "c", "2016-02-29", json!({})),
        ev("ce", "cp_plan_ended", "c", "2018-02-28", json!({"plan_id": "c"})),
    ];
    assert_eq!(val(&evs, "CP04", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(val(&evs, "CP04", "n-cswt", "2017-08-30"), (0.0, 0.0));
    assert_eq!(val(&evs, "CP04", "la", "2018-02-28"), (2.0, 3.0));
    assert_eq!(valw(&evs, "CPE-M", UascFilter::All, "la", "2017-08-31", Window::M), (2.0, 0.0));
    // A plan ending on the as-of date is not open on it.
    assert_eq!(val(&evs, "CP-N", "la", "2017-08-30"), (1.0, 0.0));
    assert_eq!(val(&evs, "CP-N", "la", "2017-08-31"), (1.0, 0.0)); // only c still open
}

#[test]
fn plan_end_before_start_and_repeated_ends() {
    // Plan dated 2017-06-10 whose first end is dated 2017-06-01: open on no date,
    // counted by CP04/CPE-M on 2017-06-01. The second end (2017-07-01) is ignored.
    // An end naming a period id (wrong type) counts nowhere.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("cs", "cic_started", "c", "2017-01-01", json!({})),
        ev("p", "cp_plan_started", "c", "2017-06-10", json!({})),
        ev("pe1", "cp_plan_ended", "c", "2017-06-01", json!({"plan_id": "p"})),
        ev("pe2", "cp_plan_ended", "c", "2017-07-01", json!({"plan_id": "p"})),
        ev("q", "cp_plan_started", "c", "2017-06-10", json!({})),
        ev("qe", "cp_plan_ended", "c", "2017-06-20", json!({"plan_id": "cs"})),
    ];
    assert_eq!(valw(&evs, "CPE-M", UascFilter::All, "la", "2017-06-30", Window::M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CPE-M", UascFilter::All, "la", "2017-07-31", Window::M), (0.0, 0.0));
    assert_eq!(val(&evs, "CP04", "la", "2017-06-30"), (0.0, 1.0));
    // p open on no date; q is open (its "end" refers to a period).
    assert_eq!(val(&evs, "CP-N", "la", "2017-06-15"), (1.0, 0.0));
    assert_eq!(val(&evs, "CP-N", "la", "2017-08-31"), (1.0, 0.0));
    // CIC-N unaffected by the mistyped reference.
    assert_eq!(val(&evs, "CIC-N", "la", "2017-08-31"), (1.0, 0.0));
}

#[test]
fn cp_n_counts_a_child_once() {
    let evs = vec![
        referral("r", "c", "2017-01-01", "s-cswt"),
        ev("p", "cp_plan_started", "c", "2017-02-01", json!({})),
        ev("q", "cp_plan_started", "c", "2017-03-01", json!({})),
    ];
    assert_eq!(val(&evs, "CP-N", "la", "2017-03-15"), (1.0, 0.0));
    assert_eq!(val(&evs, "CP-N", "south", "2017-02-15"), (1.0, 0.0));
    assert_eq!(val(&evs, "CP-N", "north", "2017-03-15"), (0.0, 0.0));
    assert_eq!(val(&evs, "CP-N", "la", "2017-01-31"), (0.0, 0.0));
}

#[test]
fn cp01_18_months_with_clamp() {
    // Plan 2016-02-29: S + 18 months = 2017-08-29.
    let evs = vec![referral("r", "c", "2016-01-01", "n-cswt"), ev("p", "cp_plan_started", "c", "2016-02-29", json!({}))];
    assert_eq!(val(&evs, "CP01", "la", "2017-08-28"), (0.0, 1.0));
    assert_eq!(val(&evs, "CP01", "la", "2017-08-29"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP01", "la", "2016-02-28"), (0.0, 0.0));
}

#[test]
fn cp01_uses_earliest_open_plan() {
    // Two overlapping plans: 2016-01-01 (open) and 2017-06-01: the open plan is the
    // earliest-started one, so D = 2017-08-31 >= 2016-01-01 + 18 months: num.
    // After the first ends (2017-07-01) the open plan is the 2017 one: den only.
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cswt"),
        ev("p", "cp_plan_started", "c", "2016-01-01", json!({})),
        ev("q", "cp_plan_started", "c", "2017-06-01", json!({})),
    ];
    assert_eq!(val(&evs, "CP01", "la", "2017-08-31"), (1.0, 1.0));
    let mut evs2 = evs.clone();
    evs2.push(ev("pe", "cp_plan_ended", "c", "2017-07-01", json!({"plan_id": "p"})));
    assert_eq!(val(&evs2, "CP01", "la", "2017-08-31"), (0.0, 1.0));
}

#[test]
fn cp02_visits_within_10_working_days() {
    // Plan S = Mon 2017-08-14. S + 10 working days = Tue 2017-08-29 (Aug 28 holiday).
    // Visit V = Tue 2017-08-15: V + 10 working days = Wed 2017-08-30.
    // A visit before S (2017-08-10) never counts.
    let evs = vec![
        referral("r", "c", "2017-08-01", "n-cswt"),
        ev("p", "cp_plan_started", "c", "2017-08-14", json!({})),
        ev("v0", "visit", "c", "2017-08-10", json!({"visit_type": "cin"})),
        ev("v1", "visit", "c", "2017-08-15", json!({"visit_type": "other"})),
    ];
    assert_eq!(val(&evs, "CP02", "la", "2017-08-28"), (0.0, 0.0)); // not yet in den
    assert_eq!(val(&evs, "CP02", "la", "2017-08-29"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP02", "la", "2017-08-30"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP02", "la", "2017-08-31"), (0.0, 1.0));
    // A later visit (after D) does not help: V <= D.
    let mut evs2 = evs.clone();
    evs2.push(ev("v2", "visit", "c", "2017-09-01", json!({"visit_type": "cp"})));
    assert_eq!(val(&evs2, "CP02", "la", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs2, "CP02", "la", "2017-09-01"), (1.0, 1.0));
}

#[test]
fn cp03_review_chain() {
    // S = 2017-01-31; S + 3 months = 2017-04-30.
    // Review 1 on 2017-04-30 (on time). Review 2 on 2017-10-30 = R1 + 6 months (on time).
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("p", "cp_plan_started", "c", "2017-01-31", json!({})),
        ev("v1", "cp_review_held", "c", "2017-04-30", json!({"plan_id": "p"})),
    ];
    assert_eq!(val(&evs, "CP03", "la", "2017-04-29"), (0.0, 0.0)); // D < S + 3 months
    assert_eq!(val(&evs, "CP03", "la", "2017-04-30"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP03", "la", "2017-10-30"), (1.0, 1.0)); // D <= R1 + 6 months
    assert_eq!(val(&evs, "CP03", "la", "2017-10-31"), (0.0, 1.0)); // overdue
    let mut evs2 = evs.clone();
    evs2.push(ev("v2", "cp_review_held", "c", "2017-10-30", json!({"plan_id": "p"})));
    assert_eq!(val(&evs2, "CP03", "la", "2017-10-31"), (1.0, 1.0));
    assert_eq!(val(&evs2, "CP03", "la", "2018-04-30"), (1.0, 1.0));
}

#[test]
fn cp03_late_review_fails_for_rest_of_plan() {
    // First review 2017-05-01 > S + 3 months (2017-04-30): fails even after later reviews.
    // Before the first review, at D = 2017-04-30 (in den), no review yet: fails.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("p", "cp_plan_started", "c", "2017-01-31", json!({})),
        ev("v1", "cp_review_held", "c", "2017-05-01", json!({"plan_id": "p"})),
        ev("v2", "cp_review_held", "c", "2017-08-01", json!({"plan_id": "p"})),
        ev("vx", "cp_review_held", "c", "2017-04-01", json!({"plan_id": "zzz"})), // unresolved
    ];
    assert_eq!(val(&evs, "CP03", "la", "2017-04-30"), (0.0, 1.0));
    assert_eq!(val(&evs, "CP03", "la", "2017-08-31"), (0.0, 1.0));
}

// ===========================================================================
// CIN01, CIN02, SCS01
// ===========================================================================

#[test]
fn cin01_28_days() {
    // c1: case opened 2017-08-03; D = 2017-08-31: D - 28 = 2017-08-03: in den.
    //     Visit 2017-08-03: D <= V + 28 = 2017-08-31: num.
    // c2: case opened 2017-08-04: not in den at 2017-08-31.
    // c3: opened 2017-01-01, visit 2017-08-02: V + 28 = 2017-08-30 < D: den only.
    // c4: as c1 but on a CP plan: excluded. c5: as c1 but in care: excluded.
    let evs = vec![
        referral("r1", "c1", "2017-08-03", "n-cswt"),
        ev("v1", "visit", "c1", "2017-08-03", json!({"visit_type": "cin"})),
        referral("r2", "c2", "2017-08-04", "n-cswt"),
        ev("v2", "visit", "c2", "2017-08-30", json!({"visit_type": "cin"})),
        referral("r3", "c3", "2017-01-01", "s-cswt"),
        ev("v3", "visit", "c3", "2017-08-02", json!({"visit_type": "cp"})),
        referral("r4", "c4", "2017-01-01", "n-cswt"),
        ev("p4", "cp_plan_started", "c4", "2017-02-01", json!({})),
        referral("r5", "c5", "2017-01-01", "n-cswt"),
        ev("k5", "cic_started", "c5", "2017-02-01", json!({})),
    ];
    assert_eq!(val(&evs, "CIN01", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(val(&evs, "CIN01", "north", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIN01", "south", "2017-08-31"), (0.0, 1.0));
    // At 2017-08-30: c1 not yet in den (opened 27 days before), c3 seen (V + 28 = D).
    assert_eq!(val(&evs, "CIN01", "la", "2017-08-30"), (1.0, 1.0));
}

#[test]
fn cin01_current_case_is_the_reopened_one() {
    // Case 2017-01-01..2017-08-10, reopened 2017-08-20. At 2017-08-31 the current case
    // opened 2017-08-20 > D - 28 days: not in den. At 2017-09-17 (D - 28 = 2017-08-20): in den.
    let evs = vec![
        referral("r1", "c", "2017-01-01", "n-cswt"),
        ev("cc", "case_closed", "c", "2017-08-10", json!({})),
        referral("r2", "c", "2017-08-20", "n-cswt"),
        ev("v", "visit", "c", "2017-08-25", json!({"visit_type": "cin"})),
    ];
    assert_eq!(val(&evs, "CIN01", "la", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIN01", "la", "2017-09-17"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIN01", "la", "2017-09-23"), (0.0, 1.0)); // 2017-08-25 + 28 = 09-22
}

#[test]
fn cin02_unallocated_cases() {
    // c1 qualified worker: not counted. c2 unqualified: counted. c3 allocated then
    // unallocated: counted. c4 no worker: counted. c5 worker allocated before a closure
    // and reopening: still allocated (allocations outlive closure): not counted.
    // c6 closed case with no worker: not open: not counted.
    let evs = vec![
        referral("r1", "c1", "2017-01-01", "n-cswt"),
        ev("w1", "worker_allocated", "c1", "2017-01-02", json!({"worker_id": "x"})),
        referral("r2", "c2", "2017-01-01", "n-cswt"),
        ev("w2", "worker_allocated", "c2", "2017-01-02", json!({"worker_id": "y", "qualified": false})),
        referral("r3", "c3", "2017-01-01", "s-cswt"),
        ev("w3", "worker_allocated", "c3", "2017-01-02", json!({"worker_id": "x", "qualified": true})),
        ev("u3", "worker_unallocated", "c3", "2017-08-31", json!({})),
        referral("r4", "c4", "2017-01-01", "s-cswt"),
        referral("r5", "c5", "2017-01-01", "s-cswt"),
        ev("w5", "worker_allocated", "c5", "2017-01-02", json!({"worker_id": "z"})),
        ev("cc5", "case_closed", "c5", "2017-03-01", json!({})),
        referral("r5b", "c5", "2017-04-01", "s-cswt"),
        referral("r6", "c6", "2017-01-01", "s-cswt"),
        ev("cc6", "case_closed", "c6", "2017-03-01", json!({})),
    ];
    assert_eq!(val(&evs, "CIN02", "la", "2017-08-31"), (3.0, 0.0));
    assert_eq!(val(&evs, "CIN02", "north", "2017-08-31"), (1.0, 0.0));
    assert_eq!(val(&evs, "CIN02", "south", "2017-08-30"), (1.0, 0.0)); // c3 still allocated on 08-30
    assert_eq!(val(&evs, "SCS01", "la", "2017-08-31"), (5.0, 0.0));
    // On 2017-03-01 in the south: c3 and c4 open; c5 and c6 closed that day.
    assert_eq!(val(&evs, "SCS01", "south", "2017-03-01"), (2.0, 0.0));
}

#[test]
fn scs01_closure_on_as_of_date() {
    // Case closed on D is not open on D.
    let evs = vec![referral("r", "c", "2017-01-01", "n-cswt"), ev("cc", "case_closed", "c", "2017-08-31", json!({}))];
    assert_eq!(val(&evs, "SCS01", "la", "2017-08-30"), (1.0, 0.0));
    assert_eq!(val(&evs, "SCS01", "la", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "SCS01", "n-cswt", "2017-08-30"), (1.0, 0.0));
    assert_eq!(val(&evs, "SCS01", "s-cswt", "2017-08-30"), (0.0, 0.0));
}

// ===========================================================================
// Periods of care: CIC-N, UASC-N, CICS-M, CICE-M, AD01, AD03, SCS29, AD02
// ===========================================================================

#[test]
fn cic_n_and_uasc_n() {
    let evs = vec![
        referral("r1", "c1", "2017-01-01", "n-cic"),
        details("d1", "c1", "2017-01-01", "2001-01-01", true),
        ev("k1", "cic_started", "c1", "2017-02-01", json!({})),
        referral("r2", "c2", "2017-01-01", "n-cic"),
        ev("k2", "cic_started", "c2", "2017-02-01", json!({})),
        ev("k2e", "cic_ended", "c2", "2017-08-31", json!({"period_id": "k2", "reason": "returned_home"})),
    ];
    assert_eq!(val(&evs, "CIC-N", "la", "2017-08-30"), (2.0, 0.0));
    assert_eq!(val(&evs, "CIC-N", "la", "2017-08-31"), (1.0, 0.0));
    assert_eq!(val(&evs, "UASC-N", "north", "2017-08-30"), (1.0, 0.0));
    assert_eq!(valw(&evs, "UASC-N", UascFilter::Exclude, "la", "2017-08-30", Window::Ss), (0.0, 0.0));
    assert_eq!(valw(&evs, "CIC-N", UascFilter::Exclude, "la", "2017-08-30", Window::Ss), (1.0, 0.0));
    assert_eq!(val(&evs, "CIC-N", "la", "2017-01-31"), (0.0, 0.0));
}

#[test]
fn cics_cice_ad01_ad03() {
    // Four periods ending in August 2017: adopted, sgo, returned_home (c3 is UASC),
    // and c4's period which has two ends: the first (sgo, 2017-08-05) counts once.
    let end = |id: &str, child: &str, date: &str, pid: &str, reason: &str| {
        ev(id, "cic_ended", child, date, json!({"period_id": pid, "reason": reason}))
    };
    let evs = vec![
        referral("r1", "c1", "2016-01-01", "n-cic"),
        ev("k1", "cic_started", "c1", "2016-02-01", json!({})),
        end("e1", "c1", "2017-08-10", "k1", "adopted"),
        referral("r2", "c2", "2016-01-01", "s-cic"),
        ev("k2", "cic_started", "c2", "2017-08-01", json!({})),
        end("e2", "c2", "2017-08-20", "k2", "sgo"),
        referral("r3", "c3", "2016-01-01", "s-cic"),
        details("d3", "c3", "2016-01-01", "2001-01-01", true),
        ev("k3", "cic_started", "c3", "2016-02-01", json!({})),
        end("e3", "c3", "2017-08-20", "k3", "returned_home"),
        referral("r4", "c4", "2016-01-01", "s-cic"),
        ev("k4", "cic_started", "c4", "2016-02-01", json!({})),
        end("e4a", "c4", "2017-08-05", "k4", "sgo"),
        end("e4b", "c4", "2017-09-05", "k4", "adopted"),
        end("e5", "c4", "2017-08-06", "nope", "adopted"), // unresolved: counts nowhere
    ];
    let m = |ind: &str, f: UascFilter, unit: &str, date: &str| valw(&evs, ind, f, unit, date, Window::M);
    assert_eq!(m("CICE-M", UascFilter::All, "la", "2017-08-31"), (4.0, 0.0));
    assert_eq!(m("CICE-M", UascFilter::All, "la", "2017-09-30"), (0.0, 0.0));
    assert_eq!(m("CICS-M", UascFilter::All, "la", "2017-08-31"), (1.0, 0.0));
    assert_eq!(m("CICS-M", UascFilter::All, "south", "2016-02-29"), (2.0, 0.0));
    assert_eq!(val(&evs, "AD01", "la", "2017-08-31"), (1.0, 4.0));
    assert_eq!(val(&evs, "AD03", "la", "2017-08-31"), (2.0, 4.0));
    assert_eq!(valw(&evs, "AD01", UascFilter::Exclude, "la", "2017-08-31", Window::R12M), (1.0, 3.0));
    assert_eq!(valw(&evs, "AD03", UascFilter::Exclude, "south", "2017-08-31", Window::R12M), (2.0, 2.0));
    assert_eq!(valw(&evs, "AD03", UascFilter::Only, "la", "2017-08-31", Window::R12M), (0.0, 1.0));
}

#[test]
fn scs29_days_to_placed_for_adoption() {
    // c1: C = 2016-01-01, foster from C, placed_for_adoption 2016-07-01 and again 2016-08-01,
    //     ended adopted 2017-03-01: days 2016-01-01 -> 2016-07-01 = 31+29+31+30+31+30 = 182.
    // c2: ended adopted without a placed_for_adoption placement: not counted.
    // c3: placed for adoption but ended sgo: not counted.
    let pl = |id: &str, child: &str, date: &str, pid: &str, t: &str| {
        ev(id, "placement_started", child, date, json!({"period_id": pid, "placement_type": t}))
    };
    let evs = vec![
        referral("r1", "c1", "2015-12-01", "n-cic"),
        ev("k1", "cic_started", "c1", "2016-01-01", json!({})),
        pl("p1", "c1", "2016-01-01", "k1", "foster_inhouse"),
        pl("p2", "c1", "2016-07-01", "k1", "placed_for_adoption"),
        pl("p3", "c1", "2016-08-01", "k1", "placed_for_adoption"),
        ev("e1", "cic_ended", "c1", "2017-03-01", json!({"period_id": "k1", "reason": "adopted"})),
        referral("r2", "c2", "2015-12-01", "n-cic"),
        ev("k2", "cic_started", "c2", "2016-01-01", json!({})),
        pl("q1", "c2", "2016-01-01", "k2", "foster_agency"),
        ev("e2", "cic_ended", "c2", "2017-03-01", json!({"period_id": "k2", "reason": "adopted"})),
        referral("r3", "c3", "2015-12-01", "n-cic"),
        ev("k3", "cic_started", "c3", "2016-01-01", json!({})),
        pl("s1", "c3", "2016-02-01", "k3", "placed_for_adoption"),
        ev("e3", "cic_ended", "c3", "2017-03-01", json!({"period_id": "k3", "reason": "sgo"})),
    ];
    assert_eq!(val(&evs, "SCS29", "la", "2017-03-31"), (182.0, 1.0));
    assert_eq!(val(&evs, "SCS29", "n-cic", "2017-08-31"), (182.0, 1.0));
    assert_eq!(val(&evs, "SCS29", "south", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "SCS29", "la", "2017-02-28"), (0.0, 0.0));
    assert_eq!(valw(&evs, "SCS29", UascFilter::All, "la", "2017-08-31", Window::R3M), (0.0, 0.0));
}

#[test]
fn ad02_order_to_match() {
    // c1: orders 2016-05-01 and 2016-06-01, matches 2016-08-01 and 2016-09-01 (given
    //     in reverse): first order -> first match = 31 + 30 + 31 = 92 days. Ended adopted 2017-06-01.
    // c2: order but no match: not counted. c3: both but ended returned_home: not counted.
    let e = |id: &str, ty: &str, child: &str, date: &str, pid: &str| ev(id, ty, child, date, json!({"period_id": pid}));
    let evs = vec![
        referral("r1", "c1", "2016-01-01", "s-cic"),
        ev("k1", "cic_started", "c1", "2016-01-01", json!({})),
        e("m2", "adoption_match", "c1", "2016-09-01", "k1"),
        e("m1", "adoption_match", "c1", "2016-08-01", "k1"),
        e("o2", "placement_order_granted", "c1", "2016-06-01", "k1"),
        e("o1", "placement_order_granted", "c1", "2016-05-01", "k1"),
        ev("x1", "cic_ended", "c1", "2017-06-01", json!({"period_id": "k1", "reason": "adopted"})),
        referral("r2", "c2", "2016-01-01", "s-cic"),
        ev("k2", "cic_started", "c2", "2016-01-01", json!({})),
        e("o3", "placement_order_granted", "c2", "2016-05-01", "k2"),
        ev("x2", "cic_ended", "c2", "2017-06-01", json!({"period_id": "k2", "reason": "adopted"})),
        referral("r3", "c3", "2016-01-01", "s-cic"),
        ev("k3", "cic_started", "c3", "2016-01-01", json!({})),
        e("o4", "placement_order_granted", "c3", "2016-05-01", "k3"),
        e("m4", "adoption_match", "c3", "2016-06-01", "k3"),
        ev("x3", "cic_ended", "c3", "2017-06-01", json!({"period_id": "k3", "reason": "returned_home"})),
    ];
    assert_eq!(val(&evs, "AD02", "la", "2017-08-31"), (92.0, 1.0));
    assert_eq!(val(&evs, "AD02", "south", "2017-06-01"), (92.0, 1.0));
    assert_eq!(val(&evs, "AD02", "north", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "AD02", "la", "2017-05-31"), (0.0, 0.0));
}

// ===========================================================================
// CIC03, CIC04, CIC08
// ===========================================================================

#[test]
fn cic03_meeting_within_5_working_days_even_after_as_of_date() {
    // Placements on Fri 2017-08-25: + 5 working days = Mon 2017-09-04.
    // p1: meeting 2017-09-04 (after the as-of date 2017-08-31, still counts: decision D10).
    // p2: meeting 2017-09-05: late. p3: meeting 2017-08-01 (before: no lower bound): counts.
    // p4: its period_id is unresolved: counts nowhere; its meeting neither.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2017-08-01", json!({})),
        ev("p1", "placement_started", "c", "2017-08-25", json!({"period_id": "k", "placement_type": "residential"})),
        ev("p2", "placement_started", "c", "2017-08-25", json!({"period_id": "k", "placement_type": "residential"})),
        ev("p3", "placement_started", "c", "2017-08-25", json!({"period_id": "k", "placement_type": "other"})),
        ev("p4", "placement_started", "c", "2017-08-25", json!({"period_id": "zz", "placement_type": "other"})),
        ev("m1", "placement_arrangement_meeting", "c", "2017-09-04", json!({"placement_id": "p1"})),
        ev("m2", "placement_arrangement_meeting", "c", "2017-09-05", json!({"placement_id": "p2"})),
        ev("m3", "placement_arrangement_meeting", "c", "2017-08-01", json!({"placement_id": "p3"})),
        ev("m4", "placement_arrangement_meeting", "c", "2017-08-25", json!({"placement_id": "p4"})),
    ];
    assert_eq!(val(&evs, "CIC03", "la", "2017-08-31"), (2.0, 3.0));
    assert_eq!(valw(&evs, "CIC03", UascFilter::All, "n-cic", "2017-08-31", Window::M), (2.0, 3.0));
    assert_eq!(val(&evs, "CIC03", "south", "2017-08-31"), (0.0, 0.0));
}

#[test]
fn cic03_meeting_of_another_child_does_not_count() {
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2017-08-01", json!({})),
        ev("p1", "placement_started", "c", "2017-08-01", json!({"period_id": "k", "placement_type": "residential"})),
        ev("m1", "placement_arrangement_meeting", "other", "2017-08-02", json!({"placement_id": "p1"})),
    ];
    assert_eq!(val(&evs, "CIC03", "la", "2017-08-31"), (0.0, 1.0));
}

#[test]
fn cic04_participation() {
    let r = |id: &str, date: &str, p: bool| ev(id, "cic_review_held", "c", date, json!({"period_id": "k", "participated": p}));
    let evs = vec![
        referral("rf", "c", "2016-01-01", "s-cic"),
        ev("k", "cic_started", "c", "2016-01-01", json!({})),
        r("a", "2016-08-31", true), // outside R12M of 2017-08-31
        r("b", "2016-09-01", false),
        r("c", "2017-08-31", true),
        ev("x", "cic_review_held", "c", "2017-08-01", json!({"period_id": "nope", "participated": true})),
    ];
    assert_eq!(val(&evs, "CIC04", "la", "2017-08-31"), (1.0, 2.0));
    // As at 2017-08-30 the window is 2016-08-31..2017-08-30: a (participated) and b.
    assert_eq!(val(&evs, "CIC04", "south", "2017-08-30"), (1.0, 2.0));
    assert_eq!(valw(&evs, "CIC04", UascFilter::All, "la", "2017-08-31", Window::M), (1.0, 1.0));
}

#[test]
fn cic08_iha_referral_window_has_a_lower_bound() {
    // Periods started Fri 2017-08-25: iha referral must be in [2017-08-25, 2017-09-04].
    // c1: 2017-09-04: num. c2: 2017-08-24 (before C): not. c3: 2017-09-05: not. c4: 2017-08-25: num.
    let mk = |c: &str, iha: &str| {
        vec![
            referral(&format!("r{c}"), c, "2017-01-01", "n-cic"),
            ev(&format!("k{c}"), "cic_started", c, "2017-08-25", json!({})),
            ev(&format!("i{c}"), "iha_referral", c, iha, json!({"period_id": format!("k{c}")})),
        ]
    };
    let mut evs = Vec::new();
    evs.extend(mk("c1", "2017-09-04"));
    evs.extend(mk("c2", "2017-08-24"));
    evs.extend(mk("c3", "2017-09-05"));
    evs.extend(mk("c4", "2017-08-25"));
    assert_eq!(val(&evs, "CIC08", "la", "2017-08-31"), (2.0, 4.0));
    assert_eq!(val(&evs, "CIC08", "la", "2017-08-24"), (0.0, 0.0));
}

// ===========================================================================
// SCS08, MIS02
// ===========================================================================

#[test]
fn scs08_mis02_return_interviews() {
    // Episodes ended Fri 2017-08-25 (R); R + 3 working days = Thu 2017-08-31.
    // c1 (aged 10): interview 2017-08-31: SCS08 and MIS02 num.
    // c2 (aged 10): interview 2017-09-01: SCS08 num only.
    // c3 (18 at the episode start: dob 1999-08-20, start 2017-08-20): excluded.
    // c4 (no child_details: age unknown): excluded.
    // c5 (aged 10): no interview: den only. A second end of c5's episode is ignored.
    let mk = |c: &str, dob: Option<&str>, interview: Option<&str>| {
        let mut v = vec![
            referral(&format!("r{c}"), c, "2017-01-01", "s-cswt"),
            ev(&format!("m{c}"), "missing_started", c, "2017-08-20", json!({})),
            ev(&format!("e{c}"), "missing_ended", c, "2017-08-25", json!({"episode_id": format!("m{c}")})),
        ];
        if let Some(dob) = dob {
            v.push(details(&format!("d{c}"), c, "2017-01-01", dob, false));
        }
        if let Some(i) = interview {
            v.push(ev(&format!("i{c}"), "return_interview_held", c, i, json!({"episode_id": format!("m{c}")})));
        }
        v
    };
    let mut evs = Vec::new();
    evs.extend(mk("c1", Some("2007-01-01"), Some("2017-08-31")));
    evs.extend(mk("c2", Some("2007-01-01"), Some("2017-09-01")));
    evs.extend(mk("c3", Some("1999-08-20"), Some("2017-08-26")));
    evs.extend(mk("c4", None, Some("2017-08-26")));
    evs.extend(mk("c5", Some("2007-01-01"), None));
    evs.push(ev("e5b", "missing_ended", "c5", "2017-09-02", json!({"episode_id": "mc5"})));
    assert_eq!(val(&evs, "SCS08", "la", "2017-08-31"), (2.0, 3.0));
    assert_eq!(val(&evs, "MIS02", "la", "2017-08-31"), (1.0, 3.0));
    assert_eq!(valw(&evs, "SCS08", UascFilter::All, "south", "2017-09-30", Window::M), (0.0, 0.0));
    assert_eq!(val(&evs, "MIS02", "north", "2017-08-31"), (0.0, 0.0));
}

#[test]
fn scs08_age_17_at_start_counts_even_if_18_at_end() {
    // dob 1999-08-21: 17 on 2017-08-20 (episode start), 18 from 2017-08-21 (before the end).
    let evs = vec![
        details("d", "c", "2017-01-01", "1999-08-21", false),
        ev("m", "missing_started", "c", "2017-08-20", json!({})),
        ev("e", "missing_ended", "c", "2017-08-25", json!({"episode_id": "m"})),
    ];
    // No referral: counted at the root only.
    assert_eq!(val(&evs, "SCS08", "la", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "SCS08", "north", "2017-08-31"), (0.0, 0.0));
}

// ===========================================================================
// CL01, CL02, SCS34, SCS37
// ===========================================================================

#[test]
fn care_leaver_contacts() {
    let c = |id: &str, date: &str, extra: serde_json::Value| ev(id, "care_leaver_contact", "c", date, extra);
    let evs = vec![
        referral("r", "c", "2016-01-01", "s-cic"),
        c("a", "2017-08-01", json!({"in_touch": true, "accommodation_suitable": true, "eet": false})),
        c("b", "2017-07-01", json!({"in_touch": true, "accommodation_suitable": false, "eet": true})),
        c("x", "2017-06-01", json!({"in_touch": false})),
        c("y", "2016-08-31", json!({"in_touch": true, "accommodation_suitable": true, "eet": true})), // outside
    ];
    assert_eq!(val(&evs, "CL01", "la", "2017-08-31"), (2.0, 3.0));
    assert_eq!(val(&evs, "CL02", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(val(&evs, "SCS34", "south", "2017-08-31"), (1.0, 2.0));
    assert_eq!(valw(&evs, "CL02", UascFilter::All, "la", "2017-08-31", Window::M), (1.0, 1.0));
    assert_eq!(valw(&evs, "SCS34", UascFilter::All, "la", "2017-08-31", Window::M), (0.0, 1.0));
    assert_eq!(val(&evs, "CL01", "north", "2017-08-31"), (0.0, 0.0));
}

#[test]
fn scs37_audits_by_own_unit_ignore_filter() {
    let a = |id: &str, unit: &str, date: &str, g: &str| uev(id, "case_audit_completed", unit, date, json!({"grade": g}));
    let mut with_child = a("a5", "n-cswt", "2017-08-02", "outstanding");
    with_child["child_id"] = json!("c");
    let evs = vec![
        details("d", "c", "2017-01-01", "2010-01-01", true),
        a("a1", "n-cswt", "2017-08-01", "good"),
        a("a2", "n-cswt", "2017-08-01", "requires_improvement"),
        a("a3", "s-cswt", "2017-08-01", "inadequate"),
        a("a4", "s-cic", "2016-08-31", "good"), // outside
        with_child,
    ];
    assert_eq!(val(&evs, "SCS37", "la", "2017-08-31"), (2.0, 4.0));
    assert_eq!(val(&evs, "SCS37", "north", "2017-08-31"), (2.0, 3.0));
    assert_eq!(valw(&evs, "SCS37", UascFilter::Only, "la", "2017-08-31", Window::R12M), (2.0, 4.0));
    assert_eq!(valw(&evs, "SCS37", UascFilter::Exclude, "south", "2017-08-31", Window::R12M), (0.0, 1.0));
}

// ===========================================================================
// CIC01
// ===========================================================================

#[test]
fn cic01_three_placements_in_12_months() {
    // Window as at 2017-08-31: 2016-09-01..2017-08-31.
    // Period k1 (2016-01-01 .. 2016-12-01): placements a 2016-01-01 (ends at b's start 2016-09-01:
    //   [2016-01-01, 2016-09-01) does not overlap: e = window start), b 2016-09-01 (ends at the period end).
    // Period k2 (2017-01-01, open): c 2017-01-01, d 2017-03-01 and e 2017-03-01 (d replaced the
    //   day it started: empty interval), f 2017-09-01 (after D: does not overlap).
    // Overlapping, non-empty: b, c, e = 3 -> num.
    let pl = |id: &str, date: &str, pid: &str| {
        ev(id, "placement_started", "c", date, json!({"period_id": pid, "placement_type": "foster_agency"}))
    };
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        ev("k1", "cic_started", "c", "2016-01-01", json!({})),
        pl("a", "2016-01-01", "k1"),
        pl("b", "2016-09-01", "k1"),
        ev("k1e", "cic_ended", "c", "2016-12-01", json!({"period_id": "k1", "reason": "returned_home"})),
        ev("k2", "cic_started", "c", "2017-01-01", json!({})),
        pl("c", "2017-01-01", "k2"),
        pl("d", "2017-03-01", "k2"),
        pl("e", "2017-03-01", "k2"),
        pl("f", "2017-09-01", "k2"),
    ];
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-31"), (1.0, 1.0));
    // As at 2017-08-30 the window is 2016-08-31..2017-08-30: a overlaps too (4 -> num).
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-30"), (1.0, 1.0));
    // As at 2017-12-31 the window starts 2017-01-01: c, e, f = 3 -> num.
    assert_eq!(val(&evs, "CIC01", "la", "2017-12-31"), (1.0, 1.0));
    // As at 2018-03-31 (window from 2017-04-01): e ends 2017-09-01 > start: e, f = 2 -> den only.
    assert_eq!(val(&evs, "CIC01", "la", "2018-03-31"), (0.0, 1.0));
    // Between periods (2016-12-15) the child is not in care: nothing.
    assert_eq!(val(&evs, "CIC01", "la", "2016-12-15"), (0.0, 0.0));
}

#[test]
fn cic01_two_placements_is_not_enough() {
    let pl = |id: &str, date: &str| {
        ev(id, "placement_started", "c", date, json!({"period_id": "k", "placement_type": "residential"}))
    };
    let evs = vec![
        referral("r", "c", "2017-01-01", "s-cic"),
        ev("k", "cic_started", "c", "2017-01-01", json!({})),
        pl("a", "2017-01-01"),
        pl("b", "2017-02-01"),
    ];
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "CIC01", "south", "2017-08-31"), (0.0, 1.0));
}

// ===========================================================================
// SCS18, SCS19, CIC02
// ===========================================================================

fn scs18_child(c: &str, dob: Option<&str>, period: &str, placements: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let mut v = vec![
        referral(&format!("r{c}"), c, "2014-01-01", "n-cic"),
        ev(&format!("k{c}"), "cic_started", c, period, json!({})),
    ];
    if let Some(dob) = dob {
        v.push(details(&format!("d{c}"), c, "2014-01-01", dob, false));
    }
    for (i, (date, t)) in placements.iter().enumerate() {
        v.push(ev(&format!("p{c}{i}"), "placement_started", c, date,
                  json!({"period_id": format!("k{c}"), "placement_type": t})));
    }
    v
}

#[test]
fn scs18_two_and_a_half_years() {
    // D = 2017-08-31: D - 30 months = 2015-02-28, D - 24 months = 2015-08-31.
    let mut evs = Vec::new();
    // c1: period 2015-02-28, placement 2015-08-31: num.
    evs.extend(scs18_child("c1", Some("2002-01-01"), "2015-02-28", &[("2015-08-31", "foster_inhouse")]));
    // c2: placement 2015-09-01: den only.
    evs.extend(scs18_child("c2", Some("2002-01-01"), "2015-02-28", &[("2015-09-01", "foster_inhouse")]));
    // c3: period 2015-03-01 > D - 30 months: out.
    evs.extend(scs18_child("c3", Some("2002-01-01"), "2015-03-01", &[("2015-03-01", "foster_inhouse")]));
    // c4: placed for adoption 2016-05-01, the placement before it started 2015-08-31: num.
    evs.extend(scs18_child("c4", Some("2010-01-01"), "2015-01-01",
        &[("2015-01-01", "residential"), ("2015-08-31", "foster_agency"), ("2016-05-01", "placed_for_adoption")]));
    // c5: 16 on D (dob 2001-08-31): out. c6: no child_details: out.
    evs.extend(scs18_child("c5", Some("2001-08-31"), "2015-01-01", &[("2015-01-01", "foster_inhouse")]));
    evs.extend(scs18_child("c6", None, "2015-01-01", &[("2015-01-01", "foster_inhouse")]));
    // c7: no placement at all: den only.
    evs.extend(scs18_child("c7", Some("2002-01-01"), "2015-01-01", &[]));
    assert_eq!(val(&evs, "SCS18", "la", "2017-08-31"), (2.0, 4.0));
    // As at 2017-08-30, c5 is 15: D - 24 months = 2015-08-30, D - 30 months = 2015-02-28.
    // c1: placement 2015-08-31 > 2015-08-30: den only; c4: the placement before the
    // adoption one started 2015-08-31: den only; c5: num.
    assert_eq!(val(&evs, "SCS18", "la", "2017-08-30"), (1.0, 5.0));
}

#[test]
fn scs18_placed_for_adoption_uses_only_the_immediately_preceding_placement() {
    // Placements: 2014-01-01 residential, 2014-02-28 foster_agency, 2016-01-01 placed_for_adoption.
    // 29 Feb birthday: dob 2000-02-29: aged 15 on 2016-02-28, 16 on 2016-02-29.
    let evs = scs18_child("c", Some("2000-02-29"), "2013-06-01",
        &[("2014-01-01", "residential"), ("2014-02-28", "foster_agency"), ("2016-01-01", "placed_for_adoption")]);
    // D = 2016-02-28: D - 24 months = 2014-02-28; preceding placement started 2014-02-28: num.
    assert_eq!(val(&evs, "SCS18", "la", "2016-02-28"), (1.0, 1.0));
    // D = 2016-02-29: the child is 16: out.
    assert_eq!(val(&evs, "SCS18", "la", "2016-02-29"), (0.0, 0.0));
    // D = 2015-12-31: current placement foster_agency 2014-02-28 > D - 24 = 2013-12-31: den only.
    assert_eq!(val(&evs, "SCS18", "la", "2015-12-31"), (0.0, 1.0));
}

#[test]
fn scs19_and_cic02_current_placement() {
    let pl = |id: &str, c: &str, date: &str, t: &str, miles: Option<f64>| {
        let mut x = json!({"period_id": format!("k{c}"), "placement_type": t});
        if let Some(m) = miles {
            x["distance_miles"] = json!(m);
        }
        ev(id, "placement_started", c, date, x)
    };
    let start = |c: &str, uasc: bool| {
        vec![
            referral(&format!("r{c}"), c, "2017-01-01", "n-cic"),
            details(&format!("d{c}"), c, "2017-01-01", "2005-01-01", uasc),
            ev(&format!("k{c}"), "cic_started", c, "2017-01-01", json!({})),
        ]
    };
    let mut evs = Vec::new();
    evs.extend(start("c1", false));
    evs.push(pl("a", "c1", "2017-01-01", "foster_inhouse", Some(20.0)));
    evs.extend(start("c2", false));
    evs.push(pl("b", "c2", "2017-01-01", "foster_agency", Some(20.5)));
    evs.extend(start("c3", true));
    evs.push(pl("c", "c3", "2017-01-01", "foster_relative_friend", Some(3.0)));
    evs.extend(start("c4", false));
    evs.push(pl("d", "c4", "2017-01-01", "residential", None));
    // c5: foster placement ended by the period's end on 2017-08-01: no longer in care.
    evs.extend(start("c5", false));
    evs.push(pl("e", "c5", "2017-01-01", "foster_inhouse", Some(1.0)));
    evs.push(ev("x5", "cic_ended", "c5", "2017-08-01", json!({"period_id": "kc5", "reason": "other"})));
    // c6: in care, placement starts after D: no current placement.
    evs.extend(start("c6", false));
    evs.push(pl("f", "c6", "2017-09-01", "foster_inhouse", Some(1.0)));
    assert_eq!(val(&evs, "SCS19", "la", "2017-08-31"), (2.0, 3.0));
    assert_eq!(valw(&evs, "SCS19", UascFilter::Exclude, "la", "2017-08-31", Window::Ss), (1.0, 2.0));
    assert_eq!(val(&evs, "CIC02", "la", "2017-08-31"), (2.0, 3.0));
    assert_eq!(valw(&evs, "CIC02", UascFilter::Exclude, "la", "2017-08-31", Window::Ss), (1.0, 2.0));
    assert_eq!(val(&evs, "SCS19", "la", "2017-07-31"), (3.0, 4.0));
    assert_eq!(val(&evs, "CIC02", "south", "2017-07-31"), (0.0, 0.0));
}

// ===========================================================================
// CIC05, CIC06, CIC07, CIC09
// ===========================================================================

#[test]
fn cic05_review_chain_across_bank_holiday() {
    // C = Mon 2017-08-07: + 20 working days = Tue 2017-09-05 (28 Aug holiday).
    // Review 1 on 2017-09-05 (on time). Single review: not overdue while D <= R1 + 3 months = 2017-12-05.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2017-08-07", json!({})),
        ev("v1", "cic_review_held", "c", "2017-09-05", json!({"period_id": "k", "participated": true})),
    ];
    assert_eq!(val(&evs, "CIC05", "la", "2017-09-04"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIC05", "la", "2017-09-05"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIC05", "la", "2017-12-05"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIC05", "la", "2017-12-06"), (0.0, 1.0));
    // Second review on 2017-12-05 (= R1 + 3 months): on time; now + 6 months.
    let mut evs2 = evs.clone();
    evs2.push(ev("v2", "cic_review_held", "c", "2017-12-05", json!({"period_id": "k", "participated": false})));
    assert_eq!(val(&evs2, "CIC05", "la", "2017-12-06"), (1.0, 1.0));
    assert_eq!(val(&evs2, "CIC05", "la", "2018-06-05"), (1.0, 1.0));
    assert_eq!(val(&evs2, "CIC05", "la", "2018-06-06"), (0.0, 1.0));
    // Third review on 2018-06-05 (R2 + 6): fine; at 2018-06-06 the chain holds again.
    let mut evs3 = evs2.clone();
    evs3.push(ev("v3", "cic_review_held", "c", "2018-06-05", json!({"period_id": "k", "participated": true})));
    assert_eq!(val(&evs3, "CIC05", "la", "2018-06-06"), (1.0, 1.0));
}

#[test]
fn cic05_late_first_or_second_review_fails() {
    // First review 2017-09-06 > C + 20 working days: fails forever.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2017-08-07", json!({})),
        ev("v1", "cic_review_held", "c", "2017-09-06", json!({"period_id": "k", "participated": true})),
        ev("v2", "cic_review_held", "c", "2017-10-01", json!({"period_id": "k", "participated": true})),
    ];
    assert_eq!(val(&evs, "CIC05", "la", "2017-10-31"), (0.0, 1.0));
    // On time first review 2017-08-10, second 2017-11-11 > 2017-08-10 + 3 months = 2017-11-10.
    let evs2 = vec![
        referral("r", "c", "2017-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2017-08-07", json!({})),
        ev("v1", "cic_review_held", "c", "2017-08-10", json!({"period_id": "k", "participated": true})),
        ev("v2", "cic_review_held", "c", "2017-11-11", json!({"period_id": "k", "participated": true})),
    ];
    assert_eq!(val(&evs2, "CIC05", "la", "2017-11-10"), (1.0, 1.0));
    assert_eq!(val(&evs2, "CIC05", "la", "2017-11-11"), (0.0, 1.0));
}

#[test]
fn cic06_dental_check_exactly_12_months() {
    // C = 2016-08-31: as at 2017-08-31, D - 12 months = 2016-08-31 >= C: in den.
    // Dental check 2016-08-31: D <= V + 12 months = 2017-08-31: num. At 2017-09-01: den only.
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2016-08-31", json!({})),
        ev("x", "dental_check", "c", "2016-08-31", json!({"period_id": "k"})),
    ];
    assert_eq!(val(&evs, "CIC06", "la", "2017-08-30"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIC06", "la", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIC06", "la", "2017-09-01"), (0.0, 1.0));
}

#[test]
fn cic06_leap_day_start_uses_d_minus_12_months() {
    // C = 2016-02-29; as at 2017-02-28: D - 12 months = 2016-02-28 < C: not in den
    // (the condition is C <= D - 12 months, clamped: docs/scorecard.md),
    // even though C + 12 months = 2017-02-28. As at 2017-03-01: in den.
    // Dental check 2016-03-01: at 2017-03-01, V + 12 = 2017-03-01 >= D: num.
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2016-02-29", json!({})),
        ev("x", "dental_check", "c", "2016-03-01", json!({"period_id": "k"})),
        ev("y", "dental_check", "c", "2017-04-01", json!({"period_id": "other"})),
    ];
    assert_eq!(val(&evs, "CIC06", "la", "2017-02-28"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIC06", "la", "2017-03-01"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIC06", "la", "2017-04-02"), (0.0, 1.0));
}

#[test]
fn cic07_health_assessments() {
    // C = Mon 2017-08-07: C + 20 working days = 2017-09-05.
    // c1: initial on 2017-09-05: num while D <= L + 12 months (age 10).
    // c2: initial on 2017-09-06: late: den only.
    // c3: age unknown, initial 2017-08-08: "otherwise" branch, 12 months.
    let mk = |c: &str, dob: Option<&str>, initial: &str| {
        let mut v = vec![
            referral(&format!("r{c}"), c, "2017-01-01", "n-cic"),
            ev(&format!("k{c}"), "cic_started", c, "2017-08-07", json!({})),
            ev(&format!("h{c}"), "health_assessment", c, initial, json!({"period_id": format!("k{c}"), "kind": "initial"})),
        ];
        if let Some(dob) = dob {
            v.push(details(&format!("d{c}"), c, "2017-01-01", dob, false));
        }
        v
    };
    let mut evs = Vec::new();
    evs.extend(mk("c1", Some("2007-01-01"), "2017-09-05"));
    evs.extend(mk("c2", Some("2007-01-01"), "2017-09-06"));
    evs.extend(mk("c3", None, "2017-08-08"));
    assert_eq!(val(&evs, "CIC07", "la", "2017-09-04"), (0.0, 0.0));
    // As at 2017-09-05 c2's initial is dated after D: not yet; c1 and c3 fine.
    assert_eq!(val(&evs, "CIC07", "la", "2017-09-05"), (2.0, 3.0));
    assert_eq!(val(&evs, "CIC07", "la", "2017-09-30"), (2.0, 3.0));
    // c3: L = 2017-08-08, L + 12 months = 2018-08-08; c1: L + 12 = 2018-09-05.
    assert_eq!(val(&evs, "CIC07", "la", "2018-08-09"), (1.0, 3.0));
    assert_eq!(val(&evs, "CIC07", "la", "2018-09-06"), (0.0, 3.0));
}

#[test]
fn cic07_under_five_with_29_february_birthday() {
    // dob 2012-02-29: fifth birthday falls on 2017-02-28.
    // C = 2016-06-01 (Wed), initial 2016-06-02, review 2016-08-26 (L): L + 6 months = 2017-02-26.
    // As at 2017-02-27: aged 4 -> 6 months -> overdue: den only.
    // As at 2017-02-28: aged 5 -> 12 months -> 2017-08-26: num.
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        details("d", "c", "2016-01-01", "2012-02-29", false),
        ev("k", "cic_started", "c", "2016-06-01", json!({})),
        ev("h1", "health_assessment", "c", "2016-06-02", json!({"period_id": "k", "kind": "initial"})),
        ev("h2", "health_assessment", "c", "2016-08-26", json!({"period_id": "k", "kind": "review"})),
    ];
    assert_eq!(val(&evs, "CIC07", "la", "2017-02-26"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIC07", "la", "2017-02-27"), (0.0, 1.0));
    assert_eq!(val(&evs, "CIC07", "la", "2017-02-28"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIC07", "la", "2017-08-27"), (0.0, 1.0));
}

#[test]
fn cic09_same_worker_for_12_months() {
    // C = 2016-02-29; as at 2017-08-29, D - 18 months = 2016-02-29: in den; D - 12 = 2016-08-29.
    // c1: w1 allocated 2016-08-29 and re-allocated 2017-01-01: continuous since 2016-08-29: num.
    // c2: w1 2016-08-29 then w2 2017-01-01: den only.
    // c3: w1 2016-01-01, unallocated 2016-10-01, w1 again 2016-10-02: since 2016-10-02: den only.
    // c4: w1 2016-01-01 then unallocated 2017-08-29: nobody holds it at D: den only.
    let mk = |c: &str, workers: &[(&str, Option<&str>)]| {
        let mut v = vec![
            referral(&format!("r{c}"), c, "2016-01-01", "s-cic"),
            ev(&format!("k{c}"), "cic_started", c, "2016-02-29", json!({})),
        ];
        for (i, (date, w)) in workers.iter().enumerate() {
            v.push(match w {
                Some(w) => ev(&format!("w{c}{i}"), "worker_allocated", c, date, json!({"worker_id": w, "qualified": false})),
                None => ev(&format!("w{c}{i}"), "worker_unallocated", c, date, json!({})),
            });
        }
        v
    };
    let mut evs = Vec::new();
    evs.extend(mk("c1", &[("2016-08-29", Some("w1")), ("2017-01-01", Some("w1"))]));
    evs.extend(mk("c2", &[("2016-08-29", Some("w1")), ("2017-01-01", Some("w2"))]));
    evs.extend(mk("c3", &[("2016-01-01", Some("w1")), ("2016-10-01", None), ("2016-10-02", Some("w1"))]));
    evs.extend(mk("c4", &[("2016-01-01", Some("w1")), ("2017-08-29", None)]));
    assert_eq!(val(&evs, "CIC09", "la", "2017-08-29"), (1.0, 4.0));
    assert_eq!(val(&evs, "CIC09", "la", "2017-08-28"), (0.0, 0.0)); // D - 18 months = 2016-02-28 < C
    // As at 2017-10-02: c3 continuous since 2016-10-02 = D - 12 months: num; c1 num.
    assert_eq!(val(&evs, "CIC09", "south", "2017-10-02"), (2.0, 4.0));
}

// ===========================================================================
// Staffing and caseloads: SCS40, SCS41, SCS43, SCS42
// ===========================================================================

fn snap(id: &str, unit: &str, date: &str, est: f64, ch: f64, pq: f64, ag: f64) -> serde_json::Value {
    uev(id, "staffing_snapshot", unit, date, json!({"establishment_fte": est, "caseholding_fte": ch,
        "permanent_qsw_fte": pq, "agency_fte": ag}))
}

#[test]
fn scs40_scs41_latest_snapshot_per_leaf() {
    // n-cswt: 2017-08-01 (10, 8, 7, 2) then 2017-09-01 (12, ...): as at 2017-08-31 the August one.
    // n-cic: 2017-08-15 (5, 4, 5, 0). s-cswt: two on 2017-08-10, recorded_at decides: the later
    // instant (09:00Z, written as 10:00+01:00) is (4, 4, 1, 3); the earlier one (08:30Z) is (6, 6, 6, 0).
    let mut s1 = snap("z", "s-cswt", "2017-08-10", 6.0, 6.0, 6.0, 0.0);
    s1["recorded_at"] = json!("2017-08-10T08:30:00Z");
    let mut s2 = snap("a", "s-cswt", "2017-08-10", 4.0, 4.0, 1.0, 3.0);
    s2["recorded_at"] = json!("2017-08-10T10:00:00+01:00");
    let evs = vec![
        snap("n1", "n-cswt", "2017-08-01", 10.0, 8.0, 7.0, 2.0),
        snap("n2", "n-cswt", "2017-09-01", 12.0, 8.0, 9.0, 1.0),
        snap("c1", "n-cic", "2017-08-15", 5.0, 4.0, 5.0, 0.0),
        s1,
        s2,
    ];
    assert_eq!(val(&evs, "SCS40", "north", "2017-08-31"), (12.0, 15.0));
    assert_eq!(val(&evs, "SCS41", "north", "2017-08-31"), (2.0, 15.0));
    assert_eq!(val(&evs, "SCS40", "la", "2017-08-31"), (13.0, 19.0));
    assert_eq!(val(&evs, "SCS41", "south", "2017-08-31"), (3.0, 4.0));
    assert_eq!(val(&evs, "SCS40", "la", "2017-09-01"), (15.0, 21.0));
    assert_eq!(val(&evs, "SCS40", "n-cic", "2017-08-14"), (0.0, 0.0)); // no snapshot yet
    assert_eq!(val(&evs, "SCS41", "la", "2017-07-31"), (0.0, 0.0));
    // Filter is ignored.
    assert_eq!(valw(&evs, "SCS40", UascFilter::Only, "la", "2017-08-31", Window::Ss), (13.0, 19.0));
}

#[test]
fn scs43_scs42_caseloads() {
    // Open cases at D = 2017-08-31: n-cswt: c1, c2 (UASC), c3; s-cswt: c4 (no snapshot: ignored);
    // n-cic: c5; c6's case at n-cswt closed 2017-08-31: not open.
    // Snapshots: n-cswt caseholding 2.5; n-cic caseholding 1.5; s-cic caseholding 3 (no open cases).
    let evs = vec![
        referral("r1", "c1", "2017-01-01", "n-cswt"),
        referral("r2", "c2", "2017-01-01", "n-cswt"),
        details("d2", "c2", "2017-01-01", "2005-01-01", true),
        referral("r3", "c3", "2017-01-01", "s-cswt"),
        ev("t3", "case_transferred", "c3", "2017-02-01", json!({"unit": "n-cswt"})),
        referral("r4", "c4", "2017-01-01", "s-cswt"),
        referral("r5", "c5", "2017-01-01", "n-cic"),
        referral("r6", "c6", "2017-01-01", "n-cswt"),
        ev("x6", "case_closed", "c6", "2017-08-31", json!({})),
        snap("sn", "n-cswt", "2017-01-01", 4.0, 2.5, 3.0, 1.0),
        snap("sc", "n-cic", "2017-01-01", 2.0, 1.5, 2.0, 0.0),
        snap("ss", "s-cic", "2017-01-01", 3.0, 3.0, 3.0, 0.0),
    ];
    assert_eq!(val(&evs, "SCS43", "la", "2017-08-31"), (3.0, 2.5));
    assert_eq!(val(&evs, "SCS43", "la", "2017-08-30"), (4.0, 2.5));
    assert_eq!(valw(&evs, "SCS43", UascFilter::Exclude, "la", "2017-08-31", Window::Ss), (2.0, 2.5));
    assert_eq!(val(&evs, "SCS43", "south", "2017-08-31"), (0.0, 0.0)); // s-cswt has no snapshot
    assert_eq!(val(&evs, "SCS42", "la", "2017-08-31"), (1.0, 4.5));
    assert_eq!(val(&evs, "SCS42", "south", "2017-08-31"), (0.0, 3.0));
    assert_eq!(val(&evs, "SCS42", "n-cic", "2017-08-31"), (1.0, 1.5));
    // Before 2017-02-01, c3 was at s-cswt.
    assert_eq!(val(&evs, "SCS43", "north", "2017-01-31"), (3.0, 2.5));
}

// ===========================================================================
// References held until the partner arrives (order of events in the slice)
// ===========================================================================

#[test]
fn order_of_events_in_the_slice_does_not_matter() {
    let mut evs = vec![
        ev("pe", "cp_plan_ended", "c", "2017-08-10", json!({"plan_id": "p"})),
        ev("v", "cp_review_held", "c", "2017-05-01", json!({"plan_id": "p"})),
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("p", "cp_plan_started", "c", "2017-02-01", json!({})),
    ];
    let before: Vec<_> = ["CP-N", "CPE-M", "CP03"].iter().map(|i| val(&evs, i, "la", "2017-08-09")).collect();
    evs.reverse();
    let after: Vec<_> = ["CP-N", "CPE-M", "CP03"].iter().map(|i| val(&evs, i, "la", "2017-08-09")).collect();
    assert_eq!(before, after);
    assert_eq!(before, vec![(1.0, 0.0), (0.0, 0.0), (1.0, 1.0)]);
}

#[test]
fn every_indicator_is_known() {
    let evs = vec![referral("r", "c", "2017-01-01", "n-cswt")];
    for ind in ALL_INDICATORS {
        let _ = val(&evs, ind, "la", "2017-08-31");
    }
    assert_eq!(ALL_INDICATORS.len(), 47);
}

// ===========================================================================
// Second scenarios per indicator
// ===========================================================================

#[test]
fn scs02_filter_and_ytd() {
    // c1 (UASC) referral 2017-04-01 at n-cswt; c2 referral 2017-03-31 at n-cswt.
    let evs = vec![
        details("d1", "c1", "2017-01-01", "2001-01-01", true),
        referral("a", "c1", "2017-04-01", "n-cswt"),
        referral("b", "c2", "2017-03-31", "n-cswt"),
    ];
    assert_eq!(valw(&evs, "SCS02", UascFilter::All, "la", "2017-08-31", Window::Ytd), (1.0, 0.0));
    assert_eq!(valw(&evs, "SCS02", UascFilter::Exclude, "la", "2017-08-31", Window::R12M), (1.0, 0.0));
    assert_eq!(valw(&evs, "SCS02", UascFilter::Only, "north", "2017-08-31", Window::R12M), (1.0, 0.0));
    assert_eq!(valw(&evs, "SCS02", UascFilter::All, "n-cswt", "2017-04-01", Window::M), (1.0, 0.0));
}

#[test]
fn as01_as02_without_holidays_and_root_attribution() {
    // started Mon 2017-01-02: + 45 working days = Mon 2017-03-06 (Jan 6 = 4th, +5 a week: Mar 3 = 44th).
    // No referral: facts count at the root only.
    let a = |id: &str, date: &str, started: &str, seen: bool| {
        ev(id, "assessment_completed", "c", date, json!({"started": started, "child_seen": seen}))
    };
    let evs = vec![
        a("a1", "2017-03-06", "2017-01-02", false),
        a("a2", "2017-03-07", "2017-01-02", true),
        a("a3", "2017-03-10", "2017-03-10", true), // completed the day it started
    ];
    assert_eq!(val(&evs, "AS01", "la", "2017-03-31"), (2.0, 3.0));
    assert_eq!(val(&evs, "AS02", "la", "2017-03-31"), (2.0, 3.0));
    assert_eq!(val(&evs, "AS01", "north", "2017-03-31"), (0.0, 0.0));
    assert_eq!(valw(&evs, "AS02", UascFilter::All, "la", "2017-03-07", Window::M), (1.0, 2.0));
}

#[test]
fn cp05_filter_and_transfer() {
    // c moves from n-cswt to s-cswt on 2017-08-10; the enquiry completed that day counts in the south.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("t", "case_transferred", "c", "2017-08-10", json!({"unit": "s-cswt"})),
        ev("s1", "s47_completed", "c", "2017-08-09", json!({"started": "2017-08-01", "child_seen": true})),
        ev("s2", "s47_completed", "c", "2017-08-10", json!({"started": "2017-08-01", "child_seen": true})),
        details("d", "c", "2017-01-01", "2001-01-01", true),
    ];
    assert_eq!(val(&evs, "CP05", "north", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP05", "south", "2017-08-31"), (1.0, 1.0));
    assert_eq!(valw(&evs, "CP05", UascFilter::Exclude, "la", "2017-08-31", Window::R12M), (0.0, 0.0));
    assert_eq!(valw(&evs, "CP05", UascFilter::Only, "la", "2017-08-31", Window::R12M), (2.0, 2.0));
}

#[test]
fn cp06_across_christmas() {
    // s47_started Fri 2017-12-15: Dec 18-22 = 5, (25, 26 holidays) 27-29 = 8, (Jan 1 holiday)
    // Jan 2-5 = 12, Jan 8 = 13, 9 = 14, Wed 2018-01-10 = 15.
    let i = |id: &str, date: &str| ev(id, "icpc_held", "c", date, json!({"s47_started": "2017-12-15"}));
    let evs = vec![referral("r", "c", "2017-12-01", "s-cswt"), i("i1", "2018-01-10"), i("i2", "2018-01-11")];
    assert_eq!(val(&evs, "CP06", "south", "2018-01-31"), (1.0, 2.0));
    assert_eq!(valw(&evs, "CP06", UascFilter::All, "la", "2018-01-10", Window::R3M), (1.0, 1.0));
}

#[test]
fn scs13_overlapping_and_empty_earlier_plans_count() {
    // c1: plan A 2016-03-01 still open when plan B starts 2017-05-01: B is a second plan.
    // c2: plan A dated 2016-06-10 with an end dated 2016-06-01 (open on no date) still started
    //     before plan B (2017-01-01): B counts.
    let evs = vec![
        referral("r1", "c1", "2016-01-01", "n-cswt"),
        ev("a1", "cp_plan_started", "c1", "2016-03-01", json!({})),
        ev("b1", "cp_plan_started", "c1", "2017-05-01", json!({})),
        referral("r2", "c2", "2016-01-01", "s-cswt"),
        ev("a2", "cp_plan_started", "c2", "2016-06-10", json!({})),
        ev("a2e", "cp_plan_ended", "c2", "2016-06-01", json!({"plan_id": "a2"})),
        ev("b2", "cp_plan_started", "c2", "2017-01-01", json!({})),
    ];
    assert_eq!(val(&evs, "SCS13", "la", "2017-08-31"), (2.0, 2.0));
    assert_eq!(val(&evs, "SCS13", "la", "2017-02-28"), (1.0, 3.0)); // window 2016-03-01..: a1, a2, b2
}

#[test]
fn cps_m_and_cpe_m_windows() {
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cswt"),
        ev("p1", "cp_plan_started", "c", "2016-05-01", json!({})),
        ev("e1", "cp_plan_ended", "c", "2017-06-30", json!({"plan_id": "p1"})),
        ev("p2", "cp_plan_started", "c", "2017-07-01", json!({})),
    ];
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-08-31", Window::R3M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-08-31", Window::R12M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CPS-M", UascFilter::All, "la", "2017-04-30", Window::R12M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CPE-M", UascFilter::All, "north", "2017-06-30", Window::M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CPE-M", UascFilter::All, "north", "2017-06-29", Window::M), (0.0, 0.0));
    assert_eq!(valw(&evs, "CPE-M", UascFilter::All, "south", "2017-06-30", Window::M), (0.0, 0.0));
}

#[test]
fn cic04_filter_and_other_child() {
    let evs = vec![
        referral("r1", "c1", "2016-01-01", "n-cic"),
        details("d1", "c1", "2016-01-01", "2001-01-01", true),
        ev("k1", "cic_started", "c1", "2016-01-01", json!({})),
        ev("v1", "cic_review_held", "c1", "2017-08-01", json!({"period_id": "k1", "participated": true})),
        // c2 names c1's period: a reference to another child's event counts nowhere.
        ev("v2", "cic_review_held", "c2", "2017-08-01", json!({"period_id": "k1", "participated": true})),
    ];
    assert_eq!(val(&evs, "CIC04", "la", "2017-08-31"), (1.0, 1.0));
    assert_eq!(valw(&evs, "CIC04", UascFilter::Exclude, "la", "2017-08-31", Window::R12M), (0.0, 0.0));
    assert_eq!(valw(&evs, "CIC04", UascFilter::Only, "n-cic", "2017-08-31", Window::R12M), (1.0, 1.0));
}

#[test]
fn cic08_bank_holiday_and_several_referrals() {
    // C = Tue 2017-08-22: 23 = 1, 24 = 2, 25 = 3, (28 holiday), 29 = 4, Wed 30 = 5.
    // c1: iha 2017-08-30: num. c2: iha 2017-08-31: late. c3: one late, one on time: num.
    let mk = |c: &str, ihas: &[&str]| {
        let mut v = vec![
            referral(&format!("r{c}"), c, "2017-01-01", "s-cic"),
            ev(&format!("k{c}"), "cic_started", c, "2017-08-22", json!({})),
        ];
        for (i, x) in ihas.iter().enumerate() {
            v.push(ev(&format!("i{c}{i}"), "iha_referral", c, x, json!({"period_id": format!("k{c}")})));
        }
        v
    };
    let mut evs = Vec::new();
    evs.extend(mk("c1", &["2017-08-30"]));
    evs.extend(mk("c2", &["2017-08-31"]));
    evs.extend(mk("c3", &["2017-09-15", "2017-08-22"]));
    assert_eq!(val(&evs, "CIC08", "south", "2017-08-31"), (2.0, 3.0));
    assert_eq!(valw(&evs, "CIC08", UascFilter::All, "la", "2017-08-22", Window::M), (2.0, 3.0));
}

#[test]
fn scs29_sum_over_children_at_unit_on_end_date() {
    // c1: C 2017-01-01, placed for adoption 2017-04-11 (100 days), adopted 2017-08-01;
    //     moved from n-cic to s-cic on 2017-07-01, so counted in the south.
    // c2: C 2016-01-01, PFA 2016-09-07 (250 days = 366 - 116 ... 31+29+31+30+31+30+31+31+6), adopted 2017-08-15.
    // c2 also has a PFA placement in an earlier period: not used for this period.
    let pl = |id: &str, c: &str, date: &str, pid: &str| {
        ev(id, "placement_started", c, date, json!({"period_id": pid, "placement_type": "placed_for_adoption"}))
    };
    let evs = vec![
        referral("r1", "c1", "2016-12-01", "n-cic"),
        ev("t1", "case_transferred", "c1", "2017-07-01", json!({"unit": "s-cic"})),
        ev("k1", "cic_started", "c1", "2017-01-01", json!({})),
        pl("p1", "c1", "2017-04-11", "k1"),
        ev("e1", "cic_ended", "c1", "2017-08-01", json!({"period_id": "k1", "reason": "adopted"})),
        referral("r2", "c2", "2015-01-01", "s-cic"),
        ev("k0", "cic_started", "c2", "2015-01-01", json!({})),
        pl("p0", "c2", "2015-02-01", "k0"),
        ev("e0", "cic_ended", "c2", "2015-12-01", json!({"period_id": "k0", "reason": "returned_home"})),
        ev("k2", "cic_started", "c2", "2016-01-01", json!({})),
        pl("p2", "c2", "2016-09-07", "k2"),
        ev("e2", "cic_ended", "c2", "2017-08-15", json!({"period_id": "k2", "reason": "adopted"})),
    ];
    assert_eq!(val(&evs, "SCS29", "la", "2017-08-31"), (350.0, 2.0));
    assert_eq!(val(&evs, "SCS29", "south", "2017-08-31"), (350.0, 2.0));
    assert_eq!(val(&evs, "SCS29", "north", "2017-08-31"), (0.0, 0.0));
    assert_eq!(valw(&evs, "SCS29", UascFilter::All, "la", "2017-08-14", Window::M), (100.0, 1.0));
}

#[test]
fn ad02_match_before_order_gives_negative_days() {
    // Literal reading: days from the first order (2016-06-01) to the first match (2016-05-22) = -10.
    let e = |id: &str, ty: &str, date: &str| ev(id, ty, "c", date, json!({"period_id": "k"}));
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2016-01-01", json!({})),
        e("o", "placement_order_granted", "2016-06-01"),
        e("m", "adoption_match", "2016-05-22"),
        ev("x", "cic_ended", "c", "2017-01-10", json!({"period_id": "k", "reason": "adopted"})),
    ];
    assert_eq!(val(&evs, "AD02", "la", "2017-08-31"), (-10.0, 1.0));
    assert_eq!(valw(&evs, "AD02", UascFilter::All, "north", "2017-01-31", Window::M), (-10.0, 1.0));
}

#[test]
fn ad01_ad03_other_reasons_and_attribution() {
    // Period ended age_18 on 2017-08-10 after a transfer to s-cic on 2017-08-10: counted in the south.
    // Another ended "other" on 2017-08-09 while still at n-cic.
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        ev("t", "case_transferred", "c", "2017-08-10", json!({"unit": "s-cic"})),
        ev("k1", "cic_started", "c", "2016-01-01", json!({})),
        ev("e1", "cic_ended", "c", "2017-08-10", json!({"period_id": "k1", "reason": "age_18"})),
        ev("k2", "cic_started", "c", "2016-02-01", json!({})),
        ev("e2", "cic_ended", "c", "2017-08-09", json!({"period_id": "k2", "reason": "other"})),
    ];
    assert_eq!(val(&evs, "AD01", "south", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "AD03", "north", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "AD01", "la", "2017-08-31"), (0.0, 2.0));
    assert_eq!(valw(&evs, "CICE-M", UascFilter::All, "south", "2017-08-31", Window::M), (1.0, 0.0));
    assert_eq!(valw(&evs, "CICE-M", UascFilter::All, "la", "2017-08-09", Window::R3M), (1.0, 0.0));
}

#[test]
fn mis02_interview_before_return_and_other_episode() {
    // Episode 1 ended Fri 2017-08-25; interview dated 2017-08-24 (before the return): no lower
    // bound, counts. Episode 2 ended 2017-08-25; its only interview names episode 1: not counted.
    // Episode 3 ended 2017-08-25, interview on the bank holiday Mon 2017-08-28 (<= Thu 31): counts.
    let evs = vec![
        details("d", "c", "2017-01-01", "2005-06-01", false),
        referral("r", "c", "2017-01-01", "n-cswt"),
        ev("m1", "missing_started", "c", "2017-08-20", json!({})),
        ev("x1", "missing_ended", "c", "2017-08-25", json!({"episode_id": "m1"})),
        ev("i1", "return_interview_held", "c", "2017-08-24", json!({"episode_id": "m1"})),
        ev("m2", "missing_started", "c", "2017-08-21", json!({})),
        ev("x2", "missing_ended", "c", "2017-08-25", json!({"episode_id": "m2"})),
        ev("i2", "return_interview_held", "c", "2017-08-26", json!({"episode_id": "m1"})),
        ev("m3", "missing_started", "c", "2017-08-22", json!({})),
        ev("x3", "missing_ended", "c", "2017-08-25", json!({"episode_id": "m3"})),
        ev("i3", "return_interview_held", "c", "2017-08-28", json!({"episode_id": "m3"})),
        ev("m4", "missing_started", "c", "2017-08-22", json!({})), // never ended: not counted
    ];
    assert_eq!(val(&evs, "MIS02", "la", "2017-08-31"), (2.0, 3.0));
    assert_eq!(val(&evs, "SCS08", "n-cswt", "2017-08-31"), (2.0, 3.0));
}

#[test]
fn care_leaver_contacts_filter_and_root() {
    // No referral: counted at the root only. UASC child.
    let evs = vec![
        details("d", "c", "2017-01-01", "1999-01-01", true),
        ev("a", "care_leaver_contact", "c", "2017-08-01", json!({"in_touch": true, "accommodation_suitable": false, "eet": true})),
    ];
    assert_eq!(val(&evs, "CL01", "la", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "CL02", "la", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "SCS34", "la", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "CL01", "north", "2017-08-31"), (0.0, 0.0));
    assert_eq!(valw(&evs, "CL01", UascFilter::Exclude, "la", "2017-08-31", Window::R12M), (0.0, 0.0));
    assert_eq!(valw(&evs, "SCS34", UascFilter::Only, "la", "2017-08-31", Window::R12M), (1.0, 1.0));
}

#[test]
fn scs37_windows() {
    let a = |id: &str, date: &str, g: &str| uev(id, "case_audit_completed", "s-cic", date, json!({"grade": g}));
    let evs = vec![a("a1", "2017-06-01", "good"), a("a2", "2017-05-31", "outstanding"), a("a3", "2017-08-31", "inadequate")];
    assert_eq!(valw(&evs, "SCS37", UascFilter::All, "s-cic", "2017-08-31", Window::R3M), (1.0, 2.0));
    assert_eq!(valw(&evs, "SCS37", UascFilter::All, "s-cic", "2017-08-31", Window::M), (0.0, 1.0));
    assert_eq!(valw(&evs, "SCS37", UascFilter::All, "s-cic", "2017-08-31", Window::Ytd), (2.0, 3.0));
    assert_eq!(valw(&evs, "SCS37", UascFilter::All, "n-cic", "2017-08-31", Window::Ytd), (0.0, 0.0));
}

#[test]
fn cin02_same_day_worker_events_and_transfer() {
    // Same day: qualified allocation recorded 09:00Z, unqualified allocation recorded 10:00Z:
    // the later one holds: counted. Transfer moves the count to the south.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cswt"),
        json!({"event_id": "b", "type": "worker_allocated", "child_id": "c", "date": "2017-08-01",
               "recorded_at": "2017-08-01T09:00:00Z", "worker_id": "q"}),
        json!({"event_id": "a", "type": "worker_allocated", "child_id": "c", "date": "2017-08-01",
               "recorded_at": "2017-08-01T10:00:00Z", "worker_id": "u", "qualified": false}),
        ev("t", "case_transferred", "c", "2017-08-20", json!({"unit": "s-cswt"})),
        ev("w", "worker_allocated", "c", "2017-08-25", json!({"worker_id": "q2", "qualified": true})),
    ];
    assert_eq!(val(&evs, "CIN02", "north", "2017-08-01"), (1.0, 0.0));
    assert_eq!(val(&evs, "CIN02", "la", "2017-07-31"), (1.0, 0.0)); // no worker yet
    assert_eq!(val(&evs, "CIN02", "south", "2017-08-20"), (1.0, 0.0));
    assert_eq!(val(&evs, "CIN02", "la", "2017-08-25"), (0.0, 0.0));
}

#[test]
fn cp02_visit_on_plan_start_and_friday_start() {
    // Plan S = Fri 2017-08-18: + 10 working days = Mon 21 .. Fri 25 = 5, (28 holiday), Tue 29 .. Fri Sep 1 = 9,
    // Mon 2017-09-04 = 10. Visit on S itself: S <= V; V + 10 working days = 2017-09-04.
    let evs = vec![
        referral("r", "c", "2017-08-01", "s-cswt"),
        ev("p", "cp_plan_started", "c", "2017-08-18", json!({})),
        ev("v", "visit", "c", "2017-08-18", json!({"visit_type": "cp"})),
    ];
    assert_eq!(val(&evs, "CP02", "la", "2017-09-01"), (0.0, 0.0));
    assert_eq!(val(&evs, "CP02", "south", "2017-09-04"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP02", "south", "2017-09-05"), (0.0, 1.0));
}

#[test]
fn scs19_cic02_overlapping_periods_use_the_earliest() {
    // Two open periods: k1 (2017-01-01, placement residential) and k2 (2017-02-01, foster_inhouse).
    // The current period is k1 (earliest started): residential, not in SCS19's den; no distance.
    // Once k1 ends (2017-06-01), k2's foster placement is current.
    let evs = vec![
        referral("r", "c", "2017-01-01", "n-cic"),
        ev("k1", "cic_started", "c", "2017-01-01", json!({})),
        ev("p1", "placement_started", "c", "2017-01-01", json!({"period_id": "k1", "placement_type": "residential"})),
        ev("k2", "cic_started", "c", "2017-02-01", json!({})),
        ev("p2", "placement_started", "c", "2017-02-01",
           json!({"period_id": "k2", "placement_type": "foster_inhouse", "distance_miles": 0.0})),
    ];
    assert_eq!(val(&evs, "SCS19", "la", "2017-05-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIC02", "la", "2017-05-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "CIC-N", "la", "2017-05-31"), (1.0, 0.0));
    let mut evs2 = evs.clone();
    evs2.push(ev("e1", "cic_ended", "c", "2017-06-01", json!({"period_id": "k1", "reason": "other"})));
    assert_eq!(val(&evs2, "SCS19", "la", "2017-06-01"), (1.0, 1.0));
    assert_eq!(val(&evs2, "CIC02", "north", "2017-06-01"), (1.0, 1.0));
}

#[test]
fn cic09_same_day_break_and_qualification_irrelevant() {
    // C = 2015-01-01. D = 2017-08-31: D - 12 months = 2016-08-31.
    // c1: w1 (unqualified) 2016-01-01; on 2016-09-01 unallocated then re-allocated w1 (order by
    //     event_id "a" < "b"): continuity since 2016-09-01 > D - 12: den only.
    // c2: w1 2016-01-01; same day 2016-09-01, "a" allocates w1 again, "b" nothing else: num.
    let evs = vec![
        referral("r1", "c1", "2015-01-01", "n-cic"),
        ev("k1", "cic_started", "c1", "2015-01-01", json!({})),
        ev("w0", "worker_allocated", "c1", "2016-01-01", json!({"worker_id": "w1", "qualified": false})),
        ev("a1", "worker_unallocated", "c1", "2016-09-01", json!({})),
        ev("b1", "worker_allocated", "c1", "2016-09-01", json!({"worker_id": "w1"})),
        referral("r2", "c2", "2015-01-01", "n-cic"),
        ev("k2", "cic_started", "c2", "2015-01-01", json!({})),
        ev("x0", "worker_allocated", "c2", "2016-01-01", json!({"worker_id": "w1", "qualified": false})),
        ev("x1", "worker_allocated", "c2", "2016-09-01", json!({"worker_id": "w1", "qualified": true})),
    ];
    assert_eq!(val(&evs, "CIC09", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(val(&evs, "CIC09", "la", "2017-09-01"), (2.0, 2.0));
}

#[test]
fn scs40_scs41_snapshot_dated_on_d_and_leaf_units() {
    let evs = vec![snap("a", "s-cic", "2017-08-31", 8.0, 7.5, 6.5, 0.5)];
    assert_eq!(val(&evs, "SCS40", "s-cic", "2017-08-31"), (6.5, 8.0));
    assert_eq!(val(&evs, "SCS41", "s-cic", "2017-08-31"), (0.5, 8.0));
    assert_eq!(val(&evs, "SCS41", "s-cic", "2017-08-30"), (0.0, 0.0));
    assert_eq!(val(&evs, "SCS40", "s-cswt", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "SCS41", "la", "2017-12-31"), (0.5, 8.0));
}

#[test]
fn scs42_scs43_only_filter_and_unit_without_such_leaf() {
    // n-cswt snapshot with 0 case-holding FTE; two open cases there, one UASC.
    let evs = vec![
        referral("r1", "c1", "2017-01-01", "n-cswt"),
        details("d1", "c1", "2017-01-01", "2001-01-01", true),
        referral("r2", "c2", "2017-01-01", "n-cswt"),
        referral("r3", "c3", "2017-01-01", "n-cic"),
        snap("s", "n-cswt", "2017-02-01", 1.0, 0.0, 1.0, 0.0),
    ];
    assert_eq!(valw(&evs, "SCS43", UascFilter::Only, "north", "2017-08-31", Window::Ss), (1.0, 0.0));
    assert_eq!(val(&evs, "SCS43", "north", "2017-08-31"), (2.0, 0.0));
    assert_eq!(val(&evs, "SCS43", "north", "2017-01-31"), (0.0, 0.0)); // snapshot not yet
    assert_eq!(val(&evs, "SCS43", "n-cic", "2017-08-31"), (0.0, 0.0)); // no cswt leaf under n-cic
    assert_eq!(val(&evs, "SCS42", "north", "2017-08-31"), (0.0, 0.0)); // n-cic has no snapshot
}

#[test]
fn plan_ending_on_as_of_date_is_not_open() {
    // Single plan 2016-01-01 .. 2017-08-31: on 2017-08-31 nothing is open.
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cswt"),
        ev("p", "cp_plan_started", "c", "2016-01-01", json!({})),
        ev("pe", "cp_plan_ended", "c", "2017-08-31", json!({"plan_id": "p"})),
        ev("v", "visit", "c", "2017-08-30", json!({"visit_type": "cp"})),
    ];
    assert_eq!(val(&evs, "CP-N", "la", "2017-08-30"), (1.0, 0.0));
    assert_eq!(val(&evs, "CP-N", "la", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "CP01", "la", "2017-08-30"), (1.0, 1.0));
    assert_eq!(val(&evs, "CP01", "la", "2017-08-31"), (0.0, 0.0));
    assert_eq!(val(&evs, "CP02", "la", "2017-08-31"), (0.0, 0.0));
    // Not on a plan on 2017-08-31, so back in CIN01's population (opened long ago, seen 08-30).
    assert_eq!(val(&evs, "CIN01", "la", "2017-08-31"), (1.0, 1.0));
    assert_eq!(val(&evs, "CIN01", "la", "2017-08-30"), (0.0, 0.0));
}

#[test]
fn cic01_boundaries_decide() {
    // Period 2016-06-01 (open). Placements: a 2016-06-01 (ends 2016-09-01 when b starts),
    // b 2016-09-01 (ends 2017-01-01), c 2017-01-01 replaced the same day by c2 (c is empty).
    // As at 2017-08-31 (window 2016-09-01..): a ends on the window start (no overlap), b, c2: 2 -> den only.
    // As at 2017-08-30 (window 2016-08-31..): a, b, c2: 3 -> num.
    let pl = |id: &str, date: &str| {
        ev(id, "placement_started", "c", date, json!({"period_id": "k", "placement_type": "foster_agency"}))
    };
    let evs = vec![
        referral("r", "c", "2016-01-01", "n-cic"),
        ev("k", "cic_started", "c", "2016-06-01", json!({})),
        pl("a", "2016-06-01"),
        pl("b", "2016-09-01"),
        pl("c", "2017-01-01"),
        pl("c2", "2017-01-01"),
    ];
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-30"), (1.0, 1.0));
}

#[test]
fn scs18_placed_for_adoption_second_placement() {
    // Placements: foster 2015-08-31, placed for adoption 2016-05-01. D = 2017-08-31,
    // D - 24 months = 2015-08-31: the preceding placement qualifies: num.
    // A child whose only placement is placed_for_adoption 2016-05-01 has no preceding one: den only.
    let mut evs = scs18_child("c1", Some("2010-01-01"), "2015-01-01",
        &[("2015-08-31", "foster_agency"), ("2016-05-01", "placed_for_adoption")]);
    evs.extend(scs18_child("c2", Some("2010-01-01"), "2015-01-01", &[("2016-05-01", "placed_for_adoption")]));
    assert_eq!(val(&evs, "SCS18", "la", "2017-08-31"), (1.0, 2.0));
    assert_eq!(val(&evs, "SCS18", "n-cic", "2017-08-31"), (1.0, 2.0));
}

#[test]
fn placement_interval_ends_at_period_end_before_next_placement() {
    // Period k1 2016-01-01 .. 2016-08-15: placement a 2016-01-01 ends at the period end 2016-08-15
    // (before the next placement b on 2016-10-01, whose own interval [2016-10-01, 2016-08-15) is empty).
    // Period k2 2017-01-01 (open): c 2017-01-01, d 2017-02-01.
    // As at 2017-08-31 (window from 2016-09-01): c, d only: den only.
    // As at 2017-08-14 (window from 2016-08-15): a ends on the window start; still c, d: den only.
    // As at 2017-08-13 (window from 2016-08-14): a overlaps: 3 -> num.
    let pl = |id: &str, date: &str, pid: &str| {
        ev(id, "placement_started", "c", date, json!({"period_id": pid, "placement_type": "residential"}))
    };
    let evs = vec![
        referral("r", "c", "2016-01-01", "s-cic"),
        ev("k1", "cic_started", "c", "2016-01-01", json!({})),
        pl("a", "2016-01-01", "k1"),
        pl("b", "2016-10-01", "k1"),
        ev("k1e", "cic_ended", "c", "2016-08-15", json!({"period_id": "k1", "reason": "returned_home"})),
        ev("k2", "cic_started", "c", "2017-01-01", json!({})),
        pl("c", "2017-01-01", "k2"),
        pl("d", "2017-02-01", "k2"),
    ];
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-31"), (0.0, 1.0));
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-14"), (0.0, 1.0));
    assert_eq!(val(&evs, "CIC01", "la", "2017-08-13"), (1.0, 1.0));
    // Between the periods the child is not in care, and in k1 on 2016-08-14 the current placement is a.
    assert_eq!(val(&evs, "SCS19", "la", "2016-09-15"), (0.0, 0.0));
}

