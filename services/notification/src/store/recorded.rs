//! Development mode: messages recorded instead of sent.

use super::schema::recorded_messages;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = recorded_messages)]
pub struct RecordedMessage {
    pub id: i64,
    pub channel: String,
    pub destination: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    channel: &str,
    destination: &str,
    subject: &str,
    body: &str,
) -> QueryResult<i64> {
    diesel::insert_into(recorded_messages::table)
        .values((
            recorded_messages::channel.eq(channel),
            recorded_messages::destination.eq(destination),
            recorded_messages::subject.eq(subject),
            recorded_messages::body.eq(body),
        ))
        .returning(recorded_messages::id)
        .get_result(conn)
        .await
}

/// Newest first.
pub async fn list(conn: &mut AsyncPgConnection, page: &PageRequest) -> QueryResult<Vec<RecordedMessage>> {
    let query = recorded_messages::table.select(RecordedMessage::as_select()).into_boxed();
    let query = match page.start {
        Start::After { id, .. } => query.filter(recorded_messages::id.lt(id)),
        Start::Offset(offset) => query.offset(offset),
        Start::First => query,
    };
    query.order(recorded_messages::id.desc()).limit(page.fetch()).load(conn).await
}
