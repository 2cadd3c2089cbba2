//! `POST /notifications/unsubscribe?token=…`: the one-click unsubscribe of RFC 8058 (mail
//! clients post `List-Unsubscribe=One-Click` without any session).

use crate::domain::Channel;
use crate::state::AppState;
use crate::store::settings;
use actix_web::{HttpResponse, web};
use platform::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The token of the mail's `List-Unsubscribe` link: its claim and a 16-byte signature, each
    /// base64url without padding.
    #[param(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$")]
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct Unsubscribed {
    pub kind: String,
    pub email: bool,
}

/// Stops e-mail of the link's kind for the link's user.
#[utoipa::path(post, path = "/api/v2/notifications/unsubscribe", tag = "settings", params(UnsubscribeQuery),
    responses((status = 200, body = Unsubscribed), (status = 400)))]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, kind) = state
        .unsubscribe
        .verify(&query.token)
        .ok_or_else(|| ApiError::bad_request("invalid_token", "the unsubscribe link is not valid"))?;
    let mut conn = state.db.get().await?;
    settings::choose(&mut conn, user_id, &[(kind, Channel::Email, false)]).await?;
    Ok(HttpResponse::Ok().json(Unsubscribed { kind: kind.as_str().to_owned(), email: false }))
}
