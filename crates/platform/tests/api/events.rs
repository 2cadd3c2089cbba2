//! Outbox relay and consumers against real brokers: broker outages, duplicates, poison messages.

use crate::helpers::*;
use contracts::Envelope;
use futures_util::StreamExt;
use platform::consumer::{ConsumerRunner, EventHandler};
use platform::outbox::{Destination, OutboxRelay};
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::producer::FutureRecord;
use std::time::Duration;
use testkit::broker::KafkaBroker;
use testkit::proxy::TcpProxy;
use testkit::{TestSchema, eventually, unique_prefix};
use tokio_util::sync::CancellationToken;

/// Reads `count` raw messages of `topic` from the start, with a fresh consumer group.
async fn read_topic(
    settings: &platform::config::KafkaSettings,
    topic: &str,
    count: usize,
) -> Vec<rdkafka::message::OwnedMessage> {
    let consumer: StreamConsumer =
        platform::kafka::consumer(settings, &format!("reader-{}", uuid::Uuid::new_v4())).unwrap();
    consumer.subscribe(&[&settings.topic(topic)]).unwrap();
    let mut messages = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while messages.len() < count {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} messages arrived on {topic}", messages.len()))
            .unwrap();
        messages.push(message.detach());
    }
    messages
}

fn header(message: &rdkafka::message::OwnedMessage, name: &str) -> Option<String> {
    message
        .headers()?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_on_while_kafka_is_down_and_are_delivered_when_it_returns() {
    let schema = TestSchema::create(&[]).await;
    create_test_tables(&schema).await;
    let mut broker = KafkaBroker::start().await;
    let mut settings = testkit::settings(&schema, &unique_prefix());
    settings.kafka.brokers = broker.brokers();
    settings.kafka.message_timeout_ms = 2_000;
    platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.unwrap();
    broker.kill();

    let pool = platform::db::pool(&settings.database).unwrap();
    let relay = OutboxRelay::new(pool, &settings.database, settings.outbox.clone())
        .with_kafka(platform::kafka::producer(&settings.kafka).unwrap());
    let stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(stop.clone()));

    let mut conn = schema.connect().await;
    write_events(&mut conn, 0, 50, 10, &Destination::kafka(TOPIC)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM business").await, 50, "business writes committed");
    assert_eq!(platform::outbox::pending(&mut conn).await.unwrap(), 50, "nothing sent while the broker is down");

    broker.restart().await;
    eventually("the outbox drains", Duration::from_secs(60), || {
        let schema = &schema;
        async move { platform::outbox::pending(&mut schema.connect().await).await.unwrap() == 0 }
    })
    .await;
    stop.cancel();
    relay_task.await.unwrap();

    let messages = read_topic(&settings.kafka, TOPIC, 50).await;
    let mut seen: Vec<i64> = messages
        .iter()
        .map(|m| {
            let envelope = Envelope::decode_checked(m.payload().unwrap()).unwrap();
            assert_eq!(m.key().unwrap(), envelope.aggregate_id.as_bytes(), "keyed by aggregate id");
            assert_eq!(header(m, "event-id").unwrap(), envelope.id, "event id in a header");
            assert_eq!(header(m, "event-type").unwrap(), "user.verified");
            envelope.aggregate_id.parse().unwrap()
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_on_while_nats_is_down_and_are_delivered_when_it_returns() {
    let schema = TestSchema::create(&[]).await;
    create_test_tables(&schema).await;
    let settings = testkit::settings(&schema, &unique_prefix());
    let nats_address = testkit::nats_url().trim_start_matches("nats://").to_owned();
    let proxy = TcpProxy::start(&nats_address).await;
    let mut relay_nats = settings.nats.clone();
    relay_nats.url = format!("nats://{}", proxy.address());
    let relay_client = platform::nats::connect(&relay_nats, "relay").await.unwrap();

    let subscriber = async_nats::connect(testkit::nats_url()).await.unwrap();
    let subject = settings.nats.subject(&contracts::subjects::realtime_user(7));
    let mut subscription = subscriber.subscribe(subject).await.unwrap();
    subscriber.flush().await.unwrap();

    proxy.cut();
    eventually("the relay's NATS connection drops", Duration::from_secs(10), || {
        let connected = platform::nats::is_connected(&relay_client);
        async move { !connected }
    })
    .await;

    let pool = platform::db::pool(&settings.database).unwrap();
    let relay = OutboxRelay::new(pool, &settings.database, settings.outbox.clone())
        .with_nats(relay_client, settings.nats.clone());
    let stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(stop.clone()));

    let mut conn = schema.connect().await;
    let to = Destination::nats(contracts::subjects::realtime_user(7));
    write_events(&mut conn, 0, 20, 5, &to).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM business").await, 20);
    assert_eq!(platform::outbox::pending(&mut conn).await.unwrap(), 20, "nothing sent while NATS is down");

    proxy.restore();
    let mut received = std::collections::BTreeSet::new();
    while received.len() < 20 {
        let message = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("NATS messages after the restore")
            .unwrap();
        let envelope = Envelope::decode(message.payload.as_ref()).unwrap();
        received.insert(envelope.aggregate_id.parse::<i64>().unwrap());
    }
    assert_eq!(received, (0..20).collect());
    stop.cancel();
    relay_task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_has_one_effect() {
    let schema = TestSchema::create(&[]).await;
    create_test_tables(&schema).await;
    let settings = testkit::settings(&schema, &unique_prefix());
    platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.unwrap();
    let producer = platform::kafka::producer(&settings.kafka).unwrap().client();
    let topic = settings.kafka.topic(TOPIC);
    let first = event(1);
    let bytes = first.encode_to_vec();
    for _ in 0..3 {
        producer.send(FutureRecord::to(&topic).key("1").payload(&bytes), Duration::from_secs(5)).await.unwrap();
    }
    let second = event(2).encode_to_vec();
    producer.send(FutureRecord::to(&topic).key("2").payload(&second), Duration::from_secs(5)).await.unwrap();

    let pool = platform::db::pool(&settings.database).unwrap();
    let stop = CancellationToken::new();
    let runner = ConsumerRunner::new("dedup", &[TOPIC], pool, settings.kafka.clone(), RecordEffect);
    let task = tokio::spawn(runner.run(stop.clone()));
    eventually("both events applied", Duration::from_secs(60), || {
        let schema = &schema;
        async move { count(&mut schema.connect().await, "SELECT count(DISTINCT n) AS n FROM effects").await == 2 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    task.await.unwrap().unwrap();
    let mut conn = schema.connect().await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM effects WHERE n = 1").await,
        1,
        "three deliveries, one effect"
    );
}

/// Settings for `schema` (its test tables made) whose consumers give up on an event after two
/// attempts, with `payloads` already on the topic, in order, under one key.
async fn two_attempts_with(schema: &TestSchema, payloads: &[Vec<u8>]) -> platform::Settings {
    create_test_tables(schema).await;
    let mut settings = testkit::settings(schema, &unique_prefix());
    settings.kafka.max_attempts = 2;
    platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.unwrap();
    let producer = platform::kafka::producer(&settings.kafka).unwrap().client();
    let topic = settings.kafka.topic(TOPIC);
    for payload in payloads {
        producer.send(FutureRecord::to(&topic).key("k").payload(payload), Duration::from_secs(5)).await.unwrap();
    }
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_for_the_database_instead_of_being_dead_lettered() {
    let schema = TestSchema::create(&[]).await;
    let payloads: Vec<Vec<u8>> = (1..=3).map(|n| event(n).encode_to_vec()).collect();
    let settings = two_attempts_with(&schema, &payloads).await;

    let proxy = TcpProxy::start(&testkit::db::server_address()).await;
    proxy.cut();
    let pool = platform::db::pool(&schema.settings_via(&proxy.address())).unwrap();
    let stop = CancellationToken::new();
    let runner = ConsumerRunner::new("patient", &[TOPIC], pool, settings.kafka.clone(), RecordEffect);
    let task = tokio::spawn(runner.run(stop.clone()));
    // Long enough for many more failed attempts than `max_attempts`.
    tokio::time::sleep(Duration::from_secs(4)).await;
    proxy.restore();
    eventually("every event applied once the database is back", Duration::from_secs(60), || {
        let schema = &schema;
        async move { count(&mut schema.connect().await, "SELECT count(DISTINCT n) AS n FROM effects").await == 3 }
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// Fails on event 13, every time.
struct FailsOnThirteen;

impl EventHandler for FailsOnThirteen {
    async fn handle(&self, conn: &mut diesel_async::AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        anyhow::ensure!(event.aggregate_id != "13", "event 13 cannot be handled");
        RecordEffect.handle(conn, event).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_go_to_the_dead_letter_topic_without_blocking_the_partition() {
    let schema = TestSchema::create(&[]).await;
    let payloads = [b"not protobuf at all".to_vec(), event(13).encode_to_vec(), event(14).encode_to_vec()];
    let settings = two_attempts_with(&schema, &payloads).await;

    let pool = platform::db::pool(&settings.database).unwrap();
    let stop = CancellationToken::new();
    let runner = ConsumerRunner::new("poison", &[TOPIC], pool, settings.kafka.clone(), FailsOnThirteen);
    let task = tokio::spawn(runner.run(stop.clone()));
    eventually("the message after the poison ones is applied", Duration::from_secs(60), || {
        let schema = &schema;
        async move { count(&mut schema.connect().await, "SELECT count(*) AS n FROM effects WHERE n = 14").await == 1 }
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let parked = read_topic(&settings.kafka, &contracts::topics::dead_letter(TOPIC, "poison"), 2).await;
    assert_eq!(parked[0].payload().unwrap(), payloads[0].as_slice());
    assert!(header(&parked[0], "dlq-reason").unwrap().contains("undecodable"));
    assert_eq!(parked[1].payload().unwrap(), payloads[1].as_slice());
    assert!(header(&parked[1], "dlq-reason").unwrap().contains("event 13 cannot be handled"));
    let mut conn = schema.connect().await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM effects WHERE n = 13").await,
        0,
        "the failed effect rolled back"
    );
}
