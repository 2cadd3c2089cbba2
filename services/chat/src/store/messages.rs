//! Messages: appended with the chat's next sequence number, read by sequence.

use super::schema::messages;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

/// A message as stored and as sent to clients (over HTTP and in WebSocket frames). A deleted
/// message stays in history as a tombstone: `deleted_at` set, no text, no media.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub chat_id: i64,
    /// The message's place in its chat: 1, 2, 3… without gaps; the only order.
    pub seq: i64,
    /// `null` for a system message.
    pub sender_id: Option<i64>,
    /// `text`, `image`, `voice`, `video`, `file` or `system`.
    pub kind: String,
    #[diesel(column_name = body)]
    pub text: String,
    /// Where participants fetch the file of a media message (with their token).
    pub media_url: Option<String>,
    /// The file's MIME type, decided by its content.
    pub media_type: Option<String>,
    /// The file's size in bytes.
    pub media_size: Option<i64>,
    /// The name the file was sent with, if any.
    pub media_name: Option<String>,
    pub client_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage {
    pub chat_id: i64,
    pub seq: i64,
    pub sender_id: Option<i64>,
    pub kind: String,
    pub body: String,
    pub media_url: Option<String>,
    pub media_type: Option<String>,
    pub media_size: Option<i64>,
    pub media_name: Option<String>,
    pub client_message_id: Option<String>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewMessage) -> QueryResult<Message> {
    diesel::insert_into(messages::table).values(new).returning(Message::as_returning()).get_result(conn).await
}

/// The message `sender_id` already sent with this client id, if any.
pub async fn by_client_id(
    conn: &mut AsyncPgConnection,
    chat_id: i64,
    sender_id: i64,
    client_message_id: &str,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::sender_id.eq(sender_id))
        .filter(messages::client_message_id.eq(client_message_id))
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, chat_id: i64, id: i64) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::id.eq(id).and(messages::chat_id.eq(chat_id)))
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()
}

/// The live (not deleted) message of `chat_id` whose file is at `media_url`.
pub async fn by_media_url(conn: &mut AsyncPgConnection, chat_id: i64, media_url: &str) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::media_url.eq(media_url).and(messages::chat_id.eq(chat_id)))
        .filter(messages::deleted_at.is_null())
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn at_seq(conn: &mut AsyncPgConnection, chat_id: i64, seq: i64) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id).and(messages::seq.eq(seq)))
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()
}

/// Up to `limit` messages before `before` (all when `None`), newest first.
pub async fn before(
    conn: &mut AsyncPgConnection,
    chat_id: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id).and(messages::seq.lt(before.unwrap_or(i64::MAX))))
        .order(messages::seq.desc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
        .await
}

/// Up to `limit` messages after `after` (and before `before`), oldest first (catching up).
pub async fn after(
    conn: &mut AsyncPgConnection,
    chat_id: i64,
    after: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id).and(messages::seq.gt(after)))
        .filter(messages::seq.lt(before.unwrap_or(i64::MAX)))
        .order(messages::seq.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
        .await
}

/// The last message of each of `chat_ids`.
pub async fn last_of(conn: &mut AsyncPgConnection, chat_ids: &[i64]) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::chat_id.eq_any(chat_ids))
        .order((messages::chat_id, messages::seq.desc()))
        .distinct_on(messages::chat_id)
        .select(Message::as_select())
        .load(conn)
        .await
}

pub async fn edit(conn: &mut AsyncPgConnection, id: i64, text: &str) -> QueryResult<Message> {
    diesel::update(messages::table.find(id))
        .set((messages::body.eq(text), messages::edited_at.eq(diesel::dsl::now)))
        .returning(Message::as_returning())
        .get_result(conn)
        .await
}

/// Leaves a tombstone: the message keeps its place, loses its content.
pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Message> {
    diesel::update(messages::table.find(id))
        .set((
            messages::body.eq(""),
            messages::media_url.eq(None::<String>),
            messages::media_type.eq(None::<String>),
            messages::media_size.eq(None::<i64>),
            messages::media_name.eq(None::<String>),
            messages::deleted_at.eq(diesel::dsl::now),
        ))
        .returning(Message::as_returning())
        .get_result(conn)
        .await
}
