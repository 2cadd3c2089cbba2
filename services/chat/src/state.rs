//! What the handlers and sessions share.

use crate::config::ChatSettings;
use crate::realtime::Realtime;
use platform::db::PgPool;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: ChatSettings,
    pub realtime: Arc<Realtime>,
    /// Cancelled when the service is asked to shut down: WebSockets close with 1012.
    pub closing: CancellationToken,
}
