//! `/api/v2/chats`: the caller's chats.

use crate::chats::{self, ChatView};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenChat {
    #[schema(minimum = 1)]
    pub recipient_id: i64,
    /// The request the chat is about, if any: one chat per pair and request.
    #[schema(minimum = 1)]
    pub request_id: Option<i64>,
    /// Posted as the first message when the chat is new: not blank, at most `chat.text_limit`
    /// characters (4000 by default).
    #[schema(max_length = 4000, pattern = "\\S")]
    pub initial_message: Option<String>,
}

/// The caller's chats, most recently active first, with the last message, the unread count
/// and the partner's presence.
#[utoipa::path(get, path = "/api/v2/chats", tag = "chats", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ChatView>), (status = 400)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(chats::list(&state, &user, &page).await?))
}

/// Opens a chat with `recipient_id` (about `request_id`): 201 when created, 200 with the
/// existing chat otherwise (the initial message is posted only to a new chat). 403 `blocked`
/// when either has blocked the other.
#[utoipa::path(post, path = "/api/v2/chats", tag = "chats", request_body = OpenChat, security(("bearer" = [])),
    responses((status = 201, body = ChatView), (status = 200, body = ChatView),
        (status = 400), (status = 403)))]
pub async fn open(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<OpenChat>,
) -> Result<HttpResponse, ApiError> {
    let (chat, created) =
        chats::open(&state, &user, body.recipient_id, body.request_id, body.initial_message.as_deref()).await?;
    Ok(if created { HttpResponse::Created().json(chat) } else { HttpResponse::Ok().json(chat) })
}

/// One of the caller's chats (404 for anyone else).
#[utoipa::path(get, path = "/api/v2/chats/{id}", tag = "chats", security(("bearer" = [])),
    responses((status = 200, body = ChatView), (status = 404)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(chats::view(&state, &user, *id).await?))
}
