//! Calls between chat partners: starting one, answering, ending; the sweep that makes
//! unanswered calls missed; WebRTC tokens; signalling relayed to the other participant's
//! WebSockets. Both participants get a `call` frame on every change of status.

pub mod machine;
pub mod signal;
pub mod tokens;

use crate::realtime::frames::ServerFrame;
use crate::state::AppState;
use crate::store::calls::{self as store, Call, Change, NewCall};
use crate::store::{blocks, chats as chat_store};
use actix_web::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use contracts::events::{CallAnswered, CallEnded, CallInitiated, CallMissed};
use deadpool_redis::redis;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use machine::{CallAction, CallKind, CallStatus, Party, Refused};
use platform::pagination::{Page, PageRequest};
use platform::{ApiError, AuthUser, outbox};
use serde::Serialize;
use signal::Signal;
use utoipa::ToSchema;

/// A call as its participants see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallView {
    pub id: i64,
    pub caller_id: i64,
    pub callee_id: i64,
    pub kind: CallKind,
    pub status: CallStatus,
    /// Media is end-to-end encrypted with a key only the participants get (with their token).
    pub secure: bool,
    pub created_at: DateTime<Utc>,
    /// A ringing call becomes missed at this moment.
    pub ring_deadline: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Who hung up, declined or cancelled (null for missed calls and the longest-call limit).
    pub ended_by: Option<i64>,
    /// Seconds from the answer to the end (0 when never answered; so far, while active).
    pub duration_seconds: i32,
}

impl From<&Call> for CallView {
    fn from(call: &Call) -> Self {
        let status = CallStatus::parse(&call.status).unwrap_or(CallStatus::Ended);
        Self {
            id: call.id,
            caller_id: call.caller_id,
            callee_id: call.callee_id,
            kind: CallKind::parse(&call.kind).unwrap_or(CallKind::Audio),
            status,
            secure: call.media_key.is_some(),
            created_at: call.created_at,
            ring_deadline: call.ring_deadline,
            answered_at: call.answered_at,
            ended_at: call.ended_at,
            ended_by: call.ended_by,
            duration_seconds: machine::duration_secs(call.answered_at, call.ended_at.unwrap_or_else(Utc::now)),
        }
    }
}

/// A WebRTC token, with the media key of a secure call.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallToken {
    #[serde(flatten)]
    pub token: tokens::WebRtcToken,
    /// Only for a secure call: both participants encrypt media with this key.
    pub encryption: Option<MediaEncryption>,
}

/// The key of a secure call (for Agora's `enableEncryption` with `AES_256_GCM2`, or an
/// insertable-streams transform on plain WebRTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaEncryption {
    /// Always `aes-256-gcm`.
    pub mode: &'static str,
    /// 32 bytes, base64.
    pub key: String,
    /// 32 bytes, base64: the key-derivation salt.
    pub salt: String,
}

fn not_found() -> ApiError {
    ApiError::not_found("no such call")
}

fn refused(refusal: Refused) -> ApiError {
    match refusal {
        Refused::NotYours(_) => ApiError::forbidden(refusal.to_string()),
        Refused::WrongState(_) => ApiError::conflict("invalid_call_state", refusal.to_string()),
    }
}

fn busy() -> ApiError {
    ApiError::conflict("busy", "you or the other user are already on a call")
}

/// The call `id` with the caller's side in it; strangers are told it does not exist.
fn side_of(call: Option<Call>, user_id: i64) -> Result<(Call, Party), ApiError> {
    let call = call.ok_or_else(not_found)?;
    let party = Party::of(user_id, call.caller_id, call.callee_id).ok_or_else(not_found)?;
    Ok((call, party))
}

/// Calls `recipient_id`, a chat partner of the caller: 409 `busy` when either is on a call,
/// 403 `blocked` when either has blocked the other, 403 `not_chat_partners` without a chat.
pub async fn initiate(
    state: &AppState,
    user: &AuthUser,
    recipient_id: i64,
    kind: CallKind,
    secure: bool,
) -> Result<CallView, ApiError> {
    if recipient_id == user.id || recipient_id <= 0 {
        return Err(ApiError::validation([("recipient_id", "must be another user".to_owned())]));
    }
    let mut conn = state.db.get().await?;
    if blocks::between(&mut conn, user.id, recipient_id).await? {
        return Err(crate::chats::blocked());
    }
    if !chat_store::have_chat(&mut conn, user.id, recipient_id).await? {
        let message = "you can call only someone you have a chat with";
        return Err(ApiError::new(StatusCode::FORBIDDEN, "not_chat_partners", message));
    }
    let (key, salt) = if secure { (Some(random_bytes()?), Some(random_bytes()?)) } else { (None, None) };
    let new = NewCall {
        caller_id: user.id,
        callee_id: recipient_id,
        kind: kind.as_str(),
        media_key: key,
        media_salt: salt,
        ring_deadline: Utc::now() + seconds(state.calls.ring_timeout_secs),
    };
    let call = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let call = store::insert(conn, &new).await?;
            if !store::take_lines(conn, &call).await? {
                return Err(busy());
            }
            let event = CallInitiated {
                call_id: call.id,
                caller_id: call.caller_id,
                callee_id: call.callee_id,
                kind: call.kind.clone(),
            };
            outbox::publish(conn, event).await?;
            Ok(call)
        })
        .await?;
    drop(conn);
    Ok(announce(state, &call).await)
}

/// Answers, declines, cancels or ends call `id` as `user`.
pub async fn act(state: &AppState, user: &AuthUser, id: i64, action: CallAction) -> Result<CallView, ApiError> {
    let mut conn = state.db.get().await?;
    let call = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let (call, party) = side_of(store::lock(conn, id).await?, user.id)?;
            apply(conn, &call, action, party, Some(user.id)).await
        })
        .await?;
    drop(conn);
    Ok(announce(state, &call).await)
}

/// Moves a locked call on by `action` and publishes the event it makes, in the caller's
/// transaction.
async fn apply(
    conn: &mut AsyncPgConnection,
    call: &Call,
    action: CallAction,
    party: Party,
    actor: Option<i64>,
) -> Result<Call, ApiError> {
    let status = CallStatus::parse(&call.status).ok_or_else(|| ApiError::internal("unknown call status"))?;
    let next = machine::transition(status, action, party).map_err(refused)?;
    let now = Utc::now();
    let finished = !next.is_live();
    let change = Change {
        status: next.as_str(),
        answered_at: (next == CallStatus::Active).then_some(now),
        ended_at: finished.then_some(now),
        ended_by: if finished { actor } else { None },
    };
    let call = store::update(conn, call.id, &change).await?;
    if finished {
        store::free_lines(conn, call.id).await?;
    }
    let (call_id, caller_id, callee_id) = (call.id, call.caller_id, call.callee_id);
    match next {
        CallStatus::Active => outbox::publish(conn, CallAnswered { call_id, caller_id, callee_id }).await?,
        CallStatus::Missed => outbox::publish(conn, CallMissed { call_id, caller_id, callee_id }).await?,
        CallStatus::Ended | CallStatus::Declined | CallStatus::Cancelled => {
            let event = CallEnded {
                call_id,
                caller_id,
                callee_id,
                duration_seconds: machine::duration_secs(call.answered_at, now),
                outcome: next.as_str().to_owned(),
                ended_by: actor.unwrap_or(0),
            };
            outbox::publish(conn, event).await?;
        }
        CallStatus::Ringing => {}
    }
    Ok(call)
}

/// Tells both participants' connections where the call stands.
async fn announce(state: &AppState, call: &Call) -> CallView {
    let view = CallView::from(call);
    state.realtime.push(&call.participants(), &ServerFrame::Call { call: view.clone() }).await;
    view
}

/// Makes unanswered calls missed and ends calls over the longest-call limit. Each replica
/// runs it; the rows are locked with SKIP LOCKED, so each call is handled once.
pub async fn sweep(state: &AppState) -> anyhow::Result<()> {
    const BATCH: i64 = 100;
    let now = Utc::now();
    let over = now - seconds(state.calls.max_duration_secs);
    loop {
        let mut conn = state.db.get().await?;
        let changed = conn
            .transaction::<_, ApiError, _>(async |conn| {
                let mut changed = Vec::new();
                for call in store::due(conn, now, over, BATCH).await? {
                    let action = if call.status == "ringing" { CallAction::Miss } else { CallAction::End };
                    changed.push(apply(conn, &call, action, Party::Clock, None).await?);
                }
                Ok(changed)
            })
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        drop(conn);
        let done = (changed.len() as i64) < BATCH;
        for call in &changed {
            announce(state, call).await;
        }
        if done {
            return Ok(());
        }
    }
}

/// Call `id` as its participant `user` sees it.
pub async fn view(state: &AppState, user: &AuthUser, id: i64) -> Result<CallView, ApiError> {
    let mut conn = state.db.get().await?;
    let (call, _) = side_of(store::find(&mut conn, id).await?, user.id)?;
    Ok(CallView::from(&call))
}

/// Which of the user's calls a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    All,
    /// Finished calls.
    History,
}

pub async fn list(
    state: &AppState,
    user: &AuthUser,
    listing: Listing,
    page: &PageRequest,
) -> Result<Page<CallView>, ApiError> {
    const FINISHED: [&str; 4] = ["ended", "missed", "declined", "cancelled"];
    let statuses = match listing {
        Listing::All => None,
        Listing::History => Some(&FINISHED[..]),
    };
    let mut conn = state.db.get().await?;
    let rows = store::page_of(&mut conn, user.id, statuses, page).await?;
    Ok(Page::from_rows(rows, page, |call| (call.created_at, call.id)).map(|call| CallView::from(&call)))
}

/// The ringing or active calls the user is on.
pub async fn active(state: &AppState, user: &AuthUser) -> Result<Vec<CallView>, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(store::live_of(&mut conn, user.id).await?.iter().map(CallView::from).collect())
}

/// A WebRTC token for a participant of a ringing or active call: at most
/// `calls.max_tokens_per_call` per call (counted in Redis, atomically), then 409 `token_limit`.
pub async fn token(state: &AppState, user: &AuthUser, id: i64) -> Result<CallToken, ApiError> {
    let call = live_call(state, user, id).await?;
    // Issued before it is counted: a provider that is not configured costs the call no token.
    let token = tokens::issue(&state.calls.tokens, call.id, user.id, Utc::now().timestamp())
        .map_err(|error| ApiError::unavailable(error.to_string()))?;
    let key = state.redis.key(&format!("chat:call:{}:tokens", call.id));
    let window = state.calls.ring_timeout_secs + state.calls.max_duration_secs;
    let (issued, _): (i64, ()) = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .expire(&key, window as i64)
        .query_async(&mut state.redis.get().await.map_err(ApiError::internal)?)
        .await
        .map_err(ApiError::internal)?;
    if issued > state.calls.max_tokens_per_call {
        return Err(ApiError::conflict("token_limit", "this call has had all its tokens"));
    }
    let encryption = match (&call.media_key, &call.media_salt) {
        (Some(key), Some(salt)) => Some(MediaEncryption { mode: "aes-256-gcm", key: base64(key), salt: base64(salt) }),
        _ => None,
    };
    Ok(CallToken { token, encryption })
}

/// Relays a signal to the other participant of a ringing or active call (on any replica).
pub async fn signal(state: &AppState, user: &AuthUser, id: i64, signal: Signal) -> Result<(), ApiError> {
    signal.validate(state.calls.max_sdp_bytes).map_err(|problem| ApiError::validation([("signal", problem)]))?;
    let call = live_call(state, user, id).await?;
    let frame = ServerFrame::CallSignal { call_id: call.id, from_user_id: user.id, signal };
    state.realtime.push(&[call.other_than(user.id)], &frame).await;
    Ok(())
}

/// Call `id` if `user` is on it and it is ringing or active.
async fn live_call(state: &AppState, user: &AuthUser, id: i64) -> Result<Call, ApiError> {
    let mut conn = state.db.get().await?;
    let (call, _) = side_of(store::find(&mut conn, id).await?, user.id)?;
    let status = CallStatus::parse(&call.status).unwrap_or(CallStatus::Ended);
    if !status.is_live() {
        return Err(refused(Refused::WrongState(status)));
    }
    Ok(call)
}

fn seconds(secs: u64) -> Duration {
    Duration::seconds(secs.min(u64::from(u32::MAX)) as i64)
}

fn random_bytes() -> Result<Vec<u8>, ApiError> {
    let mut bytes = vec![0; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(bytes)
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
