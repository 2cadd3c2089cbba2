//! One WebSocket, from registration to close. Every message frame is delivered once and in
//! order per chat: the connection remembers the last sequence number it delivered per chat,
//! drops live frames at or below it, and fills a gap (a live frame ahead of the next number)
//! from the database before delivering it. A resume (the `after` of the upgrade request, or a
//! `resume` frame) replays from the database after the client's positions; live frames that
//! arrive meanwhile wait in the queue and pass the same check.

use super::frames::{ClientFrame, Probe, ServerFrame};
use super::hub::Registration;
use crate::messages::{self, Outgoing};
use crate::state::AppState;
use crate::store::{chats, messages as store};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use bytes::Bytes;
use bytestring::ByteString;
use platform::{ApiError, AuthUser};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Close codes (docs/realtime.md).
pub const CLOSE_SLOW: u16 = 4008;
pub const CLOSE_SILENT: u16 = 4000;

/// Why a session ended: the close frame to send, if any.
enum End {
    Close(CloseReason),
    /// The client went away, or the socket is gone.
    Gone,
}

fn close(code: impl Into<CloseCode>, description: &str) -> End {
    End::Close(CloseReason { code: code.into(), description: Some(description.to_owned()) })
}

struct Connection {
    state: actix_web::web::Data<AppState>,
    user: AuthUser,
    session: Session,
    /// The last sequence number delivered, per chat.
    delivered: HashMap<i64, i64>,
    /// Chats this user takes part in, with the partner (typing frames are checked against it).
    partners: HashMap<i64, i64>,
    /// Cancelled by the hub when this connection's queue overflowed.
    slow: CancellationToken,
}

/// Runs the session until the client leaves, the server shuts down, or the client is too slow
/// or silent.
pub async fn run(
    state: actix_web::web::Data<AppState>,
    user: AuthUser,
    session: Session,
    mut stream: MessageStream,
    after: BTreeMap<i64, i64>,
) {
    let realtime = state.realtime.clone();
    let registration = match realtime.hub.register(user.id).await {
        Ok(registration) => registration,
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "real-time subscription failed");
            let _ = session.close(Some(CloseReason { code: CloseCode::Again, description: None })).await;
            return;
        }
    };
    let Registration { id, mut frames, slow } = registration;
    let presence_id = format!("{}:{id}", uuid::Uuid::now_v7().simple());
    let mut connection = Connection {
        state: state.clone(),
        user,
        session,
        delivered: HashMap::new(),
        partners: HashMap::new(),
        slow: slow.clone(),
    };
    let user_id = connection.user.id;
    if realtime.presence.beat(user_id, &presence_id).await.unwrap_or(false) {
        connection.tell_partners(true).await;
    }
    let heartbeat = Duration::from_secs(state.settings.heartbeat_secs.max(1));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let closing = state.closing.clone();

    let end = async {
        if !after.is_empty() {
            connection.resume(after).await?;
        }
        loop {
            tokio::select! {
                biased;
                _ = closing.cancelled() => return Err(close(CloseCode::Restart, "the server is restarting")),
                _ = slow.cancelled() => return Err(too_slow()),
                frame = frames.recv() => match frame {
                    Some(frame) => connection.live(frame).await?,
                    None => return Err(End::Gone),
                },
                incoming = stream.recv() => {
                    last_heard = Instant::now();
                    match incoming {
                        Some(Ok(message)) => connection.incoming(message).await?,
                        Some(Err(actix_ws::ProtocolError::Overflow)) => {
                            return Err(close(CloseCode::Size, "frame too large"));
                        }
                        Some(Err(_)) => return Err(close(CloseCode::Protocol, "protocol error")),
                        None => return Err(End::Gone),
                    }
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > heartbeat * 3 {
                        return Err(close(CLOSE_SILENT, "no pong"));
                    }
                    connection.session.ping(b"").await.map_err(|_| End::Gone)?;
                    if let Err(error) = realtime.presence.beat(user_id, &presence_id).await {
                        tracing::warn!(error = %format!("{error:#}"), "presence heartbeat failed");
                    }
                }
            }
        }
    };
    let outcome: Result<(), End> = end.await;
    realtime.hub.unregister(user_id, id).await;
    if realtime.presence.gone(user_id, &presence_id).await.unwrap_or(false) {
        connection.tell_partners(false).await;
    }
    if let Err(End::Close(reason)) = outcome {
        // The close frame queues behind what the socket has not taken yet: a slow client gets
        // it if it reads again soon; the session does not wait for that.
        let session = connection.session;
        actix_web::rt::spawn(async move {
            let _ = tokio::time::timeout(CLOSE_GRACE, session.close(Some(reason))).await;
        });
    }
}

/// How long a close frame may wait for a slow socket.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

fn too_slow() -> End {
    close(CLOSE_SLOW, "too slow: frames piled up")
}

impl Connection {
    async fn send(&mut self, frame: &ServerFrame) -> Result<(), End> {
        self.send_bytes(frame.to_bytes()).await
    }

    async fn send_bytes(&mut self, frame: Bytes) -> Result<(), End> {
        let text = ByteString::try_from(frame).map_err(|_| End::Gone)?;
        tokio::select! {
            sent = self.session.text(text) => sent.map_err(|_| End::Gone),
            _ = self.slow.cancelled() => Err(too_slow()),
        }
    }

    /// A frame from NATS: messages once and in order per chat; anything else as it comes.
    async fn live(&mut self, frame: Bytes) -> Result<(), End> {
        let Some((chat_id, seq)) = Probe::of(&frame).and_then(|probe| probe.message()) else {
            return self.send_bytes(frame).await;
        };
        if let Some(&last) = self.delivered.get(&chat_id) {
            if seq <= last {
                return Ok(());
            }
            if seq > last + 1 {
                self.replay(chat_id, last).await?;
                if self.delivered.get(&chat_id).is_some_and(|&now| seq <= now) {
                    return Ok(());
                }
            }
        }
        self.send_bytes(frame).await?;
        self.delivered.insert(chat_id, seq);
        Ok(())
    }

    /// Sends every stored message of the chat after `after`, oldest first.
    async fn replay(&mut self, chat_id: i64, mut after: i64) -> Result<(), End> {
        let batch = self.state.settings.replay_batch.max(1);
        loop {
            let page = match self.state.db.get().await {
                Ok(mut conn) => store::after(&mut conn, chat_id, after, None, batch).await.map_err(ApiError::from),
                Err(error) => Err(error.into()),
            };
            let page = match page {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, chat_id, "replay failed");
                    return Err(close(CloseCode::Again, "history unavailable: reconnect and resume"));
                }
            };
            let full = page.len() as i64 == batch;
            for message in page {
                after = message.seq;
                self.send(&ServerFrame::Message { chat_id, seq: message.seq, message }).await?;
                self.delivered.insert(chat_id, after);
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Replays the chats the user takes part in after the given positions, then says so.
    async fn resume(&mut self, after: BTreeMap<i64, i64>) -> Result<(), End> {
        let ids: Vec<i64> = after.keys().copied().collect();
        let members = match self.state.db.get().await {
            Ok(mut conn) => chats::memberships_among(&mut conn, self.user.id, &ids).await.map_err(ApiError::from),
            Err(error) => Err(error.into()),
        };
        let members = match members {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(%error, "resume failed");
                return Err(close(CloseCode::Again, "history unavailable: reconnect and resume"));
            }
        };
        let mut resumed = BTreeMap::new();
        for member in members {
            self.partners.insert(member.chat_id, member.partner_id);
            let from = after[&member.chat_id].max(0);
            let start = self.delivered.get(&member.chat_id).map_or(from, |&delivered| delivered.max(from));
            self.replay(member.chat_id, start).await?;
            let delivered = self.delivered.entry(member.chat_id).or_insert(start);
            *delivered = (*delivered).max(start);
            resumed.insert(member.chat_id, *delivered);
        }
        self.send(&ServerFrame::Resumed { chats: resumed }).await
    }

    async fn incoming(&mut self, message: Message) -> Result<(), End> {
        match message {
            Message::Text(text) => {
                let reply = match serde_json::from_str::<ClientFrame>(&text) {
                    Ok(frame) => self.handle(frame).await?,
                    Err(error) => Some(ServerFrame::error("bad_frame", error.to_string())),
                };
                match reply {
                    Some(reply) => self.send(&reply).await,
                    None => Ok(()),
                }
            }
            Message::Binary(_) => self.send(&ServerFrame::error("bad_frame", "frames are JSON text")).await,
            Message::Ping(payload) => self.session.pong(&payload).await.map_err(|_| End::Gone),
            Message::Close(_) => Err(End::Close(CloseReason { code: CloseCode::Normal, description: None })),
            Message::Pong(_) | Message::Continuation(_) | Message::Nop => Ok(()),
        }
    }

    /// Handles a client frame; the frame to answer with, if any.
    async fn handle(&mut self, frame: ClientFrame) -> Result<Option<ServerFrame>, End> {
        let state = self.state.clone();
        let answer = match frame {
            ClientFrame::Resume { chats } => return self.resume(chats).await.map(|()| None),
            ClientFrame::Send { chat_id, text, client_message_id } => {
                let sent = async {
                    let outgoing = Outgoing::parse(&text, client_message_id.as_deref(), state.settings.text_limit)?;
                    messages::send(&state, &self.user, chat_id, outgoing).await
                };
                sent.await.map(|(message, _)| Some(ServerFrame::Sent { client_message_id, message }))
            }
            ClientFrame::Read { chat_id, seq } => messages::read(&state, &self.user, chat_id, seq).await.map(|_| None),
            ClientFrame::CallSignal { call_id, signal } => {
                crate::calls::signal(&state, &self.user, call_id, signal).await.map(|()| None)
            }
            ClientFrame::Typing { chat_id, typing } => match self.partner(chat_id).await {
                Ok(partner) => {
                    messages::typing(&state, &self.user, partner, chat_id, typing).await;
                    Ok(None)
                }
                Err(error) => Err(error),
            },
        };
        Ok(answer.unwrap_or_else(|error| Some(ServerFrame::error(error.code, error.message))))
    }

    /// The partner in a chat of this user (remembered once checked); 404 for strangers.
    async fn partner(&mut self, chat_id: i64) -> Result<i64, ApiError> {
        if let Some(&partner) = self.partners.get(&chat_id) {
            return Ok(partner);
        }
        let mut conn = self.state.db.get().await?;
        let member = crate::chats::member_of(&mut conn, chat_id, self.user.id).await?;
        self.partners.insert(chat_id, member.partner_id);
        Ok(member.partner_id)
    }

    /// Tells the user's chat partners they came online or went offline.
    async fn tell_partners(&self, online: bool) {
        let partners = match self.state.db.get().await {
            Ok(mut conn) => chats::partners(&mut conn, self.user.id).await.unwrap_or_default(),
            Err(_) => return,
        };
        let last_seen = if online { None } else { Some(chrono::Utc::now()) };
        let frame = ServerFrame::Presence { user_id: self.user.id, online, last_seen };
        self.state.realtime.push(&partners, &frame).await;
    }
}
