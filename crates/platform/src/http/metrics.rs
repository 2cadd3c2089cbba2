//! Prometheus metrics: one registry per service instance (so tests can run several in one
//! process), with the HTTP request counter and latency histogram labelled by route pattern.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub http_requests_total: IntCounterVec,
    pub http_request_duration_seconds: HistogramVec,
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
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "endpoint"],
        )
        .expect("static metric definition");
        for collector in [
            Box::new(http_requests_total.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_request_duration_seconds.clone()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            registry.register(collector).expect("metrics are registered once per registry");
        }
        Self { registry, http_requests_total, http_request_duration_seconds }
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "cannot encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
