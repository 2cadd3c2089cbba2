//! Delivery metrics per channel: attempts by outcome and provider latency.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct DeliveryMetrics {
    /// `outcome`: sent, retried, failed (a dead letter), in_doubt (a dead letter that may have
    /// gone: an SMS cut off during its call), skipped, held.
    pub deliveries: IntCounterVec,
    pub latency: HistogramVec,
}

impl Default for DeliveryMetrics {
    fn default() -> Self {
        let deliveries = IntCounterVec::new(
            Opts::new("notification_deliveries_total", "Delivery attempts by channel and outcome"),
            &["channel", "outcome"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new("notification_delivery_seconds", "Provider call latency by channel")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["channel"],
        )
        .expect("static metric definition");
        Self { deliveries, latency }
    }
}

impl DeliveryMetrics {
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.deliveries.clone()))?;
        registry.register(Box::new(self.latency.clone()))
    }

    pub fn count(&self, channel: &str, outcome: &str) {
        self.deliveries.with_label_values(&[channel, outcome]).inc();
    }
}
