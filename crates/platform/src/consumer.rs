//! Idempotent Kafka consumers: each message's effect and its event id in the `inbox` table are
//! written in one transaction, and its offset is stored only after that transaction commits.
//! A redelivered event finds its id in the inbox and has no second effect. A message that keeps
//! failing goes to `<topic>.dlq.<group>` after `max_attempts` instead of blocking its partition.

use crate::config::KafkaSettings;
use crate::db::PgPool;
use crate::outbox::{Backoff, TRACEPARENT_HEADER};
use contracts::Envelope;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long the stream may be silent before the consumer checks that it is not stuck.
const QUIET: Duration = Duration::from_secs(5);
const REJOIN_INTERVAL: Duration = Duration::from_secs(15);

/// Whether a quiet consumer is stuck: assigned nothing after broker trouble, or behind the
/// end of a partition it is assigned.
async fn stuck(consumer: &Arc<StreamConsumer>, had_trouble: bool) -> bool {
    let consumer = consumer.clone();
    tokio::task::spawn_blocking(move || {
        let Ok(assignment) = consumer.assignment() else { return false };
        if assignment.count() == 0 {
            return had_trouble;
        }
        let positions = consumer.position().unwrap_or(assignment);
        let committed = consumer.committed(Duration::from_secs(2)).ok();
        positions.elements().iter().any(|partition| {
            let next = match partition.offset() {
                Offset::Offset(next) => next,
                _ => committed
                    .as_ref()
                    .and_then(|c| c.find_partition(partition.topic(), partition.partition()))
                    .and_then(|p| p.offset().to_raw())
                    .unwrap_or(0)
                    .max(0),
            };
            consumer
                .fetch_watermarks(partition.topic(), partition.partition(), Duration::from_secs(2))
                .is_ok_and(|(_, high)| high > next)
        })
    })
    .await
    .unwrap_or(false)
}

/// What a consumer does with one event, inside the transaction that also records it in the inbox.
/// Implementations write `async fn handle(&self, conn, event) -> anyhow::Result<()>`.
pub trait EventHandler: Send + Sync + 'static {
    fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope)
    -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Runs once the first `handle` of this event has committed: for effects outside the
    /// database (cache invalidation, Redis projections). Best effort: a crash right before it
    /// skips it, so what it maintains must be rebuildable from the database.
    fn after_commit(&self, _event: &Envelope) -> impl Future<Output = ()> + Send {
        async {}
    }
}

#[derive(Debug, thiserror::Error)]
enum ProcessError {
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] crate::db::PoolError),
    #[error("handler: {0:#}")]
    Handler(anyhow::Error),
}

/// Consumes `topics` in the consumer group `group` and applies `handler` exactly once per event.
pub struct ConsumerRunner<H> {
    pub group: String,
    pub topics: Vec<String>,
    pub pool: PgPool,
    pub settings: KafkaSettings,
    pub handler: Arc<H>,
}

impl<H: EventHandler> ConsumerRunner<H> {
    pub fn new(group: &str, topics: &[&str], pool: PgPool, settings: KafkaSettings, handler: H) -> Self {
        Self {
            group: group.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            pool,
            settings,
            handler: Arc::new(handler),
        }
    }

    /// Runs until `shutdown`; the message in hand is finished and its offset committed first.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let dead_letters: Vec<String> =
            self.topics.iter().map(|t| contracts::topics::dead_letter(t, &self.group)).collect();
        let all: Vec<&str> = self.topics.iter().chain(&dead_letters).map(String::as_str).collect();
        crate::kafka::keep_ensuring_topics(self.settings.clone(), &all, shutdown.clone()).await;
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let dlq_producer = crate::kafka::producer(&self.settings)?;
        let mut consumer = Arc::new(self.subscribe()?);
        // A consumer can stay stuck in its group after the broker restarted: assigned nothing,
        // or fetching nothing while its partitions have messages. When the stream is quiet,
        // that is checked, and a stuck consumer is rebuilt (at most every REJOIN_INTERVAL).
        let mut had_trouble = false;
        let mut last_join = Instant::now();
        loop {
            let received = tokio::select! {
                received = tokio::time::timeout(QUIET, consumer.recv()) => received,
                _ = shutdown.cancelled() => break,
            };
            match received {
                Ok(Ok(message)) => {
                    self.process(&message, &dlq_producer).await;
                    if let Err(error) = consumer.store_offset_from_message(&message) {
                        tracing::warn!(%error, "cannot store offset");
                    }
                }
                Ok(Err(error)) => {
                    had_trouble = true;
                    tracing::warn!(%error, group = %self.group, "kafka receive failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(_quiet) if last_join.elapsed() >= REJOIN_INTERVAL && stuck(&consumer, had_trouble).await => {
                    tracing::info!(group = %self.group, "rejoining the consumer group: no progress while messages wait");
                    let _ = consumer.commit_consumer_state(CommitMode::Sync);
                    consumer = Arc::new(self.subscribe()?);
                    last_join = Instant::now();
                }
                Err(_quiet) => {}
            }
        }
        if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(%error, "final offset commit");
        }
        Ok(())
    }

    fn subscribe(&self) -> anyhow::Result<StreamConsumer> {
        let consumer = crate::kafka::consumer(&self.settings, &self.group)?;
        let physical: Vec<String> = self.topics.iter().map(|t| self.settings.topic(t)).collect();
        consumer.subscribe(&physical.iter().map(String::as_str).collect::<Vec<_>>())?;
        Ok(consumer)
    }

    /// Applies one message: retried with back-off, dead-lettered when it cannot succeed.
    async fn process(&self, message: &BorrowedMessage<'_>, dlq: &FutureProducer) {
        let envelope = match Envelope::decode_checked(message.payload().unwrap_or_default()) {
            Ok(envelope) => envelope,
            Err(error) => return self.dead_letter(message, dlq, &error.to_string()).await,
        };
        let traceparent = header(message, TRACEPARENT_HEADER).or(Some(envelope.traceparent.clone()));
        let span =
            tracing::info_span!("consume", group = %self.group, event_type = %envelope.r#type, event_id = %envelope.id);
        crate::telemetry::set_parent(&span, traceparent.as_deref());
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        for attempt in 1..=self.settings.max_attempts {
            match self.apply(&envelope).instrument(span.clone()).await {
                Ok(()) => return,
                Err(error) if attempt == self.settings.max_attempts => {
                    return self.dead_letter(message, dlq, &error.to_string()).await;
                }
                Err(error) => {
                    span.in_scope(|| tracing::warn!(%error, attempt, "event handling failed, retrying"));
                    tokio::time::sleep(backoff.next_pause()).await;
                }
            }
        }
    }

    async fn apply(&self, envelope: &Envelope) -> Result<(), ProcessError> {
        let event_id: uuid::Uuid = envelope
            .id
            .parse()
            .map_err(|e: uuid::Error| ProcessError::Handler(anyhow::anyhow!("bad event id: {e}")))?;
        let mut conn = self.pool.get().await?;
        let handler = &self.handler;
        let group = &self.group;
        let first_time = conn
            .transaction::<_, ProcessError, _>(async |conn| {
                let first_time = diesel::sql_query(
                    "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind::<Text, _>(group)
                .bind::<SqlUuid, _>(event_id)
                .bind::<Text, _>(&envelope.r#type)
                .execute(conn)
                .await?
                    == 1;
                if first_time {
                    handler.handle(conn, envelope).await.map_err(ProcessError::Handler)?;
                } else {
                    tracing::debug!("duplicate event skipped");
                }
                Ok(first_time)
            })
            .await?;
        if first_time {
            handler.after_commit(envelope).await;
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &BorrowedMessage<'_>, dlq: &FutureProducer, reason: &str) {
        let topic = self.settings.topic(&contracts::topics::dead_letter(
            message.topic().strip_prefix(self.settings.topic_prefix.as_str()).unwrap_or(message.topic()),
            &self.group,
        ));
        tracing::error!(%topic, reason, partition = message.partition(), offset = message.offset(), "dead-lettering message");
        let mut headers = message.headers().map(|h| h.detach()).unwrap_or_default();
        let origin = format!("{}/{}/{}", message.topic(), message.partition(), message.offset());
        headers = headers
            .insert(Header { key: "dlq-reason", value: Some(reason) })
            .insert(Header { key: "dlq-origin", value: Some(origin.as_str()) });
        let key = message.key().unwrap_or_default();
        let payload = message.payload().unwrap_or_default();
        // Keep trying: skipping the message without parking it would lose it.
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            let record = FutureRecord::to(&topic).headers(headers.clone()).key(key).payload(payload);
            let Err((error, _)) = dlq.send(record, Duration::from_secs(0)).await else { break };
            tracing::warn!(%error, "cannot write to the dead-letter topic, retrying");
            tokio::time::sleep(backoff.next_pause()).await;
        }
    }
}

fn header(message: &BorrowedMessage<'_>, name: &str) -> Option<String> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_owned)
}
