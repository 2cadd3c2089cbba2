//! 10,000 events through outbox → Kafka → consumer → inbox, with the broker killed and
//! restarted in the middle: every event's effect exactly once, none lost.

use crate::helpers::*;
use std::time::Duration;
use testkit::broker::KafkaBroker;
use testkit::eventually;

const EVENTS: i64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_broker_crash_with_exactly_once_effects() {
    let mut broker = KafkaBroker::start().await;
    let pipeline = Pipeline::start(&broker).await;
    pipeline.write(0, EVENTS / 2).await;
    eventually("some effects before the crash", Duration::from_secs(120), || async {
        pipeline.effects().await >= 1_000
    })
    .await;

    broker.kill();
    // Business writes go on while the broker is down.
    pipeline.write(EVENTS / 2, EVENTS / 2).await;
    let business = count(&mut pipeline.schema.connect().await, "SELECT count(*) AS n FROM business").await;
    assert_eq!(business, EVENTS);
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.restart().await;

    pipeline.finish(EVENTS, Duration::from_secs(300)).await;
}
