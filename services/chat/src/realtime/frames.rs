//! WebSocket frames: JSON text, one object per frame, told apart by `type`. The schemas are in
//! docs/realtime.md and in the OpenAPI document (`ServerFrame`, `ClientFrame`).

use crate::store::messages::Message;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What the server sends.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// A new message (also to the sender's other devices). `seq` is its place in the chat.
    Message { chat_id: i64, seq: i64, message: Message },
    /// A message was edited or deleted (a tombstone).
    MessageUpdated { chat_id: i64, seq: i64, message: Message },
    /// A new chat with the user (opened by the partner or by an accepted proposal).
    Chat { chat_id: i64, partner_id: i64, request_id: Option<i64> },
    /// The partner is typing, or stopped. Never stored.
    Typing { chat_id: i64, user_id: i64, typing: bool },
    /// `user_id` has read the chat up to `seq` (the partner, or the user on another device).
    Read { chat_id: i64, user_id: i64, seq: i64 },
    /// A chat partner came online or went offline.
    Presence { user_id: i64, online: bool, last_seen: Option<DateTime<Utc>> },
    /// The replay asked for has been sent: for each chat, the last sequence number delivered.
    /// Live frames follow.
    Resumed { chats: BTreeMap<i64, i64> },
    /// Answer to a `send` frame: the stored message (the first one for a repeated client id).
    Sent { client_message_id: Option<String>, message: Message },
    /// A call with the user started or changed status (ringing, active, ended…).
    Call { call: crate::calls::CallView },
    /// A WebRTC signal (offer, answer, ICE candidate) from the other participant of a call.
    CallSignal { call_id: i64, from_user_id: i64, signal: crate::calls::signal::Signal },
    /// A client frame could not be handled; the connection stays open.
    Error { code: String, message: String },
}

impl ServerFrame {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        ServerFrame::Error { code: code.to_owned(), message: message.into() }
    }

    pub fn to_bytes(&self) -> bytes::Bytes {
        serde_json::to_vec(self).expect("frames serialize").into()
    }
}

impl From<contracts::events::ChatTyping> for ServerFrame {
    fn from(event: contracts::events::ChatTyping) -> Self {
        ServerFrame::Typing { chat_id: event.chat_id, user_id: event.user_id, typing: event.typing }
    }
}

/// What a client sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Replays every message after the given sequence number, per chat (`{"12": 40}`), then
    /// live frames without duplicates.
    Resume {
        chats: BTreeMap<i64, i64>,
    },
    /// Sends a text message (answered by `sent`).
    Send {
        chat_id: i64,
        text: String,
        client_message_id: Option<String>,
    },
    Typing {
        chat_id: i64,
        typing: bool,
    },
    /// Moves the read mark forward to `seq`.
    Read {
        chat_id: i64,
        seq: i64,
    },
    /// Relays a WebRTC signal to the other participant of a ringing or active call (as
    /// `POST /api/v2/calls/{id}/webrtc-signal` does).
    CallSignal {
        call_id: i64,
        signal: crate::calls::signal::Signal,
    },
}

/// The part of a live frame the connection needs to deliver messages once and in order.
#[derive(Deserialize)]
pub struct Probe<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
    pub chat_id: Option<i64>,
    pub seq: Option<i64>,
}

impl<'a> Probe<'a> {
    pub fn of(frame: &'a [u8]) -> Option<Self> {
        serde_json::from_slice(frame).ok()
    }

    /// `(chat, seq)` of a new-message frame.
    pub fn message(&self) -> Option<(i64, i64)> {
        (self.kind == "message").then_some((self.chat_id?, self.seq?))
    }
}
