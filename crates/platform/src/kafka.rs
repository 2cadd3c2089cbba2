//! Kafka clients configured the same way everywhere: a [`Producer`] with acks=all (idempotent
//! unless `kafka.idempotent_producer` is off, see docs/decisions/0002-kafka-broker.md) that can
//! be renewed after the broker lost its state, and consumers that commit only what they applied.

use crate::config::KafkaSettings;
use crate::outbox::Backoff;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::types::RDKafkaErrorCode;
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn base_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.max.ms", "2000")
        .set("log_level", "3");
    let optional = [
        ("security.protocol", settings.security_protocol.clone()),
        ("sasl.mechanism", settings.sasl_mechanism.clone()),
        ("sasl.username", settings.sasl_username.clone()),
        ("sasl.password", settings.sasl_password.as_ref().map(|p| p.expose_secret().to_owned())),
        ("ssl.ca.location", settings.ssl_ca_location.clone()),
    ];
    for (key, value) in optional {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            config.set(key, value);
        }
    }
    config
}

fn producer_client(settings: &KafkaSettings) -> Result<FutureProducer, KafkaError> {
    base_config(settings)
        .set("enable.idempotence", settings.idempotent_producer.to_string())
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("batch.num.messages", settings.batch_messages.max(1).to_string())
        .set("message.timeout.ms", settings.message_timeout_ms.to_string())
        .create()
}

/// The service's Kafka producer. Clones share one client, which [`Producer::renew`] replaces:
/// a client keeps believing that a topic does not exist (or, idempotent, keeps a sequence the
/// broker forgot) after a broker that lost its data created it again.
#[derive(Clone)]
pub struct Producer {
    settings: KafkaSettings,
    client: Arc<Mutex<FutureProducer>>,
}

impl Producer {
    pub fn new(settings: &KafkaSettings) -> Result<Self, KafkaError> {
        Ok(Self { settings: settings.clone(), client: Arc::new(Mutex::new(producer_client(settings)?)) })
    }

    /// The current client (cheap to clone); hand it one message at a time.
    pub fn client(&self) -> FutureProducer {
        self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    /// Replaces the client with a new one; messages still queued in the old one fail and are
    /// sent again by whoever sent them (the outbox keeps them until acknowledged).
    pub fn renew(&self) -> Result<(), KafkaError> {
        let fresh = producer_client(&self.settings)?;
        *self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        Ok(())
    }

    /// Asks the cluster for its metadata: the broker answers or it does not.
    pub async fn ping(&self, timeout: Duration) -> Result<(), KafkaError> {
        use rdkafka::producer::Producer as _;
        let producer = self.client();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, timeout).map(drop))
            .await
            .unwrap_or(Err(KafkaError::Canceled))
    }
}

pub fn producer(settings: &KafkaSettings) -> Result<Producer, KafkaError> {
    Producer::new(settings)
}

fn consumer_config(settings: &KafkaSettings, group: &str) -> ClientConfig {
    let mut config = base_config(settings);
    config
        .set("group.id", settings.topic(group))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Kafka's default: a member that stops heartbeating leaves the group after this long.
        .set("session.timeout.ms", "45000")
        .set("heartbeat.interval.ms", "3000");
    config
}

/// A consumer in group `<topic_prefix><group>` that starts where the group committed (or at the
/// earliest message) and commits nothing by itself.
pub fn consumer(settings: &KafkaSettings, group: &str) -> Result<StreamConsumer, KafkaError> {
    consumer_config(settings, group).create()
}

/// [`consumer`] with a context of the caller's (rebalance callbacks, commit bookkeeping).
pub fn consumer_with<C: ConsumerContext + 'static>(
    settings: &KafkaSettings,
    group: &str,
    context: C,
) -> Result<StreamConsumer<C>, KafkaError> {
    consumer_config(settings, group).create_with_context(context)
}

/// Whether a Kafka error says that a topic (or its partition) does not exist.
pub fn is_missing_topic(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic)
    )
}

/// Creates the (prefixed) topics that do not exist yet; returns the names of those it created.
pub async fn ensure_topics(settings: &KafkaSettings, logical_topics: &[&str]) -> Result<Vec<String>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = base_config(settings).create()?;
    let names: Vec<String> = logical_topics.iter().map(|t| settings.topic(t)).collect();
    let topics: Vec<NewTopic> =
        names.iter().map(|name| NewTopic::new(name, settings.partitions, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let mut created = Vec::new();
    for result in admin.create_topics(&topics, &options).await? {
        match result {
            Ok(topic) => created.push(topic),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::AdminOp(code)).inspect_err(|_| {
                    tracing::error!(%topic, ?code, "cannot create topic");
                });
            }
        }
    }
    Ok(created)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_settings_reach_librdkafka_and_empty_ones_are_left_out() {
        let settings = KafkaSettings {
            security_protocol: Some("sasl_plaintext".into()),
            sasl_mechanism: Some("SCRAM-SHA-512".into()),
            sasl_username: Some("relay".into()),
            sasl_password: Some("hunter2".into()),
            ssl_ca_location: Some(String::new()),
            ..Default::default()
        };
        let config = base_config(&settings);
        assert_eq!(config.get("security.protocol"), Some("sasl_plaintext"));
        assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.username"), Some("relay"));
        assert_eq!(config.get("sasl.password"), Some("hunter2"));
        assert_eq!(config.get("ssl.ca.location"), None, "an empty value (compose's default) is not set");
        assert_eq!(base_config(&KafkaSettings::default()).get("security.protocol"), None);
    }
}
