//! Helpers for tests against the real servers: a fresh migrated schema per test, unique
//! topic/subject prefixes, a Kafka broker of a test's own, a TCP proxy that can cut a
//! dependency, test signing keys, and recording fakes of third parties (HTTP APIs, SMTP with or
//! without TLS).

pub mod api;
pub mod app;
pub mod broker;
pub mod db;
pub mod events;
pub mod fake_http;
pub mod keys;
pub mod load;
pub mod nginx;
pub mod pgbench;
pub mod proxy;
pub mod smtp;
pub mod tls;
pub mod turn;

pub use api::{ApiClient, error_code};
pub use app::TestApp;
pub use db::TestSchema;

use std::time::Duration;

/// A prefix unique to this test, for Kafka topics, consumer groups and NATS subjects.
pub fn unique_prefix() -> String {
    format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// The shared Kafka-protocol broker started by `scripts/infra-up`.
pub fn kafka_brokers() -> String {
    std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Platform settings for a service under test: its own schema, unique prefixes, port 0.
pub fn settings(schema: &TestSchema, prefix: &str) -> platform::Settings {
    let mut settings = platform::Settings::default();
    settings.app.environment = platform::config::Environment::Test;
    settings.http.port = 0;
    settings.http.workers = 1;
    settings.http.shutdown_timeout_secs = 10;
    settings.database = schema.settings();
    settings.kafka.brokers = kafka_brokers();
    settings.kafka.topic_prefix = prefix.to_owned();
    settings.kafka.partitions = 1;
    // tansu forgets idempotent-producer state on restart (docs/decisions/0002-kafka-broker.md).
    settings.kafka.idempotent_producer = false;
    // tansu's memory storage skips the rest of a batch a consumer resumes inside (decision 0002).
    settings.kafka.batch_messages = 1;
    settings.nats.url = nats_url();
    settings.nats.subject_prefix = prefix.to_owned();
    settings.redis.key_prefix = prefix.to_owned();
    settings.storage.path =
        std::env::temp_dir().join(format!("mebelplace-storage-{}", schema.name)).to_string_lossy().into_owned();
    settings.outbox.poll_interval_ms = 200;
    settings.outbox.max_backoff_ms = 1_000;
    settings
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; panics naming `what`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Sends the code's logs to the test's output (shown for failing tests); `RUST_LOG` filters.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info,rdkafka=warn".to_owned()))
        .with_test_writer()
        .try_init();
}
