//! Reading a configuration: the TOML text to a validated [`Config`], every
//! problem naming the file, the key and what is wrong.

use super::file::*;
use super::settings::token_hash;
use super::*;

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
        if processing.rebuild_events_in_memory == 0 {
            return Err(fail(
                "processing.rebuild_events_in_memory",
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
        let benchmarks = Benchmarks::parse(&raw.benchmark, &indicators)
            .map_err(|(key, problem)| fail(&key, problem))?;
        let scale_out = &raw.scale_out;
        if scale_out.partitions == 0 {
            return Err(fail("scale_out.partitions", "must be at least 1".into()));
        }
        if scale_out.repartition_topic.trim().is_empty() {
            return Err(fail(
                "scale_out.repartition_topic",
                "must not be empty".into(),
            ));
        }
        let enabled = match std::env::var("RAGLINE_SCALE_OUT_ENABLED") {
            Err(_) => scale_out.enabled,
            Ok(text) => match text.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(fail(
                        "scale_out.enabled",
                        format!("RAGLINE_SCALE_OUT_ENABLED is '{text}'; give true or false"),
                    ))
                }
            },
        };
        let scale_out = ScaleOutSettings {
            enabled,
            repartition_topic: scale_out.repartition_topic.clone(),
            partitions: scale_out.partitions,
            producer_properties: resolve(
                "scale_out.producer_properties",
                &scale_out.producer_properties,
            )?,
        };
        Ok(Config {
            pack,
            benchmarks,
            scale_out,
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
                rebuild_events_in_memory: processing.rebuild_events_in_memory,
                batch_max_millis: processing.batch_max_millis,
                max_message_bytes: processing.max_message_bytes,
                outbox_max_records: processing.outbox_max_records.max(1),
                schema_validation: processing.schema_validation,
                replay_checkpoint_seconds: processing.replay_checkpoint_seconds,
                sync_commits: processing.sync_commits,
                shutdown_drain_seconds: processing.shutdown_drain_seconds,
                replay_idle_seconds: processing.replay_idle_seconds.max(1),
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
