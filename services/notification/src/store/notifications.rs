//! Notifications (the in-app list) and the deliveries they start.

use super::schema::{deliveries, notifications};
use crate::domain::Channel;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    #[serde(skip)]
    pub user_id: i64,
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A notification to store.
pub struct NewNotification<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub data: &'a serde_json::Value,
    pub source: &'a str,
    pub in_app: bool,
    pub digest_pending: bool,
}

/// Stores a notification; `None` when this source already told this user.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewNotification<'_>) -> QueryResult<Option<i64>> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(new.user_id),
            notifications::kind.eq(new.kind),
            notifications::data.eq(new.data),
            notifications::source.eq(new.source),
            notifications::in_app.eq(new.in_app),
            notifications::digest_pending.eq(new.digest_pending),
        ))
        .on_conflict_do_nothing()
        .returning(notifications::id)
        .get_result(conn)
        .await
        .optional()
}

/// One delivery per channel, each with its own idempotency key.
pub async fn insert_deliveries(
    conn: &mut AsyncPgConnection,
    notification_id: i64,
    user_id: i64,
    channels: &[Channel],
    security: bool,
    destination: Option<&str>,
) -> QueryResult<()> {
    let rows: Vec<_> = channels
        .iter()
        .map(|channel| {
            (
                deliveries::notification_id.eq(notification_id),
                deliveries::user_id.eq(user_id),
                deliveries::channel.eq(channel.as_str()),
                deliveries::security.eq(security),
                deliveries::destination.eq(destination),
                deliveries::idempotency_key.eq(uuid::Uuid::new_v4()),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(deliveries::table).values(rows).on_conflict_do_nothing().execute(conn).await.map(drop)
}

/// The user's in-app notifications, newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    unread_only: bool,
    page: &PageRequest,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::in_app)
        .select(Notification::as_select())
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    query = match page.start {
        Start::After { created_at, id } => query.filter(
            notifications::created_at
                .lt(created_at)
                .or(notifications::created_at.eq(created_at).and(notifications::id.lt(id))),
        ),
        Start::Offset(offset) => query.offset(offset),
        Start::First => query,
    };
    query.order((notifications::created_at.desc(), notifications::id.desc())).limit(page.fetch()).load(conn).await
}

/// Marks one of the user's notifications read (`NotFound` for anyone else's).
pub async fn mark_read(conn: &mut AsyncPgConnection, user_id: i64, id: i64) -> QueryResult<Notification> {
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::in_app),
    )
    .set(notifications::read_at.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>>(
        "COALESCE(read_at, now())",
    )))
    .returning(Notification::as_returning())
    .get_result(conn)
    .await
}

pub async fn mark_all_read(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::in_app)
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Some(Utc::now())))
    .execute(conn)
    .await
}

pub async fn unread_count(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::in_app)
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// Takes the user's notifications waiting for a digest: how many of each kind.
pub async fn take_digest(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<String>> {
    diesel::update(
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::digest_pending),
    )
    .set(notifications::digest_pending.eq(false))
    .returning(notifications::kind)
    .get_results(conn)
    .await
}

/// Users with notifications waiting for a digest.
pub async fn digest_users(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<i64>> {
    notifications::table
        .filter(notifications::digest_pending)
        .select(notifications::user_id)
        .distinct()
        .limit(limit)
        .load(conn)
        .await
}

/// Drops a delivered code from the stored data: codes live no longer than needed.
pub async fn forget_code(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::sql_query("UPDATE notifications SET data = data - 'code' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(conn)
        .await
        .map(drop)
}
