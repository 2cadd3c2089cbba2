//! Transactional outbox: [`publish`] (or [`enqueue`] for other destinations) writes an event in
//! the caller's transaction;
//! [`OutboxRelay`] publishes the rows to Kafka and/or NATS and deletes those it sent.
//!
//! Rows are claimed with a short lease inside a tiny transaction, so no row lock is held across a
//! network call and several replicas can relay side by side. Delivery is at least once; consumers
//! deduplicate by event id (see [`crate::consumer`]).
//!
//! Per-aggregate order holds whatever the number of replicas: the events of one aggregate for
//! one destination (its stream) leave in outbox order, each only after the previous one was
//! acknowledged. A relay claims a row only when no earlier row of its stream is leased (claims
//! take turns, so each sees the others' leases), and inside a batch it hands a stream's events
//! over one wave at a time (`outbox/waves.rs`), holding the rest back after a failure.

mod waves;

use crate::config::{NatsSettings, OutboxSettings};
use crate::kafka::Producer;
use crate::metrics::OutboxMetrics;
use crate::telemetry;
use contracts::Envelope;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use prost::Message;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use waves::Waves;

/// Kafka/NATS header carrying the event id (and `Nats-Msg-Id` for JetStream de-duplication).
pub const EVENT_ID_HEADER: &str = "event-id";
pub const EVENT_TYPE_HEADER: &str = "event-type";
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Where an event goes: a Kafka topic (durable, keyed by aggregate id), a NATS subject, or both.
#[derive(Debug, Clone, Default)]
pub struct Destination {
    pub kafka_topic: Option<String>,
    pub nats_subject: Option<String>,
}

impl Destination {
    pub fn kafka(topic: &str) -> Self {
        Self { kafka_topic: Some(topic.to_owned()), nats_subject: None }
    }

    pub fn nats(subject: impl Into<String>) -> Self {
        Self { kafka_topic: None, nats_subject: Some(subject.into()) }
    }
}

/// Writes `envelope` to the outbox. Call it with the connection of the transaction that makes
/// the change, so that the event exists exactly when the change does. The current trace
/// context is stamped on the event unless it already carries one.
pub async fn enqueue(conn: &mut AsyncPgConnection, envelope: Envelope, to: &Destination) -> QueryResult<()> {
    let event_id: uuid::Uuid =
        envelope.id.parse().map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let traceparent =
        Some(envelope.traceparent.clone()).filter(|t| !t.is_empty()).or_else(telemetry::current_traceparent);
    let (event_type, aggregate_id) = (envelope.r#type.clone(), envelope.aggregate_id.clone());
    let payload = Envelope { traceparent: traceparent.clone().unwrap_or_default(), ..envelope }.encode_to_vec();
    diesel::sql_query(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, kafka_topic, nats_subject, payload, traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<SqlUuid, _>(event_id)
    .bind::<Text, _>(event_type)
    .bind::<Text, _>(aggregate_id)
    .bind::<Nullable<Text>, _>(to.kafka_topic.as_deref())
    .bind::<Nullable<Text>, _>(to.nats_subject.as_deref())
    .bind::<Bytea, _>(payload)
    .bind::<Nullable<Text>, _>(traceparent)
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues `payload` on its topic, keyed by its aggregate and produced by the topic's owner, in
/// the caller's transaction.
pub async fn publish(conn: &mut AsyncPgConnection, payload: impl Into<contracts::Payload>) -> QueryResult<()> {
    let payload = payload.into();
    let to = Destination::kafka(payload.topic());
    enqueue(conn, Envelope::of(payload), &to).await
}

#[derive(Debug, QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = SqlUuid)]
    event_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Text)]
    aggregate_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    kafka_topic: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    nats_subject: Option<String>,
    #[diesel(sql_type = Bytea)]
    payload: Vec<u8>,
    #[diesel(sql_type = Nullable<Text>)]
    traceparent: Option<String>,
}

impl ClaimedRow {
    /// The events of one aggregate for one destination: they leave in outbox order.
    fn stream(&self) -> (&str, Option<&str>, Option<&str>) {
        (&self.aggregate_id, self.kafka_topic.as_deref(), self.nats_subject.as_deref())
    }
}

/// Why one row could not be published.
#[derive(Debug, Clone)]
struct Failure {
    cause: String,
    /// The Kafka topic (logical name) the broker did not take the row for.
    kafka_topic: Option<String>,
}

impl From<String> for Failure {
    fn from(cause: String) -> Self {
        Self { cause, kafka_topic: None }
    }
}

/// What became of a published batch.
struct Settlement {
    sent: Vec<i64>,
    failed: Vec<(i64, String)>,
    /// Kafka topics (logical names) that did not take a row.
    failed_topics: Vec<String>,
}

impl Settlement {
    fn of(rows: &[ClaimedRow], outcomes: Vec<Result<(), Failure>>) -> Self {
        let (mut sent, mut failed, mut failed_topics) = (Vec::new(), Vec::new(), Vec::new());
        for (row, outcome) in rows.iter().zip(outcomes) {
            match outcome {
                Ok(()) => sent.push(row.seq),
                Err(Failure { cause, kafka_topic }) => {
                    failed.push((row.seq, cause));
                    failed_topics.extend(kafka_topic.filter(|topic| !failed_topics.contains(topic)));
                }
            }
        }
        Self { sent, failed, failed_topics }
    }

    fn failure(&self) -> Option<RelayError> {
        <[_]>::first(&self.failed).map(|(_, cause)| RelayError::Publish {
            failed: self.failed.len(),
            total: self.failed.len() + self.sent.len(),
            cause: cause.clone(),
        })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(String),
    #[error("{failed} of {total} events could not be published: {cause}")]
    Publish { failed: usize, total: usize, cause: String },
}

/// Publishes the outbox of one schema. Cheap to clone; run it with [`OutboxRelay::run`].
#[derive(Clone)]
pub struct OutboxRelay {
    pool: crate::db::PgPool,
    schema: String,
    database: crate::config::DatabaseSettings,
    kafka: Option<Producer>,
    nats: Option<(async_nats::Client, NatsSettings)>,
    settings: OutboxSettings,
    metrics: OutboxMetrics,
}

impl OutboxRelay {
    pub fn new(pool: crate::db::PgPool, database: &crate::config::DatabaseSettings, settings: OutboxSettings) -> Self {
        Self {
            pool,
            schema: database.schema.clone(),
            database: database.clone(),
            kafka: None,
            nats: None,
            settings,
            metrics: OutboxMetrics::new(),
        }
    }

    /// Reports the backlog, the lag and what was published to `metrics`.
    pub fn with_metrics(mut self, metrics: OutboxMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    fn count_published(&self, rows: &[ClaimedRow], settlement: &Settlement) {
        for row in rows.iter().filter(|r| settlement.sent.binary_search(&r.seq).is_ok()) {
            // NATS subjects name users (`rt.user.<id>`): one series for all of them.
            let destination = row.kafka_topic.as_deref().unwrap_or("nats");
            self.metrics.published.with_label_values(&[destination]).inc();
        }
    }

    /// Measures what waits in the outbox (at most once per [`BACKLOG_INTERVAL`]).
    async fn measure_backlog(&self, last: &mut Option<std::time::Instant>) {
        if last.is_some_and(|at| at.elapsed() < BACKLOG_INTERVAL) {
            return;
        }
        *last = Some(std::time::Instant::now());
        let Ok(mut conn) = self.pool.get().await else { return };
        match backlog(&mut conn).await {
            Ok(Backlog { events, oldest_age_seconds }) => {
                self.metrics.backlog.set(events);
                self.metrics.lag_seconds.set(oldest_age_seconds);
            }
            Err(error) => tracing::debug!(%error, "cannot measure the outbox backlog"),
        }
    }

    pub fn with_kafka(mut self, producer: Producer) -> Self {
        self.kafka = Some(producer);
        self
    }

    pub fn with_nats(mut self, client: async_nats::Client, settings: NatsSettings) -> Self {
        self.nats = Some((client, settings));
        self
    }

    /// Relays until `shutdown`, then makes one last pass so that nothing committed before
    /// the shutdown waits for the next start.
    pub async fn run(self, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen_for_new_events(
            self.database.clone(),
            self.schema.clone(),
            wake.clone(),
            shutdown.clone(),
        ));
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(self.settings.max_backoff_ms));
        let mut measured = None;
        while !shutdown.is_cancelled() {
            let outcome = self.drain().await;
            self.measure_backlog(&mut measured).await;
            let pause = match outcome {
                Ok(_) => {
                    backoff.reset();
                    poll
                }
                Err(error) => {
                    self.metrics.failures.inc();
                    let pause = backoff.next_pause();
                    tracing::warn!(%error, retry_in_ms = pause.as_millis() as u64, "outbox relay failed");
                    pause
                }
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.cancelled() => {}
            }
        }
        if let Err(error) = self.flush(Duration::from_secs(5)).await {
            tracing::warn!(%error, "outbox not fully flushed at shutdown");
        }
        listener.abort();
    }

    /// Relays until the outbox is empty or `deadline` passes.
    pub async fn flush(&self, deadline: Duration) -> Result<(), RelayError> {
        tokio::time::timeout(deadline, self.drain())
            .await
            .unwrap_or_else(|_| Err(RelayError::Database("flush deadline passed".into())))
            .map(drop)
    }

    /// Relays until the outbox is empty and returns how many events it sent. Batches overlap:
    /// while the brokers acknowledge batch N, batch N-1 is deleted and batch N+1 claimed. Batch
    /// N+1 holds no row of a stream with a row in flight (see `claim`), so rows
    /// that wait behind batch N are claimed once it is settled.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut relayed = 0;
        let mut batch = self.claim().await?;
        let mut unsettled: Option<Settlement> = None;
        loop {
            if batch.is_empty() {
                let Some(settlement) = unsettled.take() else { break };
                self.settle(&settlement).await?;
                batch = self.claim().await?;
                continue;
            }
            let acknowledged = self.start_publish(&batch).await;
            let previous = unsettled.take();
            let settle_previous = async {
                match &previous {
                    Some(settlement) => self.settle(settlement).await,
                    None => Ok(()),
                }
            };
            let (outcomes, next, settled) = tokio::join!(acknowledged, self.claim(), settle_previous);
            let settlement = Settlement::of(&batch, outcomes);
            relayed += settlement.sent.len();
            self.count_published(&batch, &settlement);
            let problem = settled.err().or_else(|| settlement.failure()).or_else(|| next.as_ref().err().cloned());
            if let Some(problem) = problem {
                self.recover_kafka(&settlement.failed_topics).await;
                self.settle(&settlement).await?;
                if let Ok(next) = &next {
                    self.release(next).await?;
                }
                return Err(problem);
            }
            unsettled = Some(settlement);
            batch = next?;
        }
        Ok(relayed)
    }

    /// After Kafka refused rows: a broker that lost its data lost the topics too, so they are
    /// created again, and when the broker answers the producer is renewed (its client would go
    /// on believing a topic does not exist, or keep producer state the broker forgot). The rows
    /// are retried by the next drain.
    async fn recover_kafka(&self, failed_topics: &[String]) {
        let Some(producer) = self.kafka.as_ref().filter(|_| !failed_topics.is_empty()) else { return };
        let topics: Vec<&str> = failed_topics.iter().map(String::as_str).collect();
        match crate::kafka::ensure_topics(producer.settings(), &topics).await {
            Ok(created) => {
                if !created.is_empty() {
                    tracing::warn!(?created, "topics were missing and are created again");
                }
                if let Err(error) = producer.renew() {
                    tracing::warn!(%error, "cannot renew the Kafka producer");
                }
            }
            Err(error) => tracing::debug!(%error, "Kafka does not answer yet"),
        }
    }

    /// Gives claimed rows back without publishing them.
    async fn release(&self, rows: &[ClaimedRow]) -> Result<(), RelayError> {
        if rows.is_empty() {
            return Ok(());
        }
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let mut conn = self.pool.get().await.map_err(|e| RelayError::Database(e.to_string()))?;
        diesel::sql_query("UPDATE outbox SET locked_until = NULL WHERE seq = ANY($1)")
            .bind::<Array<BigInt>, _>(seqs)
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(|e| RelayError::Database(e.to_string()))
    }

    /// Leases the next rows to send: the oldest ones not leased, each only if no earlier row of
    /// its stream is leased (by this relay or another). Claims take turns on a transaction-scoped
    /// advisory lock, so each sees the leases of the one before; and a row being settled is
    /// waited for rather than skipped, so that a later row of its stream cannot go first.
    async fn claim(&self) -> Result<Vec<ClaimedRow>, RelayError> {
        let mut conn = self.pool.get().await.map_err(|e| RelayError::Database(e.to_string()))?;
        let turn = format!("mebelplace.outbox.{}", self.schema);
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<Text, _>(&turn)
                .execute(conn)
                .await?;
            diesel::sql_query(
                "UPDATE outbox SET locked_until = now() + make_interval(secs => $2), attempts = attempts + 1
                 WHERE seq IN (
                     SELECT seq FROM outbox AS candidate
                     WHERE (locked_until IS NULL OR locked_until < now())
                       AND NOT EXISTS (
                           SELECT FROM outbox AS earlier
                           WHERE earlier.aggregate_id = candidate.aggregate_id AND earlier.seq < candidate.seq
                             AND earlier.locked_until >= now()
                             AND earlier.kafka_topic IS NOT DISTINCT FROM candidate.kafka_topic
                             AND earlier.nats_subject IS NOT DISTINCT FROM candidate.nats_subject)
                     ORDER BY seq LIMIT $1
                     FOR UPDATE)
                 RETURNING seq, event_id, event_type, aggregate_id, kafka_topic, nats_subject, payload, traceparent",
            )
            .bind::<BigInt, _>(self.settings.batch_size)
            .bind::<diesel::sql_types::Double, _>(self.settings.lease_secs as f64)
            .load::<ClaimedRow>(conn)
            .await
        })
        .await
        .map(|mut rows| {
            rows.sort_unstable_by_key(|r| r.seq);
            rows
        })
        .map_err(|e| RelayError::Database(e.to_string()))
    }

    /// Hands the batch to its brokers wave after wave (see [`waves`]) and returns the wait for
    /// their acknowledgements: one outcome per row. The first wave is handed over before this
    /// returns; a row held back after a failure of its stream fails without being sent.
    async fn start_publish<'a>(
        &'a self,
        rows: &'a [ClaimedRow],
    ) -> impl Future<Output = Vec<Result<(), Failure>>> + use<'a> {
        let mut waves = Waves::new(rows.iter().map(ClaimedRow::stream));
        let mut wave = waves.next_wave();
        let mut acknowledged = self.hand_over(rows, &wave).await;
        async move {
            let mut outcomes: Vec<Option<Result<(), Failure>>> = vec![None; rows.len()];
            loop {
                for (position, outcome) in wave.iter().copied().zip(acknowledged.await) {
                    if outcome.is_err() {
                        let failed = &rows[position].event_id;
                        for held in waves.hold_back_after(position) {
                            outcomes[held] = Some(Err(format!("not sent: event {failed} before it failed").into()));
                        }
                    }
                    outcomes[position] = Some(outcome);
                }
                wave = waves.next_wave();
                if wave.is_empty() {
                    break;
                }
                acknowledged = self.hand_over(rows, &wave).await;
            }
            // Every row was handed over or held back; were one not, it stays for the next pass.
            outcomes
                .into_iter()
                .map(|outcome| outcome.unwrap_or_else(|| Err("not handed over".to_owned().into())))
                .collect()
        }
    }

    /// Hands the rows at `positions` to their brokers, in order, and returns the wait for their
    /// acknowledgements: one outcome per position.
    async fn hand_over(
        &self,
        rows: &[ClaimedRow],
        positions: &[usize],
    ) -> BoxFuture<'static, Vec<Result<(), Failure>>> {
        let wave: Vec<&ClaimedRow> = positions.iter().map(|&position| &rows[position]).collect();
        let kafka: Vec<_> = wave.iter().map(|row| self.enqueue_kafka(row)).collect();
        let nats = self.publish_nats(&wave).await;
        Box::pin(async move {
            let kafka = futures_util::future::join_all(kafka).await;
            let nats = nats.await;
            kafka.into_iter().zip(nats).map(|(k, n)| k.and(n.map_err(Failure::from))).collect()
        })
    }

    /// Enqueues the row in the producer now (keeping order); the future resolves on delivery.
    fn enqueue_kafka(&self, row: &ClaimedRow) -> BoxFuture<'static, Result<(), Failure>> {
        let Some(logical_topic) = &row.kafka_topic else { return Box::pin(std::future::ready(Ok(()))) };
        let Some(producer) = &self.kafka else {
            let error = "the event is for Kafka but this relay has no Kafka producer".to_owned();
            return Box::pin(std::future::ready(Err(error.into())));
        };
        let topic = producer.settings().topic(logical_topic);
        let failure = {
            let (topic, logical_topic) = (topic.clone(), logical_topic.clone());
            move |error: rdkafka::error::KafkaError| Failure {
                cause: format!("kafka {topic}: {error}"),
                kafka_topic: Some(logical_topic),
            }
        };
        let event_id = row.event_id.to_string();
        let mut headers = OwnedHeaders::new()
            .insert(Header { key: EVENT_ID_HEADER, value: Some(event_id.as_str()) })
            .insert(Header { key: EVENT_TYPE_HEADER, value: Some(row.event_type.as_str()) });
        if let Some(traceparent) = &row.traceparent {
            headers = headers.insert(Header { key: TRACEPARENT_HEADER, value: Some(traceparent.as_str()) });
        }
        let record = FutureRecord::to(&topic).key(&row.aggregate_id).payload(&row.payload).headers(headers);
        match producer.client().send_result(record) {
            Ok(delivery) => Box::pin(async move {
                match delivery.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err((error, _))) => Err(failure(error)),
                    Err(_) => Err(format!("kafka {topic}: the producer was dropped").into()),
                }
            }),
            Err((error, _)) => Box::pin(std::future::ready(Err(failure(error)))),
        }
    }

    /// Publishes the NATS rows (buffered by the client, in order) and returns the wait for the
    /// flush that confirms the server has them.
    async fn publish_nats(&self, rows: &[&ClaimedRow]) -> BoxFuture<'static, Vec<Result<(), String>>> {
        let mut outcomes: Vec<Result<(), String>> = vec![Ok(()); rows.len()];
        let targets: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].nats_subject.is_some()).collect();
        let unavailable = match &self.nats {
            _ if targets.is_empty() => return Box::pin(std::future::ready(outcomes)),
            None => Some("the event is for NATS but this relay has no NATS client"),
            Some((client, _)) if !crate::nats::is_connected(client) => Some("nats is not connected"),
            Some(_) => None,
        };
        let Some((client, settings)) = self.nats.as_ref().filter(|_| unavailable.is_none()) else {
            for &i in &targets {
                outcomes[i] = Err(unavailable.unwrap_or_default().to_owned());
            }
            return Box::pin(std::future::ready(outcomes));
        };
        for &i in &targets {
            let row = rows[i];
            let subject = settings.subject(row.nats_subject.as_deref().unwrap_or_default());
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", row.event_id.to_string().as_str());
            headers.insert(EVENT_TYPE_HEADER, row.event_type.as_str());
            if let Some(traceparent) = &row.traceparent {
                headers.insert(TRACEPARENT_HEADER, traceparent.as_str());
            }
            if let Err(error) = client.publish_with_headers(subject, headers, row.payload.clone().into()).await {
                outcomes[i] = Err(format!("nats: {error}"));
            }
        }
        let client = client.clone();
        Box::pin(async move {
            let flushed = tokio::time::timeout(Duration::from_secs(5), client.flush()).await;
            if let Some(error) = match flushed {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(format!("nats flush: {error}")),
                Err(_) => Some("nats flush timed out".to_owned()),
            } {
                for &i in &targets {
                    outcomes[i] = Err(error.clone());
                }
            }
            outcomes
        })
    }

    /// Deletes what was sent; failed rows get their error and become claimable again at once.
    async fn settle(&self, settlement: &Settlement) -> Result<(), RelayError> {
        let (sent, failed) = (&settlement.sent, &settlement.failed);
        let mut conn = self.pool.get().await.map_err(|e| RelayError::Database(e.to_string()))?;
        if !sent.is_empty() {
            diesel::sql_query("DELETE FROM outbox WHERE seq = ANY($1)")
                .bind::<Array<BigInt>, _>(sent)
                .execute(&mut conn)
                .await
                .map_err(|e| RelayError::Database(e.to_string()))?;
        }
        if !failed.is_empty() {
            let seqs: Vec<i64> = failed.iter().map(|(seq, _)| *seq).collect();
            diesel::sql_query("UPDATE outbox SET locked_until = NULL, last_error = $2 WHERE seq = ANY($1)")
                .bind::<Array<BigInt>, _>(seqs)
                .bind::<Text, _>(&failed[0].1)
                .execute(&mut conn)
                .await
                .map_err(|e| RelayError::Database(e.to_string()))?;
        }
        Ok(())
    }
}

/// Number of events not yet published (for health details and tests).
pub async fn pending(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM outbox").get_result(conn).await?;
    Ok(count.n)
}

/// How often the relay measures its backlog (a count over the outbox) while it works.
const BACKLOG_INTERVAL: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Backlog {
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    oldest_age_seconds: f64,
}

async fn backlog(conn: &mut AsyncPgConnection) -> QueryResult<Backlog> {
    diesel::sql_query(
        "SELECT count(*) AS events,
                COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest_age_seconds
         FROM outbox",
    )
    .get_result(conn)
    .await
}

/// Keeps a LISTEN connection open and turns each NOTIFY into a wake-up; reconnects on loss.
async fn listen_for_new_events(
    database: crate::config::DatabaseSettings,
    schema: String,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let target = match crate::db::target(&database) {
        Ok(target) => target,
        Err(error) => return tracing::warn!(%error, "outbox listener not started; the relay polls"),
    };
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    while !shutdown.is_cancelled() {
        match crate::db::connect_to(&target, &schema).await {
            Ok(mut conn) => {
                if let Err(error) = diesel::sql_query(format!("LISTEN outbox_{schema}")).execute(&mut conn).await {
                    tracing::warn!(%error, "outbox LISTEN failed");
                } else {
                    backoff.reset();
                    // Events committed while we were not listening are picked up by this wake-up.
                    wake.notify_one();
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    loop {
                        tokio::select! {
                            next = notifications.next() => match next {
                                Some(Ok(_)) => wake.notify_one(),
                                Some(Err(_)) | None => break,
                            },
                            _ = shutdown.cancelled() => return,
                        }
                    }
                }
            }
            Err(error) => tracing::debug!(%error, "outbox listener cannot connect"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_pause()) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Exponential back-off between `min` and `max`.
#[derive(Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self { min, max, current: min }
    }

    pub fn next_pause(&mut self) -> Duration {
        let pause = self.current;
        self.current = (self.current * 2).min(self.max);
        pause
    }

    pub fn reset(&mut self) {
        self.current = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let pauses: Vec<u128> = (0..4).map(|_| backoff.next_pause().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next_pause(), Duration::from_millis(100));
    }
}
