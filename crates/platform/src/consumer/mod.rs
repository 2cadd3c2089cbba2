//! Idempotent Kafka consumers: each message's effect and its event id in the `inbox` table are
//! written in one transaction, and its offset is committed only after that transaction commits.
//! A redelivered event finds its id in the inbox and has no second effect. A message that keeps
//! failing goes to `<topic>.dlq.<group>` after `max_attempts` instead of blocking its partition;
//! while the service's own database is away, an event waits for it (it is not the event's fault).

mod recovery;

use crate::config::KafkaSettings;
use crate::db::PgPool;
use crate::metrics::{ConsumerMetrics, GroupMetrics, Outcome};
use crate::outbox::{Backoff, TRACEPARENT_HEADER};
use contracts::Envelope;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Header, Headers};
use rdkafka::producer::FutureRecord;
use recovery::{Partition, RecoveringConsumer, RecoveryContext, Replacement, Watch};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long the runner waits for a message before it looks after its consumer.
const TICK: Duration = Duration::from_secs(1);
/// How often the offsets of applied events are committed.
const COMMIT_INTERVAL: Duration = Duration::from_millis(500);
/// How long closing a replaced consumer may take (it leaves its group).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the lag (`consumer_lag`) is measured.
const LAG_INTERVAL: Duration = Duration::from_secs(10);

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

impl ProcessError {
    /// The database is away (no connection, or it broke): not the event's fault, so the event
    /// waits for it instead of counting attempts towards the dead-letter topic.
    fn is_database_away(&self) -> bool {
        use crate::db::is_connection_lost;
        match self {
            Self::Pool(_) => true,
            Self::Database(error) => is_connection_lost(error),
            Self::Handler(error) => error.chain().any(|cause| {
                cause.downcast_ref::<diesel::result::Error>().is_some_and(is_connection_lost)
                    || cause.downcast_ref::<crate::db::PoolError>().is_some()
            }),
        }
    }
}

/// Consumes `topics` in the consumer group `group` and applies `handler` exactly once per event.
pub struct ConsumerRunner<H> {
    pub group: String,
    pub topics: Vec<String>,
    pub pool: PgPool,
    pub settings: KafkaSettings,
    pub handler: Arc<H>,
    metrics: GroupMetrics,
}

impl<H: EventHandler> ConsumerRunner<H> {
    pub fn new(group: &str, topics: &[&str], pool: PgPool, settings: KafkaSettings, handler: H) -> Self {
        Self {
            group: group.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            pool,
            settings,
            handler: Arc::new(handler),
            metrics: ConsumerMetrics::new().group(group),
        }
    }

    /// Reports events by outcome, the lag and the last event's time to `metrics`.
    pub fn with_metrics(mut self, metrics: &ConsumerMetrics) -> Self {
        self.metrics = metrics.group(&self.group);
        self
    }

    /// Runs until `shutdown`; the message in hand is finished and its offset committed first.
    /// The consumer is replaced when it cannot make progress (see [`recovery`]).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let all = self.all_topics();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        crate::kafka::keep_ensuring_topics(self.settings.clone(), &all, shutdown.clone()).await;
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let dlq_producer = crate::kafka::producer(&self.settings)?;
        let mut consumer = self.subscribe(BTreeSet::new())?;
        let mut watch = Watch::new(self.physical_topics());
        let (mut last_commit, mut last_lag) = (Instant::now(), Instant::now());
        loop {
            // A block of its own: the message borrows the consumer, which may be replaced below.
            {
                let received = tokio::select! {
                    received = tokio::time::timeout(TICK, consumer.recv()) => received,
                    _ = shutdown.cancelled() => break,
                };
                match received {
                    // The broker is back, and this consumer may fetch from positions in a log it
                    // lost: its replacement reads the message again from where the broker says.
                    Ok(Ok(_)) if watch.broker_lost() => {}
                    Ok(Ok(message)) => {
                        self.process(&message, &dlq_producer).await;
                        consumer.context().applied(&message);
                        watch.progressed();
                    }
                    Ok(Err(error)) => {
                        watch.saw(&error);
                        tracing::warn!(%error, group = %self.group, "kafka receive failed");
                    }
                    Err(_tick) => {}
                }
            }
            if last_commit.elapsed() >= COMMIT_INTERVAL {
                consumer.context().commit(consumer.as_ref(), CommitMode::Async);
                last_commit = Instant::now();
            }
            if let Some(replacement) = watch.check(&consumer).await {
                consumer = self.replace(consumer, replacement).await?;
                watch = Watch::new(self.physical_topics());
            }
            if last_lag.elapsed() >= LAG_INTERVAL && !watch.broker_lost() {
                if let Some(lag) = recovery::lag(&consumer).await {
                    self.metrics.set_lag(lag);
                }
                last_lag = Instant::now();
            }
        }
        close(consumer, Commit::Applied).await;
        Ok(())
    }

    /// The topics and their dead-letter topics, by logical name.
    fn all_topics(&self) -> Vec<String> {
        let dead_letters = self.topics.iter().map(|t| contracts::topics::dead_letter(t, &self.group));
        self.topics.iter().cloned().chain(dead_letters).collect()
    }

    fn physical_topics(&self) -> Vec<String> {
        self.topics.iter().map(|t| self.settings.topic(t)).collect()
    }

    fn subscribe(&self, rewind: BTreeSet<Partition>) -> anyhow::Result<Arc<RecoveringConsumer>> {
        let context = RecoveryContext::new(&self.group, rewind);
        let consumer = crate::kafka::consumer_with(&self.settings, &self.group, context)?;
        let physical = self.physical_topics();
        consumer.subscribe(&physical.iter().map(String::as_str).collect::<Vec<_>>())?;
        Ok(Arc::new(consumer))
    }

    /// Closes `consumer` (it leaves the group) and subscribes a new one: a new member of the
    /// group, which starts where the group committed.
    async fn replace(
        &self,
        consumer: Arc<RecoveringConsumer>,
        replacement: Replacement,
    ) -> anyhow::Result<Arc<RecoveringConsumer>> {
        tracing::info!(group = %self.group, reason = replacement.reason, "replacing the consumer");
        let commit = if replacement.forget {
            consumer.context().forget();
            Commit::Nothing
        } else {
            Commit::Applied
        };
        if replacement.recreate_topics {
            let all = self.all_topics();
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            if let Err(error) = crate::kafka::ensure_topics(&self.settings, &all).await {
                tracing::warn!(%error, group = %self.group, "cannot create the topics again yet");
            }
        }
        close(consumer, commit).await;
        self.subscribe(replacement.rewind)
    }

    /// Applies one message: retried with back-off, dead-lettered when it cannot succeed.
    async fn process(&self, message: &BorrowedMessage<'_>, dlq: &crate::kafka::Producer) {
        let envelope = match Envelope::decode_checked(message.payload().unwrap_or_default()) {
            Ok(envelope) => envelope,
            Err(error) => return self.dead_letter(message, dlq, &error.to_string()).await,
        };
        let traceparent = header(message, TRACEPARENT_HEADER).or(Some(envelope.traceparent.clone()));
        let span =
            tracing::info_span!("consume", group = %self.group, event_type = %envelope.r#type, event_id = %envelope.id);
        crate::telemetry::set_parent(&span, traceparent.as_deref());
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let mut attempt = 0;
        loop {
            match self.apply(&envelope).instrument(span.clone()).await {
                Ok(first_time) => {
                    return self.metrics.record(if first_time { Outcome::Processed } else { Outcome::Duplicate });
                }
                // Parking events because our own database is down would lose them for good
                // (a dead-letter topic is for events that cannot succeed): wait for it.
                Err(error) if error.is_database_away() => {
                    self.metrics.record(Outcome::Retried);
                    span.in_scope(|| tracing::warn!(%error, "the database is away; the event waits for it"));
                }
                Err(error) if attempt + 1 >= self.settings.max_attempts => {
                    return self.dead_letter(message, dlq, &error.to_string()).await;
                }
                Err(error) => {
                    attempt += 1;
                    self.metrics.record(Outcome::Retried);
                    span.in_scope(|| tracing::warn!(%error, attempt, "event handling failed, retrying"));
                }
            }
            tokio::time::sleep(backoff.next_pause()).await;
        }
    }

    /// Applies the event once; whether this was its first time.
    async fn apply(&self, envelope: &Envelope) -> Result<bool, ProcessError> {
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
        Ok(first_time)
    }

    async fn dead_letter(&self, message: &BorrowedMessage<'_>, dlq: &crate::kafka::Producer, reason: &str) {
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
            let Err((error, _)) = dlq.client().send(record, Duration::from_secs(0)).await else { break };
            tracing::warn!(%error, "cannot write to the dead-letter topic, retrying");
            tokio::time::sleep(backoff.next_pause()).await;
            // A broker that lost its data forgot the topic; a new client learns it was created again.
            let logical = topic.strip_prefix(self.settings.topic_prefix.as_str()).unwrap_or(&topic);
            if crate::kafka::ensure_topics(&self.settings, &[logical]).await.is_ok() {
                let _ = dlq.renew();
            }
        }
        self.metrics.record(Outcome::DeadLettered);
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

/// What a closing consumer commits first.
enum Commit {
    /// The offsets of the messages it applied.
    Applied,
    Nothing,
}

/// Commits (when asked) and drops `consumer` off the runtime's threads: a synchronous commit
/// and leaving the group both wait for the broker, which may not answer. A close that takes too
/// long is left to finish in the background.
async fn close(consumer: Arc<RecoveringConsumer>, commit: Commit) {
    let closing = tokio::task::spawn_blocking(move || {
        if let Commit::Applied = commit {
            consumer.context().commit(consumer.as_ref(), CommitMode::Sync);
        }
        drop(consumer)
    });
    if tokio::time::timeout(CLOSE_TIMEOUT, closing).await.is_err() {
        tracing::warn!("a consumer is still closing");
    }
}
