//! Prometheus metrics: one registry per service instance (so tests can run several in one
//! process), labelled with the service's name. The [`crate::Kit`] owns it and hands parts of it
//! to what it wires: the HTTP middleware (requests and latency per route pattern), the database
//! pool (read at scrape time), the outbox relay, the consumers and the service's own business
//! gauges.
//!
//! Every name used by `deploy/observability/` (dashboards and alert rules) must be exported here
//! or by the gateway; `crates/cli/tests/api/observability.rs` checks them against real `/metrics`.

mod events;
mod pool;

pub use events::{ConsumerMetrics, GroupMetrics, OutboxMetrics, Outcome};

use crate::db::PgPool;
use prometheus::core::Collector;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// The version and commit the binary was built from: `MEBELPLACE_VERSION` and
/// `MEBELPLACE_COMMIT` at build time (the image's build arguments), else the crate version
/// and `unknown`.
pub mod build {
    pub const VERSION: &str = match option_env!("MEBELPLACE_VERSION") {
        Some(version) if !version.is_empty() => version,
        _ => env!("CARGO_PKG_VERSION"),
    };
    pub const COMMIT: &str = match option_env!("MEBELPLACE_COMMIT") {
        Some(commit) if !commit.is_empty() => commit,
        _ => "unknown",
    };

    /// `build_info{version, commit} 1`, for a registry of the service's or the gateway's.
    pub fn info() -> prometheus::IntGaugeVec {
        let info = prometheus::IntGaugeVec::new(
            prometheus::Opts::new("build_info", "The version and commit of the running binary (always 1)"),
            &["version", "commit"],
        )
        .expect("static metric definition");
        info.with_label_values(&[VERSION, COMMIT]).set(1);
        info
    }
}

/// The latency buckets of every HTTP histogram (the gateway's too), in seconds.
pub const LATENCY_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub http_requests_total: IntCounterVec,
    pub http_request_duration_seconds: HistogramVec,
    pub outbox: OutboxMetrics,
    pub consumers: ConsumerMetrics,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        let registry = Registry::new_custom(None, Some([("service".to_owned(), service.to_owned())].into()))
            .expect("static registry labels are valid");
        let http_requests_total = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "endpoint", "status"],
        )
        .expect("static metric definition");
        let http_request_duration_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "endpoint"],
        )
        .expect("static metric definition");
        let (outbox, consumers) = (OutboxMetrics::new(), ConsumerMetrics::new());
        let mut collectors: Vec<Box<dyn Collector>> = vec![
            Box::new(http_requests_total.clone()),
            Box::new(http_request_duration_seconds.clone()),
            Box::new(build::info()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        collectors.extend(outbox.collectors());
        collectors.extend(consumers.collectors());
        for collector in collectors {
            registry.register(collector).expect("metrics are registered once per registry");
        }
        Self { registry, http_requests_total, http_request_duration_seconds, outbox, consumers }
    }

    /// Reports the pool's connections at every scrape (see [`pool`]).
    pub fn watch_pool(&self, pool: PgPool) {
        if let Err(error) = self.registry.register(Box::new(pool::PoolCollector::new(pool))) {
            tracing::warn!(%error, "the database pool is watched already");
        }
    }

    /// A gauge of the service's own (`marketplace_open_requests`); set it from a job.
    pub fn gauge(&self, name: &str, help: &str) -> prometheus::Result<IntGauge> {
        let gauge = IntGauge::new(name, help)?;
        self.registry.register(Box::new(gauge.clone()))?;
        Ok(gauge)
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "cannot encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
