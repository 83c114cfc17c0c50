//! The population of the history: the opening stock of open cases, plans,
//! periods of care and care leavers, and the flows of new referrals, spread
//! over the leaves; each child's life is then generated in order of entry.

use super::dates::{is_weekend, this_or_next_weekday};
use super::generator::{Entry, Generator};
use super::units::{Kind, UnitModel};
use crate::calendar::Date;

// Kent volumes (`docs/configuration.md`, "Kent's scale") that the categories below
// are normalised to.
/// New children referred to children's social work teams in a year.
const KENT_GENERAL_NEW_REFS_YEAR: f64 = 12_500.0;
/// Unaccompanied asylum-seeking children arriving in a year.
const KENT_UASC_REFS_YEAR: f64 = 300.0;
/// Referrals to disabled children's teams in a year.
const KENT_DISABILITY_REFS_YEAR: f64 = 216.0;
/// Referrals for adoption or care leaver support in a year.
const KENT_SUPPORT_REFS_YEAR: f64 = 144.0;
/// Children on a child protection plan.
const KENT_STOCK_CP: f64 = 1_372.0;
/// Children in care (UASC apart).
const KENT_STOCK_CIC: f64 = 1_409.0;
/// Unaccompanied asylum-seeking children in care.
const KENT_STOCK_UASC_CIC: f64 = 366.0;
/// Open cases of CSWTs and CIC teams without a plan or care.
const KENT_STOCK_CIN: f64 = 4_600.0;
/// Disabled children in need.
const KENT_STOCK_DISABILITY_CIN: f64 = 1_062.0;
/// Open adoption and special guardianship support cases.
const KENT_STOCK_SUPPORT: f64 = 153.0;
/// Care leavers.
const KENT_STOCK_CARE_LEAVERS: f64 = 1_345.0;

impl Generator {
    /// Generates every child's history, then the unit-level events.
    pub(super) fn simulate(&mut self) {
        type Tier = fn(&UnitModel) -> f64;
        fn of_kind(u: &UnitModel, kinds: &[Kind]) -> bool {
            kinds.contains(&u.kind)
        }
        let all: Tier = |_| 1.0;
        // (total at Kent scale, entry, weight tiers)
        let stock: Vec<(f64, Entry, Vec<Tier>)> = vec![
            (
                KENT_STOCK_CP,
                Entry::StockCp,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Cswt, Kind::Disability]) {
                            u.profile.cp_plans
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cic]) {
                            u.profile.cp_plans
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_CIC,
                Entry::StockCic,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::CareLeavers, Kind::Adoption]) {
                            0.0
                        } else {
                            u.profile.in_care - u.profile.uasc_in_care
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_UASC_CIC,
                Entry::StockUascCic,
                vec![
                    |u| {
                        // the UASC service holds most of them (4x Kent's table share)
                        if of_kind(u, &[Kind::Suasc]) {
                            4.0 * u.profile.uasc_in_care
                        } else if of_kind(u, &[Kind::Cic, Kind::Disability]) {
                            u.profile.uasc_in_care
                        } else {
                            0.0
                        }
                    },
                    |u| if of_kind(u, &[Kind::Cswt]) { 1.0 } else { 0.0 },
                    all,
                ],
            ),
            (
                KENT_STOCK_CIN * 0.45,
                Entry::General,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Cswt]) {
                            u.profile.caseload - u.profile.cp_plans - u.profile.in_care
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_CIN * 0.55,
                Entry::StockCin,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Cswt, Kind::Cic, Kind::Suasc]) {
                            u.profile.caseload - u.profile.cp_plans - u.profile.in_care
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_STOCK_DISABILITY_CIN,
                Entry::StockDisabledCin,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Disability]) {
                            u.profile.caseload - u.profile.cp_plans - u.profile.in_care
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cswt]) {
                            u.profile.caseload
                        } else {
                            0.0
                        }
                    },
                ],
            ),
            (
                KENT_STOCK_SUPPORT,
                Entry::StockSupport,
                vec![|u| {
                    if of_kind(u, &[Kind::Adoption]) {
                        u.profile.caseload - u.profile.in_care
                    } else {
                        0.0
                    }
                }],
            ),
            (
                KENT_STOCK_CARE_LEAVERS,
                Entry::StockCareLeaver,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::CareLeavers]) {
                            u.profile.caseload
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cic]) {
                            u.profile.in_care
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cswt]) {
                            u.profile.caseload
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
        ];
        let flows: Vec<(f64, Entry, Vec<Tier>)> = vec![
            (
                KENT_GENERAL_NEW_REFS_YEAR,
                Entry::General,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Cswt, Kind::Cic]) {
                            u.profile.referrals_a_month
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_UASC_REFS_YEAR,
                Entry::Uasc,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Suasc]) {
                            u.profile.referrals_a_month
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cic]) {
                            u.profile.uasc_in_care
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cswt]) {
                            u.profile.referrals_a_month
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_DISABILITY_REFS_YEAR,
                Entry::Disability,
                vec![
                    |u| {
                        if of_kind(u, &[Kind::Disability]) {
                            u.profile.referrals_a_month
                        } else {
                            0.0
                        }
                    },
                    |u| {
                        if of_kind(u, &[Kind::Cswt]) {
                            u.profile.referrals_a_month
                        } else {
                            0.0
                        }
                    },
                    all,
                ],
            ),
            (
                KENT_SUPPORT_REFS_YEAR,
                Entry::Support,
                vec![|u| {
                    if of_kind(u, &[Kind::Adoption, Kind::CareLeavers]) {
                        u.profile.referrals_a_month
                    } else {
                        0.0
                    }
                }],
            ),
        ];
        let mut entries: Vec<(Date, u32, u16, Entry)> = Vec::new();
        let mut seq = 0u32;
        for (total, entry, tiers) in &stock {
            let shares = self.shares(tiers);
            for (i, s) in shares.iter().enumerate() {
                let x = total * self.scale * s;
                let n = x.floor() as u32 + self.chance(x - x.floor()) as u32;
                for _ in 0..n {
                    let day = self.start.add_days(self.int_between(0, 27));
                    let entered = this_or_next_weekday(day).min(self.end);
                    entries.push((entered, seq, i as u16, *entry));
                    seq += 1;
                }
            }
        }
        for (total, entry, tiers) in &flows {
            let shares = self.shares(tiers);
            for (i, s) in shares.iter().enumerate() {
                let rate = total * self.scale * s / 365.25;
                if rate <= 0.0 {
                    continue;
                }
                let mut t = 0.0f64;
                loop {
                    let u: f64 = self.uniform();
                    t += -(1.0 - u).ln() / rate;
                    let mut d = self.start.add_days(t as i32);
                    if d > self.end {
                        break;
                    }
                    if is_weekend(d) && self.chance(0.75) {
                        d = this_or_next_weekday(d);
                        if d > self.end {
                            continue;
                        }
                    }
                    entries.push((d, seq, i as u16, *entry));
                    seq += 1;
                }
            }
        }
        entries.sort_by_key(|e| (e.0, e.1));
        for &(d, _, u, e) in &entries {
            self.child_life(u, d, e);
        }
        self.unit_events();
    }
}
