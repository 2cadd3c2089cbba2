//! Kafka clients configured the same way everywhere: a producer with acks=all (idempotent
//! unless `kafka.idempotent_producer` is off, see docs/decisions/0002-kafka-broker.md) and
//! consumers that store offsets only after their transaction commits.

use crate::config::KafkaSettings;
use crate::outbox::Backoff;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::types::RDKafkaErrorCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn base_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.max.ms", "2000")
        .set("log_level", "3");
    config
}

pub fn producer(settings: &KafkaSettings) -> Result<FutureProducer, KafkaError> {
    base_config(settings)
        .set("enable.idempotence", settings.idempotent_producer.to_string())
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", settings.message_timeout_ms.to_string())
        .create()
}

/// A consumer in group `<topic_prefix><group>`. Offsets are committed automatically, but only
/// those stored explicitly after a message's transaction committed.
pub fn consumer(settings: &KafkaSettings, group: &str) -> Result<StreamConsumer, KafkaError> {
    base_config(settings)
        .set("group.id", settings.topic(group))
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "500")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .create()
}

/// Creates the (prefixed) topics that do not exist yet.
pub async fn ensure_topics(settings: &KafkaSettings, logical_topics: &[&str]) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = base_config(settings).create()?;
    let names: Vec<String> = logical_topics.iter().map(|t| settings.topic(t)).collect();
    let topics: Vec<NewTopic> =
        names.iter().map(|name| NewTopic::new(name, settings.partitions, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&topics, &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::AdminOp(code)).inspect_err(|_| {
                    tracing::error!(%topic, ?code, "cannot create topic");
                });
            }
        }
    }
    Ok(())
}

/// Creates the topics as soon as the broker lets it, retrying with back-off until `stop`:
/// a service starts while Kafka is down, and its outbox waits for the topics.
pub async fn keep_ensuring_topics(settings: KafkaSettings, logical_topics: &[&str], stop: CancellationToken) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    while let Err(error) = ensure_topics(&settings, logical_topics).await {
        tracing::warn!(%error, "cannot create topics yet");
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_pause()) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Asks the cluster for its metadata: the broker answers or it does not.
pub async fn ping(producer: &FutureProducer, timeout: Duration) -> Result<(), KafkaError> {
    use rdkafka::producer::Producer;
    let producer = producer.clone();
    tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, timeout).map(drop))
        .await
        .unwrap_or(Err(KafkaError::Canceled))
}
