use super::schema::users;
use crate::domain::identity::{Channel, Identity};
use crate::domain::status::UserStatus;
use chrono::{DateTime, Utc};
use contracts::Role;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

diesel::define_sql_function! {
    /// Matches the `lower(email)` unique index.
    fn lower(value: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub region: Option<String>,
    pub experience_years: i32,
    pub last_login_at: Option<DateTime<Utc>>,
    pub rating: f64,
    pub review_count: i32,
    pub completed_orders: i32,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub status: UserStatus,
    pub suspended_until: Option<DateTime<Utc>>,
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Which unique field a registration collided on.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    Username,
    Email,
    Phone,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("already taken: {0:?}")]
    Taken(Taken),
    #[error(transparent)]
    Database(#[from] Error),
}

pub async fn insert(conn: &mut AsyncPgConnection, user: NewUser<'_>) -> Result<User, InsertError> {
    diesel::insert_into(users::table).values(&user).returning(User::as_returning()).get_result(conn).await.map_err(
        |error| match &error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                InsertError::Taken(match info.constraint_name() {
                    Some("users_email_key") => Taken::Email,
                    Some("users_phone_key") => Taken::Phone,
                    _ => Taken::Username,
                })
            }
            _ => InsertError::Database(error),
        },
    )
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn).await
}

pub async fn find_by_identity(conn: &mut AsyncPgConnection, identity: &Identity) -> QueryResult<Option<User>> {
    let query = users::table.select(User::as_select()).into_boxed();
    let query = match identity {
        Identity::Email(email) => query.filter(lower(users::email).eq(email.clone())),
        Identity::Phone(phone) => query.filter(users::phone.eq(phone.clone())),
    };
    query.first(conn).await.optional()
}

pub async fn record_login(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::last_login_at.eq(diesel::dsl::now)).execute(conn).await.map(drop)
}

pub async fn mark_verified(conn: &mut AsyncPgConnection, id: i64, channel: Channel) -> QueryResult<()> {
    let target = users::table.find(id);
    let now = diesel::dsl::now;
    match channel {
        Channel::Email => {
            diesel::update(target)
                .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
                .execute(conn)
                .await?
        }
        Channel::Sms => {
            diesel::update(target)
                .set((users::phone_verified_at.eq(now), users::updated_at.eq(now)))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}
