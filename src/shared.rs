//! The handles that the processing loop, the HTTP server and the sinks
//! share: the engine behind its lock, the telemetry, readiness and the pages
//! last rendered. Below both `live` and `sink`, so neither imports the other.

use crate::pipeline::Engine;
use crate::telemetry::Telemetry;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, from the system clock.
pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Shared handles: the engine (for HTTP pages), telemetry, readiness.
#[derive(Clone)]
pub struct Shared {
    /// The engine, locked by the loop while it processes a batch.
    pub engine: Arc<Mutex<Engine>>,
    /// Metrics.
    pub telemetry: Arc<Telemetry>,
    /// Set while state is loaded and at least one input partition is
    /// assigned.
    pub ready: Arc<AtomicBool>,
    /// The scorecard pages last rendered, by unit id and form (exact or
    /// published): served when the loop holds the engine, so that a slow
    /// batch never stalls a reader.
    pub pages: Arc<Mutex<std::collections::HashMap<PageKey, String>>>,
    /// The HTTP settings (tokens), read without the engine's lock.
    pub http: Arc<crate::config::HttpSettings>,
}

/// Which page: a unit id (empty for the default authority's root) and
/// whether it is the published form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The unit id as requested.
    pub unit: String,
    /// The published form (disclosure control) rather than the exact one.
    pub published: bool,
}

impl PageKey {
    /// The exact page of a unit.
    pub fn exact(unit: impl Into<String>) -> PageKey {
        PageKey {
            unit: unit.into(),
            published: false,
        }
    }

    /// The published page of a unit.
    pub fn published(unit: impl Into<String>) -> PageKey {
        PageKey {
            unit: unit.into(),
            published: true,
        }
    }
}

impl Shared {
    /// Wraps an engine (for example after a file replay, to serve its pages).
    pub fn new(engine: Engine, ready: bool) -> Shared {
        let telemetry = Arc::new(Telemetry::new(engine.config()));
        telemetry.refresh(&engine, now_seconds());
        let http = Arc::new(engine.config().http.clone());
        Shared {
            http,
            engine: Arc::new(Mutex::new(engine)),
            telemetry,
            ready: Arc::new(AtomicBool::new(ready)),
            pages: Arc::default(),
        }
    }
}
