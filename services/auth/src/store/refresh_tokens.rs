use super::schema::refresh_tokens as tokens;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub user_id: i64,
    pub family_id: uuid::Uuid,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token that replaced this one, and its value sealed with this one's (the grace window).
    pub successor_id: Option<i64>,
    pub successor_sealed: Option<Vec<u8>>,
}

impl RefreshToken {
    /// Neither revoked, nor expired, nor rotated: exchangeable now.
    pub fn is_current(&self) -> bool {
        self.revoked_at.is_none() && self.rotated_at.is_none() && self.expires_at > Utc::now()
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    family_id: uuid::Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(tokens::table)
        .values((
            tokens::user_id.eq(user_id),
            tokens::family_id.eq(family_id),
            tokens::token_hash.eq(token_hash),
            tokens::expires_at.eq(expires_at),
        ))
        .returning(tokens::id)
        .get_result(conn)
        .await
}

pub async fn find_for_update(conn: &mut AsyncPgConnection, token_hash: &str) -> QueryResult<Option<RefreshToken>> {
    tokens::table
        .filter(tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<RefreshToken>> {
    tokens::table.find(id).select(RefreshToken::as_select()).first(conn).await.optional()
}

pub async fn mark_rotated(
    conn: &mut AsyncPgConnection,
    id: i64,
    successor_id: i64,
    successor_sealed: &[u8],
) -> QueryResult<()> {
    diesel::update(tokens::table.find(id))
        .set((
            tokens::rotated_at.eq(diesel::dsl::now),
            tokens::successor_id.eq(successor_id),
            tokens::successor_sealed.eq(successor_sealed),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn revoke_family(conn: &mut AsyncPgConnection, family_id: uuid::Uuid) -> QueryResult<usize> {
    diesel::update(tokens::table.filter(tokens::family_id.eq(family_id)).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
}

/// Revokes the user's token with this hash; a token of someone else is left alone.
pub async fn revoke(conn: &mut AsyncPgConnection, user_id: i64, token_hash: &str) -> QueryResult<usize> {
    diesel::update(
        tokens::table
            .filter(tokens::token_hash.eq(token_hash))
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}
