//! The leaf units of the configuration as the generator sees them: their kind,
//! their activity profile (Kent's per-team figures) and their worker pools.

use super::render::json_string_literal;

/// A leaf unit of the configuration. `kind` is `cswt`, `cic`, `disability`,
/// `suasc`, `adoption`, `care_leavers` (anything else is treated like `cswt`).
pub struct GenUnit {
    /// The unit id of the configuration (what `unit` fields name).
    pub id: String,
    /// The unit's kind: picks its role in the journeys and its default volumes.
    pub kind: String,
    /// The local authority the unit belongs to.
    pub la: String,
}

impl GenUnit {
    /// Every leaf unit of `config`, with its kind and authority.
    pub fn leaves_of(config: &crate::config::Config) -> Vec<GenUnit> {
        config
            .units
            .iter()
            .filter(|unit| unit.is_leaf())
            .map(|unit| GenUnit {
                id: unit.id.clone(),
                kind: unit.kind.clone(),
                la: config.authorities[unit.la.0 as usize].id.clone(),
            })
            .collect()
    }
}

/// The role a leaf unit plays in the journeys, from its configured kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Children's social work team (also any kind not listed below).
    Cswt,
    /// Children in care team.
    Cic,
    /// Disabled children's team.
    Disability,
    /// Unaccompanied asylum-seeking children's service.
    Suasc,
    /// Adoption and special guardianship support.
    Adoption,
    /// Care leavers' service.
    CareLeavers,
}

impl Kind {
    /// The kind of a configured `kind` string.
    pub(super) fn of(kind: &str) -> Kind {
        match kind {
            "cic" => Kind::Cic,
            "disability" => Kind::Disability,
            "suasc" => Kind::Suasc,
            "adoption" => Kind::Adoption,
            "care_leavers" => Kind::CareLeavers,
            _ => Kind::Cswt,
        }
    }
}

/// A team's activity: the weights that spread volumes over the leaves.
#[derive(Clone, Copy, Debug)]
pub(super) struct TeamProfile {
    /// Open cases.
    pub(super) caseload: f64,
    /// Referrals a month.
    pub(super) referrals_a_month: f64,
    /// Children on a child protection plan.
    pub(super) cp_plans: f64,
    /// Children in care (UASC included).
    pub(super) in_care: f64,
    /// Unaccompanied asylum-seeking children in care.
    pub(super) uasc_in_care: f64,
}

impl TeamProfile {
    /// From a row of the activity table: caseload, referrals a month, CP plans,
    /// children in care, UASC in care.
    const fn from_row(row: [f64; 5]) -> TeamProfile {
        TeamProfile {
            caseload: row[0],
            referrals_a_month: row[1],
            cp_plans: row[2],
            in_care: row[3],
            uasc_in_care: row[4],
        }
    }

    /// Kent's own figures for a Kent unit id, else those of the average Kent
    /// team of the kind.
    fn of(unit_id: &str, kind: Kind) -> TeamProfile {
        let row = KENT_TEAMS
            .iter()
            .find(|(name, _)| *name == unit_id)
            .map(|(_, row)| *row)
            .unwrap_or_else(|| average_kent_team(kind));
        TeamProfile::from_row(row)
    }
}

/// Kent's per-team activity (August 2017), in the order of [`TeamProfile::from_row`].
const KENT_TEAMS: &[(&str, [f64; 5])] = &[
    ("ashford-cswt", [478.0, 123.0, 132.0, 5.0, 0.0]),
    ("canterbury-cswt", [441.0, 102.0, 90.0, 12.0, 0.0]),
    ("dartford-cswt", [281.0, 87.0, 59.0, 2.0, 0.0]),
    ("dover-cswt", [617.0, 104.0, 131.0, 7.0, 0.0]),
    ("gravesham-cswt", [464.0, 110.0, 63.0, 1.0, 0.0]),
    ("maidstone-cswt", [513.0, 138.0, 92.0, 10.0, 0.0]),
    ("sevenoaks-cswt", [270.0, 88.0, 28.0, 2.0, 0.0]),
    ("shepway-cswt", [605.0, 97.0, 155.0, 12.0, 0.0]),
    ("swale-cswt", [814.0, 184.0, 179.0, 10.0, 0.0]),
    ("thanet-margate-cswt", [299.0, 91.0, 91.0, 5.0, 0.0]),
    ("thanet-ramsgate-cswt", [405.0, 96.0, 112.0, 4.0, 0.0]),
    ("the-weald-cswt", [550.0, 147.0, 130.0, 7.0, 0.0]),
    ("north-kent-cic", [304.0, 0.0, 31.0, 244.0, 66.0]),
    ("east-kent-cansw-cic", [364.0, 0.0, 16.0, 333.0, 51.0]),
    ("east-kent-tha-cic", [295.0, 1.0, 15.0, 260.0, 19.0]),
    ("south-kent-cic", [372.0, 0.0, 8.0, 329.0, 60.0]),
    ("west-kent-cic", [351.0, 0.0, 19.0, 310.0, 65.0]),
    ("suasc", [163.0, 25.0, 0.0, 104.0, 104.0]),
    ("disability-ek", [538.0, 10.0, 13.0, 59.0, 1.0]),
    ("disability-wk", [644.0, 8.0, 7.0, 41.0, 0.0]),
    ("adoption-sg", [155.0, 11.0, 0.0, 2.0, 0.0]),
    ("care-leavers", [1345.0, 1.0, 0.0, 0.0, 0.0]),
];

/// The activity of the average Kent team of a kind (for unit ids that are not Kent's).
fn average_kent_team(kind: Kind) -> [f64; 5] {
    match kind {
        Kind::Cswt => [478.0, 114.0, 105.0, 6.0, 0.0],
        Kind::Cic => [337.0, 0.2, 18.0, 295.0, 52.0],
        Kind::Disability => [591.0, 9.0, 10.0, 50.0, 0.5],
        Kind::Suasc => [163.0, 25.0, 0.0, 104.0, 104.0],
        Kind::Adoption => [155.0, 11.0, 0.0, 2.0, 0.0],
        Kind::CareLeavers => [1345.0, 1.0, 0.0, 0.0, 0.0],
    }
}

/// A leaf unit in the simulation.
pub(super) struct UnitModel {
    /// The unit id as a JSON string literal (quoted, escaped).
    pub(super) json: String,
    /// The unit id.
    pub(super) id: String,
    /// Index of the unit's authority.
    pub(super) authority: u16,
    /// Its role in the journeys.
    pub(super) kind: Kind,
    /// Its activity.
    pub(super) profile: TeamProfile,
    /// How much likelier than average a referral here leads to a section 47 enquiry.
    pub(super) s47_propensity: f64,
    /// Qualified workers (indices into the generator's workers).
    pub(super) workers: Vec<u32>,
    /// A worker without a social work qualification (assistant, student).
    pub(super) unqualified: u32,
}

impl UnitModel {
    /// The model of `leaf`, a unit of the authority with index `authority`;
    /// its worker pools are filled later.
    pub(super) fn new(leaf: &GenUnit, authority: u16) -> UnitModel {
        let kind = Kind::of(&leaf.kind);
        let profile = TeamProfile::of(&leaf.id, kind);
        let s47_propensity = if profile.referrals_a_month > 0.5 && kind == Kind::Cswt {
            ((profile.cp_plans / profile.referrals_a_month) / 0.91).clamp(0.35, 1.8)
        } else {
            1.0
        };
        UnitModel {
            json: json_string_literal(&leaf.id),
            id: leaf.id.clone(),
            authority,
            kind,
            profile,
            s47_propensity,
            workers: Vec::new(),
            unqualified: 0,
        }
    }
}
