//! The file format: serde twins of the validated types, with their
//! defaults. Unknown keys are refused.

use super::*;

// ---------------------------------------------------------------------------
// The file format (serde twins of the types above).

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    #[serde(default)]
    pub(super) processing: FileProcessing,
    #[serde(default)]
    pub(super) validation: FileValidation,
    #[serde(default)]
    pub(super) kafka: FileKafka,
    #[serde(default)]
    pub(super) http: FileHttp,
    #[serde(default)]
    pub(super) outputs: FileOutputs,
    #[serde(default)]
    pub(super) disclosure: FileDisclosure,
    #[serde(default)]
    pub(super) pack: FilePack,
    #[serde(default)]
    pub(super) benchmark: FileBenchmark,
    #[serde(default)]
    pub(super) scale_out: FileScaleOut,
    #[serde(rename = "authority")]
    pub(super) authorities: Vec<FileAuthority>,
    #[serde(rename = "unit")]
    pub(super) units: Vec<FileUnit>,
    #[serde(default)]
    pub(super) population: BTreeMap<String, FilePopulation>,
    #[serde(rename = "indicator", default)]
    pub(super) indicators: Vec<FileIndicator>,
    pub(super) calendar: FileCalendar,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileProcessing {
    pub(super) grace_days_replay: u32,
    pub(super) grace_days_live: u32,
    pub(super) batch_max_events: usize,
    pub(super) replay_batch_events: usize,
    pub(super) rebuild_events_in_memory: usize,
    pub(super) batch_max_millis: u64,
    pub(super) max_message_bytes: usize,
    pub(super) outbox_max_records: usize,
    pub(super) schema_validation: bool,
    pub(super) replay_checkpoint_seconds: u64,
    pub(super) sync_commits: bool,
    pub(super) shutdown_drain_seconds: u64,
    pub(super) replay_idle_seconds: u64,
    pub(super) threads: usize,
}

impl Default for FileProcessing {
    fn default() -> Self {
        FileProcessing {
            grace_days_replay: 0,
            grace_days_live: 5,
            batch_max_events: 100_000,
            replay_batch_events: 500_000,
            rebuild_events_in_memory: 4_000_000,
            batch_max_millis: 200,
            max_message_bytes: 1 << 20,
            outbox_max_records: 1_000_000,
            schema_validation: false,
            replay_checkpoint_seconds: 30,
            sync_commits: false,
            shutdown_drain_seconds: 30,
            replay_idle_seconds: 60,
            threads: 0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileValidation {
    pub(super) earliest_event_date: String,
    pub(super) earliest_birth_date: String,
    pub(super) latest_date: String,
    pub(super) future_days: u32,
    pub(super) max_distance_miles: f64,
    pub(super) max_fte: f64,
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
pub(super) struct FileKafka {
    pub(super) brokers: String,
    pub(super) input_topic: String,
    pub(super) group_id: String,
    pub(super) values_topic: String,
    pub(super) rag_changes_topic: String,
    pub(super) scorecards_topic: String,
    pub(super) restatements_topic: String,
    pub(super) dead_letters_topic: String,
    pub(super) properties: BTreeMap<String, String>,
    pub(super) consumer_properties: BTreeMap<String, String>,
    pub(super) producer_properties: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileScaleOut {
    pub(super) enabled: bool,
    pub(super) repartition_topic: String,
    pub(super) partitions: u32,
    pub(super) producer_properties: BTreeMap<String, String>,
}

impl Default for FileScaleOut {
    fn default() -> Self {
        FileScaleOut {
            enabled: false,
            repartition_topic: "ragline.repartition".into(),
            partitions: 12,
            producer_properties: BTreeMap::new(),
        }
    }
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
pub(super) struct FileHttp {
    pub(super) listen: String,
    pub(super) allow_unauthenticated: bool,
    pub(super) tokens: Vec<FileToken>,
    pub(super) tls_certificate: Option<String>,
    pub(super) tls_key: Option<String>,
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
pub(super) struct FileToken {
    pub(super) name: String,
    pub(super) scopes: Vec<Scope>,
    #[serde(default)]
    pub(super) sha256: Option<String>,
    #[serde(default)]
    pub(super) sha256_file: Option<String>,
    #[serde(default)]
    pub(super) token_file: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileOutputs {
    pub(super) dead_letter_payloads: bool,
    pub(super) value_causes: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileDisclosure {
    pub(super) threshold: i64,
    pub(super) round_to: i64,
    pub(super) rag: String,
    pub(super) outputs: Vec<String>,
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
pub(super) struct FilePack {
    pub(super) data_source: Option<String>,
    pub(super) trend_months: u32,
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

/// `[benchmark]`: comparator names, then per indicator id and source year
/// (`"2016-17"`) a value per comparator.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileBenchmark {
    pub(super) comparators: Vec<String>,
    pub(super) values: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAuthority {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) root: String,
    #[serde(default)]
    pub(super) default: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileUnit {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) kind: String,
    #[serde(default)]
    pub(super) parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum FilePopulation {
    Constant(u64),
    PerYear(BTreeMap<String, u64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileIndicator {
    pub(super) id: String,
    #[serde(default)]
    pub(super) base: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) uasc: Option<UascFilter>,
    #[serde(default)]
    pub(super) section: Option<String>,
    #[serde(default)]
    pub(super) data_source: Option<String>,
    #[serde(flatten)]
    pub(super) target: FileTarget,
    #[serde(default)]
    pub(super) years: BTreeMap<String, FileTarget>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTarget {
    #[serde(default)]
    pub(super) target: Option<f64>,
    #[serde(default)]
    pub(super) floor: Option<f64>,
    #[serde(default)]
    pub(super) target_range: Option<[f64; 2]>,
    #[serde(default)]
    pub(super) floor_range: Option<[f64; 2]>,
    #[serde(default)]
    pub(super) none: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileCalendar {
    pub(super) bank_holidays: Vec<String>,
}

// ---------------------------------------------------------------------------
