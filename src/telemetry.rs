//! Every metric ragline exposes, by name, in one place.
//!
//! Indicator gauges (`scorecard_indicator_*`, labels `indicator`, `unit`, and
//! `la` when several authorities are configured) mirror the live values; the
//! processor's own metrics (`ragline_*`) follow Prometheus conventions:
//! `_total` counters, base units (`_seconds`, `_bytes`), label values from
//! closed sets. Counters move once per batch.

use crate::calendar::Date;
use crate::config::Config;
use crate::outbox::OutputTopic;
use crate::pipeline::{BatchOutcome, Engine, Live};
use crate::scorecard::value_of;
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use std::collections::HashMap;

/// The metrics registry and every metric in it.
pub struct Telemetry {
    registry: Registry,
    labels_with_la: bool,
    indicator_value: GaugeVec,
    indicator_numerator: GaugeVec,
    indicator_denominator: GaugeVec,
    indicator_target: GaugeVec,
    indicator_floor: GaugeVec,
    indicator_rag: GaugeVec,
    /// Messages read from the source.
    pub messages_consumed: IntCounter,
    /// Events that changed state.
    pub events_applied: IntCounter,
    /// Equal or lower revisions.
    pub events_duplicate: IntCounter,
    /// Rejected messages by reason.
    pub events_rejected: IntCounterVec,
    /// Outputs delivered by topic.
    pub outputs_produced: IntCounterVec,
    /// Restatements of closed months.
    pub restatements: IntCounter,
    /// Batches committed.
    pub batches: IntCounter,
    /// Current anomalies by reason.
    pub anomalies: IntGaugeVec,
    /// Consumer lag per partition.
    pub consumer_lag: IntGaugeVec,
    /// Kafka trouble by kind (`connect`, `consume`, `delivery`,
    /// `topics`, `offsets_lost`).
    pub kafka_errors: IntCounterVec,
    /// Input partitions assigned to this processor.
    pub partitions_assigned: IntGauge,
    /// Scaled out: 1 for an owned partition of the repartition topic that
    /// is catching up (its values are not yet current), 0 once current.
    pub repartition_catching_up: IntGaugeVec,
    /// Scaled out: the offset up to which an owned partition of the
    /// repartition topic is applied.
    pub repartition_applied_offset: IntGaugeVec,
    /// Scaled out: input messages routed to the repartition topic.
    pub messages_routed: IntCounter,
    /// Scaled out: batch decisions written.
    pub batch_decisions: IntCounter,
    /// Scaled out: batches repeated silently while catching up.
    pub batches_repeated: IntCounter,
    /// 1 for an input partition whose next events were deleted by retention
    /// before they were read: it is not read until the state is rebuilt.
    pub retention_gap: IntGaugeVec,
    /// Now minus the latest event date.
    pub event_time_lag: prometheus::Gauge,
    /// State directory size.
    pub state_size: IntGauge,
    /// Input messages folded into the state since it was created (unlike the
    /// counters, it survives restarts).
    pub state_messages: IntGauge,
    /// End of the last closed month.
    pub month_last_closed: IntGauge,
    /// When the last batch was committed.
    pub last_batch: prometheus::Gauge,
    /// Output records waiting for delivery.
    pub outbox_pending: IntGauge,
    /// Output records the broker refused for good, kept until retried.
    pub outbox_parked: IntGauge,
    /// The processor's current date.
    pub current_date: IntGauge,
    /// Input message timestamp to its outputs queued in the producer.
    pub event_to_output_latency: Histogram,
    /// Whole batch processing time.
    pub batch_duration: Histogram,
    /// RocksDB commit time.
    pub commit_duration: Histogram,
    /// The live values the indicator gauges show, and the date their targets
    /// were read for: a refresh sets only the gauges of values that changed.
    published: std::sync::Mutex<Published>,
}

#[derive(Default)]
struct Published {
    /// Each value shown, with the date its target and floor were read for.
    values: rustc_hash::FxHashMap<(crate::contrib::Slot, crate::config::UnitIdx), (Live, Date)>,
}

fn unix_seconds(date: Date) -> i64 {
    i64::from(date.days()) * 86_400
}

impl Telemetry {
    /// Registers every metric.
    pub fn new(config: &Config) -> Telemetry {
        let registry = Registry::new();
        let labels_with_la = config.authorities.len() > 1;
        let indicator_labels: &[&str] = if labels_with_la {
            &["la", "indicator", "unit"]
        } else {
            &["indicator", "unit"]
        };
        let gauge = |name: &str, help: &str| {
            let metric =
                GaugeVec::new(Opts::new(name, help), indicator_labels).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let indicator_value = gauge(
            "scorecard_indicator_value",
            "Live indicator value (unrounded).",
        );
        let indicator_numerator =
            gauge("scorecard_indicator_numerator", "Live indicator numerator.");
        let indicator_denominator = gauge(
            "scorecard_indicator_denominator",
            "Live indicator denominator.",
        );
        let indicator_target = gauge(
            "scorecard_indicator_target",
            "Target for the current financial year.",
        );
        let indicator_floor = gauge(
            "scorecard_indicator_floor",
            "Floor standard for the current financial year.",
        );
        let indicator_rag = gauge(
            "scorecard_indicator_rag",
            "Live RAG rating: 0 green, 1 amber, 2 red; absent when not rated.",
        );
        let counter = |name: &str, help: &str| {
            let metric = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let int_gauge = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let float_gauge = |name: &str, help: &str| {
            let metric = prometheus::Gauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let events_rejected = counter_vec(
            "ragline_events_rejected_total",
            "Rejected messages by reason.",
            &["reason"],
        );
        for code in crate::event::RejectionCode::ALL {
            events_rejected.with_label_values(&[code.as_str()]);
        }
        let outputs_produced = counter_vec(
            "ragline_outputs_produced_total",
            "Outputs delivered by topic.",
            &["topic"],
        );
        for topic in OutputTopic::ALL {
            outputs_produced.with_label_values(&[topic.as_str()]);
        }
        let anomalies = IntGaugeVec::new(
            Opts::new("ragline_anomalies", "Current anomalies by reason."),
            &["reason"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(anomalies.clone()))
            .expect("unique metric");
        for reason in crate::fold::AnomalyReason::ALL {
            anomalies.with_label_values(&[reason.as_str()]);
        }
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "ragline_consumer_lag_messages",
                "Messages between the next offset to read and the high watermark.",
            ),
            &["topic", "partition"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(consumer_lag.clone()))
            .expect("unique metric");
        let kafka_errors = counter_vec(
            "ragline_kafka_errors_total",
            "Kafka trouble by kind: connect, consume, delivery, topics, offsets_lost.",
            &["kind"],
        );
        for kind in ["connect", "consume", "delivery", "topics", "offsets_lost"] {
            kafka_errors.with_label_values(&[kind]);
        }
        let retention_gap = IntGaugeVec::new(
            Opts::new(
                "ragline_input_retention_gap",
                "1 for an input partition whose unread events were deleted by retention.",
            ),
            &["topic", "partition"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(retention_gap.clone()))
            .expect("unique metric");
        let partition_gauge = |name: &str, help: &str| {
            let metric =
                IntGaugeVec::new(Opts::new(name, help), &["partition"]).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let repartition_catching_up = partition_gauge(
            "ragline_repartition_catching_up",
            "Scaled out: 1 for an owned repartition partition still catching up, 0 once current.",
        );
        let repartition_applied_offset = partition_gauge(
            "ragline_repartition_applied_offset",
            "Scaled out: the offset up to which an owned repartition partition is applied.",
        );
        let latency_buckets = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        Telemetry {
            published: std::sync::Mutex::default(),
            labels_with_la,
            indicator_value,
            indicator_numerator,
            indicator_denominator,
            indicator_target,
            indicator_floor,
            indicator_rag,
            messages_consumed: counter(
                "ragline_messages_consumed_total",
                "Messages read from the source.",
            ),
            events_applied: counter(
                "ragline_events_applied_total",
                "Events that changed state (new facts, revisions, voids).",
            ),
            events_duplicate: counter(
                "ragline_events_duplicate_total",
                "Equal or lower revisions of known events.",
            ),
            events_rejected,
            outputs_produced,
            restatements: counter(
                "ragline_restatements_total",
                "Changed values of closed months.",
            ),
            batches: counter("ragline_batches_total", "Batches committed."),
            anomalies,
            consumer_lag,
            kafka_errors,
            partitions_assigned: int_gauge(
                "ragline_input_partitions_assigned",
                "Input partitions assigned to this processor.",
            ),
            retention_gap,
            repartition_catching_up,
            repartition_applied_offset,
            messages_routed: counter(
                "ragline_messages_routed_total",
                "Scaled out: input messages routed to the repartition topic.",
            ),
            batch_decisions: counter(
                "ragline_batch_decisions_written_total",
                "Scaled out: batch decisions written to the repartition topic.",
            ),
            batches_repeated: counter(
                "ragline_batches_repeated_total",
                "Scaled out: batches repeated silently while catching up.",
            ),
            event_time_lag: float_gauge(
                "ragline_event_time_lag_seconds",
                "Now minus the latest event date.",
            ),
            state_messages: int_gauge(
                "ragline_state_messages",
                "Input messages folded into the state since it was created (survives restarts).",
            ),
            state_size: int_gauge(
                "ragline_state_size_bytes",
                "Approximate size of the RocksDB state.",
            ),
            month_last_closed: int_gauge(
                "ragline_month_last_closed_timestamp_seconds",
                "End of the last closed month (start of the next day), unix seconds.",
            ),
            last_batch: float_gauge(
                "ragline_last_batch_timestamp_seconds",
                "When the last batch was committed, unix seconds.",
            ),
            outbox_pending: int_gauge(
                "ragline_outbox_pending_records",
                "Output records waiting for delivery.",
            ),
            outbox_parked: int_gauge(
                "ragline_outbox_parked_records",
                "Output records the broker refused for good, kept in state until `ragline outbox --retry-parked`.",
            ),
            current_date: int_gauge(
                "ragline_current_date_timestamp_seconds",
                "The processor's current date, unix seconds.",
            ),
            event_to_output_latency: histogram(
                "ragline_event_to_output_latency_seconds",
                "From an input message's timestamp to the outputs of its batch being queued in the producer.",
                latency_buckets.clone(),
            ),
            batch_duration: histogram(
                "ragline_batch_duration_seconds",
                "Time to process one batch.",
                latency_buckets.clone(),
            ),
            commit_duration: histogram(
                "ragline_commit_duration_seconds",
                "Time to commit one batch to RocksDB.",
                latency_buckets,
            ),
            registry,
        }
    }

    /// Counts one batch.
    pub fn observe_batch(&self, outcome: &BatchOutcome, seconds: f64) {
        self.messages_consumed.inc_by(outcome.consumed);
        self.events_applied.inc_by(outcome.applied);
        self.events_duplicate.inc_by(outcome.duplicates);
        for (code, count) in &outcome.rejected {
            self.events_rejected
                .with_label_values(&[code.as_str()])
                .inc_by(*count);
        }
        self.restatements.inc_by(outcome.restatements);
        self.batches.inc();
        self.batch_duration.observe(seconds);
        self.commit_duration
            .observe(outcome.phase_seconds[crate::pipeline::PHASE_COMMIT]);
        self.last_batch.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_secs_f64())
                .unwrap_or(0.0),
        );
    }

    /// Counts delivered outputs.
    pub fn observe_delivered(&self, by_topic: &HashMap<OutputTopic, u64>) {
        for (topic, count) in by_topic {
            self.outputs_produced
                .with_label_values(&[topic.as_str()])
                .inc_by(*count);
        }
    }

    /// Refreshes the indicator gauges and state gauges from the engine.
    pub fn refresh(&self, engine: &Engine, now_seconds: i64) {
        self.state_messages.set(engine.totals().consumed as i64);
        self.refresh_indicators(engine);
        for (reason, count) in &engine.totals().anomalies {
            self.anomalies.with_label_values(&[reason]).set(*count);
        }
        let clock = engine.clock();
        if clock.current().is_some() {
            self.observe_clock(&clock, now_seconds);
        }
        self.state_size.set(engine.store().size_bytes() as i64);
    }

    /// Sets the clock gauges: event-time lag, last closed month, current
    /// date.
    pub fn observe_clock(&self, clock: &crate::pipeline::Clock, now_seconds: i64) {
        if let Some(latest) = clock.latest_event {
            self.event_time_lag
                .set((now_seconds - unix_seconds(latest)) as f64);
        }
        if let Some(month) = clock.last_closed {
            self.month_last_closed
                .set(unix_seconds(month.last_day().add_days(1)));
        }
        if let Some(current) = clock.current() {
            self.current_date.set(unix_seconds(current));
        }
    }

    /// Sets the indicator gauges of the engine's live values that changed
    /// (or whose date did: targets and floors depend on it). Engines of
    /// disjoint units (the partitions of a scaled-out instance) may share
    /// one telemetry.
    pub fn refresh_indicators(&self, engine: &Engine) {
        let reader = engine.reader();
        let Some(current) = engine.clock().current() else {
            return;
        };
        let mut published = self
            .published
            .lock()
            .expect("the telemetry lock is never poisoned: panics stop the process");
        for (&(slot, unit), live) in engine.live_values() {
            if published.values.get(&(slot, unit)) == Some(&(*live, current)) {
                continue;
            }
            published.values.insert((slot, unit), (*live, current));
            let def = engine.catalogue().slots[slot as usize].def;
            let labels = self.indicator_labels(engine, slot, unit);
            let value = value_of(def, live.reading);
            let set = |gauge: &GaugeVec, value: Option<f64>| match value {
                Some(value) => gauge.with_label_values(&labels).set(value),
                None => {
                    let _ = gauge.remove_label_values(&labels);
                }
            };
            set(&self.indicator_value, value.map(|ratio| ratio.to_f64()));
            set(
                &self.indicator_numerator,
                Some(live.reading.num as f64 / def.num_scale as f64),
            );
            set(
                &self.indicator_denominator,
                (def.kind != crate::indicators::Kind::Count)
                    .then(|| live.reading.den as f64 / def.den_scale as f64),
            );
            let (target, floor) = match reader.target(slot, current) {
                Some(crate::config::TargetSpec::Bound { target, floor }) => {
                    (Some(*target), Some(*floor))
                }
                Some(crate::config::TargetSpec::Range { target, .. }) => (Some(*target), None),
                None => (None, None),
            };
            let decimal = |value: Option<rust_decimal::Decimal>| {
                value.and_then(|value| value.to_string().parse::<f64>().ok())
            };
            set(&self.indicator_target, decimal(target));
            set(&self.indicator_floor, decimal(floor));
            set(
                &self.indicator_rag,
                live.rag.map(|rag| rag.as_number() as f64),
            );
        }
    }

    /// The labels of the indicator gauges of (`slot`, `unit`).
    fn indicator_labels<'e>(
        &self,
        engine: &'e Engine,
        slot: crate::contrib::Slot,
        unit: crate::config::UnitIdx,
    ) -> Vec<&'e str> {
        let config = engine.config();
        let slot_def = &engine.catalogue().slots[slot as usize];
        let node = config.unit(unit);
        let la = &config.authorities[node.la.0 as usize].id;
        if self.labels_with_la {
            vec![la, &slot_def.id, &node.id]
        } else {
            vec![&slot_def.id, &node.id]
        }
    }

    /// Removes the indicator gauges of the engine's live values: a
    /// partition revoked from a scaled-out instance, whose new owner shows
    /// them.
    pub fn forget_indicators(&self, engine: &Engine) {
        let mut published = self
            .published
            .lock()
            .expect("the telemetry lock is never poisoned: panics stop the process");
        for &(slot, unit) in engine.live_values().keys() {
            published.values.remove(&(slot, unit));
            let labels = self.indicator_labels(engine, slot, unit);
            for gauge in [
                &self.indicator_value,
                &self.indicator_numerator,
                &self.indicator_denominator,
                &self.indicator_target,
                &self.indicator_floor,
                &self.indicator_rag,
            ] {
                let _ = gauge.remove_label_values(&labels);
            }
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}
