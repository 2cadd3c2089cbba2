//! The digest: low-priority notifications of users who chose it, gathered into one message
//! per interval.

use crate::domain::plan;
use crate::events::notify;
use crate::store::notifications;
use diesel_async::AsyncConnection;
use platform::db::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Sends due digests every `interval` until `stop`.
pub async fn run(db: PgPool, interval: Duration, wake: Arc<Notify>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return,
        }
        match send_due(&db).await {
            Ok(0) => {}
            Ok(sent) => {
                tracing::info!(sent, "digests queued");
                wake.notify_one();
            }
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "digests not sent"),
        }
    }
}

/// Turns every user's waiting low-priority notifications into one digest; how many digests.
pub async fn send_due(db: &PgPool) -> anyhow::Result<usize> {
    let mut conn = db.get().await?;
    let users = notifications::digest_users(&mut conn, 500).await?;
    for &user_id in &users {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let kinds = notifications::take_digest(conn, user_id).await?;
            if !kinds.is_empty() {
                let source = format!("digest:{}", uuid::Uuid::now_v7());
                notify(conn, &source, &plan::digest(user_id, &kinds)).await?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(users.len())
}
