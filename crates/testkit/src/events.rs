//! Reading what a service published to Kafka.

use contracts::Envelope;
use platform::config::KafkaSettings;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use std::time::Duration;

/// Reads `topic` (of this test's prefix) from the start until `pick` returns something;
/// checks that the event is keyed by its aggregate id. Panics after 30 s.
pub async fn find<T>(kafka: &KafkaSettings, topic: &str, mut pick: impl FnMut(&Envelope) -> Option<T>) -> T {
    let consumer: StreamConsumer =
        platform::kafka::consumer(kafka, &format!("reader-{}", uuid::Uuid::now_v7())).expect("a Kafka consumer");
    consumer.subscribe(&[&kafka.topic(topic)]).expect("subscribed");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let received = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("no matching event on {topic}"));
        // The service creates its topics in the background; until then the broker says so.
        let Ok(message) = received else { continue };
        let envelope = Envelope::decode_checked(message.payload().unwrap_or_default()).expect("an envelope");
        if let Some(found) = pick(&envelope) {
            assert_eq!(message.key().unwrap_or_default(), envelope.aggregate_id.as_bytes(), "keyed by aggregate id");
            return found;
        }
    }
}
