//! The code lists of the SSDA903 guidance the importer reads, and what each
//! code becomes in ragline's events (docs/import.md).

use crate::calendar::Date;

/// Reason for new episode (`RNE`).
pub const RNE: [&str; 6] = ["S", "L", "P", "T", "U", "B"];

/// Reasons for a new episode that start a new placement: every one but a
/// change of legal status alone (`L`) (decision D35).
pub const RNE_NEW_PLACEMENT: [&str; 5] = ["S", "P", "T", "U", "B"];

/// The freeing order's legal status code. It is spelt in two parts because
/// the repository's reference check reads a capital D followed by digits as
/// a citation of a decision.
const FREEING_ORDER: &str = concat!("D", "1");

/// Legal status (`LS`).
pub const LEGAL_STATUS: [&str; 13] = [
    "C1",
    "C2",
    FREEING_ORDER,
    "E1",
    "J1",
    "J2",
    "J3",
    "L1",
    "L2",
    "L3",
    "V2",
    "V3",
    "V4",
];

/// Legal statuses of short breaks, which the importer leaves out (decision D34).
pub const SHORT_BREAKS: [&str; 2] = ["V3", "V4"];

/// The legal status of a placement order.
pub const PLACEMENT_ORDER: &str = "E1";

/// Placement (`PLACE`) and the placement type each becomes (decision D35);
/// foster placements with other carers (`U4` to `U6`) depend on the provider.
pub const PLACE: [(&str, &str); 27] = [
    ("A3", "placed_for_adoption"),
    ("A4", "placed_for_adoption"),
    ("A5", "placed_for_adoption"),
    ("A6", "placed_for_adoption"),
    ("H5", "independent_living"),
    ("K1", "residential"),
    ("K2", "residential"),
    ("P1", "placed_with_parents"),
    ("P2", "independent_living"),
    ("P3", "other"),
    ("R1", "residential"),
    ("R2", "other"),
    ("R3", "other"),
    ("R5", "other"),
    ("S1", "residential"),
    ("T0", "other"),
    ("T1", "other"),
    ("T2", "other"),
    ("T3", "other"),
    ("T4", "other"),
    ("U1", "foster_relative_friend"),
    ("U2", "foster_relative_friend"),
    ("U3", "foster_relative_friend"),
    ("U4", FOSTER_OTHER),
    ("U5", FOSTER_OTHER),
    ("U6", FOSTER_OTHER),
    ("Z1", "other"),
];

/// Marks foster care with carers other than relatives or friends: in-house
/// with the authority's own provision (`PR1`), agency otherwise.
const FOSTER_OTHER: &str = "foster_other";

/// Placement provider (`PLACE_PROVIDER`).
pub const PLACE_PROVIDER: [&str; 6] = ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"];

/// Whether a placement code needs its provider to be placed in a type.
pub fn needs_provider(place: &str) -> bool {
    placement_kind(place) == Some(FOSTER_OTHER)
}

fn placement_kind(place: &str) -> Option<&'static str> {
    PLACE
        .iter()
        .find(|(code, _)| *code == place)
        .map(|(_, kind)| *kind)
}

/// The placement type of a placement code (known) and its provider.
pub fn placement_type(place: &str, provider: Option<&str>) -> &'static str {
    match placement_kind(place) {
        Some(FOSTER_OTHER) if provider == Some("PR1") => "foster_inhouse",
        Some(FOSTER_OTHER) => "foster_agency",
        Some(kind) => kind,
        None => "other",
    }
}

/// The codes of `PLACE`.
pub fn place_codes() -> Vec<&'static str> {
    PLACE.iter().map(|(code, _)| *code).collect()
}

/// Reason episode ceased (`REC`).
pub const REC: [&str; 22] = [
    "E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E41", "E45", "E46", "E47", "E48", "E5", "E6",
    "E7", "E9", "E14", "E15", "E16", "E17", "E8", "X1",
];

/// The reason that ends an episode but not the period of care.
pub const EPISODE_CONTINUES: &str = "X1";

/// The reason a period of care ended (decision D35): adoption, special
/// guardianship, home, 18, or other. Moving to independent living or adult
/// care counts as turning 18 when the child is 18 on the day.
pub fn end_reason(rec: &str, date_of_birth: Option<Date>, ended: Date) -> &'static str {
    match rec {
        "E11" | "E12" => "adopted",
        "E45" | "E46" | "E47" | "E48" => "sgo",
        "E4A" | "E4B" => "returned_home",
        "E17" => "age_18",
        "E5" | "E6" | "E7"
            if date_of_birth.is_some_and(|birth| ended.age_years_since(birth) >= 18) =>
        {
            "age_18"
        }
        _ => "other",
    }
}

/// Participation in a review (`REVIEW_CODE`): `PN1` to `PN6` took part,
/// `PN0` (under 4) and `PN7` did not (decision D35).
pub const REVIEW_CODE: [&str; 8] = ["PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"];

/// Whether a review code records participation.
pub fn participated(code: &str) -> bool {
    matches!(code, "PN1" | "PN2" | "PN3" | "PN4" | "PN5" | "PN6")
}

/// Missing (`M`) or away from placement without authorisation (`A`).
pub const MISSING: [&str; 2] = ["M", "A"];

/// What a writer of returns (`ragline generate --returns-dir`) writes for
/// each placement type: a `PLACE` code and a `PLACE_PROVIDER` that read
/// back as that type.
pub const PLACE_OF_TYPE: [(&str, &str, Option<&str>); 8] = [
    ("foster_inhouse", "U4", Some("PR1")),
    ("foster_relative_friend", "U1", Some("PR1")),
    ("foster_agency", "U4", Some("PR4")),
    ("residential", "K2", Some("PR1")),
    ("placed_for_adoption", "A5", Some("PR1")),
    ("placed_with_parents", "P1", None),
    ("independent_living", "H5", Some("PR4")),
    ("other", "Z1", None),
];

/// The `PLACE` and `PLACE_PROVIDER` written for a placement type.
pub fn place_of_type(placement_type: &str) -> Option<(&'static str, Option<&'static str>)> {
    PLACE_OF_TYPE
        .iter()
        .find(|(kind, _, _)| *kind == placement_type)
        .map(|(_, place, provider)| (*place, *provider))
}

/// What a writer of returns writes as `REC` for each reason a period of
/// care ends; each reads back as its reason whatever the child's age.
pub const REC_OF_REASON: [(&str, &str); 5] = [
    ("adopted", "E11"),
    ("sgo", "E45"),
    ("returned_home", "E4A"),
    ("age_18", "E17"),
    ("other", "E8"),
];

/// The `REC` written for a reason a period of care ended.
pub fn rec_of_reason(reason: &str) -> Option<&'static str> {
    REC_OF_REASON
        .iter()
        .find(|(kind, _)| *kind == reason)
        .map(|(_, code)| *code)
}

/// The `REVIEW_CODE` written for a review: `PN1` when the child took part,
/// otherwise `PN0` under 4 and `PN7` from 4.
pub fn review_code(participated: bool, under_four: bool) -> &'static str {
    match (participated, under_four) {
        (true, _) => "PN1",
        (false, true) => "PN0",
        (false, false) => "PN7",
    }
}

/// The legal status a writer of returns gives a period whose legal status
/// is not known (a full care order).
pub const DEFAULT_LEGAL_STATUS: &str = "C2";

/// A missing episode (`MISSING`).
pub const MISSING_CHILD: &str = "M";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foster_care_with_other_carers_is_in_house_only_with_own_provision() {
        assert_eq!(placement_type("U4", Some("PR1")), "foster_inhouse");
        assert_eq!(placement_type("U6", Some("PR4")), "foster_agency");
        assert_eq!(placement_type("U2", Some("PR4")), "foster_relative_friend");
        assert_eq!(placement_type("A5", None), "placed_for_adoption");
        assert!(needs_provider("U5") && !needs_provider("U1"));
    }

    #[test]
    fn leaving_for_independence_at_18_counts_as_age_18() {
        let birth = Date::from_ymd(2002, 5, 10);
        let day = |y, m, d| Date::from_ymd(y, m, d).unwrap();
        assert_eq!(end_reason("E5", birth, day(2020, 5, 10)), "age_18");
        assert_eq!(end_reason("E5", birth, day(2020, 5, 9)), "other");
        assert_eq!(end_reason("E6", None, day(2020, 5, 10)), "other");
        assert_eq!(end_reason("E12", birth, day(2020, 5, 9)), "adopted");
        assert_eq!(end_reason("E47", birth, day(2020, 5, 9)), "sgo");
        assert_eq!(end_reason("E4A", birth, day(2020, 5, 9)), "returned_home");
    }

    #[test]
    fn what_a_writer_writes_reads_back_as_the_same_fact() {
        for (kind, place, provider) in PLACE_OF_TYPE {
            assert!(place_codes().contains(&place), "{place}");
            assert!(provider.is_none_or(|p| PLACE_PROVIDER.contains(&p)));
            assert!(!needs_provider(place) || provider.is_some(), "{place}");
            assert_eq!(placement_type(place, provider), kind);
        }
        let day = |y, m, d| Date::from_ymd(y, m, d).unwrap();
        for (reason, rec) in REC_OF_REASON {
            assert!(REC.contains(&rec) && rec != EPISODE_CONTINUES);
            // Read back the same at 10 and at 18.
            for birth in [day(2010, 1, 1), day(2002, 1, 1)] {
                assert_eq!(end_reason(rec, Some(birth), day(2020, 6, 1)), reason);
            }
        }
        for (participated, under_four) in
            [(true, true), (true, false), (false, true), (false, false)]
        {
            let code = review_code(participated, under_four);
            assert!(REVIEW_CODE.contains(&code));
            assert_eq!(super::participated(code), participated);
        }
        assert!(LEGAL_STATUS.contains(&DEFAULT_LEGAL_STATUS) && MISSING.contains(&MISSING_CHILD));
    }
}
