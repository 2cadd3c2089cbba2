//! What the two resumable upload paths (the seed's chunks and tus) share: the staged file, a
//! lease so that one request at a time writes an upload, the moment a finished upload becomes
//! a video, and the job that deletes abandoned uploads.

use crate::domain::video::VideoFields;
use crate::ingest::{self, IngestError};
use crate::state::AppState;
use crate::store::uploads::{self, Upload};
use crate::store::videos::Video;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use platform::ApiError;
use platform::redis::RedisPool;
use std::time::{Duration, Instant};

/// How long a lease lasts without being renewed (a crashed writer frees the upload after it).
const LEASE: Duration = Duration::from_secs(30);

/// The right to write one upload, held in Redis; renewed while writing, released when dropped.
pub struct Lease {
    redis: RedisPool,
    key: String,
    token: String,
    renewed: Instant,
}

impl Lease {
    /// Takes the upload's lease; 423 when another request holds it.
    pub async fn take(redis: &RedisPool, upload: uuid::Uuid) -> Result<Self, ApiError> {
        let key = redis.key(&format!("media:upload-lease:{upload}"));
        let token = uuid::Uuid::now_v7().to_string();
        let mut conn = redis.get().await?;
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(LEASE.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        if taken.is_none() {
            return Err(ApiError::new(
                actix_web::http::StatusCode::LOCKED,
                "upload_busy",
                "another request is writing this upload; try again when it ends",
            ));
        }
        Ok(Self { redis: redis.clone(), key, token, renewed: Instant::now() })
    }

    /// Renews the lease when a third of it has passed (call it as bytes arrive).
    pub async fn keep(&mut self) {
        if self.renewed.elapsed() < LEASE / 3 {
            return;
        }
        self.renewed = Instant::now();
        if let Ok(mut conn) = self.redis.get().await {
            let _: Result<(), _> =
                redis::cmd("PEXPIRE").arg(&self.key).arg(LEASE.as_millis() as u64).query_async(&mut conn).await;
        }
    }
}

const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

impl Drop for Lease {
    fn drop(&mut self) {
        let (redis, key, token) = (self.redis.clone(), std::mem::take(&mut self.key), std::mem::take(&mut self.token));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(mut conn) = redis.get().await {
                    let _: Result<i64, _> =
                        redis::Script::new(RELEASE).key(key).arg(token).invoke_async(&mut conn).await;
                }
            });
        }
    }
}

/// When an upload last touched now expires.
pub fn expiry(state: &AppState) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(state.settings.upload_ttl_secs as i64)
}

/// Makes a video of an upload whose bytes have all arrived, once (a racing request gets
/// `None`). A rejected file leaves the upload `rejected` with the error; a passing failure
/// leaves it resumable.
pub async fn finish(state: &AppState, upload: &Upload) -> Result<Option<Video>, ApiError> {
    let mut conn = state.db.get().await?;
    if !uploads::begin_assembly(&mut conn, upload.id).await? {
        return Ok(None);
    }
    drop(conn);
    let fields: VideoFields = serde_json::from_value(upload.metadata.clone()).map_err(ApiError::internal)?;
    let file = state.storage.staged(upload.id);
    if let Some(length) = upload.length {
        // Bytes past the end (from an interrupted write that was later overtaken) go.
        let trimmed =
            async { tokio::fs::OpenOptions::new().write(true).open(&file).await?.set_len(length as u64).await };
        trimmed.await.map_err(ApiError::internal)?;
    }
    let outcome = ingest::video_from_file(state, upload.user_id, fields, &file, None).await;
    let mut conn = state.db.get().await?;
    match outcome {
        Ok(video) => {
            uploads::complete(&mut conn, upload.id, Some(video.id)).await?;
            Ok(Some(video))
        }
        Err(IngestError::Rejected(error)) => {
            uploads::reject(&mut conn, upload.id, serde_json::to_value(error.body()).unwrap_or_default()).await?;
            Err(error)
        }
        Err(IngestError::Unavailable(error)) => {
            uploads::abort_assembly(&mut conn, upload.id).await?;
            Err(error)
        }
    }
}

pub async fn expire_once(state: &AppState) -> anyhow::Result<usize> {
    let mut conn = state.db.get().await?;
    let expired = uploads::expired(&mut conn, Utc::now(), 500).await?;
    for upload in &expired {
        crate::storage::remove_staged(&state.storage.staged(upload.id)).await;
        uploads::delete(&mut conn, upload.id).await?;
        tracing::info!(upload_id = %upload.id, "abandoned upload deleted");
    }
    Ok(expired.len())
}
