//! The points ledger, counters and achievements.

use super::schema::{achievements, player_counters, points_ledger, user_achievements, users};
use crate::domain::gamification::AchievementRule;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, serde::Serialize, utoipa::ToSchema)]
pub struct Achievement {
    pub code: String,
    pub title: String,
    pub description: String,
    pub counter: String,
    pub threshold: i64,
    pub unlocked_at: Option<DateTime<Utc>>,
}

/// Writes a ledger entry unless `source` has been rewarded before; true when written.
pub async fn record(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    points: i32,
    reason: &str,
    source: &str,
) -> QueryResult<bool> {
    let written = diesel::insert_into(points_ledger::table)
        .values((
            points_ledger::user_id.eq(user_id),
            points_ledger::points.eq(points),
            points_ledger::reason.eq(reason),
            points_ledger::source.eq(source),
        ))
        .on_conflict(points_ledger::source)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(written == 1)
}

/// Adds `by` to a user's counter and returns its new value.
pub async fn bump_counter(conn: &mut AsyncPgConnection, user_id: i64, counter: &str, by: i64) -> QueryResult<i64> {
    diesel::insert_into(player_counters::table)
        .values((
            player_counters::user_id.eq(user_id),
            player_counters::counter.eq(counter),
            player_counters::value.eq(by),
        ))
        .on_conflict((player_counters::user_id, player_counters::counter))
        .do_update()
        .set(player_counters::value.eq(player_counters::value + by))
        .returning(player_counters::value)
        .get_result(conn)
        .await
}

pub async fn rules(conn: &mut AsyncPgConnection) -> QueryResult<Vec<AchievementRule>> {
    let rows: Vec<(String, String, i64)> = achievements::table
        .order(achievements::sort)
        .select((achievements::code, achievements::counter, achievements::threshold))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(code, counter, threshold)| AchievementRule { code, counter, threshold }).collect())
}

/// Unlocks an achievement once; its title when this call unlocked it.
pub async fn unlock(conn: &mut AsyncPgConnection, user_id: i64, code: &str) -> QueryResult<Option<String>> {
    let unlocked = diesel::insert_into(user_achievements::table)
        .values((user_achievements::user_id.eq(user_id), user_achievements::code.eq(code)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if unlocked == 0 {
        return Ok(None);
    }
    achievements::table.find(code).select(achievements::title).first(conn).await.map(Some)
}

/// Every achievement, with when `user_id` unlocked it (if they did).
pub async fn achievements_of(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<Achievement>> {
    achievements::table
        .left_join(
            user_achievements::table
                .on(user_achievements::code.eq(achievements::code).and(user_achievements::user_id.eq(user_id))),
        )
        .order(achievements::sort)
        .select((
            achievements::code,
            achievements::title,
            achievements::description,
            achievements::counter,
            achievements::threshold,
            user_achievements::unlocked_at.nullable(),
        ))
        .load(conn)
        .await
}

pub async fn counters_of(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<(String, i64)>> {
    player_counters::table
        .filter(player_counters::user_id.eq(user_id))
        .select((player_counters::counter, player_counters::value))
        .load(conn)
        .await
}

pub async fn points_of(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<i64> {
    users::table.find(user_id).select(users::points).first(conn).await.optional().map(Option::unwrap_or_default)
}

/// A user's points earned since `since` (all time when `None`).
pub async fn points_since(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    since: Option<DateTime<Utc>>,
) -> QueryResult<i64> {
    let mut query = points_ledger::table.filter(points_ledger::user_id.eq(user_id)).into_boxed();
    if let Some(since) = since {
        query = query.filter(points_ledger::created_at.ge(since));
    }
    let sum: Option<i64> = query.select(diesel::dsl::sum(points_ledger::points)).first(conn).await?;
    Ok(sum.unwrap_or_default())
}

#[derive(Debug, QueryableByName)]
pub struct Total {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub points: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub role: contracts::Role,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub region: Option<String>,
}

/// Everyone's points since `since` (all time when `None`) with their role and region: the
/// leaderboards' source. The region is the user's own, or the first one a master serves.
pub async fn totals_since(conn: &mut AsyncPgConnection, since: Option<DateTime<Utc>>) -> QueryResult<Vec<Total>> {
    diesel::sql_query(
        "SELECT l.user_id, sum(l.points)::int8 AS points, coalesce(u.role, 'buyer') AS role,
                coalesce(u.region_code, u.served_regions[1]) AS region
         FROM points_ledger l LEFT JOIN users u ON u.id = l.user_id
         WHERE $1::timestamptz IS NULL OR l.created_at >= $1
         GROUP BY l.user_id, u.role, u.region_code, u.served_regions",
    )
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(since)
    .load(conn)
    .await
}
