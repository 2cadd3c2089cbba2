//! The gateway's Prometheus metrics.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub rate_limit_fallbacks: IntCounter,
    pub upstream_healthy: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "Requests answered by the gateway"),
            &["method", "route", "upstream", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer, by route and upstream")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["route", "upstream"],
        )?;
        let rate_limited =
            IntCounterVec::new(Opts::new("gateway_rate_limited_total", "Requests refused with 429"), &["tier"])?;
        let rate_limit_fallbacks = IntCounter::new(
            "gateway_rate_limit_fallback_total",
            "Rate-limit decisions taken in local memory because Redis was unreachable",
        )?;
        let upstream_healthy = IntGaugeVec::new(
            Opts::new("gateway_upstream_healthy", "1 when a replica is healthy and not ejected"),
            &["upstream", "address"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(rate_limit_fallbacks.clone()))?;
        registry.register(Box::new(upstream_healthy.clone()))?;
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(Self { registry, requests, latency, rate_limited, rate_limit_fallbacks, upstream_healthy })
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "metrics not encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
