//! How a consumer gets going again after broker trouble, without skipping an event.
//!
//! A broker can come back having lost its data (tansu with `memory://`, a Kafka cluster
//! restored from nothing): its topics and the group's committed offsets are gone, while the
//! consumer still holds its old positions and the offsets of events it applied. Committing those
//! into the new log, or fetching from those positions, would skip events produced since. And a
//! group can stay wedged after a broker restart: members that are assigned nothing, or fetch
//! nothing from partitions that hold messages.
//!
//! The consumer's [`RecoveryContext`] keeps the offsets of applied events until they are
//! committed (by the runner every half second, and before partitions are revoked) and starts every
//! partition whose committed offset lies beyond its end from the beginning. The runner's [`Watch`]
//! reads what the consumer sees and decides when to replace it with a new consumer (a new member
//! of the group):
//! - all brokers were down: once the broker answers again, the topics are created if missing,
//!   the uncommitted offsets are forgotten and a new consumer starts from what the broker has
//!   committed (nothing, after a data loss: then the earliest message);
//! - a subscribed topic is missing: it is created again, offsets forgotten, consumer replaced;
//! - a position beyond its partition's end (the log was lost without the consumer noticing):
//!   replaced, and that partition read from the beginning;
//! - positions that do not move while their partitions hold messages, or no assignment for long
//!   while messages wait for the group: replaced (after committing what it applied).
//!
//! Whatever is replayed is absorbed by the inbox, so a replay is harmless and a skip is not:
//! every rule errs towards replaying.

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one question to the broker may take while checking a consumer.
const ASK: Duration = Duration::from_secs(3);
/// How long the stream must be quiet before the consumer's partitions are inspected.
const QUIET: Duration = Duration::from_secs(5);
/// How long positions may stand still behind the end of their partitions.
const STALLED: Duration = Duration::from_secs(10);
/// How long a consumer may be assigned nothing while messages wait for its group.
const UNASSIGNED: Duration = Duration::from_secs(30);
/// Least time between two replacements that are not caused by a broker loss.
const REPLACE_INTERVAL: Duration = Duration::from_secs(15);

/// A topic and partition, by the topic's full (prefixed) name.
pub(super) type Partition = (String, i32);

pub(super) type RecoveringConsumer = StreamConsumer<RecoveryContext>;

/// The consumer's own bookkeeping, shared with rdkafka's rebalance callback.
pub struct RecoveryContext {
    group: String,
    state: Mutex<Bookkeeping>,
}

#[derive(Default)]
struct Bookkeeping {
    /// The next offset to read, per partition, for applied events not committed yet.
    applied: BTreeMap<Partition, i64>,
    /// Partitions to read from the beginning when they are next assigned.
    rewind: BTreeSet<Partition>,
    /// The broker lost its state: what this consumer applied is never committed.
    forgotten: bool,
}

impl ClientContext for RecoveryContext {}

impl ConsumerContext for RecoveryContext {
    /// The eager protocol (the default assignors): everything is revoked, then assigned.
    fn rebalance(&self, consumer: &BaseConsumer<Self>, event: RDKafkaRespErr, partitions: &mut TopicPartitionList) {
        match event {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let starts = self.starting_points(consumer, partitions);
                tracing::info!(group = %self.group, partitions = %describe(&starts), "partitions assigned");
                if let Err(error) = consumer.assign(&starts) {
                    tracing::warn!(group = %self.group, %error, "cannot take the assigned partitions");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(group = %self.group, partitions = %describe(partitions), "partitions revoked");
                self.commit(consumer, CommitMode::Async);
                self.lock().applied.clear();
                let _ = consumer.unassign();
            }
            other => {
                tracing::warn!(group = %self.group, error = ?other, "rebalance failed");
                self.lock().applied.clear();
                let _ = consumer.unassign();
            }
        }
    }
}

impl RecoveryContext {
    pub(super) fn new(group: &str, rewind: BTreeSet<Partition>) -> Self {
        Self { group: group.to_owned(), state: Mutex::new(Bookkeeping { rewind, ..Default::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bookkeeping> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that `message`'s event was applied (its transaction committed).
    pub(super) fn applied(&self, message: &BorrowedMessage<'_>) {
        let mut state = self.lock();
        if !state.forgotten {
            state.applied.insert((message.topic().to_owned(), message.partition()), message.offset() + 1);
        }
    }

    /// Never commits what was applied so far, nor anything later: the broker lost it.
    pub(super) fn forget(&self) {
        let mut state = self.lock();
        state.forgotten = true;
        state.applied.clear();
    }

    /// Commits the offsets of the events applied since the last commit.
    pub(super) fn commit<C: Consumer<Self>>(&self, consumer: &C, mode: CommitMode) {
        let applied = std::mem::take(&mut self.lock().applied);
        if applied.is_empty() {
            return;
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), next) in &applied {
            let _ = offsets.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        if let Err(error) = consumer.commit(&offsets, mode) {
            tracing::debug!(group = %self.group, %error, "offset commit failed (the events will be redelivered)");
        }
    }

    /// Where each assigned partition starts: at the group's committed offset, or at the
    /// beginning when it was asked for or when that offset lies beyond the partition's end.
    fn starting_points(&self, consumer: &BaseConsumer<Self>, assigned: &TopicPartitionList) -> TopicPartitionList {
        let rewind = std::mem::take(&mut self.lock().rewind);
        let committed = consumer.committed_offsets(assigned.clone(), ASK).ok();
        let mut starts = TopicPartitionList::new();
        for element in assigned.elements() {
            let (topic, partition) = (element.topic(), element.partition());
            let committed = committed
                .as_ref()
                .and_then(|c| c.find_partition(topic, partition))
                .and_then(|p| p.offset().to_raw())
                .filter(|offset| *offset >= 0);
            let beyond_end = committed.is_some_and(|offset| {
                consumer.fetch_watermarks(topic, partition, ASK).is_ok_and(|(_, high)| offset > high)
            });
            let start = if beyond_end || rewind.contains(&(topic.to_owned(), partition)) {
                tracing::warn!(group = %self.group, topic, partition, ?committed, "reading the partition from its beginning");
                Offset::Beginning
            } else {
                element.offset()
            };
            let _ = starts.add_partition_offset(topic, partition, start);
        }
        starts
    }
}

fn describe(partitions: &TopicPartitionList) -> String {
    let names: Vec<String> = partitions.elements().iter().map(|p| format!("{}/{}", p.topic(), p.partition())).collect();
    names.join(",")
}

/// Why and how a consumer is replaced.
#[derive(Debug)]
pub(super) struct Replacement {
    pub reason: &'static str,
    /// The broker lost its state: nothing applied so far is committed.
    pub forget: bool,
    /// Create the topics (and dead-letter topics) again before the new consumer subscribes.
    pub recreate_topics: bool,
    /// Partitions the new consumer reads from the beginning.
    pub rewind: BTreeSet<Partition>,
}

impl Replacement {
    fn after_loss(reason: &'static str) -> Self {
        Self { reason, forget: true, recreate_topics: true, rewind: BTreeSet::new() }
    }

    fn stuck(reason: &'static str) -> Self {
        Self { reason, forget: false, recreate_topics: false, rewind: BTreeSet::new() }
    }
}

/// What one inspection of an assigned partition found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    partition: Partition,
    /// The next offset the consumer reads.
    position: i64,
    /// The partition's end (high watermark).
    end: i64,
}

/// Watches one consumer: the errors it reports, its progress, its partitions.
pub(super) struct Watch {
    topics: Vec<String>,
    broker_lost: bool,
    topic_missing: bool,
    started: Instant,
    last_message: Instant,
    last_inspection: Instant,
    unassigned_since: Option<Instant>,
    behind: Option<(Instant, Vec<Seen>)>,
}

impl Watch {
    /// `topics`: the consumer's subscription, by full (prefixed) name.
    pub(super) fn new(topics: Vec<String>) -> Self {
        let now = Instant::now();
        Self {
            topics,
            broker_lost: false,
            topic_missing: false,
            started: now,
            last_message: now,
            last_inspection: now,
            unassigned_since: None,
            behind: None,
        }
    }

    /// Whether the broker was lost since this consumer started: what it fetches now may come
    /// from positions in a log that no longer exists.
    pub(super) fn broker_lost(&self) -> bool {
        self.broker_lost
    }

    pub(super) fn progressed(&mut self) {
        self.last_message = Instant::now();
        self.behind = None;
    }

    /// Takes note of an error the consumer reported.
    pub(super) fn saw(&mut self, error: &KafkaError) {
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::AllBrokersDown) => self.broker_lost = true,
            _ if crate::kafka::is_missing_topic(error) => self.topic_missing = true,
            _ => {}
        }
    }

    /// Whether `consumer` must be replaced, and how. Cheap unless it is time to inspect.
    pub(super) async fn check(&mut self, consumer: &Arc<RecoveringConsumer>) -> Option<Replacement> {
        if self.broker_lost {
            return answers(consumer).await.then(|| Replacement::after_loss("the broker was lost and answers again"));
        }
        let now = Instant::now();
        if now.duration_since(self.started) < REPLACE_INTERVAL {
            return None;
        }
        if self.topic_missing {
            return Some(Replacement::after_loss("a subscribed topic is missing"));
        }
        if now.duration_since(self.last_message) < QUIET || now.duration_since(self.last_inspection) < QUIET {
            return None;
        }
        self.last_inspection = now;
        let seen = inspect(consumer.clone()).await?;
        if seen.is_empty() {
            let since = *self.unassigned_since.get_or_insert(now);
            let long = now.duration_since(since) >= UNASSIGNED;
            return (long && messages_wait(consumer.clone(), self.topics.clone()).await)
                .then(|| Replacement::stuck("assigned nothing while messages wait for the group"));
        }
        self.unassigned_since = None;
        let beyond: BTreeSet<Partition> =
            seen.iter().filter(|s| s.position > s.end).map(|s| s.partition.clone()).collect();
        if !beyond.is_empty() {
            return Some(Replacement {
                rewind: beyond,
                ..Replacement::after_loss("a position lies beyond its partition's end")
            });
        }
        let lagging: Vec<Seen> = seen.into_iter().filter(|s| s.position < s.end).collect();
        if lagging.is_empty() {
            self.behind = None;
            return None;
        }
        let unchanged_since = self.behind.as_ref().filter(|(_, before)| *before == lagging).map(|(since, _)| *since);
        match unchanged_since {
            Some(since) => {
                (now.duration_since(since) >= STALLED).then(|| Replacement::stuck("no progress while messages wait"))
            }
            None => {
                self.behind = Some((now, lagging));
                None
            }
        }
    }
}

/// Whether the broker answers a metadata request.
async fn answers(consumer: &Arc<RecoveringConsumer>) -> bool {
    let consumer = consumer.clone();
    tokio::task::spawn_blocking(move || consumer.fetch_metadata(None, ASK).is_ok()).await.unwrap_or(false)
}

/// The consumer's assigned partitions with their positions and ends; `None` when the broker
/// cannot say. A partition not fetched yet counts from its committed offset.
async fn inspect(consumer: Arc<RecoveringConsumer>) -> Option<Vec<Seen>> {
    tokio::task::spawn_blocking(move || {
        let assignment = consumer.assignment().ok()?;
        if assignment.count() == 0 {
            return Some(Vec::new());
        }
        let positions = consumer.position().unwrap_or_else(|_| assignment.clone());
        let committed = consumer.committed_offsets(assignment, ASK).ok();
        let mut seen = Vec::new();
        for element in positions.elements() {
            let (topic, partition) = (element.topic(), element.partition());
            let position = match element.offset() {
                Offset::Offset(next) => next,
                _ => committed
                    .as_ref()
                    .and_then(|c| c.find_partition(topic, partition))
                    .and_then(|p| p.offset().to_raw())
                    .unwrap_or(0)
                    .max(0),
            };
            let (_, end) = consumer.fetch_watermarks(topic, partition, ASK).ok()?;
            seen.push(Seen { partition: (topic.to_owned(), partition), position, end });
        }
        Some(seen)
    })
    .await
    .ok()
    .flatten()
}

/// Messages between the consumer's positions and the ends of its assigned partitions (0 when it
/// is assigned nothing); `None` when the broker cannot say.
pub(super) async fn lag(consumer: &Arc<RecoveringConsumer>) -> Option<i64> {
    let seen = inspect(consumer.clone()).await?;
    Some(seen.iter().map(|s| (s.end - s.position).max(0)).sum())
}

/// Whether some partition of `topics` holds messages beyond what the group committed.
async fn messages_wait(consumer: Arc<RecoveringConsumer>, topics: Vec<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let mut all = TopicPartitionList::new();
        for topic in &topics {
            let Ok(metadata) = consumer.fetch_metadata(Some(topic), ASK) else { return false };
            for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
                all.add_partition(topic, partition.id());
            }
        }
        let Ok(committed) = consumer.committed_offsets(all, ASK) else { return false };
        committed.elements().iter().any(|element| {
            let Ok((low, high)) = consumer.fetch_watermarks(element.topic(), element.partition(), ASK) else {
                return false;
            };
            element.offset().to_raw().filter(|offset| *offset >= 0).unwrap_or(low) < high
        })
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer() -> Arc<RecoveringConsumer> {
        // Nothing listens there: the consumer is never asked anything in these tests.
        let settings = crate::config::KafkaSettings { brokers: "127.0.0.1:1".into(), ..Default::default() };
        Arc::new(crate::kafka::consumer_with(&settings, "unit", RecoveryContext::new("unit", BTreeSet::new())).unwrap())
    }

    #[tokio::test]
    async fn a_lost_broker_replaces_the_consumer_only_once_it_answers_and_forgets_its_offsets() {
        let consumer = consumer();
        let mut watch = Watch::new(vec!["topic".into()]);
        watch.saw(&KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown));
        assert!(watch.broker_lost());
        assert!(watch.check(&consumer).await.is_none(), "nobody answers yet");
    }

    #[tokio::test]
    async fn a_young_consumer_is_left_alone_and_ordinary_errors_change_nothing() {
        let consumer = consumer();
        let mut watch = Watch::new(vec!["topic".into()]);
        watch.saw(&KafkaError::MessageConsumption(RDKafkaErrorCode::BrokerTransportFailure));
        watch.saw(&KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition));
        assert!(!watch.broker_lost());
        assert!(watch.topic_missing);
        assert!(watch.check(&consumer).await.is_none(), "replacements are spaced out");
    }

    #[test]
    fn forgotten_offsets_are_never_recorded_again() {
        let context = RecoveryContext::new("unit", BTreeSet::new());
        context.lock().applied.insert(("topic".into(), 0), 5);
        context.forget();
        assert!(context.lock().applied.is_empty());
        assert!(context.lock().forgotten);
    }
}
