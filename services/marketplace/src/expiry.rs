//! The job that expires open requests past their deadline (any number of replicas may run it:
//! each claims rows with SKIP LOCKED).

use crate::store::requests;
use chrono::Utc;
use contracts::events::RequestExpired;
use diesel_async::AsyncConnection;
use platform::db::PgPool;
use platform::outbox;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH: i64 = 500;

/// Expires what is due; returns how many requests expired.
pub async fn expire_due(db: &PgPool) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let mut conn = db.get().await?;
        let expired = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let expired = requests::expire_due(conn, Utc::now(), BATCH).await?;
                for request in &expired {
                    let event = RequestExpired { request_id: request.id.get(), buyer_id: request.buyer_id };
                    outbox::publish(conn, event).await?;
                }
                Ok(expired.len())
            })
            .await?;
        total += expired;
        if (expired as i64) < BATCH {
            return Ok(total);
        }
    }
}

pub async fn run(db: PgPool, interval: Duration, stop: CancellationToken) {
    loop {
        match expire_due(&db).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "requests expired"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "request expiry failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
