//! Configuration: a TOML file turned into a validated, immutable [`Config`].
//!
//! Everything a council changes without a new build lives here: the unit tree,
//! authorities, populations, indicator entries with targets and floors per
//! financial year, UASC variants, the bank-holiday calendar, grace periods,
//! batch bounds and Kafka settings. Unknown keys are refused, and every problem
//! names the file, the key and what is wrong.

use crate::calendar::{Date, FinancialYear, WorkingCalendar};
use crate::event::Fixed6;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

mod benchmark;
mod file;
mod parse;
mod settings;

pub use benchmark::{BenchmarkSet, Benchmarks};

pub use settings::{
    HttpSettings, HttpTls, HttpToken, KafkaSettings, OutputSettings, PackSettings, Processing,
    ScaleOutSettings, Scope, Validation,
};

/// Index of a unit in [`Config::units`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct UnitIdx(pub u32);

/// Index of an authority in [`Config::authorities`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct LaIdx(pub u16);

/// A configuration problem: the file, the key and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {problem}")]
pub struct ConfigError {
    /// The configuration file.
    pub file: String,
    /// The key (a dotted path, or the element of a list) that is wrong.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

/// One organisational unit.
#[derive(Clone, Debug)]
pub struct Unit {
    /// Configured id (`dartford-cswt`).
    pub id: String,
    /// Name shown in reports.
    pub name: String,
    /// Kind (`county`, `area`, `cswt`, `cic`, ...); caseload indicators pick leaves by kind.
    pub kind: String,
    /// Parent unit; `None` for an authority's root.
    pub parent: Option<UnitIdx>,
    /// The authority the unit belongs to.
    pub la: LaIdx,
    /// Children in configuration order.
    pub children: Vec<UnitIdx>,
    /// The unit itself followed by its ancestors up to the root.
    pub path_to_root: Vec<UnitIdx>,
    /// Depth below the root (root = 0).
    pub depth: u32,
}

impl Unit {
    /// A leaf unit has no children; only leaves may appear on events.
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }
}

/// A local authority with its own unit tree.
#[derive(Clone, Debug)]
pub struct Authority {
    /// Configured id (`kent`).
    pub id: String,
    /// Name shown in reports.
    pub name: String,
    /// The root unit of the authority's tree.
    pub root: UnitIdx,
}

/// Which children an indicator entry keeps, by their UASC flag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UascFilter {
    /// Every child.
    All,
    /// Children who are not UASC.
    Exclude,
    /// UASC children only.
    Only,
}

/// Target and floor of one indicator for one financial year.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    /// For polarity H or L: a target and a floor standard.
    Bound {
        /// The target.
        target: Decimal,
        /// The floor standard (minimum acceptable).
        floor: Decimal,
    },
    /// For polarity T: a target with a target range and a floor range.
    Range {
        /// The target (middle of the range for direction of travel).
        target: Decimal,
        /// Lowest and highest value rated green.
        target_range: (Decimal, Decimal),
        /// Lowest and highest value rated amber.
        floor_range: (Decimal, Decimal),
    },
}

/// One configured indicator: a catalogue definition, maybe filtered by UASC.
#[derive(Clone, Debug)]
pub struct IndicatorEntry {
    /// The id reported (`SCS19`, `CIC01-EXC-UASC`).
    pub id: String,
    /// The catalogue definition it uses (`CIC01`).
    pub base: String,
    /// Name shown in reports.
    pub name: Option<String>,
    /// UASC filter; `None` means the catalogue default.
    pub uasc: Option<UascFilter>,
    /// Section heading for reports (`CHILD PROTECTION`).
    pub section: Option<String>,
    /// Target for years without their own entry.
    pub default_target: Option<TargetSpec>,
    /// Targets per financial year.
    pub years: BTreeMap<FinancialYear, Option<TargetSpec>>,
    /// Where the figures come from, for the committee pack's data notes
    /// (`None`: the `[pack] data_source`).
    pub data_source: Option<String>,
}

impl IndicatorEntry {
    /// The target and floor that apply in a financial year, if any.
    pub fn target_for(&self, year: FinancialYear) -> Option<&TargetSpec> {
        match self.years.get(&year) {
            Some(spec) => spec.as_ref(),
            None => self.default_target.as_ref(),
        }
    }
}

/// Population under 18 per unit, for rate indicators.
#[derive(Clone, Debug, Default)]
pub struct Population {
    default: Option<u64>,
    years: BTreeMap<FinancialYear, u64>,
}

impl Population {
    /// The population that applies in a financial year.
    pub fn for_year(&self, year: FinancialYear) -> Option<u64> {
        self.years.get(&year).copied().or(self.default)
    }
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Authorities in configuration order.
    pub authorities: Vec<Authority>,
    /// The authority of events without `la`.
    pub default_la: LaIdx,
    /// Every unit of every authority, in configuration order.
    pub units: Vec<Unit>,
    unit_index: HashMap<String, UnitIdx>,
    la_index: HashMap<String, LaIdx>,
    /// Configured indicators in report order.
    pub indicators: Vec<IndicatorEntry>,
    /// Working days.
    pub calendar: WorkingCalendar,
    /// Populations per unit.
    pub populations: HashMap<UnitIdx, Population>,
    /// Grace periods and batch bounds.
    pub processing: Processing,
    /// Plausible ranges of input values.
    pub validation: Validation,
    /// Kafka settings.
    pub kafka: KafkaSettings,
    /// HTTP settings.
    pub http: HttpSettings,
    /// What outputs carry.
    pub outputs: OutputSettings,
    /// Disclosure control of published outputs.
    pub disclosure: crate::disclosure::Policy,
    /// The committee pack (`[pack]`).
    pub pack: PackSettings,
    /// Published comparators shown beside the values (`[benchmark]`).
    pub benchmarks: Benchmarks,
    /// More than one instance (`[scale_out]`, `docs/scale-out.md`).
    pub scale_out: ScaleOutSettings,
}

impl Config {
    /// Looks a unit up by id.
    pub fn unit_by_id(&self, id: &str) -> Option<UnitIdx> {
        self.unit_index.get(id).copied()
    }

    /// Looks an authority up by id.
    pub fn la_by_id(&self, id: &str) -> Option<LaIdx> {
        self.la_index.get(id).copied()
    }

    /// Every unit's index, in configuration order.
    pub fn unit_indices(&self) -> Vec<UnitIdx> {
        (0..self.units.len())
            .map(|unit| UnitIdx(unit as u32))
            .collect()
    }

    /// The unit at an index.
    pub fn unit(&self, unit: UnitIdx) -> &Unit {
        &self.units[unit.0 as usize]
    }

    /// The root unit of an authority.
    pub fn root_of(&self, la: LaIdx) -> UnitIdx {
        self.authorities[la.0 as usize].root
    }

    /// Every leaf under `unit` (itself if it is a leaf) of the given kind.
    pub fn leaves_of_kind_under(&self, unit: UnitIdx, kind: &str) -> Vec<UnitIdx> {
        let mut leaves = Vec::new();
        let mut stack = vec![unit];
        while let Some(current) = stack.pop() {
            let node = self.unit(current);
            if node.is_leaf() {
                if node.kind == kind {
                    leaves.push(current);
                }
            } else {
                stack.extend(node.children.iter().rev().copied());
            }
        }
        leaves.sort();
        leaves
    }

    /// A stable fingerprint of everything that shapes stored state: units,
    /// authorities, indicator ids, bases and filters, and the calendar.
    /// Targets, names and populations are read at report time and are not part of it.
    pub fn state_fingerprint(&self) -> String {
        let mut text = String::new();
        for authority in &self.authorities {
            text.push_str(&format!("la {} {}\n", authority.id, authority.root.0));
        }
        for unit in &self.units {
            text.push_str(&format!(
                "unit {} {} {:?}\n",
                unit.id,
                unit.kind,
                unit.parent.map(|parent| parent.0)
            ));
        }
        for indicator in &self.indicators {
            text.push_str(&format!(
                "indicator {} {} {:?}\n",
                indicator.id, indicator.base, indicator.uasc
            ));
        }
        for holiday in self.calendar.holidays() {
            text.push_str(&format!("holiday {holiday}\n"));
        }
        format!("{:016x}", fnv1a(text.as_bytes()))
    }
}

/// 64-bit FNV-1a: a small stable hash for fingerprints and output ids.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl fmt::Display for UascFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UascFilter::All => "all",
            UascFilter::Exclude => "exclude",
            UascFilter::Only => "only",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[authority]]
id = "la"
name = "An Authority"
root = "top"

[[unit]]
id = "top"
name = "Top"
kind = "county"

[[unit]]
id = "team-a"
name = "Team A"
kind = "cswt"
parent = "top"

[population]
top = 1000

[[indicator]]
id = "SCS03"
target = 25.0
floor = 30.0
[indicator.years."2018-19"]
target = 24.5
floor = 29.0

[calendar]
bank_holidays = ["2017-08-28"]
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn minimal_config_parses() {
        let config = parse(MINIMAL).unwrap();
        let team = config.unit_by_id("team-a").unwrap();
        assert!(config.unit(team).is_leaf());
        assert_eq!(config.unit(team).path_to_root.len(), 2);
        let entry = &config.indicators[0];
        assert_eq!(entry.base, "SCS03");
        assert_eq!(
            entry.target_for(FinancialYear(2017)),
            Some(&TargetSpec::Bound {
                target: Decimal::from_str("25.0").unwrap(),
                floor: Decimal::from_str("30.0").unwrap()
            })
        );
        assert!(matches!(
            entry.target_for(FinancialYear(2018)),
            Some(TargetSpec::Bound { target, .. }) if target.to_string() == "24.5"
        ));
    }

    #[test]
    fn errors_name_file_key_and_problem() {
        let error =
            parse(&MINIMAL.replace("parent = \"top\"", "parent = \"nowhere\"")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.toml: unit[1] (team-a).parent: 'nowhere' is not a configured unit"
        );
        let error = parse(&MINIMAL.replace("floor = 30.0", "flor = 30.0")).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `flor`"),
            "{error}"
        );
        assert!(error.to_string().starts_with("test.toml: line "), "{error}");
        let error = parse(&MINIMAL.replace("\"2017-08-28\"", "\"2017-02-30\"")).unwrap_err();
        assert!(
            error.to_string().contains("calendar.bank_holidays[0]"),
            "{error}"
        );
        let error = parse(&MINIMAL.replace("floor = 30.0\n", "")).unwrap_err();
        assert!(
            error.to_string().contains("target without floor"),
            "{error}"
        );
    }

    #[test]
    fn fingerprint_ignores_targets_but_not_units() {
        let base = parse(MINIMAL).unwrap().state_fingerprint();
        let retargeted = parse(&MINIMAL.replace("25.0", "26.0"))
            .unwrap()
            .state_fingerprint();
        assert_eq!(base, retargeted);
        let renamed = parse(&MINIMAL.replace("team-a", "team-b"))
            .unwrap()
            .state_fingerprint();
        assert_ne!(base, renamed);
    }

    #[test]
    fn disclosure_defaults_and_settings() {
        use crate::disclosure::{Output, Policy, RagRule};
        assert_eq!(parse(MINIMAL).unwrap().disclosure, Policy::default());
        let config = parse(&format!(
            "[disclosure]\nthreshold = 11\nround_to = 5\nrag = \"never\"\noutputs = [\"page\"]\n{MINIMAL}"
        ))
        .unwrap();
        assert_eq!(
            config.disclosure,
            Policy::new(11, 5, RagRule::Never, vec![Output::Page]).unwrap()
        );
        let error = |section: &str| {
            parse(&format!("[disclosure]\n{section}\n{MINIMAL}"))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("threshold = 0"),
            "test.toml: disclosure.threshold: must be from 1 (withhold no count by size) to 1000, not 0"
        );
        assert_eq!(
            error("round_to = -5"),
            "test.toml: disclosure.round_to: must be from 1 (no rounding) to 1000, not -5"
        );
        assert_eq!(
            error("outputs = [\"report\", \"kafka\"]"),
            "test.toml: disclosure.outputs[1]: unknown output \"kafka\" (expected \"report\" or \"page\")"
        );
        assert_eq!(
            error("outputs = [\"page\", \"page\"]"),
            "test.toml: disclosure.outputs: \"page\" is listed twice"
        );
        assert!(error("rag = \"sometimes\"").contains("disclosure.rag: unknown rule \"sometimes\""));
        assert!(error("threshhold = 6").contains("unknown field `threshhold`"));
    }
}
