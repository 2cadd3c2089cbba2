//! `/api/v2/chats/{id}/messages` and the read mark.

use crate::messages::{self, Change, Outgoing, Window};
use crate::state::AppState;
use crate::store::messages::Message;
use actix_web::{HttpResponse, web};
use platform::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Messages before this sequence number, newest first (the default: from the end).
    #[param(minimum = 0)]
    pub before: Option<i64>,
    /// Messages after this sequence number, oldest first (catching up); with `before`, those
    /// between the two.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub items: Vec<Message>,
    /// More messages lie beyond the last item in the same direction.
    pub has_more: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Not blank, at most `chat.text_limit` characters (4000 by default).
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: String,
    /// The client's id for the message: sending it again returns the first message.
    #[schema(pattern = "^[!-~]{1,64}$")]
    pub client_message_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// Not blank, at most `chat.text_limit` characters (4000 by default).
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMark {
    /// Everything up to this sequence number has been read.
    #[schema(minimum = 0)]
    pub seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    /// The caller's read mark after the call (it never moves back).
    pub read_seq: i64,
}

/// A chat's messages by sequence number; deleted ones appear as tombstones.
#[utoipa::path(get, path = "/api/v2/chats/{id}/messages", tag = "chats", params(HistoryQuery), security(("bearer" = [])),
    responses((status = 200, body = History), (status = 400),
        (status = 404)))]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let mut problems = platform::error::FieldProblems::new();
    if !(1..=MAX_LIMIT).contains(&limit) {
        problems.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
    }
    if query.before.is_some_and(|s| s < 0) || query.after.is_some_and(|s| s < 0) {
        problems.add("before", "sequence numbers are not negative");
    }
    problems.finish()?;
    let window = match query.after {
        Some(after) => Window::After { after, before: query.before },
        None => Window::Before(query.before),
    };
    let (items, has_more) = messages::history(&state, &user, *id, window, limit).await?;
    Ok(HttpResponse::Ok().json(History { items, has_more }))
}

/// Sends a text message: 201 with the stored message, or 200 with the first one when the
/// `client_message_id` was used before. 403 `blocked` when either has blocked the other.
#[utoipa::path(post, path = "/api/v2/chats/{id}/messages", tag = "chats", request_body = SendMessage,
    security(("bearer" = [])),
    responses((status = 201, body = Message), (status = 200, body = Message),
        (status = 400), (status = 403),
        (status = 404)))]
pub async fn send(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<SendMessage>,
) -> Result<HttpResponse, ApiError> {
    let outgoing = Outgoing::parse(&body.text, body.client_message_id.as_deref(), state.settings.text_limit)?;
    let (message, fresh) = messages::send(&state, &user, *id, outgoing).await?;
    Ok(if fresh { HttpResponse::Created().json(message) } else { HttpResponse::Ok().json(message) })
}

/// Edits one's own text message within the edit window (409 `edit_window_passed` after it).
#[utoipa::path(patch, path = "/api/v2/chats/{id}/messages/{message_id}", tag = "chats", request_body = EditMessage,
    security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
    body: platform::Json<EditMessage>,
) -> Result<HttpResponse, ApiError> {
    let (chat_id, message_id) = path.into_inner();
    let text = crate::domain::message_text(&body.text, state.settings.text_limit)
        .map_err(|problem| ApiError::validation([("text", problem)]))?;
    let message = messages::change(&state, &user, chat_id, message_id, Change::Edit(text)).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Deletes one's own message within the edit window: it stays in history as a tombstone.
#[utoipa::path(delete, path = "/api/v2/chats/{id}/messages/{message_id}", tag = "chats", security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 403),
        (status = 404), (status = 409)))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (chat_id, message_id) = path.into_inner();
    let message = messages::change(&state, &user, chat_id, message_id, Change::Delete).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Moves the caller's read mark forward (a smaller `seq` changes nothing); the partner sees a
/// `read` frame.
#[utoipa::path(post, path = "/api/v2/chats/{id}/read", tag = "chats", request_body = ReadMark, security(("bearer" = [])),
    responses((status = 200, body = ReadState), (status = 400),
        (status = 404)))]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<ReadMark>,
) -> Result<HttpResponse, ApiError> {
    let read_seq = messages::read(&state, &user, *id, body.seq).await?;
    Ok(HttpResponse::Ok().json(ReadState { read_seq }))
}
