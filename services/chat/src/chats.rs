//! Chats: opening one (by a user, or by an accepted proposal), listing a user's chats with
//! their last message, unread count and the partner's presence.

use crate::domain::{self, Pair};
use crate::messages::{self, Outgoing};
use crate::realtime::frames::ServerFrame;
use crate::state::AppState;
use crate::store::blocks;
use crate::store::chats::{self as store, Chat, Membership};
use crate::store::messages::{self as message_store, Message};
use chrono::{DateTime, Utc};
use contracts::events::ChatCreated;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::pagination::{Page, PageRequest};
use platform::{ApiError, AuthUser, outbox};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The other participant, as the caller sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Partner {
    pub id: i64,
    pub online: bool,
    pub last_seen: Option<DateTime<Utc>>,
}

/// A chat as one participant sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatView {
    pub id: i64,
    pub request_id: Option<i64>,
    pub partner: Partner,
    pub last_message: Option<Message>,
    /// Messages from the partner after the caller's read mark.
    pub unread_count: i64,
    /// The sequence number of the chat's last message (0 when none).
    pub last_seq: i64,
    /// The caller's read mark.
    pub read_seq: i64,
    pub last_activity_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The chat `chat_id` if `user_id` takes part in it; strangers are told it does not exist.
pub async fn member_of(conn: &mut AsyncPgConnection, chat_id: i64, user_id: i64) -> Result<Membership, ApiError> {
    store::membership(conn, chat_id, user_id).await?.ok_or_else(|| ApiError::not_found("no such chat"))
}

pub fn blocked() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "blocked", "one of you has blocked the other")
}

/// Opens the caller's chat with `recipient_id` about `request_id` (idempotent per pair and
/// request), posting `initial_message` when the chat is new. `true` when created now.
pub async fn open(
    state: &AppState,
    user: &AuthUser,
    recipient_id: i64,
    request_id: Option<i64>,
    initial_message: Option<&str>,
) -> Result<(ChatView, bool), ApiError> {
    let mut problems = FieldProblems::new();
    let pair = Pair::new(user.id, recipient_id);
    if pair.is_none() || recipient_id <= 0 {
        problems.add("recipient_id", "must be another user");
    }
    if request_id.is_some_and(|id| id <= 0) {
        problems.add("request_id", "must be a positive id");
    }
    let text = initial_message
        .and_then(|text| problems.check("initial_message", domain::message_text(text, state.settings.text_limit)));
    let pair = match pair {
        Some(pair) => pair,
        None => return Err(problems.into_error()),
    };
    problems.finish()?;
    let mut conn = state.db.get().await?;
    if blocks::between(&mut conn, user.id, recipient_id).await? {
        return Err(blocked());
    }
    let (chat, created) = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let (chat, created) = store::open(conn, pair, request_id).await?;
            if created {
                outbox::publish(conn, created_event(&chat)).await?;
            }
            Ok((chat, created))
        })
        .await?;
    drop(conn);
    if created {
        announce(state, &chat).await;
        if let Some(text) = text {
            messages::send(state, user, chat.id, Outgoing::text(text)).await?;
        }
    }
    Ok((view(state, user, chat.id).await?, created))
}

fn created_event(chat: &Chat) -> ChatCreated {
    ChatCreated { chat_id: chat.id, participant_ids: chat.participants().to_vec(), request_id: chat.request_id }
}

/// Tells both participants' connections that the chat exists.
async fn announce(state: &AppState, chat: &Chat) {
    for user in chat.participants() {
        let frame =
            ServerFrame::Chat { chat_id: chat.id, partner_id: chat.partner_of(user), request_id: chat.request_id };
        state.realtime.push(&[user], &frame).await;
    }
}

/// The text of the system message that opens a deal's chat.
pub const DEAL_OPENED: &str = "Предложение принято, заказ создан. Обсудите детали здесь.";

/// Opens the chat of an accepted proposal, with a system message, in the consumer's
/// transaction; `None` when it was already open.
pub async fn open_for_deal(
    conn: &mut AsyncPgConnection,
    buyer_id: i64,
    master_id: i64,
    request_id: i64,
) -> anyhow::Result<Option<Chat>> {
    let Some(pair) = Pair::new(buyer_id, master_id) else {
        anyhow::bail!("a proposal accepted by its own master ({buyer_id})");
    };
    let (chat, created) = store::open(conn, pair, Some(request_id)).await?;
    if !created {
        return Ok(None);
    }
    outbox::publish(conn, created_event(&chat)).await?;
    messages::append(conn, chat.id, None, Outgoing::system(DEAL_OPENED)).await?;
    Ok(Some(chat))
}

/// After the deal's chat committed: both sides' connections learn of it and its first message.
pub async fn announce_deal(state: &AppState, buyer_id: i64, master_id: i64, request_id: i64) -> anyhow::Result<()> {
    let pair = Pair::new(buyer_id, master_id).ok_or_else(|| anyhow::anyhow!("one user"))?;
    let mut conn = state.db.get().await?;
    let (chat, _) = store::open(&mut conn, pair, Some(request_id)).await?;
    let first = message_store::at_seq(&mut conn, chat.id, 1).await?;
    drop(conn);
    announce(state, &chat).await;
    if let Some(message) = first {
        let frame = ServerFrame::Message { chat_id: chat.id, seq: message.seq, message };
        state.realtime.push(&chat.participants(), &frame).await;
    }
    Ok(())
}

/// The caller's chats, most recently active first.
pub async fn list(state: &AppState, user: &AuthUser, page: &PageRequest) -> Result<Page<ChatView>, ApiError> {
    let mut conn = state.db.get().await?;
    let rows = store::page_of(&mut conn, user.id, page).await?;
    let page = Page::from_rows(rows, page, |(member, _)| (member.last_activity_at, member.chat_id));
    let ids: Vec<i64> = page.items.iter().map(|(m, _)| m.chat_id).collect();
    let mut last: HashMap<i64, Message> =
        message_store::last_of(&mut conn, &ids).await?.into_iter().map(|m| (m.chat_id, m)).collect();
    let unread: HashMap<i64, i64> = store::unread_counts(&mut conn, user.id, &ids).await?.into_iter().collect();
    drop(conn);
    let partners: Vec<i64> = page.items.iter().map(|(m, _)| m.partner_id).collect();
    let online = state.realtime.online(&partners).await;
    let mut online = online.into_iter();
    let mut views = Vec::with_capacity(page.items.len());
    for (member, chat) in &page.items {
        let partner = partner(state, member.partner_id, online.next().unwrap_or(false)).await;
        views.push(chat_view(member, chat, partner, last.remove(&chat.id), unread.get(&chat.id).copied().unwrap_or(0)));
    }
    Ok(Page { items: views, next_cursor: page.next_cursor })
}

/// One chat as the caller sees it (404 for strangers).
pub async fn view(state: &AppState, user: &AuthUser, chat_id: i64) -> Result<ChatView, ApiError> {
    let mut conn = state.db.get().await?;
    let member = member_of(&mut conn, chat_id, user.id).await?;
    let chat = store::find(&mut conn, chat_id).await?.ok_or_else(|| ApiError::not_found("no such chat"))?;
    let last = message_store::last_of(&mut conn, &[chat_id]).await?.pop();
    let unread = store::unread_counts(&mut conn, user.id, &[chat_id]).await?.first().map_or(0, |(_, n)| *n);
    drop(conn);
    let online = state.realtime.online(&[member.partner_id]).await.first().copied().unwrap_or(false);
    let partner = partner(state, member.partner_id, online).await;
    Ok(chat_view(&member, &chat, partner, last, unread))
}

async fn partner(state: &AppState, id: i64, online: bool) -> Partner {
    let last_seen = state.realtime.presence.last_seen(id).await.unwrap_or_default();
    Partner { id, online, last_seen }
}

fn chat_view(member: &Membership, chat: &Chat, partner: Partner, last: Option<Message>, unread: i64) -> ChatView {
    ChatView {
        id: chat.id,
        request_id: chat.request_id,
        partner,
        last_message: last,
        unread_count: unread,
        last_seq: chat.last_seq,
        read_seq: member.read_seq,
        last_activity_at: member.last_activity_at,
        created_at: chat.created_at,
    }
}
