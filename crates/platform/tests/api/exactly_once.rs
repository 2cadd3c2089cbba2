//! 10,000 events through outbox → Kafka → consumer → inbox, with the broker killed and
//! restarted in the middle: every event's effect exactly once, none lost.

use crate::helpers::*;
use platform::consumer::ConsumerRunner;
use platform::outbox::{Destination, OutboxRelay};
use std::time::Duration;
use testkit::broker::KafkaBroker;
use testkit::{TestSchema, eventually, unique_prefix};
use tokio_util::sync::CancellationToken;

const EVENTS: i64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_broker_crash_with_exactly_once_effects() {
    testkit::init_logs();
    let schema = TestSchema::create(&[]).await;
    create_test_tables(&schema).await;
    let mut broker = KafkaBroker::start().await;
    let mut settings = testkit::settings(&schema, &unique_prefix());
    settings.kafka.brokers = broker.brokers();
    settings.kafka.message_timeout_ms = 3_000;
    let pool = platform::db::pool(&settings.database).unwrap();
    platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.unwrap();

    let stop = CancellationToken::new();
    let relay = OutboxRelay::new(pool.clone(), &settings.database, settings.outbox.clone())
        .with_kafka(platform::kafka::producer(&settings.kafka).unwrap(), settings.kafka.clone());
    let relay_task = tokio::spawn(relay.run(stop.clone()));
    let consumer = ConsumerRunner::new("effects", &[TOPIC], pool.clone(), settings.kafka.clone(), RecordEffect);
    let consumer_task = tokio::spawn(consumer.run(stop.clone()));

    let to = Destination::kafka(TOPIC);
    let mut conn = schema.connect().await;
    write_events(&mut conn, 0, EVENTS / 2, 100, &to).await;
    eventually("some effects before the crash", Duration::from_secs(120), || {
        let schema = &schema;
        async move { count(&mut schema.connect().await, "SELECT count(*) AS n FROM effects").await >= 1_000 }
    })
    .await;

    broker.kill();
    // Business writes go on while the broker is down.
    write_events(&mut conn, EVENTS / 2, EVENTS / 2, 100, &to).await;
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM business").await, EVENTS);
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.restart().await;

    eventually("every effect after the restart", Duration::from_secs(300), || {
        let schema = &schema;
        async move {
            let mut conn = schema.connect().await;
            let effects = count(&mut conn, "SELECT count(*) AS n FROM effects").await;
            let pending = platform::outbox::pending(&mut conn).await.unwrap();
            eprintln!("effects {effects}, outbox pending {pending}");
            effects >= EVENTS
        }
    })
    .await;
    // Give redeliveries a moment to show up if the inbox were not doing its job.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    relay_task.await.unwrap();
    consumer_task.await.unwrap().unwrap();

    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM effects").await, EVENTS, "one effect per event");
    assert_eq!(count(&mut conn, "SELECT count(DISTINCT n) AS n FROM effects").await, EVENTS, "no event lost");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM inbox").await, EVENTS);
    assert_eq!(platform::outbox::pending(&mut conn).await.unwrap(), 0, "the outbox is drained");
}
