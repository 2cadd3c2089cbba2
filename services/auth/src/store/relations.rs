//! Follows and blocks between users.

use super::schema::{blocks, subscriptions, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};

/// One user in a list of follows or blocks, with when the relation began.
#[derive(Debug, Queryable)]
pub struct Related {
    pub id: i64,
    pub username: String,
    pub avatar_url: Option<String>,
    pub since: DateTime<Utc>,
}

/// Whether the row was new (so an event is due).
pub async fn follow(conn: &mut AsyncPgConnection, follower: i64, followee: i64) -> QueryResult<bool> {
    let inserted = diesel::insert_into(subscriptions::table)
        .values((subscriptions::follower_id.eq(follower), subscriptions::followee_id.eq(followee)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn unfollow(conn: &mut AsyncPgConnection, follower: i64, followee: i64) -> QueryResult<bool> {
    let deleted = diesel::delete(subscriptions::table.find((follower, followee))).execute(conn).await?;
    Ok(deleted == 1)
}

pub async fn block(conn: &mut AsyncPgConnection, blocker: i64, blocked: i64) -> QueryResult<bool> {
    let inserted = diesel::insert_into(blocks::table)
        .values((blocks::blocker_id.eq(blocker), blocks::blocked_id.eq(blocked)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn unblock(conn: &mut AsyncPgConnection, blocker: i64, blocked: i64) -> QueryResult<bool> {
    Ok(diesel::delete(blocks::table.find((blocker, blocked))).execute(conn).await? == 1)
}

/// Has either user blocked the other?
pub async fn blocked_between(conn: &mut AsyncPgConnection, a: i64, b: i64) -> QueryResult<bool> {
    let either = blocks::table
        .filter(blocks::blocker_id.eq(a).and(blocks::blocked_id.eq(b)))
        .or_filter(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a)));
    diesel::select(diesel::dsl::exists(either)).get_result(conn).await
}

macro_rules! related_page {
    ($conn:expr, $table:ident, $owner:ident, $other:ident, $user:expr, $page:expr) => {{
        let mut query = $table::table
            .inner_join(users::table.on(users::id.eq($table::$other)))
            .filter($table::$owner.eq($user))
            .select((users::id, users::username, users::avatar_url, $table::created_at))
            .order(($table::created_at.desc(), users::id.desc()))
            .limit($page.fetch())
            .into_boxed();
        match $page.start {
            Start::After { created_at, id } => {
                query = query.filter(
                    $table::created_at.lt(created_at).or($table::created_at.eq(created_at).and(users::id.lt(id))),
                )
            }
            Start::Offset(offset) => query = query.offset(offset),
            Start::First => {}
        }
        query.load::<Related>($conn).await
    }};
}

pub async fn following(conn: &mut AsyncPgConnection, user: i64, page: &PageRequest) -> QueryResult<Vec<Related>> {
    related_page!(conn, subscriptions, follower_id, followee_id, user, page)
}

pub async fn followers(conn: &mut AsyncPgConnection, user: i64, page: &PageRequest) -> QueryResult<Vec<Related>> {
    related_page!(conn, subscriptions, followee_id, follower_id, user, page)
}

pub async fn blocked_by(conn: &mut AsyncPgConnection, user: i64, page: &PageRequest) -> QueryResult<Vec<Related>> {
    related_page!(conn, blocks, blocker_id, blocked_id, user, page)
}
