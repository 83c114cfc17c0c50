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
}
