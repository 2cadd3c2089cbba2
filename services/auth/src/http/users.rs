//! `/api/v2/users/*`.

use crate::accounts::role_of;
use crate::state::AppState;
use crate::store::users::{self, User};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use contracts::Role;
use platform::{ApiError, AuthUser};
use serde::Serialize;
use utoipa::ToSchema;

/// The caller's own profile, with contact details.
#[derive(Serialize, ToSchema)]
pub struct OwnProfile {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub region: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for OwnProfile {
    fn from(user: User) -> Self {
        Self {
            role: role_of(&user),
            id: user.id,
            username: user.username,
            email: user.email,
            phone: user.phone,
            first_name: user.first_name,
            last_name: user.last_name,
            avatar_url: user.avatar_url,
            region: user.region,
            email_verified: user.email_verified_at.is_some(),
            phone_verified: user.phone_verified_at.is_some(),
            created_at: user.created_at,
        }
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v2/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = OwnProfile), (status = 401, body = platform::error::ErrorBody)))]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let profile = users::find(&mut conn, user.id).await?;
    Ok(HttpResponse::Ok().json(OwnProfile::from(profile)))
}
