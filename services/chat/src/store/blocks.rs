//! Auth's blocks, projected from its user events.

use super::schema::blocks;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub async fn add(conn: &mut AsyncPgConnection, blocker_id: i64, blocked_id: i64) -> QueryResult<()> {
    diesel::insert_into(blocks::table)
        .values((blocks::blocker_id.eq(blocker_id), blocks::blocked_id.eq(blocked_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

pub async fn remove(conn: &mut AsyncPgConnection, blocker_id: i64, blocked_id: i64) -> QueryResult<()> {
    diesel::delete(blocks::table.find((blocker_id, blocked_id))).execute(conn).await.map(drop)
}

/// Has either user blocked the other?
pub async fn between(conn: &mut AsyncPgConnection, a: i64, b: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        blocks::table.filter(
            (blocks::blocker_id.eq(a).and(blocks::blocked_id.eq(b)))
                .or(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a))),
        ),
    ))
    .get_result(conn)
    .await
}
