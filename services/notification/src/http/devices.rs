//! `POST /notifications/push-token`: a device registers (or unregisters) for push.

use crate::state::AppState;
use crate::store::push_tokens;
use actix_web::{HttpResponse, web};
use platform::error::FieldProblems;
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const PLATFORMS: &[&str] = &["ios", "android", "web"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushTokenBody {
    /// The device's OneSignal subscription id: 1 to 200 printable ASCII characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^[!-~]+$")]
    pub token: String,
    /// ios, android or web.
    #[schema(pattern = "^(ios|android|web)$")]
    pub platform: String,
    /// `false` unregisters the device (sign-out).
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushTokenView {
    pub token: String,
    pub platform: String,
    pub active: bool,
}

/// Registers the caller's device for push, or unregisters it with `"active": false`.
#[utoipa::path(post, path = "/api/v2/notifications/push-token", tag = "devices", request_body = PushTokenBody,
    security(("bearer" = [])),
    responses((status = 200, body = PushTokenView), (status = 400),
        (status = 404)))]
pub async fn push_token(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<PushTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut problems = FieldProblems::new();
    let token = body.token.trim();
    if token.is_empty() || token.len() > 200 || !token.chars().all(|c| c.is_ascii_graphic()) {
        problems.add("token", "must be 1 to 200 printable characters");
    }
    if !PLATFORMS.contains(&body.platform.as_str()) {
        problems.add("platform", "must be ios, android or web");
    }
    problems.finish()?;
    let mut conn = state.db.get().await?;
    if body.active {
        push_tokens::register(&mut conn, user.id, token, &body.platform).await?;
    } else if !push_tokens::unregister(&mut conn, user.id, token).await? {
        return Err(ApiError::not_found("no such device of yours"));
    }
    Ok(HttpResponse::Ok().json(PushTokenView { token: token.to_owned(), platform: body.platform, active: body.active }))
}
