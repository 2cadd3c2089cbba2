//! Messages: sending (sequence assigned under the chat's lock, a repeated client id answered
//! with the first message), history, edits and deletions within a window, read marks, typing.

use crate::chats::{blocked, member_of};
use crate::domain::{self, ChangeRefused, MessageKind};
use crate::realtime::frames::ServerFrame;
use crate::state::AppState;
use crate::store::messages::{self as store, Message, NewMessage};
use crate::store::{blocks, chats};
use contracts::events::{ChatMessageRead, ChatMessageSent, ChatTyping};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::{ApiError, AuthUser, outbox};

/// A text message as the sender gives it (already checked).
pub struct Outgoing {
    pub text: String,
    pub client_message_id: Option<String>,
}

impl Outgoing {
    /// Checks a text and client id from a request body or a frame.
    pub fn parse(text: &str, client_message_id: Option<&str>, limit: usize) -> Result<Self, ApiError> {
        let mut problems = FieldProblems::new();
        let text = problems.check("text", domain::message_text(text, limit));
        let client_message_id =
            client_message_id.and_then(|id| problems.check("client_message_id", domain::client_message_id(id)));
        match text {
            Some(text) => {
                problems.finish()?;
                Ok(Self { text, client_message_id })
            }
            None => Err(problems.into_error()),
        }
    }
}

/// Appends a message with the chat's next sequence number, in the caller's transaction. With
/// a client id the sender used before, answers the first message instead (`false`).
pub async fn append(
    conn: &mut AsyncPgConnection,
    chat_id: i64,
    sender_id: Option<i64>,
    kind: MessageKind,
    text: String,
    client_message_id: Option<String>,
) -> diesel::QueryResult<(Message, bool)> {
    // The lock comes first: a concurrent retry of the same client id waits here and then sees
    // the first one committed.
    let last_seq = chats::lock_last_seq(conn, chat_id).await?;
    if let (Some(sender), Some(client_id)) = (sender_id, client_message_id.as_deref())
        && let Some(first) = store::by_client_id(conn, chat_id, sender, client_id).await?
    {
        return Ok((first, false));
    }
    let new = NewMessage {
        chat_id,
        seq: last_seq + 1,
        sender_id,
        kind: kind.as_str().to_owned(),
        body: text,
        media_url: None,
        media_type: None,
        media_size: None,
        client_message_id,
    };
    let message = store::insert(conn, &new).await?;
    chats::advance(conn, chat_id, message.seq, message.created_at).await?;
    Ok((message, true))
}

/// Sends a text message from `user` to the chat; `true` when stored now (not a repeat).
pub async fn send(
    state: &AppState,
    user: &AuthUser,
    chat_id: i64,
    outgoing: Outgoing,
) -> Result<(Message, bool), ApiError> {
    let mut conn = state.db.get().await?;
    let member = member_of(&mut conn, chat_id, user.id).await?;
    if blocks::between(&mut conn, user.id, member.partner_id).await? {
        return Err(blocked());
    }
    let recipient = member.partner_id;
    let online = state.realtime.online(&[recipient]).await.first().copied().unwrap_or(false);
    let (message, fresh) = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let (message, fresh) =
                append(conn, chat_id, Some(user.id), MessageKind::Text, outgoing.text, outgoing.client_message_id)
                    .await?;
            if fresh {
                let event = ChatMessageSent {
                    chat_id,
                    message_id: message.id,
                    sender_id: user.id,
                    recipient_ids: vec![recipient],
                    kind: message.kind.clone(),
                    preview: domain::preview(&message.text),
                    offline_recipient_ids: if online { vec![] } else { vec![recipient] },
                };
                outbox::publish(conn, event).await?;
            }
            Ok((message, fresh))
        })
        .await?;
    drop(conn);
    if fresh {
        let frame = ServerFrame::Message { chat_id, seq: message.seq, message: message.clone() };
        state.realtime.push(&[recipient, user.id], &frame).await;
    }
    Ok((message, fresh))
}

/// Which part of the history to read.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// Newest first, before a sequence number (from the end when `None`).
    Before(Option<i64>),
    /// Oldest first, after a sequence number (and before another, when given).
    After { after: i64, before: Option<i64> },
}

pub async fn history(
    state: &AppState,
    user: &AuthUser,
    chat_id: i64,
    window: Window,
    limit: i64,
) -> Result<(Vec<Message>, bool), ApiError> {
    let mut conn = state.db.get().await?;
    member_of(&mut conn, chat_id, user.id).await?;
    let mut messages = match window {
        Window::Before(before) => store::before(&mut conn, chat_id, before, limit + 1).await?,
        Window::After { after, before } => store::after(&mut conn, chat_id, after, before, limit + 1).await?,
    };
    let more = messages.len() as i64 > limit;
    messages.truncate(limit as usize);
    Ok((messages, more))
}

/// A change to one's own message.
pub enum Change {
    Edit(String),
    Delete,
}

pub async fn change(
    state: &AppState,
    user: &AuthUser,
    chat_id: i64,
    message_id: i64,
    change: Change,
) -> Result<Message, ApiError> {
    let mut conn = state.db.get().await?;
    let member = member_of(&mut conn, chat_id, user.id).await?;
    let message =
        store::find(&mut conn, chat_id, message_id).await?.ok_or_else(|| ApiError::not_found("no such message"))?;
    let allowed = domain::may_change(
        user.id,
        message.sender_id,
        message.created_at,
        message.deleted_at.is_some(),
        state.settings.edit_window_secs,
        chrono::Utc::now(),
    );
    match allowed {
        Ok(()) => {}
        Err(ChangeRefused::NotSender) => return Err(ApiError::forbidden(ChangeRefused::NotSender.to_string())),
        Err(refused @ ChangeRefused::Deleted) => {
            return Err(ApiError::conflict("message_deleted", refused.to_string()));
        }
        Err(refused @ ChangeRefused::WindowPassed) => {
            return Err(ApiError::conflict("edit_window_passed", refused.to_string()));
        }
    }
    let changed = match change {
        Change::Edit(text) => store::edit(&mut conn, message.id, &text).await?,
        Change::Delete => store::delete(&mut conn, message.id).await?,
    };
    drop(conn);
    let frame = ServerFrame::MessageUpdated { chat_id, seq: changed.seq, message: changed.clone() };
    state.realtime.push(&[member.partner_id, user.id], &frame).await;
    Ok(changed)
}

/// Moves the caller's read mark forward to `seq` (capped at the last message); a mark
/// behind the current one changes nothing. Answers the mark.
pub async fn read(state: &AppState, user: &AuthUser, chat_id: i64, seq: i64) -> Result<i64, ApiError> {
    if seq < 0 {
        return Err(ApiError::validation([("seq", "must not be negative".to_owned())]));
    }
    let mut conn = state.db.get().await?;
    let member = member_of(&mut conn, chat_id, user.id).await?;
    let moved = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let last_seq = chats::find(conn, chat_id).await?.map_or(0, |c| c.last_seq);
            let Some(mark) = chats::mark_read(conn, chat_id, user.id, seq.min(last_seq)).await? else {
                return Ok(None);
            };
            let up_to = store::at_seq(conn, chat_id, mark).await?.map_or(0, |m| m.id);
            let event = ChatMessageRead { chat_id, reader_id: user.id, up_to_message_id: up_to, up_to_seq: mark };
            outbox::publish(conn, event).await?;
            Ok(Some(mark))
        })
        .await?;
    let Some(mark) = moved else {
        return Ok(chats::membership(&mut conn, chat_id, user.id).await?.map_or(member.read_seq, |m| m.read_seq));
    };
    drop(conn);
    let frame = ServerFrame::Read { chat_id, user_id: user.id, seq: mark };
    state.realtime.push(&[member.partner_id, user.id], &frame).await;
    Ok(mark)
}

/// Tells the partner the caller is (or stopped) typing: `chat.typing`, over NATS only as a
/// frame; nothing is stored.
pub async fn typing(state: &AppState, user: &AuthUser, partner_id: i64, chat_id: i64, typing: bool) {
    let event = ChatTyping { chat_id, user_id: user.id, typing };
    state.realtime.push(&[partner_id], &ServerFrame::from(event)).await;
}
