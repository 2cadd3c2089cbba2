//! Reading what a service published to Kafka, and publishing as another service would.

use contracts::Envelope;
use platform::config::KafkaSettings;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::Duration;

/// Publishes `envelope` on `topic` (of this test's prefix), keyed by its aggregate id, the
/// way another service's outbox relay would; creates the topic when it is missing.
pub async fn publish(kafka: &KafkaSettings, topic: &str, envelope: &Envelope) {
    use prost::Message as _;
    platform::kafka::ensure_topics(kafka, &[topic]).await.expect("the topic exists");
    let producer = platform::kafka::producer(kafka).expect("a Kafka producer").client();
    let (topic, payload) = (kafka.topic(topic), envelope.encode_to_vec());
    let record = rdkafka::producer::FutureRecord::to(&topic).key(envelope.aggregate_id.as_str()).payload(&payload);
    producer.send(record, Duration::from_secs(10)).await.map_err(|(error, _)| error).expect("the event is published");
}

/// Reads `topic` (of this test's prefix) from the start until `pick` returns something;
/// checks that the event is keyed by its aggregate id. Panics after 30 s.
///
/// The reader assigns itself every partition instead of joining a consumer group: a group's
/// first rebalance can take seconds on a loaded broker (tansu sometimes never completes it),
/// and a test reader has nothing to share with anyone.
pub async fn find<T>(kafka: &KafkaSettings, topic: &str, mut pick: impl FnMut(&Envelope) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let consumer: Arc<StreamConsumer> = Arc::new(
        platform::kafka::consumer(kafka, &format!("reader-{}", uuid::Uuid::now_v7())).expect("a Kafka consumer"),
    );
    let topic = kafka.topic(topic);
    let partitions = partitions(&consumer, &topic, deadline).await;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(&topic, partition, Offset::Beginning).expect("a partition offset");
    }
    consumer.assign(&assignment).expect("partitions assigned");
    loop {
        let received = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("no matching event on {topic}"));
        let Ok(message) = received else { continue };
        let envelope = Envelope::decode_checked(message.payload().unwrap_or_default()).expect("an envelope");
        if let Some(found) = pick(&envelope) {
            assert_eq!(message.key().unwrap_or_default(), envelope.aggregate_id.as_bytes(), "keyed by aggregate id");
            return found;
        }
    }
}

/// How many partitions `topic` has, once it exists (services create their topics in the
/// background).
async fn partitions(consumer: &Arc<StreamConsumer>, topic: &str, deadline: tokio::time::Instant) -> i32 {
    loop {
        let (reader, name) = (consumer.clone(), topic.to_owned());
        let count = tokio::task::spawn_blocking(move || {
            let metadata = reader.fetch_metadata(Some(&name), Duration::from_secs(2)).ok()?;
            let found = metadata.topics().iter().find(|t| t.name() == name)?;
            (found.error().is_none() && !found.partitions().is_empty()).then(|| found.partitions().len() as i32)
        })
        .await
        .expect("the metadata request ends");
        if let Some(count) = count {
            return count;
        }
        assert!(tokio::time::Instant::now() < deadline, "{topic} never appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
