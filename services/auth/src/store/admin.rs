//! Admin queries: user listing with filters, status and role changes, the audit log.

use super::schema::{admin_audit, refresh_tokens, users};
use super::users::User;
use crate::domain::status::UserStatus;
use chrono::{DateTime, Utc};
use contracts::Role;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};

#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Part of the username, e-mail or phone.
    pub text: Option<String>,
}

pub async fn list(conn: &mut AsyncPgConnection, filter: &UserFilter, page: &PageRequest) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .select(User::as_select())
        .order((users::created_at.desc(), users::id.desc()))
        .limit(page.fetch())
        .into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(status) = filter.status {
        query = query.filter(users::status.eq(status));
    }
    if let Some(text) = &filter.text {
        let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        query = query.filter(
            users::username
                .ilike(pattern.clone())
                .or(users::email.ilike(pattern.clone()))
                .or(users::phone.like(pattern)),
        );
    }
    match page.start {
        Start::After { created_at, id } => {
            query = query
                .filter(users::created_at.lt(created_at).or(users::created_at.eq(created_at).and(users::id.lt(id))))
        }
        Start::Offset(offset) => query = query.offset(offset),
        Start::First => {}
    }
    query.load(conn).await
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: UserStatus,
    until: Option<DateTime<Utc>>,
    reason: Option<&str>,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((
            users::status.eq(status),
            users::suspended_until.eq(until),
            users::status_reason.eq(reason),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_role(conn: &mut AsyncPgConnection, id: i64, role: Role) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::updated_at.eq(diesel::dsl::now)))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// Signs the user out everywhere: every refresh token stops working.
pub async fn revoke_all_refresh_tokens(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

pub struct AuditEntry<'a> {
    pub actor_id: i64,
    pub action: &'a str,
    pub target_id: i64,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub reason: Option<&'a str>,
}

pub async fn audit(conn: &mut AsyncPgConnection, entry: AuditEntry<'_>) -> QueryResult<()> {
    diesel::insert_into(admin_audit::table)
        .values((
            admin_audit::actor_id.eq(entry.actor_id),
            admin_audit::action.eq(entry.action),
            admin_audit::target_id.eq(entry.target_id),
            admin_audit::before.eq(entry.before),
            admin_audit::after.eq(entry.after),
            admin_audit::reason.eq(entry.reason),
        ))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(Debug, Queryable, serde::Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub actor_id: i64,
    pub action: String,
    pub target_id: i64,
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn audit_of(conn: &mut AsyncPgConnection, target_id: i64) -> QueryResult<Vec<AuditRecord>> {
    admin_audit::table
        .filter(admin_audit::target_id.eq(target_id))
        .order(admin_audit::id.desc())
        .select((
            admin_audit::id,
            admin_audit::actor_id,
            admin_audit::action,
            admin_audit::target_id,
            admin_audit::before,
            admin_audit::after,
            admin_audit::reason,
            admin_audit::created_at,
        ))
        .load(conn)
        .await
}
