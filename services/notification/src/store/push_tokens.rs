//! Users' devices (OneSignal subscription ids).

use super::schema::push_tokens;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Registers `token` for `user_id` (a device that changed hands moves to its new user).
pub async fn register(conn: &mut AsyncPgConnection, user_id: i64, token: &str, platform: &str) -> QueryResult<()> {
    diesel::insert_into(push_tokens::table)
        .values((push_tokens::token.eq(token), push_tokens::user_id.eq(user_id), push_tokens::platform.eq(platform)))
        .on_conflict(push_tokens::token)
        .do_update()
        .set((
            push_tokens::user_id.eq(excluded(push_tokens::user_id)),
            push_tokens::platform.eq(excluded(push_tokens::platform)),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets `token` if it is the user's; whether it was.
pub async fn unregister(conn: &mut AsyncPgConnection, user_id: i64, token: &str) -> QueryResult<bool> {
    diesel::delete(push_tokens::table.filter(push_tokens::token.eq(token)).filter(push_tokens::user_id.eq(user_id)))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

pub async fn of_user(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<String>> {
    push_tokens::table
        .filter(push_tokens::user_id.eq(user_id))
        .select(push_tokens::token)
        .order(push_tokens::created_at)
        .load(conn)
        .await
}
