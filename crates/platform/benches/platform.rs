//! `make bench`: figures measured side by side in one run on the same machine.
//!
//! 1. Outbox relay throughput into Kafka vs a bare rdkafka producer sending the same events to
//!    the same broker (goal: ratio ≥ 0.5).
//! 2. Idle RSS of the minimal platform service (goal: ≤ 30 MB).

use contracts::Envelope;
use contracts::events::UserUpdated;
use diesel_async::{AsyncConnection, RunQueryDsl};
use platform::outbox::{Destination, OutboxRelay};
use prost::Message;
use rdkafka::producer::FutureRecord;
use std::time::{Duration, Instant};
use testkit::{TestSchema, unique_prefix};

const EVENTS: usize = 20_000;
const TOPIC: &str = contracts::topics::AUTH_USERS;

fn sample_event(n: usize) -> Envelope {
    Envelope::new(
        "bench",
        n,
        UserUpdated {
            user: Some(contracts::events::UserProfile {
                user_id: n as i64,
                username: format!("мастер_{n}"),
                role: contracts::events::Role::Master as i32,
                first_name: Some("Айгерим".into()),
                region: Some("almaty".into()),
                ..Default::default()
            }),
            changed_fields: vec!["first_name".into(), "region".into()],
        },
    )
}

async fn relay_events_per_second(settings: &platform::Settings, schema: &TestSchema) -> f64 {
    let mut conn = schema.connect().await;
    let to = Destination::kafka(TOPIC);
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(1_000) {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            for &n in chunk {
                platform::outbox::enqueue(conn, sample_event(n), &to).await?;
            }
            Ok(())
        })
        .await
        .expect("events written");
    }
    diesel::sql_query("ANALYZE outbox").execute(&mut conn).await.expect("analyze");
    let pool = platform::db::pool(&settings.database).expect("pool");
    let relay = OutboxRelay::new(pool, &settings.database, settings.outbox.clone())
        .with_kafka(platform::kafka::producer(&settings.kafka).expect("producer"));
    let started = Instant::now();
    relay.flush(Duration::from_secs(600)).await.expect("relay drains the outbox");
    let elapsed = started.elapsed();
    assert_eq!(platform::outbox::pending(&mut conn).await.expect("pending"), 0);
    EVENTS as f64 / elapsed.as_secs_f64()
}

async fn bare_producer_events_per_second(settings: &platform::Settings) -> f64 {
    let producer = platform::kafka::producer(&settings.kafka).expect("producer").client();
    let topic = settings.kafka.topic(TOPIC);
    let events: Vec<(String, Vec<u8>)> =
        (0..EVENTS).map(sample_event).map(|e| (e.aggregate_id.clone(), e.encode_to_vec())).collect();
    let started = Instant::now();
    for chunk in events.chunks(settings.outbox.batch_size as usize) {
        let sends = chunk.iter().map(|(key, payload)| {
            producer.send(FutureRecord::to(&topic).key(key).payload(payload), Duration::from_secs(0))
        });
        for outcome in futures_util::future::join_all(sends).await {
            outcome.expect("bare send");
        }
    }
    EVENTS as f64 / started.elapsed().as_secs_f64()
}

async fn idle_rss_megabytes(schema: &TestSchema) -> f64 {
    let port = testkit::free_port();
    // Cargo builds the bench's package binaries beside it, wherever CARGO_TARGET_DIR points.
    let binary = env!("CARGO_BIN_EXE_minimal-service");
    let mut child = tokio::process::Command::new(binary)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", &schema.url)
        .env("DATABASE_SCHEMA", &schema.name)
        .env("KAFKA_BROKERS", testkit::kafka_brokers())
        .env("KAFKA_IDEMPOTENT_PRODUCER", "false")
        .env("LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{binary} starts: {e}"));
    let ready = format!("http://127.0.0.1:{port}/ready");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.get(&ready).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "minimal service did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id().expect("pid"))).expect("proc status");
    let kilobytes: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    child.kill().await.expect("stop the service");
    kilobytes / 1024.0
}

#[tokio::main]
async fn main() {
    let schema = TestSchema::create(&[]).await;
    let mut settings = testkit::settings(&schema, &unique_prefix());
    settings.kafka.partitions = 3;
    platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.expect("topic");

    // Warm-up: broker connections and topic metadata, so neither side pays for them.
    bare_producer_events_per_second(&settings).await;
    let bare = bare_producer_events_per_second(&settings).await;
    let relay = relay_events_per_second(&settings, &schema).await;
    println!("outbox relay → kafka:   {relay:>10.0} events/s ({EVENTS} events)");
    println!("bare rdkafka producer:  {bare:>10.0} events/s ({EVENTS} events)");
    println!("ratio relay / bare:     {:>10.2} (goal ≥ 0.50)", relay / bare);

    let rss = idle_rss_megabytes(&schema).await;
    println!("minimal service idle RSS: {rss:.1} MB (goal ≤ 30 MB)");
}
