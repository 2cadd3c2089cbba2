//! What the outbox relay and the idempotent consumers report.

use prometheus::core::Collector;
use prometheus::{Gauge, GaugeVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};

fn definition<T>(made: prometheus::Result<T>) -> T {
    made.expect("static metric definition")
}

/// The outbox relay's metrics. Made unregistered (a relay without a registry reports to nobody);
/// [`super::Metrics`] registers its own.
#[derive(Clone)]
pub struct OutboxMetrics {
    /// Events written but not yet published.
    pub backlog: IntGauge,
    /// Age of the oldest event not yet published, in seconds (0 when the outbox is empty).
    pub lag_seconds: Gauge,
    /// Events published, by Kafka topic (`nats` for events that go only to NATS).
    pub published: IntCounterVec,
    /// Relay passes that failed (broker or database away).
    pub failures: IntCounter,
}

impl OutboxMetrics {
    pub fn new() -> Self {
        Self {
            backlog: definition(IntGauge::new("outbox_backlog", "Events in the outbox not yet published")),
            lag_seconds: definition(Gauge::new(
                "outbox_relay_lag_seconds",
                "Age of the oldest event not yet published",
            )),
            published: definition(IntCounterVec::new(
                Opts::new("outbox_published_total", "Events published by the outbox relay"),
                &["destination"],
            )),
            failures: definition(IntCounter::new("outbox_relay_failures_total", "Outbox relay passes that failed")),
        }
    }

    pub(super) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.backlog.clone()),
            Box::new(self.lag_seconds.clone()),
            Box::new(self.published.clone()),
            Box::new(self.failures.clone()),
        ]
    }
}

impl Default for OutboxMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What became of an event, as `consumer_events_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied for the first time.
    Processed,
    /// Found in the inbox: applied before.
    Duplicate,
    /// Failed and will be tried again.
    Retried,
    /// Parked in the dead-letter topic.
    DeadLettered,
}

impl Outcome {
    /// In declaration order, so that `outcome as usize` indexes it.
    const ALL: [Outcome; 4] = [Outcome::Processed, Outcome::Duplicate, Outcome::Retried, Outcome::DeadLettered];

    fn label(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Duplicate => "duplicate",
            Outcome::Retried => "retried",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// The consumers' metrics, by consumer group. Made unregistered, like [`OutboxMetrics`].
#[derive(Clone)]
pub struct ConsumerMetrics {
    events: IntCounterVec,
    lag: IntGaugeVec,
    last_event: GaugeVec,
}

impl ConsumerMetrics {
    pub fn new() -> Self {
        Self {
            events: definition(IntCounterVec::new(
                Opts::new("consumer_events_total", "Events handled by a consumer group, by outcome"),
                &["group", "outcome"],
            )),
            lag: definition(IntGaugeVec::new(
                Opts::new("consumer_lag", "Messages waiting in the partitions a consumer is assigned"),
                &["group"],
            )),
            last_event: definition(GaugeVec::new(
                Opts::new("consumer_last_event_timestamp_seconds", "Unix time of the last event a consumer finished"),
                &["group"],
            )),
        }
    }

    /// The series of `group`. Its counts and lag exist from now on at 0, so dashboards and alerts
    /// see the group before its first event; its last event's time appears with that event.
    pub fn group(&self, group: &str) -> GroupMetrics {
        GroupMetrics {
            events: Outcome::ALL.map(|outcome| self.events.with_label_values(&[group, outcome.label()])),
            lag: self.lag.with_label_values(&[group]),
            last_event: self.last_event.clone(),
            group: group.to_owned(),
        }
    }

    pub(super) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![Box::new(self.events.clone()), Box::new(self.lag.clone()), Box::new(self.last_event.clone())]
    }
}

impl Default for ConsumerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The series of one consumer group.
#[derive(Clone)]
pub struct GroupMetrics {
    events: [IntCounter; 4],
    lag: IntGauge,
    last_event: GaugeVec,
    group: String,
}

impl GroupMetrics {
    /// Counts one event's `outcome`; a final one (all but [`Outcome::Retried`]) also sets the
    /// time of the last event.
    pub fn record(&self, outcome: Outcome) {
        self.events[outcome as usize].inc();
        if outcome != Outcome::Retried {
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            self.last_event.with_label_values(&[&self.group]).set(now);
        }
    }

    pub fn set_lag(&self, messages: i64) {
        self.lag.set(messages);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_exists_at_zero_and_counts_each_outcome_apart() {
        let metrics = ConsumerMetrics::new();
        let group = metrics.group("marketplace.users");
        let count = |outcome: Outcome| metrics.events.with_label_values(&["marketplace.users", outcome.label()]).get();
        assert!(Outcome::ALL.iter().all(|o| count(*o) == 0));
        assert!(metrics.last_event.collect()[0].get_metric().is_empty(), "no event yet");

        group.record(Outcome::Retried);
        assert!(metrics.last_event.collect()[0].get_metric().is_empty(), "a retry finishes nothing");
        group.record(Outcome::Processed);
        group.record(Outcome::DeadLettered);
        assert_eq!(Outcome::ALL.map(count), [1, 0, 1, 1], "processed, duplicate, retried, dead-lettered");
        assert!(metrics.last_event.with_label_values(&["marketplace.users"]).get() > 0.0);
    }
}
