//! `/api/v2/admin/users/*`: admins list and moderate users. Every route answers 403 to others.

use crate::admin::{self, Action};
use crate::domain::status::UserStatus;
use crate::http::users::OwnProfile;
use crate::state::AppState;
use crate::store::admin::{self as store, AuditRecord, UserFilter};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use contracts::Role;
use platform::error::FieldProblems;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UserListQuery {
    /// buyer, master or admin.
    pub role: Option<String>,
    /// active, banned or suspended.
    pub status: Option<String>,
    /// Part of the username, e-mail or phone.
    pub q: Option<String>,
}

/// A user as admins see them.
#[derive(Serialize, ToSchema)]
pub struct AdminUser {
    #[serde(flatten)]
    pub profile: OwnProfile,
    pub status: UserStatus,
    pub suspended_until: Option<DateTime<Utc>>,
    pub status_reason: Option<String>,
}

impl From<crate::store::users::User> for AdminUser {
    fn from(user: crate::store::users::User) -> Self {
        Self {
            status: user.status,
            suspended_until: user.suspended_until,
            status_reason: user.status_reason.clone(),
            profile: OwnProfile::from(user),
        }
    }
}

#[derive(Deserialize, Default, ToSchema)]
pub struct ReasonRequest {
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SuspendRequest {
    pub until: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    pub role: Role,
}

fn validate_filter(query: UserListQuery) -> Result<UserFilter, ApiError> {
    let mut checks = FieldProblems::new();
    let role = query
        .role
        .map(|r| checks.check("role", r.parse::<Role>().map_err(|_| "must be buyer, master or admin".to_owned())));
    let status = query.status.map(|s| {
        checks.check("status", s.parse::<UserStatus>().map_err(|_| "must be active, banned or suspended".to_owned()))
    });
    checks.finish()?;
    Ok(UserFilter { role: role.flatten(), status: status.flatten(), text: query.q.filter(|q| !q.trim().is_empty()) })
}

/// Users, newest first, filtered by role, status and text.
#[utoipa::path(get, path = "/api/v2/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserListQuery, PageQuery), responses((status = 200, body = Page<AdminUser>),
        (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<UserListQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_role(&[Role::Admin])?;
    let filter = validate_filter(query.into_inner())?;
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let rows = store::list(&mut conn, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |u| (u.created_at, u.id)).map(AdminUser::from)))
}

async fn respond(state: &AppState, user: &AuthUser, target: i64, action: Action) -> Result<HttpResponse, ApiError> {
    let updated = admin::act(state, user, target, action).await?;
    Ok(HttpResponse::Ok().json(AdminUser::from(updated)))
}

/// Bans a user: they cannot sign in, and every session of theirs ends.
#[utoipa::path(post, path = "/api/v2/admin/users/{id}/ban", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ReasonRequest, responses((status = 200, body = AdminUser),
        (status = 403), (status = 404)))]
pub async fn ban(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Option<platform::Json<ReasonRequest>>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.and_then(|b| b.into_inner().reason);
    respond(&state, &user, id.into_inner(), Action::Ban { reason }).await
}

/// Lifts a ban or a suspension.
#[utoipa::path(post, path = "/api/v2/admin/users/{id}/unban", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = AdminUser), (status = 403)))]
pub async fn unban(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    respond(&state, &user, id.into_inner(), Action::Unban).await
}

/// Suspends a user until a given time.
#[utoipa::path(post, path = "/api/v2/admin/users/{id}/suspend", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SuspendRequest, responses((status = 200, body = AdminUser),
        (status = 400), (status = 403)))]
pub async fn suspend(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<SuspendRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    respond(&state, &user, id.into_inner(), Action::Suspend { until: body.until, reason: body.reason }).await
}

/// Changes a user's role (the only way to make an admin).
#[utoipa::path(put, path = "/api/v2/admin/users/{id}/role", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RoleRequest, responses((status = 200, body = AdminUser),
        (status = 403)))]
pub async fn change_role(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    respond(&state, &user, id.into_inner(), Action::ChangeRole { role: body.role }).await
}

/// The audit trail of admin actions on a user, newest first.
#[utoipa::path(get, path = "/api/v2/admin/users/{id}/audit", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Vec<AuditRecord>), (status = 403)))]
pub async fn audit(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    user.require_role(&[Role::Admin])?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(store::audit_of(&mut conn, id.into_inner()).await?))
}
