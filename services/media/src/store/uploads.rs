use super::schema::{upload_chunks, uploads};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = uploads)]
pub struct Upload {
    pub id: Uuid,
    pub user_id: i64,
    pub protocol: String,
    pub length: Option<i64>,
    pub offset_: i64,
    pub chunk_size: Option<i64>,
    pub total_chunks: Option<i32>,
    pub file_name: Option<String>,
    pub metadata: serde_json::Value,
    pub tus_metadata: Option<String>,
    pub concat: Option<String>,
    pub parts: Vec<Uuid>,
    pub status: String,
    pub video_id: Option<i64>,
    pub error: Option<serde_json::Value>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const RECEIVING: &str = "receiving";
pub const ASSEMBLING: &str = "assembling";
pub const COMPLETE: &str = "complete";
pub const REJECTED: &str = "rejected";

#[derive(Debug, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUpload {
    pub id: Uuid,
    pub user_id: i64,
    pub protocol: &'static str,
    pub length: Option<i64>,
    pub offset_: i64,
    pub chunk_size: Option<i64>,
    pub total_chunks: Option<i32>,
    pub file_name: Option<String>,
    pub metadata: serde_json::Value,
    pub tus_metadata: Option<String>,
    pub concat: Option<&'static str>,
    pub parts: Vec<Uuid>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, upload: &NewUpload) -> QueryResult<Upload> {
    diesel::insert_into(uploads::table).values(upload).returning(Upload::as_returning()).get_result(conn).await
}

/// The upload, if it is `user_id`'s (another user's upload is as good as absent).
pub async fn find_own(conn: &mut AsyncPgConnection, id: Uuid, user_id: i64) -> QueryResult<Option<Upload>> {
    uploads::table
        .find(id)
        .filter(uploads::user_id.eq(user_id))
        .select(Upload::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_many_own(conn: &mut AsyncPgConnection, ids: &[Uuid], user_id: i64) -> QueryResult<Vec<Upload>> {
    uploads::table
        .filter(uploads::id.eq_any(ids))
        .filter(uploads::user_id.eq(user_id))
        .select(Upload::as_select())
        .load(conn)
        .await
}

/// Moves a tus upload's offset from `from` to `to` (and pushes its expiry); `false` when the
/// offset was no longer `from` (another request moved it).
pub async fn advance(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: i64,
    to: i64,
    length: Option<i64>,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(uploads::table.find(id))
        .filter(uploads::offset_.eq(from))
        .filter(uploads::status.eq(RECEIVING))
        .set((
            uploads::offset_.eq(to),
            uploads::length.eq(length),
            uploads::expires_at.eq(expires_at),
            uploads::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Records that a chunk arrived; `false` when it had arrived before.
pub async fn record_chunk(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    index: i32,
    size: i64,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(upload_chunks::table)
        .values((
            upload_chunks::upload_id.eq(id),
            upload_chunks::chunk_index.eq(index),
            upload_chunks::size_bytes.eq(size),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    diesel::update(uploads::table.find(id))
        .set((uploads::expires_at.eq(expires_at), uploads::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// The indexes of the chunks that arrived, and their total size.
pub async fn received_chunks(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<(Vec<i32>, i64)> {
    let rows: Vec<(i32, i64)> = upload_chunks::table
        .filter(upload_chunks::upload_id.eq(id))
        .order(upload_chunks::chunk_index)
        .select((upload_chunks::chunk_index, upload_chunks::size_bytes))
        .load(conn)
        .await?;
    let bytes = rows.iter().map(|(_, size)| size).sum();
    Ok((rows.into_iter().map(|(index, _)| index).collect(), bytes))
}

/// receiving → assembling, for exactly one caller.
pub async fn begin_assembly(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    set_status(conn, id, RECEIVING, ASSEMBLING).await
}

/// assembling → receiving: the assembly could not finish (storage or database trouble); the
/// upload stays resumable.
pub async fn abort_assembly(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    set_status(conn, id, ASSEMBLING, RECEIVING).await
}

async fn set_status(conn: &mut AsyncPgConnection, id: Uuid, from: &str, to: &str) -> QueryResult<bool> {
    let changed = diesel::update(uploads::table.find(id))
        .filter(uploads::status.eq(from))
        .set((uploads::status.eq(to), uploads::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// The upload became video `video_id` (or, for a partial tus upload, is complete).
pub async fn complete(conn: &mut AsyncPgConnection, id: Uuid, video_id: Option<i64>) -> QueryResult<()> {
    diesel::update(uploads::table.find(id))
        .set((uploads::status.eq(COMPLETE), uploads::video_id.eq(video_id), uploads::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(drop)
}

/// The finished upload was not an acceptable video: kept (without its bytes) until it expires
/// so that the client can read why.
pub async fn reject(conn: &mut AsyncPgConnection, id: Uuid, error: serde_json::Value) -> QueryResult<()> {
    diesel::update(uploads::table.find(id))
        .set((uploads::status.eq(REJECTED), uploads::error.eq(error), uploads::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(drop)
}

/// Unfinished (or rejected) uploads past their expiry.
pub async fn expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Upload>> {
    uploads::table
        .filter(uploads::status.eq_any([RECEIVING, ASSEMBLING, REJECTED]))
        .filter(uploads::expires_at.lt(now))
        .order(uploads::expires_at)
        .limit(limit)
        .select(Upload::as_select())
        .load(conn)
        .await
}

/// Partial uploads that no final upload can use any more once `final_id` is done.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    Ok(diesel::delete(uploads::table.find(id)).execute(conn).await? == 1)
}

pub async fn count_receiving(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    uploads::table.filter(uploads::status.eq(RECEIVING)).count().get_result(conn).await
}
