use super::schema::verification_codes as codes;
use crate::domain::identity::Channel;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = codes)]
pub struct StoredCode {
    pub id: i64,
    pub user_id: i64,
    pub destination: String,
    pub code_hash: String,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    channel: Channel,
    destination: &str,
    code_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(codes::table)
        .values((
            codes::user_id.eq(user_id),
            codes::channel.eq(channel),
            codes::destination.eq(destination),
            codes::code_hash.eq(code_hash),
            codes::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The newest code sent to `destination` over `channel`, locked for this transaction.
pub async fn latest_for_update(
    conn: &mut AsyncPgConnection,
    destination: &str,
    channel: Channel,
) -> QueryResult<Option<StoredCode>> {
    codes::table
        .filter(codes::destination.eq(destination))
        .filter(codes::channel.eq(channel))
        .order(codes::created_at.desc())
        .select(StoredCode::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn record_attempt(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(codes::table.find(id)).set(codes::attempts.eq(codes::attempts + 1)).execute(conn).await.map(drop)
}

pub async fn consume(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(codes::table.find(id)).set(codes::consumed_at.eq(diesel::dsl::now)).execute(conn).await.map(drop)
}
