//! The gateway's Prometheus metrics.

use crate::routing::Tier;
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
    /// WebSocket connections open through the gateway, by upstream.
    pub websockets: IntGaugeVec,
}

impl Metrics {
    /// The series of every rate-limit tier and of `upstreams` exist from the start (at 0), so
    /// dashboards and alerts see them before the first event.
    pub fn new<'a>(upstreams: impl IntoIterator<Item = &'a String>) -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "Requests answered by the gateway"),
            &["method", "route", "upstream", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer, by route and upstream")
                .buckets(platform::metrics::LATENCY_BUCKETS.to_vec()),
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
        let websockets = IntGaugeVec::new(
            Opts::new("gateway_websocket_connections", "WebSocket connections open through the gateway"),
            &["upstream"],
        )?;
        for tier in [Tier::Api, Tier::Strict, Tier::Upload] {
            rate_limited.with_label_values(&[tier.as_str()]);
        }
        for upstream in upstreams {
            websockets.with_label_values(&[upstream.as_str()]);
        }
        registry.register(Box::new(websockets.clone()))?;
        registry.register(Box::new(platform::metrics::build::info()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(rate_limit_fallbacks.clone()))?;
        registry.register(Box::new(upstream_healthy.clone()))?;
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(Self { registry, requests, latency, rate_limited, rate_limit_fallbacks, upstream_healthy, websockets })
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "metrics not encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
