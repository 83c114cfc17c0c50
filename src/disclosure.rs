//! Disclosure control of published outputs (`docs/disclosure.md`).
//!
//! Internal outputs (topics, metrics, the reports and pages) are exact. The
//! *published* form of a report or page withholds what could identify a
//! child, as UK official statistics do, with the Government Statistical
//! Service symbols: `c` confidential (withheld), `z` not applicable, `k`
//! rounds to zero, `x` not available.
//!
//! - Primary suppression: a count of children or facts from 1 to
//!   `threshold - 1` is withheld; 0 is published.
//! - Secondary suppression ([`tree`]): per indicator, date, window and
//!   component (numerator or denominator), until no parent unit and its
//!   children hold exactly one withheld count between them.
//! - A value (percentage, average, rate, ratio) is withheld when its
//!   numerator or denominator is; an average's numerator (a sum of days)
//!   is withheld with its denominator.
//! - Amounts that count no child (FTE, configured populations) are published.
//! - Optional rounding of published counts to a base; a non-zero count or
//!   value that rounds to zero is `k`.

pub mod render;
pub mod table;
pub mod tree;

use crate::indicators::{Indicator, Kind, Query};
use std::fmt;

/// A disclosure problem: a setting out of range, a published output that the
/// configuration does not enable, or an inconsistent table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    /// A `[disclosure]` setting is invalid.
    #[error("{key}: {problem}")]
    Setting {
        /// The key under `[disclosure]`.
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The configuration does not list this output under `[disclosure] outputs`.
    #[error("the published {0} is not enabled: add \"{0}\" to outputs under [disclosure]")]
    NotEnabled(Output),
    /// A table does not fit its unit tree (a bug, never an input problem).
    #[error("disclosure table: {0}")]
    Tree(String),
}

/// A Government Statistical Service symbol, shown instead of a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// `c`: withheld to protect confidentiality.
    Confidential,
    /// `z`: not applicable (a value without a denominator, a count's denominator).
    NotApplicable,
    /// `k`: rounds to zero but is not zero.
    RoundsToZero,
    /// `x`: not available (a rate without a configured population).
    NotAvailable,
}

impl Symbol {
    /// The symbol as published.
    pub fn as_str(self) -> &'static str {
        match self {
            Symbol::Confidential => "c",
            Symbol::NotApplicable => "z",
            Symbol::RoundsToZero => "k",
            Symbol::NotAvailable => "x",
        }
    }
}

/// A published quantity: shown, or a symbol in its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published<T> {
    /// Shown (rounded as the policy says).
    Shown(T),
    /// A symbol instead.
    Symbol(Symbol),
}

impl<T: Copy> Published<T> {
    /// The shown quantity, if any.
    pub fn shown(self) -> Option<T> {
        match self {
            Published::Shown(value) => Some(value),
            Published::Symbol(_) => None,
        }
    }

    /// Whether it is withheld for confidentiality (`c`).
    pub fn is_withheld(self) -> bool {
        matches!(self, Published::Symbol(Symbol::Confidential))
    }
}

impl<T: PartialEq + Copy> PartialEq<Symbol> for Published<T> {
    fn eq(&self, other: &Symbol) -> bool {
        matches!(self, Published::Symbol(symbol) if symbol == other)
    }
}

/// An output that has a published form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// `ragline report --published`.
    Report,
    /// The live pages under `/scorecard/published`.
    Page,
}

impl Output {
    /// Every output, in documentation order.
    pub const ALL: [Output; 2] = [Output::Report, Output::Page];

    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Output::Report => "report",
            Output::Page => "page",
        }
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a published row shows its RAG rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RagRule {
    /// Unless the value is withheld (`c`); the default.
    UnlessSuppressed,
    /// Always, even next to a withheld value (a rating narrows the value
    /// down to a band: only where the bands are wide enough).
    Always,
    /// Never: published rows carry no rating.
    Never,
}

impl RagRule {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RagRule::UnlessSuppressed => "unless_suppressed",
            RagRule::Always => "always",
            RagRule::Never => "never",
        }
    }
}

/// The disclosure policy of published outputs (`[disclosure]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    threshold: i64,
    round_to: i64,
    rag: RagRule,
    outputs: Vec<Output>,
}

/// Largest accepted `threshold` and `round_to`.
pub const MAX_SETTING: i64 = 1000;

impl Default for Policy {
    /// Counts 1 to 5 withheld, no rounding, ratings unless withheld, both outputs.
    fn default() -> Policy {
        Policy {
            threshold: 6,
            round_to: 1,
            rag: RagRule::UnlessSuppressed,
            outputs: Output::ALL.to_vec(),
        }
    }
}

impl Policy {
    /// A policy from its settings: counts from 1 to `threshold - 1` are
    /// withheld (`threshold` 1 withholds nothing by size), published counts
    /// are rounded to a multiple of `round_to` (1: not rounded).
    pub fn new(
        threshold: i64,
        round_to: i64,
        rag: RagRule,
        outputs: Vec<Output>,
    ) -> Result<Policy, DisclosureError> {
        if !(1..=MAX_SETTING).contains(&threshold) {
            return Err(DisclosureError::Setting {
                key: "threshold",
                problem: format!(
                    "must be from 1 (withhold no count by size) to {MAX_SETTING}, not {threshold}"
                ),
            });
        }
        if !(1..=MAX_SETTING).contains(&round_to) {
            return Err(DisclosureError::Setting {
                key: "round_to",
                problem: format!("must be from 1 (no rounding) to {MAX_SETTING}, not {round_to}"),
            });
        }
        for (position, output) in outputs.iter().enumerate() {
            if outputs[..position].contains(output) {
                return Err(DisclosureError::Setting {
                    key: "outputs",
                    problem: format!("\"{output}\" is listed twice"),
                });
            }
        }
        Ok(Policy {
            threshold,
            round_to,
            rag,
            outputs,
        })
    }

    /// Counts from 1 to this less one are withheld.
    pub fn threshold(&self) -> i64 {
        self.threshold
    }

    /// Published counts are multiples of this.
    pub fn round_to(&self) -> i64 {
        self.round_to
    }

    /// When ratings are shown.
    pub fn rag(&self) -> RagRule {
        self.rag
    }

    /// The outputs with a published form.
    pub fn outputs(&self) -> &[Output] {
        &self.outputs
    }

    /// `Ok` when `output` has a published form.
    pub fn check_enabled(&self, output: Output) -> Result<(), DisclosureError> {
        if self.outputs.contains(&output) {
            Ok(())
        } else {
            Err(DisclosureError::NotEnabled(output))
        }
    }

    /// Whether an exact count is withheld by size (primary suppression).
    pub fn is_small(&self, count: i64) -> bool {
        count != 0 && count < self.threshold
    }

    /// An exact count as published (before any secondary suppression):
    /// rounded to the nearest multiple of `round_to`, halves up; `k` when a
    /// non-zero count rounds to 0.
    pub fn rounded(&self, count: i64) -> Published<i64> {
        let base = i128::from(self.round_to);
        let magnitude = i128::from(count).abs();
        let rounded = (2 * magnitude + base) / (2 * base) * base;
        if rounded == 0 && count != 0 {
            return Published::Symbol(Symbol::RoundsToZero);
        }
        let rounded = i64::try_from(rounded).unwrap_or(i64::MAX);
        Published::Shown(if count < 0 { -rounded } else { rounded })
    }
}

impl std::str::FromStr for Output {
    type Err = String;
    fn from_str(text: &str) -> Result<Output, String> {
        Output::ALL
            .into_iter()
            .find(|output| output.as_str() == text)
            .ok_or_else(|| format!("unknown output \"{text}\" (expected \"report\" or \"page\")"))
    }
}

impl std::str::FromStr for RagRule {
    type Err = String;
    fn from_str(text: &str) -> Result<RagRule, String> {
        [RagRule::UnlessSuppressed, RagRule::Always, RagRule::Never]
            .into_iter()
            .find(|rule| rule.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown rule \"{text}\" (expected \"unless_suppressed\", \"always\" or \"never\")"
                )
            })
    }
}

/// What a numerator or denominator is, for disclosure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A count of children or facts: withheld when small, protected over
    /// the unit tree, rounded.
    Count,
    /// A sum over the denominator's children (days for the averages AD02
    /// and SCS29): withheld whenever the denominator is.
    FollowsDenominator,
    /// Counts no child (FTE, a configured population): always published.
    Open,
}

/// The role of an indicator's numerator.
pub fn numerator_role(def: &Indicator) -> Role {
    if def.num_scale != 1 {
        Role::Open
    } else if def.kind == Kind::Average {
        Role::FollowsDenominator
    } else {
        Role::Count
    }
}

/// The role of an indicator's denominator; `None` for counts, which have none.
pub fn denominator_role(def: &Indicator) -> Option<Role> {
    if def.kind == Kind::Count {
        None
    } else if def.den_scale != 1 || def.query == Query::Population {
        Some(Role::Open)
    } else {
        Some(Role::Count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::by_id;

    #[test]
    fn settings_are_checked() {
        assert!(Policy::new(6, 1, RagRule::Always, vec![]).is_ok());
        assert_eq!(
            Policy::new(0, 1, RagRule::Always, vec![])
                .unwrap_err()
                .to_string(),
            "threshold: must be from 1 (withhold no count by size) to 1000, not 0"
        );
        assert!(Policy::new(6, 0, RagRule::Always, vec![]).is_err());
        assert!(Policy::new(6, 1001, RagRule::Always, vec![]).is_err());
        assert!(Policy::new(6, 1, RagRule::Always, vec![Output::Page, Output::Page]).is_err());
        assert_eq!("page".parse::<Output>(), Ok(Output::Page));
        assert!("pages".parse::<Output>().is_err());
        assert_eq!("never".parse::<RagRule>(), Ok(RagRule::Never));
        let policy = Policy::new(6, 1, RagRule::Always, vec![Output::Report]).unwrap();
        assert_eq!(
            policy.check_enabled(Output::Page).unwrap_err().to_string(),
            "the published page is not enabled: add \"page\" to outputs under [disclosure]"
        );
    }

    #[test]
    fn small_counts_are_one_below_the_threshold_and_zero_is_not() {
        let policy = Policy::default();
        assert!(!policy.is_small(0));
        assert!(policy.is_small(1));
        assert!(policy.is_small(5));
        assert!(!policy.is_small(6));
        assert!(!Policy::new(1, 1, RagRule::Always, vec![])
            .unwrap()
            .is_small(1));
    }

    #[test]
    fn rounding_to_a_base_with_k_for_non_zero_counts_that_round_to_zero() {
        let five = Policy::new(1, 5, RagRule::Always, vec![]).unwrap();
        assert_eq!(five.rounded(0), Published::Shown(0));
        assert_eq!(five.rounded(2), Symbol::RoundsToZero);
        assert_eq!(five.rounded(3), Published::Shown(5)); // 2.5 rounds up
        assert_eq!(five.rounded(7), Published::Shown(5));
        assert_eq!(five.rounded(8), Published::Shown(10));
        let ten = Policy::new(6, 10, RagRule::Always, vec![]).unwrap();
        assert_eq!(ten.rounded(15), Published::Shown(20));
        assert_eq!(ten.rounded(14), Published::Shown(10));
        assert_eq!(Policy::default().rounded(17), Published::Shown(17));
    }

    #[test]
    fn roles_follow_the_kind_and_scale() {
        let role = |id| {
            let def = by_id(id).unwrap();
            (numerator_role(def), denominator_role(def))
        };
        assert_eq!(role("CP01"), (Role::Count, Some(Role::Count)));
        assert_eq!(role("SCS01"), (Role::Count, None));
        assert_eq!(role("AD02"), (Role::FollowsDenominator, Some(Role::Count)));
        assert_eq!(role("SCS02"), (Role::Count, Some(Role::Open)));
        assert_eq!(role("SCS40"), (Role::Open, Some(Role::Open)));
        assert_eq!(role("SCS43"), (Role::Count, Some(Role::Open)));
    }
}
