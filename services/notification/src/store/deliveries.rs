//! Deliveries: claimed by the sender with a lease, each attempt logged before the provider is
//! called and finished after, retried, held for quiet hours, or parked as dead letters for
//! admins (among them those in doubt: cut off during a provider call, docs/decisions/0010-*).

use super::schema::{deliveries, delivery_attempts};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Integer, Jsonb, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};
use serde::Serialize;
use utoipa::ToSchema;

/// A delivery taken by the sender, with what it needs to send it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub notification_id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Bool)]
    pub security: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub destination: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub idempotency_key: uuid::Uuid,
    /// This attempt's number.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub data: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Whether auth has told us any address of this user yet.
    #[diesel(sql_type = Bool)]
    pub known_contact: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub locale: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub time_zone: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub quiet_start: Option<i16>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub quiet_end: Option<i16>,
    /// When an earlier attempt began that never finished: its sender stopped during the
    /// provider call (it died, or outlived its lease), so that message may or may not have gone.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub unfinished_since: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due deliveries (pending, held past their release, or sending with an
/// expired lease) for `lease_secs`, counting the attempt. Rows locked by another sender are
/// skipped; the lock is held only for this statement, never across a provider call.
pub async fn claim(conn: &mut AsyncPgConnection, limit: i64, lease_secs: f64) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH due AS (
             SELECT id FROM deliveries
             WHERE status IN ('pending', 'sending', 'held') AND next_attempt_at <= now()
             ORDER BY next_attempt_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
         ), claimed AS (
             UPDATE deliveries d
             SET status = 'sending', attempts = d.attempts + 1, updated_at = now(),
                 next_attempt_at = now() + make_interval(secs => $2)
             FROM due WHERE d.id = due.id
             RETURNING d.*
         )
         SELECT c.id, c.notification_id, c.user_id, c.channel, c.security, c.destination, c.idempotency_key,
                c.attempts, n.kind, n.data, n.created_at, ct.user_id IS NOT NULL AS known_contact, ct.email,
                ct.phone, ct.locale, s.time_zone, s.quiet_start, s.quiet_end,
                (SELECT min(a.created_at) FROM delivery_attempts a
                 WHERE a.delivery_id = c.id AND a.outcome = 'sending') AS unfinished_since
         FROM claimed c
         JOIN notifications n ON n.id = c.notification_id
         LEFT JOIN contacts ct ON ct.user_id = c.user_id
         LEFT JOIN settings s ON s.user_id = c.user_id",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Double, _>(lease_secs)
    .load(conn)
    .await
}

/// Puts a claimed delivery back until `until` (quiet hours); the attempt does not count.
pub async fn hold(conn: &mut AsyncPgConnection, claimed: &Claimed, until: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        deliveries::table.filter(deliveries::id.eq(claimed.id)).filter(deliveries::attempts.eq(claimed.attempts)),
    )
    .set((
        deliveries::status.eq("held"),
        deliveries::attempts.eq(claimed.attempts - 1),
        deliveries::next_attempt_at.eq(until),
        deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await
    .map(drop)
}

/// Logs this attempt as `sending` with `request` (what is asked of which provider), committed
/// before the provider is called: a sender that dies during the call leaves it unfinished for the
/// next one to find. Earlier unfinished attempts, which the caller decided to follow with this
/// one, become `in_doubt`. One statement (one round trip per attempt); false if the lease was
/// lost to another sender.
pub async fn begin_attempt(conn: &mut AsyncPgConnection, claimed: &Claimed, request: &str) -> QueryResult<bool> {
    let logged = diesel::sql_query(
        "WITH held AS (
             UPDATE deliveries SET updated_at = now()
             WHERE id = $1 AND status = 'sending' AND attempts = $2
             RETURNING id
         ), doubted AS (
             UPDATE delivery_attempts SET outcome = 'in_doubt', error = $3
             WHERE delivery_id IN (SELECT id FROM held) AND outcome = 'sending'
         )
         INSERT INTO delivery_attempts (delivery_id, attempt, channel, outcome, request, latency_ms)
         SELECT id, $2, $4, 'sending', $5, 0 FROM held",
    )
    .bind::<BigInt, _>(claimed.id)
    .bind::<Integer, _>(claimed.attempts)
    .bind::<Text, _>(UNFINISHED)
    .bind::<Text, _>(&claimed.channel)
    .bind::<Text, _>(request)
    .execute(conn)
    .await?;
    Ok(logged == 1)
}

/// What an attempt left `sending` by a sender that stopped is marked with.
const UNFINISHED: &str = "the sender stopped before the answer was recorded";

/// The delivery while the lease of the claim that counted attempt `attempts` holds: still
/// sending, and no later claim counted.
#[diesel::dsl::auto_type]
fn leased(id: i64, attempts: i32) -> _ {
    let sending: &'static str = "sending";
    deliveries::table
        .filter(deliveries::id.eq(id))
        .filter(deliveries::status.eq(sending))
        .filter(deliveries::attempts.eq(attempts))
}

/// The attempts of a delivery begun and not finished.
#[diesel::dsl::auto_type]
fn unfinished(delivery_id: i64) -> _ {
    let sending: &'static str = "sending";
    delivery_attempts::table
        .filter(delivery_attempts::delivery_id.eq(delivery_id))
        .filter(delivery_attempts::outcome.eq(sending))
}

/// Parks a delivery whose last attempt is in doubt and must not be repeated blindly (SMS) as a
/// dead letter saying so; this claim does not count as an attempt.
pub async fn park_in_doubt(conn: &mut AsyncPgConnection, claimed: &Claimed, error: &str) -> QueryResult<bool> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let parked = diesel::update(leased(claimed.id, claimed.attempts))
            .set((
                deliveries::status.eq("dead"),
                deliveries::attempts.eq(claimed.attempts - 1),
                deliveries::last_error.eq(error),
                deliveries::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        if parked == 0 {
            return Ok(false);
        }
        diesel::update(unfinished(claimed.id))
            .set((delivery_attempts::outcome.eq("in_doubt"), delivery_attempts::error.eq(error)))
            .execute(conn)
            .await?;
        Ok(true)
    })
    .await
}

/// How an attempt ended, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Sent {
        provider_id: Option<String>,
    },
    /// Try again at `at`.
    Retry {
        error: String,
        at: DateTime<Utc>,
    },
    /// Out of attempts or refused for good: a dead letter.
    Dead {
        error: String,
        outcome: &'static str,
    },
    /// Nowhere to send it (no address on this channel).
    Skipped {
        error: String,
    },
    /// No answer said whether the provider took it, and it must not be sent blindly again: a
    /// dead letter for an admin to check with the provider.
    InDoubt {
        error: String,
    },
}

/// Finishes the attempt's log line and moves the delivery on, in one transaction. Nothing
/// changes if the lease was lost to another sender meanwhile (its attempt number moved on).
pub async fn finish(
    conn: &mut AsyncPgConnection,
    claimed: &Claimed,
    finish: &Finish,
    latency_ms: i32,
) -> QueryResult<bool> {
    let (outcome, status, provider_id, error, next) = match finish {
        Finish::Sent { provider_id } => ("sent", "sent", provider_id.clone(), None, None),
        Finish::Retry { error, at } => ("retry", "pending", None, Some(error.clone()), Some(*at)),
        Finish::Dead { error, outcome } => (*outcome, "dead", None, Some(error.clone()), None),
        Finish::Skipped { error } => ("skipped", "skipped", None, Some(error.clone()), None),
        Finish::InDoubt { error } => ("in_doubt", "dead", None, Some(error.clone()), None),
    };
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let updated = diesel::update(leased(claimed.id, claimed.attempts))
            .set((
                deliveries::status.eq(status),
                deliveries::provider_id.eq(&provider_id),
                deliveries::last_error.eq(&error),
                deliveries::next_attempt_at.eq(next.unwrap_or_else(Utc::now)),
                deliveries::updated_at.eq(diesel::dsl::now),
                deliveries::sent_at.eq((status == "sent").then(Utc::now)),
            ))
            .execute(conn)
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        diesel::update(unfinished(claimed.id).filter(delivery_attempts::attempt.eq(claimed.attempts)))
            .set((
                delivery_attempts::outcome.eq(outcome),
                delivery_attempts::provider_id.eq(&provider_id),
                delivery_attempts::error.eq(&error),
                delivery_attempts::latency_ms.eq(latency_ms),
            ))
            .execute(conn)
            .await?;
        Ok(true)
    })
    .await
}

/// A delivery as admins see it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = deliveries)]
pub struct Delivery {
    pub id: i64,
    pub notification_id: i64,
    pub user_id: i64,
    pub channel: String,
    pub status: String,
    pub attempts: i32,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One line of the delivery log.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = delivery_attempts)]
pub struct Attempt {
    pub delivery_id: i64,
    pub attempt: i32,
    pub channel: String,
    pub outcome: String,
    pub provider_id: Option<String>,
    pub error: Option<String>,
    pub latency_ms: i32,
    pub created_at: DateTime<Utc>,
    /// What was asked of which provider (logged before the call).
    pub request: Option<String>,
}

/// Dead letters, most recently failed first (keyset on `updated_at, id`).
pub async fn dead_letters(conn: &mut AsyncPgConnection, page: &PageRequest) -> QueryResult<Vec<Delivery>> {
    let query = deliveries::table.filter(deliveries::status.eq("dead")).select(Delivery::as_select()).into_boxed();
    let query = match page.start {
        Start::After { created_at, id } => query.filter(
            deliveries::updated_at.lt(created_at).or(deliveries::updated_at.eq(created_at).and(deliveries::id.lt(id))),
        ),
        Start::Offset(offset) => query.offset(offset),
        Start::First => query,
    };
    query.order((deliveries::updated_at.desc(), deliveries::id.desc())).limit(page.fetch()).load(conn).await
}

/// A dead letter back in the queue with a fresh count of attempts; `None` if it is not dead.
pub async fn requeue(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Delivery>> {
    diesel::update(deliveries::table.filter(deliveries::id.eq(id)).filter(deliveries::status.eq("dead")))
        .set((
            deliveries::status.eq("pending"),
            deliveries::attempts.eq(0),
            deliveries::next_attempt_at.eq(diesel::dsl::now),
            deliveries::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Delivery::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn exists(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(deliveries::table.find(id))).get_result(conn).await
}

/// Deliveries of a user's notifications (or of one notification), newest first, with their attempts.
pub async fn log(
    conn: &mut AsyncPgConnection,
    user_id: Option<i64>,
    notification_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<(Delivery, Vec<Attempt>)>> {
    let mut query = deliveries::table.select(Delivery::as_select()).into_boxed();
    if let Some(user_id) = user_id {
        query = query.filter(deliveries::user_id.eq(user_id));
    }
    if let Some(notification_id) = notification_id {
        query = query.filter(deliveries::notification_id.eq(notification_id));
    }
    let found: Vec<Delivery> = query.order(deliveries::id.desc()).limit(limit).load(conn).await?;
    let ids: Vec<i64> = found.iter().map(|d| d.id).collect();
    let attempts: Vec<Attempt> = delivery_attempts::table
        .filter(delivery_attempts::delivery_id.eq_any(&ids))
        .order((delivery_attempts::delivery_id, delivery_attempts::attempt))
        .select(Attempt::as_select())
        .load(conn)
        .await?;
    Ok(found
        .into_iter()
        .map(|delivery| {
            let mine = attempts.iter().filter(|a| a.delivery_id == delivery.id).cloned().collect();
            (delivery, mine)
        })
        .collect())
}

/// Counts by status, for tests and the admin overview.
pub async fn count_by_status(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    deliveries::table
        .group_by(deliveries::status)
        .select((deliveries::status, diesel::dsl::count_star()))
        .load(conn)
        .await
}
