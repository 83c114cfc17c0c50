//! Opening a state: format and configuration checks, loading the series,
//! recorded month ends, live values, totals and input positions.

use super::*;

impl Engine {
    /// Opens (or creates) the state directory for a configuration.
    #[cfg(feature = "rocksdb")]
    pub fn open(config: Arc<Config>, state: &Path, mode: Mode) -> Result<Engine, EngineError> {
        std::fs::create_dir_all(state).map_err(|error| EngineError::Incompatible {
            path: state.display().to_string(),
            problem: format!("cannot create: {error}"),
        })?;
        let store = Store::open(state)?;
        Engine::open_store(config, store, &state.display().to_string(), mode)
    }

    /// Opens the engine over an open store (`name` says where it is, in
    /// messages): a RocksDB directory, or a simulated disk.
    pub fn open_store(
        config: Arc<Config>,
        store: Store,
        name: &str,
        mode: Mode,
    ) -> Result<Engine, EngineError> {
        let catalogue = Catalogue::from_config(&config)?;
        let fingerprint = config.state_fingerprint();
        let incompatible = |problem: String| EngineError::Incompatible {
            path: name.to_string(),
            problem,
        };
        match store.get(Family::Meta, META_FORMAT)? {
            None => {
                if !store.is_empty(Family::Ledger)? {
                    return Err(incompatible("state without a format version".into()));
                }
                let mut batch = Batch::new();
                batch.put(
                    Family::Meta,
                    META_FORMAT,
                    store::FORMAT_VERSION.to_string().into_bytes(),
                );
                batch.put(
                    Family::Meta,
                    META_FINGERPRINT,
                    fingerprint.clone().into_bytes(),
                );
                store.write(&batch, Durability::Sync)?;
            }
            Some(version) => {
                let version = String::from_utf8_lossy(&version).to_string();
                if version != store::FORMAT_VERSION.to_string() {
                    return Err(incompatible(format!(
                        "state format {version}, this build reads {}; rebuild it by replay into a fresh directory",
                        store::FORMAT_VERSION
                    )));
                }
                let stored = store
                    .get(Family::Meta, META_FINGERPRINT)?
                    .map(|bytes| String::from_utf8_lossy(&bytes).to_string())
                    .unwrap_or_default();
                if stored != fingerprint {
                    return Err(incompatible(format!(
                        "built with another configuration (units, indicators or calendar differ: {stored} vs {fingerprint}); replay into a fresh state directory"
                    )));
                }
            }
        }
        if store.get(Family::Meta, META_REBUILDING)?.is_some() {
            return Err(EngineError::InterruptedRebuild {
                path: name.to_string(),
            });
        }
        let ledger = Ledger::open(&store, LEDGER_CACHE_CAPACITY)?;
        let config_schema_validation = config.processing.schema_validation;
        let mut engine = Engine {
            config,
            catalogue,
            store,
            ledger,
            series: SeriesStore::new(),
            clock: Clock::default(),
            recorded: FxHashMap::default(),
            live: FxHashMap::default(),
            totals: Totals::default(),
            positions: BTreeMap::new(),
            outbox_next: 0,
            outbox_pending: std::sync::atomic::AtomicU64::new(0),
            parked: std::sync::atomic::AtomicU64::new(0),
            mode,
            emit_live: true,
            silenced: false,
            schema: if config_schema_validation {
                Some(crate::event::schema::validator().map_err(EngineError::Schema)?)
            } else {
                None
            },
            validation_today: None,
            fault: None,
            spare_batch: Batch::new(),
            pool: None,
            owned: None,
            shared_span: Default::default(),
        };
        engine.pool = engine.thread_pool()?;
        engine.load()?;
        Ok(engine)
    }

    /// The pool of `processing.threads` threads (0: one per core); none
    /// for 1, when every step runs on the calling thread.
    fn thread_pool(&self) -> Result<Option<rayon::ThreadPool>, EngineError> {
        let threads = self.config.processing.threads;
        if threads == 1 {
            return Ok(None);
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|index| format!("ragline-batch-{index}"))
            .build()
            .map(Some)
            .map_err(|error| EngineError::Internal(format!("starting the batch threads: {error}")))
    }

    /// Forgets everything held in memory and loads it again from the
    /// committed state (after a batch panicked half-way).
    pub(super) fn reload(&mut self) -> Result<(), EngineError> {
        self.ledger = Ledger::open(&self.store, LEDGER_CACHE_CAPACITY)?;
        self.series = SeriesStore::new();
        self.clock = Clock::default();
        self.recorded.clear();
        self.live.clear();
        self.totals = Totals::default();
        self.positions.clear();
        self.outbox_next = 0;
        self.spare_batch = Batch::new();
        self.load()
    }

    /// The wall clock's date, for refusing event dates too far in the future
    /// in replay (`validation.future_days`).
    pub fn set_validation_today(&mut self, today: Option<Date>) {
        self.validation_today = today;
    }

    /// Makes handling panic whenever a re-folded owner holds an event that
    /// `fault` matches: for fault-isolation tests and simulations only.
    #[doc(hidden)]
    pub fn set_fault_injector(&mut self, fault: Option<FaultInjector>) {
        self.fault = fault;
    }

    fn load(&mut self) -> Result<(), EngineError> {
        let mut failure: Option<CorruptRecord> = None;
        let series = &mut self.series;
        self.store.for_each(Family::Series, |key, value| {
            if key.len() != SERIES_KEY_LEN {
                failure = Some(CorruptRecord {
                    what: "series",
                    detail: "bad key length".into(),
                });
                return false;
            }
            let slot = u16::from_be_bytes([key[0], key[1]]);
            let unit = UnitIdx(u32::from_be_bytes([key[2], key[3], key[4], key[5]]));
            let month =
                Month::from_index(store::from_ordered_i32([key[6], key[7], key[8], key[9]]));
            match decode::<Vec<(u8, Sums)>>("series", value) {
                Ok(points) => {
                    series.load_chunk((slot, unit), month, &points);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            }
        })?;
        // Loading marks nothing as changed.
        let _ = self.series.take_changes();
        let recorded = &mut self.recorded;
        self.store.for_each(Family::Recorded, |key, value| {
            if key.len() != RECORDED_KEY_LEN {
                failure = Some(CorruptRecord {
                    what: "recorded",
                    detail: "bad key length".into(),
                });
                return false;
            }
            let month =
                Month::from_index(store::from_ordered_i32([key[0], key[1], key[2], key[3]]));
            let unit = UnitIdx(u32::from_be_bytes([key[4], key[5], key[6], key[7]]));
            let slot = u16::from_be_bytes([key[8], key[9]]);
            match decode::<Recorded>("recorded", value) {
                Ok(record) => {
                    recorded.insert((month, unit, slot), record);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            }
        })?;
        let live = &mut self.live;
        self.store.for_each(Family::Live, |key, value| {
            if key.len() != LIVE_KEY_LEN {
                failure = Some(CorruptRecord {
                    what: "live",
                    detail: "bad key length".into(),
                });
                return false;
            }
            let slot = u16::from_be_bytes([key[0], key[1]]);
            let unit = UnitIdx(u32::from_be_bytes([key[2], key[3], key[4], key[5]]));
            match decode::<Live>("live", value) {
                Ok(record) => {
                    live.insert((slot, unit), record);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            }
        })?;
        if let Some(error) = failure {
            return Err(error.into());
        }
        if let Some(bytes) = self.store.get(Family::Meta, META_CLOCK)? {
            self.clock = decode("clock", &bytes)?;
        }
        if let Some(bytes) = self.store.get(Family::Meta, META_TOTALS)? {
            self.totals = decode("totals", &bytes)?;
        }
        if let Some(bytes) = self.store.get(Family::Meta, META_OUTBOX_NEXT)? {
            self.outbox_next = decode("outbox sequence", &bytes)?;
        }
        let mut pending = 0u64;
        self.store.for_each(Family::Outbox, |_, _| {
            pending += 1;
            true
        })?;
        *self.outbox_pending.get_mut() = pending;
        let mut parked = 0u64;
        self.store.for_each(Family::Parked, |_, _| {
            parked += 1;
            true
        })?;
        *self.parked.get_mut() = parked;
        let positions = &mut self.positions;
        let mut failure: Option<CorruptRecord> = None;
        self.store.for_each(Family::Meta, |key, value| {
            if let Ok(name) = std::str::from_utf8(key) {
                if name.starts_with(POSITION_PREFIX) {
                    match <[u8; 8]>::try_from(value) {
                        Ok(bytes) => {
                            positions.insert(name.to_string(), i64::from_be_bytes(bytes));
                        }
                        Err(_) => {
                            failure = Some(CorruptRecord {
                                what: "input position",
                                detail: format!("{} bytes, not 8", value.len()),
                            });
                            return false;
                        }
                    }
                }
            }
            true
        })?;
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }
}
