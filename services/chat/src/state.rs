//! What the handlers and sessions share.

use crate::config::{CallSettings, ChatSettings};
use crate::realtime::Realtime;
use platform::db::PgPool;
use platform::redis::RedisPool;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub redis: RedisPool,
    pub settings: ChatSettings,
    pub calls: CallSettings,
    pub realtime: Arc<Realtime>,
    /// Where support tickets' attachments are kept.
    pub storage: Arc<dyn object_store::ObjectStore>,
    /// Cancelled when the service is asked to shut down: WebSockets close with 1012.
    pub closing: CancellationToken,
}
