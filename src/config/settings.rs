//! The validated settings of a configuration beside its units and
//! indicators: processing bounds, input validation ranges, Kafka, HTTP,
//! outputs and the committee pack.

use super::*;

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
    /// Most events a bulk rebuild (a replay into an empty state) holds in
    /// memory; beyond it, events wait in spill files beside the state.
    pub rebuild_events_in_memory: usize,
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
    /// A replay from the input topic stops reading once nothing has arrived
    /// for this long while short of the high watermarks found at start (a
    /// broker that stops serving), in seconds: it says which partitions
    /// stopped short, and `run` reads on from the offsets the state holds.
    pub replay_idle_seconds: u64,
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
pub(super) fn token_hash(setting: &str, path: &str) -> Result<String, crate::secrets::SecretError> {
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

/// More than one instance (`[scale_out]`, `docs/scale-out.md`).
#[derive(Clone, PartialEq, Eq)]
pub struct ScaleOutSettings {
    /// Whether `ragline run` joins consumer groups and shares the work
    /// with other instances (false: one instance applies every input
    /// partition itself).
    pub enabled: bool,
    /// The internal topic between routing and applying, keyed by authority.
    pub repartition_topic: String,
    /// Its number of partitions: the most instances that can share the
    /// applying. Every instance must agree; it cannot change without
    /// rebuilding every instance's state.
    pub partitions: u32,
    /// Extra librdkafka properties for the repartition producer only,
    /// applied after `kafka.producer_properties`.
    pub producer_properties: BTreeMap<String, String>,
}

impl std::fmt::Debug for ScaleOutSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScaleOutSettings")
            .field("enabled", &self.enabled)
            .field("repartition_topic", &self.repartition_topic)
            .field("partitions", &self.partitions)
            .field(
                "producer_properties",
                &crate::secrets::redacted(&self.producer_properties),
            )
            .finish()
    }
}
