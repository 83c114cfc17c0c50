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

/// Grace periods and batch bounds.
#[derive(Clone, Debug)]
pub struct Processing {
    /// Days after a month end before it closes, in replay.
    pub grace_days_replay: u32,
    /// Days after a month end before it closes, live.
    pub grace_days_live: u32,
    /// Most events in one live batch (one RocksDB commit).
    pub batch_max_events: usize,
    /// Most events in one replay batch (file or topic): larger batches fold
    /// each child and rewrite its record fewer times.
    pub replay_batch_events: usize,
    /// Longest a live batch waits to fill, in milliseconds.
    pub batch_max_millis: u64,
    /// Largest accepted message, in bytes.
    pub max_message_bytes: usize,
    /// Most pending output records before the Kafka source pauses.
    pub outbox_max_records: usize,
    /// Validate every message against the JSON Schemas too (slower).
    pub schema_validation: bool,
    /// A file replay flushes its state to disk at least this often (0: after
    /// every batch), so a replay stopped by a crash resumes from there.
    pub replay_checkpoint_seconds: u64,
    /// fsync every live commit. Off, a commit is in RocksDB's write-ahead
    /// log (safe when the process crashes; after a power loss the state is a
    /// consistent earlier prefix, input offsets included, and the lost tail
    /// is consumed again).
    pub sync_commits: bool,
    /// On SIGINT/SIGTERM, how long the live loop keeps delivering pending
    /// outputs before it stops (the rest are sent after the restart), in
    /// seconds.
    pub shutdown_drain_seconds: u64,
    /// Threads that decode messages and fold owners in parallel within a
    /// batch (0: one per core; 1: everything on the calling thread). The
    /// result is the same whatever the number.
    pub threads: usize,
}

/// Plausible ranges that input values must fall in (`[validation]`): a
/// value outside them is rejected with reason `out_of_range`, never clamped.
#[derive(Clone, Debug)]
pub struct Validation {
    /// Earliest accepted event date (`date`, `started`, `s47_started`).
    pub earliest_event_date: Date,
    /// Earliest accepted `date_of_birth`.
    pub earliest_birth_date: Date,
    /// Latest accepted date of any kind, whatever the wall clock says.
    pub latest_date: Date,
    /// Days after today (the wall clock) that an event may be dated: later
    /// dates are rejected, so a typo cannot move the processor's clock.
    pub future_days: u32,
    /// Largest accepted `distance_miles`.
    pub max_distance_miles: Fixed6,
    /// Largest accepted FTE figure on a staffing snapshot.
    pub max_fte: Fixed6,
}

impl Validation {
    /// The latest accepted event date when today is `today` (`None`: no
    /// wall clock, only [`Validation::latest_date`] bounds).
    pub fn horizon(&self, today: Option<Date>) -> Date {
        match today {
            Some(today) => today
                .add_days(
                    i32::try_from(self.future_days)
                        .unwrap_or(i32::MAX / 2)
                        .min(366_000),
                )
                .min(self.latest_date),
            None => self.latest_date,
        }
    }
}

/// Kafka settings (environment variables `RAGLINE_KAFKA_*` override them).
/// Property values are resolved (`${NAME}` references, `KEY_file` keys; see
/// [`crate::secrets`]); `Debug` shows secret properties as redacted.
#[derive(Clone)]
pub struct KafkaSettings {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Input topic of case events.
    pub input_topic: String,
    /// Consumer group id (offsets committed there are advisory).
    pub group_id: String,
    /// Output topic for live indicator values (compacted).
    pub values_topic: String,
    /// Output topic for RAG changes.
    pub rag_changes_topic: String,
    /// Output topic for month-end scorecards.
    pub scorecards_topic: String,
    /// Output topic for restatements.
    pub restatements_topic: String,
    /// Output topic for dead letters.
    pub dead_letters_topic: String,
    /// Extra librdkafka properties for both clients.
    pub properties: BTreeMap<String, String>,
    /// Extra librdkafka properties for the input consumer only.
    pub consumer_properties: BTreeMap<String, String>,
    /// Extra librdkafka properties for the output producer only.
    pub producer_properties: BTreeMap<String, String>,
}

impl std::fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSettings")
            .field("brokers", &self.brokers)
            .field("input_topic", &self.input_topic)
            .field("group_id", &self.group_id)
            .field("values_topic", &self.values_topic)
            .field("rag_changes_topic", &self.rag_changes_topic)
            .field("scorecards_topic", &self.scorecards_topic)
            .field("restatements_topic", &self.restatements_topic)
            .field("dead_letters_topic", &self.dead_letters_topic)
            .field("properties", &crate::secrets::redacted(&self.properties))
            .field(
                "consumer_properties",
                &crate::secrets::redacted(&self.consumer_properties),
            )
            .field(
                "producer_properties",
                &crate::secrets::redacted(&self.producer_properties),
            )
            .finish()
    }
}

/// What an HTTP bearer token may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `/metrics` (Prometheus scrapes).
    Metrics,
    /// The scorecard pages, exact and published (people).
    Read,
}

/// A bearer token allowed on the HTTP server: only its SHA-256 is kept.
#[derive(Clone, Debug)]
pub struct HttpToken {
    /// Who holds it (shown in logs of refused requests never; in
    /// `check-config`).
    pub name: String,
    /// The SHA-256 of the token, 64 lower-case hex digits.
    pub sha256: String,
    /// What it may read.
    pub scopes: Vec<Scope>,
}

/// HTTP settings.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Listen address of `/metrics`, `/healthz` and the scorecard pages.
    pub listen: String,
    /// Bearer tokens. None: no authentication, allowed only on a loopback
    /// address unless `allow_unauthenticated` says otherwise.
    pub tokens: Vec<HttpToken>,
    /// Serve without tokens on a non-loopback address (behind a proxy that
    /// authenticates).
    pub allow_unauthenticated: bool,
    /// HTTPS: the certificate chain and private key (PEM files), read at
    /// start and again on SIGHUP. None: plain HTTP.
    pub tls: Option<HttpTls>,
}

/// The HTTP server's certificate and key files (PEM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTls {
    /// The certificate chain, leaf first.
    pub certificate: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl HttpSettings {
    /// Whether requests must carry a token.
    pub fn authenticates(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Whether the listen address is a loopback one (127.0.0.0/8, ::1,
    /// `localhost`).
    pub fn listens_on_loopback(&self) -> bool {
        let host = match self.listen.rsplit_once(':') {
            Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
            None => self.listen.as_str(),
        };
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|address| address.is_loopback())
    }

    /// The scopes of a presented token, if it is one of the configured
    /// ones (compared by hash, in constant time).
    pub fn scopes_of(&self, presented: &str) -> Option<&[Scope]> {
        let hash = crate::secrets::sha256_hex(presented.as_bytes());
        let mut found = None;
        for token in &self.tokens {
            if crate::secrets::constant_time_eq(hash.as_bytes(), token.sha256.as_bytes()) {
                found = Some(token.scopes.as_slice());
            }
        }
        found
    }
}

/// The SHA-256 of a token kept in a file (read and hashed; the token is
/// not kept). A token shorter than 16 characters is refused.
fn token_hash(setting: &str, path: &str) -> Result<String, crate::secrets::SecretError> {
    let token = crate::secrets::read_file(setting, path)?;
    if token.trim().len() < 16 {
        return Err(crate::secrets::SecretError::UnreadableFile {
            setting: setting.to_string(),
            path: path.to_string(),
            reason: "a token needs at least 16 characters".into(),
        });
    }
    Ok(crate::secrets::sha256_hex(token.trim().as_bytes()))
}

/// What leaves the process with each output (least data out).
#[derive(Clone, Debug, Default)]
pub struct OutputSettings {
    /// Dead letters carry the rejected message itself (otherwise its
    /// position, reason and SHA-256 only).
    pub dead_letter_payloads: bool,
    /// Indicator values carry their cause (the last input position and the
    /// batch size): for debugging only, since a position ties an aggregate
    /// change to one child's record.
    pub value_causes: bool,
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
}

/// Settings of the committee pack (`report --view exceptions|movement`).
#[derive(Clone, Debug)]
pub struct PackSettings {
    /// Where the figures come from ("Data Source: ..."), unless an
    /// indicator names its own.
    pub data_source: Option<String>,
    /// Month ends in an exception page's trend table, unless `--trend` says.
    pub trend_months: u32,
}

impl Default for PackSettings {
    fn default() -> Self {
        PackSettings {
            data_source: None,
            trend_months: 4,
        }
    }
}

// ---------------------------------------------------------------------------
// The file format (serde twins of the types above).

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    processing: FileProcessing,
    #[serde(default)]
    validation: FileValidation,
    #[serde(default)]
    kafka: FileKafka,
    #[serde(default)]
    http: FileHttp,
    #[serde(default)]
    outputs: FileOutputs,
    #[serde(default)]
    disclosure: FileDisclosure,
    #[serde(default)]
    pack: FilePack,
    #[serde(rename = "authority")]
    authorities: Vec<FileAuthority>,
    #[serde(rename = "unit")]
    units: Vec<FileUnit>,
    #[serde(default)]
    population: BTreeMap<String, FilePopulation>,
    #[serde(rename = "indicator", default)]
    indicators: Vec<FileIndicator>,
    calendar: FileCalendar,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileProcessing {
    grace_days_replay: u32,
    grace_days_live: u32,
    batch_max_events: usize,
    replay_batch_events: usize,
    batch_max_millis: u64,
    max_message_bytes: usize,
    outbox_max_records: usize,
    schema_validation: bool,
    replay_checkpoint_seconds: u64,
    sync_commits: bool,
    shutdown_drain_seconds: u64,
    threads: usize,
}

impl Default for FileProcessing {
    fn default() -> Self {
        FileProcessing {
            grace_days_replay: 0,
            grace_days_live: 5,
            batch_max_events: 100_000,
            replay_batch_events: 500_000,
            batch_max_millis: 200,
            max_message_bytes: 1 << 20,
            outbox_max_records: 1_000_000,
            schema_validation: false,
            replay_checkpoint_seconds: 30,
            sync_commits: false,
            shutdown_drain_seconds: 30,
            threads: 0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileValidation {
    earliest_event_date: String,
    earliest_birth_date: String,
    latest_date: String,
    future_days: u32,
    max_distance_miles: f64,
    max_fte: f64,
}

impl Default for FileValidation {
    fn default() -> Self {
        FileValidation {
            earliest_event_date: "1990-01-01".into(),
            earliest_birth_date: "1900-01-01".into(),
            latest_date: "2099-12-31".into(),
            future_days: 31,
            max_distance_miles: 25_000.0,
            max_fte: 100_000.0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileKafka {
    brokers: String,
    input_topic: String,
    group_id: String,
    values_topic: String,
    rag_changes_topic: String,
    scorecards_topic: String,
    restatements_topic: String,
    dead_letters_topic: String,
    properties: BTreeMap<String, String>,
    consumer_properties: BTreeMap<String, String>,
    producer_properties: BTreeMap<String, String>,
}

impl Default for FileKafka {
    fn default() -> Self {
        FileKafka {
            brokers: "127.0.0.1:9092".into(),
            input_topic: "ragline.case-events".into(),
            group_id: "ragline".into(),
            values_topic: "ragline.indicator-values".into(),
            rag_changes_topic: "ragline.rag-changes".into(),
            scorecards_topic: "ragline.scorecards".into(),
            restatements_topic: "ragline.restatements".into(),
            dead_letters_topic: "ragline.dead-letters".into(),
            properties: BTreeMap::new(),
            consumer_properties: BTreeMap::new(),
            producer_properties: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileHttp {
    listen: String,
    allow_unauthenticated: bool,
    tokens: Vec<FileToken>,
    tls_certificate: Option<String>,
    tls_key: Option<String>,
}

impl Default for FileHttp {
    fn default() -> Self {
        FileHttp {
            listen: "127.0.0.1:9464".into(),
            allow_unauthenticated: false,
            tokens: Vec::new(),
            tls_certificate: None,
            tls_key: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToken {
    name: String,
    scopes: Vec<Scope>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    sha256_file: Option<String>,
    #[serde(default)]
    token_file: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct FileOutputs {
    dead_letter_payloads: bool,
    value_causes: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileDisclosure {
    threshold: i64,
    round_to: i64,
    rag: String,
    outputs: Vec<String>,
}

impl Default for FileDisclosure {
    fn default() -> Self {
        let policy = crate::disclosure::Policy::default();
        FileDisclosure {
            threshold: policy.threshold(),
            round_to: policy.round_to(),
            rag: policy.rag().as_str().into(),
            outputs: policy
                .outputs()
                .iter()
                .map(|output| output.as_str().to_string())
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FilePack {
    data_source: Option<String>,
    trend_months: u32,
}

impl Default for FilePack {
    fn default() -> Self {
        let settings = PackSettings::default();
        FilePack {
            data_source: settings.data_source,
            trend_months: settings.trend_months,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuthority {
    id: String,
    name: String,
    root: String,
    #[serde(default)]
    default: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUnit {
    id: String,
    name: String,
    kind: String,
    #[serde(default)]
    parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FilePopulation {
    Constant(u64),
    PerYear(BTreeMap<String, u64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIndicator {
    id: String,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uasc: Option<UascFilter>,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    data_source: Option<String>,
    #[serde(flatten)]
    target: FileTarget,
    #[serde(default)]
    years: BTreeMap<String, FileTarget>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileTarget {
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    floor: Option<f64>,
    #[serde(default)]
    target_range: Option<[f64; 2]>,
    #[serde(default)]
    floor_range: Option<[f64; 2]>,
    #[serde(default)]
    none: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCalendar {
    bank_holidays: Vec<String>,
}

// ---------------------------------------------------------------------------

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            file: file.clone(),
            key: "(file)".into(),
            problem: format!("cannot read: {error}"),
        })?;
        Config::parse(&text, path)
    }

    /// Validates configuration text; `path` is used in messages and kept.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let fail = |key: &str, problem: String| ConfigError {
            file: file.clone(),
            key: key.to_string(),
            problem,
        };
        let raw: FileConfig = toml::from_str(text).map_err(|error| {
            let span = error
                .span()
                .map(|span| line_of(text, span.start))
                .map(|line| format!("line {line}"))
                .unwrap_or_else(|| "(document)".into());
            fail(&span, error.message().to_string())
        })?;

        // Units.
        let mut unit_index = HashMap::new();
        for (position, unit) in raw.units.iter().enumerate() {
            if unit.id.is_empty() {
                return Err(fail(&format!("unit[{position}].id"), "empty".into()));
            }
            if unit_index
                .insert(unit.id.clone(), UnitIdx(position as u32))
                .is_some()
            {
                return Err(fail(
                    &format!("unit[{position}].id"),
                    format!("duplicate unit id '{}'", unit.id),
                ));
            }
        }
        let mut parents = Vec::with_capacity(raw.units.len());
        for (position, unit) in raw.units.iter().enumerate() {
            let parent = match &unit.parent {
                None => None,
                Some(parent) => Some(*unit_index.get(parent).ok_or_else(|| {
                    fail(
                        &format!("unit[{position}] ({}).parent", unit.id),
                        format!("'{parent}' is not a configured unit"),
                    )
                })?),
            };
            parents.push(parent);
        }
        // Paths to root, refusing cycles.
        let mut paths = Vec::with_capacity(raw.units.len());
        for (position, unit) in raw.units.iter().enumerate() {
            let mut path = vec![UnitIdx(position as u32)];
            let mut current = parents[position];
            while let Some(parent) = current {
                if path.contains(&parent) {
                    return Err(fail(
                        &format!("unit[{position}] ({}).parent", unit.id),
                        "the parents form a cycle".into(),
                    ));
                }
                path.push(parent);
                current = parents[parent.0 as usize];
            }
            paths.push(path);
        }

        // Authorities.
        if raw.authorities.is_empty() {
            return Err(fail(
                "authority",
                "at least one authority is required".into(),
            ));
        }
        let mut la_index = HashMap::new();
        let mut authorities = Vec::new();
        let mut default_la = None;
        for (position, authority) in raw.authorities.iter().enumerate() {
            let key = format!("authority[{position}] ({})", authority.id);
            let root = *unit_index.get(&authority.root).ok_or_else(|| {
                fail(
                    &format!("{key}.root"),
                    format!("'{}' is not a configured unit", authority.root),
                )
            })?;
            if parents[root.0 as usize].is_some() {
                return Err(fail(
                    &format!("{key}.root"),
                    format!(
                        "'{}' has a parent; an authority's root has none",
                        authority.root
                    ),
                ));
            }
            if la_index
                .insert(authority.id.clone(), LaIdx(position as u16))
                .is_some()
            {
                return Err(fail(&format!("{key}.id"), "duplicate authority id".into()));
            }
            if authority.default {
                if default_la.is_some() {
                    return Err(fail(
                        &format!("{key}.default"),
                        "only one authority can be the default".into(),
                    ));
                }
                default_la = Some(LaIdx(position as u16));
            }
            authorities.push(Authority {
                id: authority.id.clone(),
                name: authority.name.clone(),
                root,
            });
        }
        let default_la = match default_la {
            Some(la) => la,
            None if authorities.len() == 1 => LaIdx(0),
            None => {
                return Err(fail(
                    "authority",
                    "several authorities: mark one with default = true".into(),
                ))
            }
        };
        let mut units = Vec::with_capacity(raw.units.len());
        for (position, unit) in raw.units.iter().enumerate() {
            let root = *paths[position].last().expect("path holds the unit");
            let la = authorities
                .iter()
                .position(|authority| authority.root == root)
                .ok_or_else(|| {
                    fail(
                        &format!("unit[{position}] ({})", unit.id),
                        format!(
                            "its root '{}' is not the root of any authority",
                            raw.units[root.0 as usize].id
                        ),
                    )
                })?;
            units.push(Unit {
                id: unit.id.clone(),
                name: unit.name.clone(),
                kind: unit.kind.clone(),
                parent: parents[position],
                la: LaIdx(la as u16),
                children: Vec::new(),
                depth: paths[position].len() as u32 - 1,
                path_to_root: paths[position].clone(),
            });
        }
        for position in 0..units.len() {
            if let Some(parent) = units[position].parent {
                units[parent.0 as usize]
                    .children
                    .push(UnitIdx(position as u32));
            }
        }

        // Populations.
        let mut populations = HashMap::new();
        for (unit_id, population) in &raw.population {
            let key = format!("population.{unit_id}");
            let unit = *unit_index
                .get(unit_id)
                .ok_or_else(|| fail(&key, format!("'{unit_id}' is not a configured unit")))?;
            let parsed = match population {
                FilePopulation::Constant(value) => Population {
                    default: Some(*value),
                    years: BTreeMap::new(),
                },
                FilePopulation::PerYear(years) => {
                    let mut parsed = Population::default();
                    for (year, value) in years {
                        if year == "default" {
                            parsed.default = Some(*value);
                        } else {
                            let year = FinancialYear::parse(year).ok_or_else(|| {
                                fail(
                                    &format!("{key}.{year}"),
                                    "expected a financial year like 2017-18, or default".into(),
                                )
                            })?;
                            parsed.years.insert(year, *value);
                        }
                    }
                    parsed
                }
            };
            populations.insert(unit, parsed);
        }

        // Indicators (ids and targets; the catalogue checks bases later).
        let mut seen = HashMap::new();
        let mut indicators = Vec::new();
        for (position, indicator) in raw.indicators.iter().enumerate() {
            let key = format!("indicator[{position}] ({})", indicator.id);
            if indicator.id.is_empty() || indicator.id.contains('/') {
                return Err(fail(&key, "id must be non-empty and contain no '/'".into()));
            }
            if seen.insert(indicator.id.clone(), position).is_some() {
                return Err(fail(&key, "duplicate indicator id".into()));
            }
            let default_target =
                parse_target(&indicator.target).map_err(|problem| fail(&key, problem))?;
            let mut years = BTreeMap::new();
            for (year, target) in &indicator.years {
                let year_key = format!("{key}.years.{year}");
                let parsed_year = FinancialYear::parse(year).ok_or_else(|| {
                    fail(&year_key, "expected a financial year like 2017-18".into())
                })?;
                let spec = parse_target(target).map_err(|problem| fail(&year_key, problem))?;
                years.insert(parsed_year, spec);
            }
            indicators.push(IndicatorEntry {
                id: indicator.id.clone(),
                base: indicator
                    .base
                    .clone()
                    .unwrap_or_else(|| indicator.id.clone()),
                name: indicator.name.clone(),
                uasc: indicator.uasc,
                section: indicator.section.clone(),
                default_target,
                years,
                data_source: indicator.data_source.clone(),
            });
        }

        // Calendar.
        let mut holidays = Vec::with_capacity(raw.calendar.bank_holidays.len());
        for (position, text) in raw.calendar.bank_holidays.iter().enumerate() {
            holidays.push(Date::parse(text).ok_or_else(|| {
                fail(
                    &format!("calendar.bank_holidays[{position}]"),
                    format!("'{text}' is not a date (YYYY-MM-DD)"),
                )
            })?);
        }

        let validation = parse_validation(&raw.validation)
            .map_err(|(key, problem)| fail(&format!("validation.{key}"), problem))?;

        let disclosure = parse_disclosure(&raw.disclosure)
            .map_err(|(key, problem)| fail(&format!("disclosure.{key}"), problem))?;

        let processing = &raw.processing;
        if processing.batch_max_events == 0 {
            return Err(fail(
                "processing.batch_max_events",
                "must be at least 1".into(),
            ));
        }
        if processing.replay_batch_events == 0 {
            return Err(fail(
                "processing.replay_batch_events",
                "must be at least 1".into(),
            ));
        }
        if processing.max_message_bytes == 0 {
            return Err(fail(
                "processing.max_message_bytes",
                "must be at least 1".into(),
            ));
        }
        let kafka = &raw.kafka;
        let env =
            |name: &str, value: &String| std::env::var(name).unwrap_or_else(|_| value.clone());
        let resolve = |section: &str, properties: &BTreeMap<String, String>| {
            crate::secrets::resolve_properties(section, properties)
                .map_err(|error| fail(section, error.to_string()))
        };
        let mut tokens = Vec::with_capacity(raw.http.tokens.len());
        for (position, token) in raw.http.tokens.iter().enumerate() {
            let key = format!("http.tokens[{position}]");
            let sha256 = match (&token.sha256, &token.sha256_file, &token.token_file) {
                (Some(text), None, None) => crate::secrets::expand(&format!("{key}.sha256"), text),
                (None, Some(path), None) => {
                    crate::secrets::read_file(&format!("{key}.sha256_file"), path)
                }
                (None, None, Some(path)) => {
                    token_hash(&format!("{key}.token_file"), path)
                }
                _ => {
                    return Err(fail(
                        &key,
                        "give exactly one of sha256, sha256_file and token_file (see `ragline hash-token`)".into(),
                    ))
                }
            }
            .map_err(|error| fail(&key, error.to_string()))?
            .trim()
            .to_ascii_lowercase();
            if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(fail(
                    &format!("{key}.sha256"),
                    "must be a SHA-256 in hex (64 digits), not the token itself; see `ragline hash-token`".into(),
                ));
            }
            if token.scopes.is_empty() {
                return Err(fail(
                    &format!("{key}.scopes"),
                    "must name at least one of metrics, read".into(),
                ));
            }
            if token.name.trim().is_empty() {
                return Err(fail(&format!("{key}.name"), "must not be empty".into()));
            }
            tokens.push(HttpToken {
                name: token.name.clone(),
                sha256,
                scopes: token.scopes.clone(),
            });
        }
        // Tokens from the environment: a file holding the token (a Docker or
        // Kubernetes secret), one variable per scope.
        for (variable, scope) in [
            ("RAGLINE_HTTP_METRICS_TOKEN_FILE", Scope::Metrics),
            ("RAGLINE_HTTP_READ_TOKEN_FILE", Scope::Read),
        ] {
            if let Ok(path) = std::env::var(variable) {
                let sha256 = token_hash(variable, &path)
                    .map_err(|error| fail(variable, error.to_string()))?;
                tokens.push(HttpToken {
                    name: variable.to_string(),
                    sha256,
                    scopes: vec![scope],
                });
            }
        }
        let http = HttpSettings {
            listen: env("RAGLINE_HTTP_LISTEN", &raw.http.listen),
            tokens,
            allow_unauthenticated: raw.http.allow_unauthenticated,
            tls: match (&raw.http.tls_certificate, &raw.http.tls_key) {
                (None, None) => None,
                (Some(certificate), Some(key)) => Some(HttpTls {
                    certificate: PathBuf::from(certificate),
                    key: PathBuf::from(key),
                }),
                _ => {
                    return Err(fail(
                        "http.tls_certificate",
                        "give both tls_certificate and tls_key, or neither".into(),
                    ))
                }
            },
        };
        if !http.authenticates() && !http.listens_on_loopback() && !http.allow_unauthenticated {
            return Err(fail(
                "http.listen",
                format!(
                    "{} is reachable from other machines but no [[http.tokens]] are configured: add tokens, listen on 127.0.0.1, or set http.allow_unauthenticated = true behind an authenticating proxy",
                    http.listen
                ),
            ));
        }
        if raw.pack.trend_months == 0 || raw.pack.trend_months > 36 {
            return Err(fail(
                "pack.trend_months",
                "must be from 1 to 36 month ends".into(),
            ));
        }
        let pack = PackSettings {
            data_source: raw
                .pack
                .data_source
                .clone()
                .filter(|text| !text.trim().is_empty()),
            trend_months: raw.pack.trend_months,
        };
        Ok(Config {
            pack,
            path: path.to_path_buf(),
            authorities,
            default_la,
            units,
            unit_index,
            la_index,
            indicators,
            calendar: WorkingCalendar::new(holidays),
            populations,
            processing: Processing {
                grace_days_replay: processing.grace_days_replay,
                grace_days_live: processing.grace_days_live,
                batch_max_events: processing.batch_max_events,
                replay_batch_events: processing.replay_batch_events,
                batch_max_millis: processing.batch_max_millis,
                max_message_bytes: processing.max_message_bytes,
                outbox_max_records: processing.outbox_max_records.max(1),
                schema_validation: processing.schema_validation,
                replay_checkpoint_seconds: processing.replay_checkpoint_seconds,
                sync_commits: processing.sync_commits,
                shutdown_drain_seconds: processing.shutdown_drain_seconds,
                threads: processing.threads,
            },
            validation,
            kafka: KafkaSettings {
                brokers: env("RAGLINE_KAFKA_BROKERS", &kafka.brokers),
                input_topic: env("RAGLINE_KAFKA_INPUT_TOPIC", &kafka.input_topic),
                group_id: env("RAGLINE_KAFKA_GROUP_ID", &kafka.group_id),
                values_topic: env("RAGLINE_KAFKA_VALUES_TOPIC", &kafka.values_topic),
                rag_changes_topic: env("RAGLINE_KAFKA_RAG_CHANGES_TOPIC", &kafka.rag_changes_topic),
                scorecards_topic: env("RAGLINE_KAFKA_SCORECARDS_TOPIC", &kafka.scorecards_topic),
                restatements_topic: env(
                    "RAGLINE_KAFKA_RESTATEMENTS_TOPIC",
                    &kafka.restatements_topic,
                ),
                dead_letters_topic: env(
                    "RAGLINE_KAFKA_DEAD_LETTERS_TOPIC",
                    &kafka.dead_letters_topic,
                ),
                properties: resolve("kafka.properties", &kafka.properties)?,
                consumer_properties: resolve(
                    "kafka.consumer_properties",
                    &kafka.consumer_properties,
                )?,
                producer_properties: resolve(
                    "kafka.producer_properties",
                    &kafka.producer_properties,
                )?,
            },
            http,
            outputs: OutputSettings {
                dead_letter_payloads: raw.outputs.dead_letter_payloads,
                value_causes: raw.outputs.value_causes,
            },
            disclosure,
        })
    }

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

fn parse_validation(file: &FileValidation) -> Result<Validation, (&'static str, String)> {
    let date = |key: &'static str, text: &str| {
        Date::parse(text).ok_or_else(|| (key, format!("'{text}' is not a date (YYYY-MM-DD)")))
    };
    let amount = |key: &'static str, value: f64| {
        if !(value.is_finite() && (0.0..=1e9).contains(&value)) {
            return Err((key, "must be a number from 0 to 1e9".to_string()));
        }
        Ok(Fixed6((value * Fixed6::ONE as f64).round() as i64))
    };
    let validation = Validation {
        earliest_event_date: date("earliest_event_date", &file.earliest_event_date)?,
        earliest_birth_date: date("earliest_birth_date", &file.earliest_birth_date)?,
        latest_date: date("latest_date", &file.latest_date)?,
        future_days: file.future_days,
        max_distance_miles: amount("max_distance_miles", file.max_distance_miles)?,
        max_fte: amount("max_fte", file.max_fte)?,
    };
    if validation.earliest_event_date >= validation.latest_date {
        return Err((
            "latest_date",
            "must be after earliest_event_date".to_string(),
        ));
    }
    if validation.earliest_birth_date >= validation.latest_date {
        return Err((
            "latest_date",
            "must be after earliest_birth_date".to_string(),
        ));
    }
    Ok(validation)
}

fn parse_disclosure(file: &FileDisclosure) -> Result<crate::disclosure::Policy, (String, String)> {
    use crate::disclosure::{Output, Policy, RagRule};
    let rag: RagRule = file
        .rag
        .parse()
        .map_err(|problem| ("rag".to_string(), problem))?;
    let mut outputs = Vec::with_capacity(file.outputs.len());
    for (position, name) in file.outputs.iter().enumerate() {
        let output: Output = name
            .parse()
            .map_err(|problem| (format!("outputs[{position}]"), problem))?;
        outputs.push(output);
    }
    Policy::new(file.threshold, file.round_to, rag, outputs).map_err(|error| match error {
        crate::disclosure::DisclosureError::Setting { key, problem } => (key.to_string(), problem),
        other => ("(section)".to_string(), other.to_string()),
    })
}

fn parse_target(target: &FileTarget) -> Result<Option<TargetSpec>, String> {
    let decimal = |value: f64, what: &str| -> Result<Decimal, String> {
        if !value.is_finite() {
            return Err(format!("{what}: not a finite number"));
        }
        Decimal::from_str(&value.to_string()).map_err(|_| format!("{what}: not a decimal number"))
    };
    if target.none {
        if target.target.is_some()
            || target.floor.is_some()
            || target.target_range.is_some()
            || target.floor_range.is_some()
        {
            return Err("none = true cannot be combined with a target".into());
        }
        return Ok(None);
    }
    match (
        target.target,
        target.floor,
        target.target_range,
        target.floor_range,
    ) {
        (None, None, None, None) => Ok(None),
        (Some(value), Some(floor), None, None) => Ok(Some(TargetSpec::Bound {
            target: decimal(value, "target")?,
            floor: decimal(floor, "floor")?,
        })),
        (Some(value), None, Some(range), Some(floor_range)) => {
            let target_range = (
                decimal(range[0], "target_range")?,
                decimal(range[1], "target_range")?,
            );
            let floor_range = (
                decimal(floor_range[0], "floor_range")?,
                decimal(floor_range[1], "floor_range")?,
            );
            if !(floor_range.0 <= target_range.0
                && target_range.0 <= target_range.1
                && target_range.1 <= floor_range.1)
            {
                return Err("ranges must nest: floor_range[0] <= target_range[0] <= target_range[1] <= floor_range[1]".into());
            }
            Ok(Some(TargetSpec::Range {
                target: decimal(value, "target")?,
                target_range,
                floor_range,
            }))
        }
        (Some(_), None, None, None) => {
            Err("target without floor (or target_range and floor_range)".into())
        }
        (None, Some(_), _, _) => Err("floor without target".into()),
        _ => Err("give target and floor, or target with target_range and floor_range".into()),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
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
