//! `/api/v2/calls`: audio and video calls between chat partners, their WebRTC tokens and
//! signalling. Call frames reach both participants' WebSockets (docs/realtime.md).

use crate::calls::machine::{CallAction, CallKind};
use crate::calls::signal::Signal;
use crate::calls::{self, CallToken, CallView, Listing};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCall {
    /// A chat partner of the caller.
    #[serde(alias = "callee_id")]
    #[schema(minimum = 1)]
    pub recipient_id: i64,
    /// `audio` or `video`.
    #[serde(alias = "type", alias = "call_type")]
    pub kind: CallKind,
}

/// The caller's calls, newest first, whatever their status.
#[utoipa::path(get, path = "/api/v2/calls", tag = "calls", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<CallView>), (status = 400)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(calls::list(&state, &user, Listing::All, &page.parse()?).await?))
}

/// The caller's finished calls (ended, missed, declined, cancelled), newest first.
#[utoipa::path(get, path = "/api/v2/calls/history", tag = "calls", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<CallView>), (status = 400)))]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(calls::list(&state, &user, Listing::History, &page.parse()?).await?))
}

/// The caller's ringing or active calls (at most one: a user on a call is busy).
#[utoipa::path(get, path = "/api/v2/calls/active", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = Vec<CallView>)))]
pub async fn active(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(calls::active(&state, &user).await?))
}

/// Calls a chat partner: 201 with the ringing call; both get a `call` frame. 409 `busy` when
/// either is on a call, 403 `blocked` or `not_chat_partners`.
#[utoipa::path(post, path = "/api/v2/calls/initiate", tag = "calls", request_body = StartCall, security(("bearer" = [])),
    responses((status = 201, body = CallView), (status = 400), (status = 403),
        (status = 409)))]
pub async fn initiate(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<StartCall>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(calls::initiate(&state, &user, body.recipient_id, body.kind, false).await?))
}

/// As `initiate`, with end-to-end encrypted media: the participants' tokens carry the call's
/// media key (`encryption`).
#[utoipa::path(post, path = "/api/v2/calls/initiate-secure", tag = "calls", request_body = StartCall, security(("bearer" = [])),
    responses((status = 201, body = CallView), (status = 400), (status = 403),
        (status = 409)))]
pub async fn initiate_secure(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<StartCall>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(calls::initiate(&state, &user, body.recipient_id, body.kind, true).await?))
}

/// One of the caller's calls (404 for anyone else).
#[utoipa::path(get, path = "/api/v2/calls/{id}", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(calls::view(&state, &user, *id).await?))
}

async fn act(
    state: web::Data<AppState>,
    user: AuthUser,
    id: i64,
    action: CallAction,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(calls::act(&state, &user, id, action).await?))
}

/// The callee answers a ringing call.
#[utoipa::path(post, path = "/api/v2/calls/{id}/answer", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 403), (status = 404),
        (status = 409)))]
pub async fn answer(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    act(state, user, *id, CallAction::Answer).await
}

/// The callee declines a ringing call.
#[utoipa::path(post, path = "/api/v2/calls/{id}/decline", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 403), (status = 404),
        (status = 409)))]
pub async fn decline(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    act(state, user, *id, CallAction::Decline).await
}

/// The caller cancels a call still ringing.
#[utoipa::path(post, path = "/api/v2/calls/{id}/cancel", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 403), (status = 404),
        (status = 409)))]
pub async fn cancel(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    act(state, user, *id, CallAction::Cancel).await
}

/// Either participant hangs up an active call.
#[utoipa::path(post, path = "/api/v2/calls/{id}/end", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404), (status = 409)))]
pub async fn end(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    act(state, user, *id, CallAction::End).await
}

/// Credentials for the configured WebRTC provider (own TURN, Agora or Twilio), for a
/// participant of a ringing or active call; at most two per call (then 409 `token_limit`).
#[utoipa::path(get, path = "/api/v2/calls/{id}/webrtc-token", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = CallToken), (status = 404), (status = 409),
        (status = 503)))]
pub async fn webrtc_token(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(calls::token(&state, &user, *id).await?))
}

/// Relays an offer, answer or ICE candidate to the other participant's WebSockets (as a
/// `call_signal` frame): 202.
#[utoipa::path(post, path = "/api/v2/calls/{id}/webrtc-signal", tag = "calls", request_body = Signal,
    security(("bearer" = [])),
    responses((status = 202), (status = 400), (status = 404),
        (status = 409)))]
pub async fn webrtc_signal(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<Signal>,
) -> Result<HttpResponse, ApiError> {
    calls::signal(&state, &user, *id, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().finish())
}
