//! The chat service's configuration: the platform sections plus `chat`.

use serde::Deserialize;

pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("CHAT_TEXT_LIMIT", "chat.text_limit"),
    ("CHAT_EDIT_WINDOW_SECS", "chat.edit_window_secs"),
    ("CHAT_SEND_QUEUE", "chat.send_queue"),
    ("CHAT_HEARTBEAT_SECS", "chat.heartbeat_secs"),
    ("CHAT_PRESENCE_TTL_SECS", "chat.presence_ttl_secs"),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub chat: ChatSettings,
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
