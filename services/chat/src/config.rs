//! The chat service's configuration: the platform sections plus `chat`.

use serde::Deserialize;

pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("CHAT_TEXT_LIMIT", "chat.text_limit"),
    ("CHAT_EDIT_WINDOW_SECS", "chat.edit_window_secs"),
    ("CHAT_SEND_QUEUE", "chat.send_queue"),
    ("CHAT_HEARTBEAT_SECS", "chat.heartbeat_secs"),
    ("CHAT_PRESENCE_TTL_SECS", "chat.presence_ttl_secs"),
    ("CALL_RING_TIMEOUT_SECS", "calls.ring_timeout_secs"),
    ("CALL_MAX_DURATION_SECS", "calls.max_duration_secs"),
    ("CALL_MAX_TOKENS", "calls.max_tokens_per_call"),
    ("WEBRTC_PROVIDER", "calls.tokens.provider"),
    ("WEBRTC_TOKEN_TTL_SECS", "calls.tokens.ttl_secs"),
    ("TURN_SECRET", "calls.tokens.turn.secret"),
    ("AGORA_APP_ID", "calls.tokens.agora.app_id"),
    ("AGORA_APP_CERTIFICATE", "calls.tokens.agora.app_certificate"),
    ("TWILIO_ACCOUNT_SID", "calls.tokens.twilio.account_sid"),
    ("TWILIO_API_KEY", "calls.tokens.twilio.api_key_sid"),
    ("TWILIO_API_SECRET", "calls.tokens.twilio.api_key_secret"),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub chat: ChatSettings,
    pub calls: CallSettings,
}

impl platform::service::ServiceConfig for Config {
    fn platform(&self) -> &platform::Settings {
        &self.platform
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    /// The longest text message, in characters.
    pub text_limit: usize,
    /// A sender may edit or delete a message for this long after sending it.
    pub edit_window_secs: i64,
    /// Frames waiting for one WebSocket; a client that lets more pile up is disconnected (4008).
    pub send_queue: usize,
    /// The largest frame a client may send, in bytes (larger: closed with 1009).
    pub max_frame_bytes: usize,
    /// The server pings every this many seconds; a client silent for three of them is dropped.
    pub heartbeat_secs: u64,
    /// A connection counts as online this long after its last heartbeat (a killed replica's
    /// users go offline within it).
    pub presence_ttl_secs: u64,
    /// Messages replayed per database round trip on resume.
    pub replay_batch: i64,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            text_limit: 4000,
            edit_window_secs: 15 * 60,
            send_queue: 256,
            max_frame_bytes: 16 * 1024,
            heartbeat_secs: 10,
            presence_ttl_secs: 30,
            replay_batch: 200,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CallSettings {
    /// A call nobody answers within this many seconds becomes missed.
    pub ring_timeout_secs: u64,
    /// An answered call still going after this long is ended (two crashed clients would
    /// otherwise stay busy for ever).
    pub max_duration_secs: u64,
    /// How often a replica looks for unanswered and overlong calls.
    pub sweep_secs: u64,
    /// WebRTC tokens handed out per call, whoever asks.
    pub max_tokens_per_call: i64,
    /// The largest session description a signal may carry, in characters (over the WebSocket
    /// it also has to fit in a frame, `chat.max_frame_bytes`).
    pub max_sdp_bytes: usize,
    pub tokens: crate::calls::tokens::TokenSettings,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            ring_timeout_secs: 45,
            max_duration_secs: 4 * 3600,
            sweep_secs: 5,
            max_tokens_per_call: 2,
            max_sdp_bytes: 12 * 1024,
            tokens: Default::default(),
        }
    }
}
