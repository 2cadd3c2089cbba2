//! Messages: sending (sequence assigned under the chat's lock, a repeated client id answered
//! with the first message), history, edits and deletions within a window, read marks, typing.

use crate::chats::{blocked, member_of};
use crate::domain::{self, AttachmentRefused, ChangeRefused, MessageKind};
use crate::media::{self, Media};
use crate::realtime::frames::ServerFrame;
use crate::state::AppState;
use crate::store::messages::{self as store, Message, NewMessage};
use crate::store::{blocks, chats};
use bytes::Bytes;
use contracts::events::{ChatMessageRead, ChatMessageSent, ChatTyping};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::{ApiError, AuthUser, outbox};

/// A message as the sender gives it (already checked): a text, or a file with a caption.
pub struct Outgoing {
    pub kind: MessageKind,
    pub text: String,
    pub media: Option<Media>,
    pub client_message_id: Option<String>,
}

impl Outgoing {
    /// Checks a text and client id from a request body or a frame.
    pub fn parse(text: &str, client_message_id: Option<&str>, limit: usize) -> Result<Self, ApiError> {
        let mut problems = FieldProblems::new();
        let text = problems.check("text", domain::message_text(text, limit));
        let client_message_id = client_id(&mut problems, client_message_id);
        match text {
            Some(text) => {
                problems.finish()?;
                Ok(Self { kind: MessageKind::Text, text, media: None, client_message_id })
            }
            None => Err(problems.into_error()),
        }
    }

    /// A checked text without a retry key.
    pub fn text(text: String) -> Self {
        Self { kind: MessageKind::Text, text, media: None, client_message_id: None }
    }

    /// A message the service itself writes (no sender, no client id).
    pub fn system(text: &str) -> Self {
        Self { kind: MessageKind::System, text: text.to_owned(), media: None, client_message_id: None }
    }
}

fn client_id(problems: &mut FieldProblems, client_message_id: Option<&str>) -> Option<String> {
    client_message_id.and_then(|id| problems.check("client_message_id", domain::client_message_id(id)))
}

/// A media message as it arrived in a form, not yet checked.
pub struct MediaDraft {
    /// The kind the client says the file is (`type`), if it says.
    pub kind: Option<String>,
    pub file: Bytes,
    pub file_name: Option<String>,
    pub caption: Option<String>,
    pub client_message_id: Option<String>,
}

/// Appends a message with the chat's next sequence number, in the caller's transaction. With
/// a client id the sender used before, answers the first message instead (`false`).
pub async fn append(
    conn: &mut AsyncPgConnection,
    chat_id: i64,
    sender_id: Option<i64>,
    outgoing: Outgoing,
) -> diesel::QueryResult<(Message, bool)> {
    // The lock comes first: a concurrent retry of the same client id waits here and then sees
    // the first one committed.
    let last_seq = chats::lock_last_seq(conn, chat_id).await?;
    if let (Some(sender), Some(client_id)) = (sender_id, outgoing.client_message_id.as_deref())
        && let Some(first) = store::by_client_id(conn, chat_id, sender, client_id).await?
    {
        return Ok((first, false));
    }
    let media = outgoing.media;
    let new = NewMessage {
        chat_id,
        seq: last_seq + 1,
        sender_id,
        kind: outgoing.kind.as_str().to_owned(),
        body: outgoing.text,
        media_url: media.as_ref().map(|m| m.url.clone()),
        media_type: media.as_ref().map(|m| m.content_type.clone()),
        media_size: media.as_ref().map(|m| m.size),
        media_name: media.and_then(|m| m.name),
        client_message_id: outgoing.client_message_id,
    };
    let message = store::insert(conn, &new).await?;
    chats::advance(conn, chat_id, message.seq, message.created_at).await?;
    Ok((message, true))
}

/// Sends a message from `user` to the chat; `true` when stored now (not a repeat).
pub async fn send(
    state: &AppState,
    user: &AuthUser,
    chat_id: i64,
    outgoing: Outgoing,
) -> Result<(Message, bool), ApiError> {
    let mut conn = state.db.get().await?;
    let recipient = may_write(&mut conn, chat_id, user).await?;
    deliver(state, conn, user, chat_id, recipient, outgoing).await
}

/// Sends a file from `user` to the chat: checked by its content (415 when it is not the kind
/// declared, 413 over the kind's limit), stored, then sent like a text. A repeated client id
/// answers the first message and stores nothing.
pub async fn send_media(
    state: &AppState,
    user: &AuthUser,
    chat_id: i64,
    draft: MediaDraft,
) -> Result<(Message, bool), ApiError> {
    let mut problems = FieldProblems::new();
    let declared = draft.kind.as_deref().and_then(|kind| {
        let kind = MessageKind::media(kind);
        if kind.is_none() {
            problems.add("type", "must be image, voice, video or file");
        }
        kind
    });
    let caption = draft.caption.as_deref().map(|text| domain::caption(text, state.settings.text_limit));
    let caption = caption.and_then(|caption| problems.check("text", caption)).unwrap_or_default();
    let client_message_id = client_id(&mut problems, draft.client_message_id.as_deref());
    problems.finish()?;
    let mut conn = state.db.get().await?;
    let recipient = may_write(&mut conn, chat_id, user).await?;
    if let Some(client_id) = client_message_id.as_deref()
        && let Some(first) = store::by_client_id(&mut conn, chat_id, user.id, client_id).await?
    {
        return Ok((first, false));
    }
    let attachment = domain::attachment(declared, &draft.file).map_err(|refused| match refused {
        AttachmentRefused::Empty => ApiError::validation([("file", refused.to_string())]),
        AttachmentRefused::TooLarge { .. } => ApiError::payload_too_large(refused.to_string()),
        AttachmentRefused::NotOfKind { .. } => ApiError::unsupported_media_type(refused.to_string()),
    })?;
    // No connection is held while the file travels to the store.
    drop(conn);
    let name = draft.file_name.as_deref().and_then(domain::file_name);
    let media = media::store(state, chat_id, attachment, draft.file, name).await?;
    let url = media.url.clone();
    let outgoing = Outgoing { kind: attachment.kind, text: caption, media: Some(media), client_message_id };
    let sent = match state.db.get().await {
        Ok(conn) => deliver(state, conn, user, chat_id, recipient, outgoing).await,
        Err(error) => Err(error.into()),
    };
    if !matches!(sent, Ok((_, true))) {
        media::forget(state, chat_id, &url).await;
    }
    sent
}

/// The partner `user` writes to in `chat_id`: 404 for strangers, 403 when either blocked the other.
async fn may_write(conn: &mut AsyncPgConnection, chat_id: i64, user: &AuthUser) -> Result<i64, ApiError> {
    let member = member_of(conn, chat_id, user.id).await?;
    if blocks::between(conn, user.id, member.partner_id).await? {
        return Err(blocked());
    }
    Ok(member.partner_id)
}

/// Appends the message with its event, then pushes it to both sides.
async fn deliver(
    state: &AppState,
    mut conn: platform::db::PgConn,
    user: &AuthUser,
    chat_id: i64,
    recipient: i64,
    outgoing: Outgoing,
) -> Result<(Message, bool), ApiError> {
    let online = state.realtime.online(&[recipient]).await.first().copied().unwrap_or(false);
    let (message, fresh) = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let (message, fresh) = append(conn, chat_id, Some(user.id), outgoing).await?;
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

/// The file `name` of a live media message in `chat_id`, for its participants.
pub async fn media(state: &AppState, user: &AuthUser, chat_id: i64, name: &str) -> Result<(Message, Bytes), ApiError> {
    let no_file = || ApiError::not_found("no such file");
    if !media::is_name(name) {
        return Err(no_file());
    }
    let mut conn = state.db.get().await?;
    member_of(&mut conn, chat_id, user.id).await?;
    let message = store::by_media_url(&mut conn, chat_id, &media::url(chat_id, name)).await?.ok_or_else(no_file)?;
    drop(conn);
    let bytes = media::read(state, chat_id, name).await?;
    Ok((message, bytes))
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
    if let (Some(url), Some(_)) = (&message.media_url, changed.deleted_at) {
        media::forget(state, chat_id, url).await;
    }
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
