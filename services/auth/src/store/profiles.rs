//! Profile updates, counts and search.

use super::schema::{subscriptions, users};
use super::users::User;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Fields a user may change; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub nickname: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub experience_years: Option<i32>,
}

impl ProfileChanges {
    pub fn changed_fields(&self) -> Vec<String> {
        [
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("nickname", self.nickname.is_some()),
            ("description", self.description.is_some()),
            ("region", self.region.is_some()),
            ("avatar_url", self.avatar_url.is_some()),
            ("experience_years", self.experience_years.is_some()),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name.to_owned())
        .collect()
    }
}

pub async fn update(conn: &mut AsyncPgConnection, id: i64, changes: &ProfileChanges) -> QueryResult<User> {
    if changes.changed_fields().is_empty() {
        return super::users::find(conn, id).await;
    }
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// (followers, following)
pub async fn follow_counts(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<(i64, i64)> {
    let followers = subscriptions::table.filter(subscriptions::followee_id.eq(id)).count().get_result(conn).await?;
    let following = subscriptions::table.filter(subscriptions::follower_id.eq(id)).count().get_result(conn).await?;
    Ok((followers, following))
}

#[derive(Debug, QueryableByName)]
pub struct SearchHit {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub role: contracts::Role,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub first_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub last_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub avatar_url: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub score: f64,
}

/// Users whose username or name is like `text`: trigram similarity (typos, any alphabet) or
/// a prefix of the username; best matches first. Banned users are not found.
pub async fn search(conn: &mut AsyncPgConnection, text: &str, limit: i64, offset: i64) -> QueryResult<Vec<SearchHit>> {
    diesel::sql_query(
        "WITH candidates AS (
             SELECT id, username, role, first_name, last_name, avatar_url,
                    greatest(similarity(username, $1),
                             similarity(coalesce(first_name, '') || ' ' || coalesce(last_name, ''), $1),
                             CASE WHEN lower(username) LIKE lower($2) || '%' THEN 1.0 ELSE 0 END)::float8 AS score
             FROM users
             WHERE status <> $5
               AND (username % $1
                    OR (coalesce(first_name, '') || ' ' || coalesce(last_name, '')) % $1
                    OR lower(username) LIKE lower($2) || '%'))
         SELECT * FROM candidates ORDER BY score DESC, id LIMIT $3 OFFSET $4",
    )
    .bind::<Text, _>(text)
    .bind::<Text, _>(text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .bind::<Text, _>(crate::domain::status::UserStatus::Banned)
    .load(conn)
    .await
}
