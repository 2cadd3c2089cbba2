//! What every handler shares.

use crate::unsubscribe::Unsubscribe;
use platform::db::PgPool;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub unsubscribe: Unsubscribe,
    /// Wakes the sender when deliveries become due (requeued, released).
    pub wake: Arc<Notify>,
}
