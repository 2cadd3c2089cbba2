//! Where the three upload paths meet: a whole file, staged locally, becomes a video. Its type
//! is decided by its bytes and ffprobe; then it is committed to storage, and the video row,
//! its `video.uploaded` event and its processing job are written in one transaction.

use crate::domain::container::{self, Container, Rejection, SNIFF_BYTES};
use crate::domain::video::VideoFields;
use crate::probe::{self, ProbeError};
use crate::state::AppState;
use crate::store::videos::{self, NewVideo, Video};
use actix_web::http::StatusCode;
use contracts::events::VideoUploaded;
use contracts::{Envelope, subjects};
use diesel_async::AsyncConnection;
use object_store::path::Path as ObjectPath;
use platform::ApiError;
use platform::outbox::{self, Destination};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// Why a file did not become a video.
#[derive(Debug)]
pub enum IngestError {
    /// The file is not an acceptable video; it has been deleted.
    Rejected(ApiError),
    /// Storage or the database failed; the staged file is left as it was.
    Unavailable(ApiError),
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Rejected(error) | IngestError::Unavailable(error) => error,
        }
    }
}

/// A custom cover image, staged.
pub struct Cover {
    pub file: PathBuf,
    pub extension: &'static str,
}

/// What the largest upload is, in words.
pub fn size_limit(max_bytes: u64) -> String {
    format!("a video may be at most {} MB", max_bytes / (1024 * 1024))
}

pub fn too_large(max_bytes: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", size_limit(max_bytes))
        .with_details(serde_json::json!({ "max_bytes": max_bytes }))
}

pub fn rejection(rejection: Rejection) -> ApiError {
    match rejection {
        Rejection::Empty => ApiError::bad_request("empty_file", rejection.to_string()),
        Rejection::NotAVideo => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", rejection.to_string())
                .with_details(serde_json::json!({ "accepted": ["mp4", "mov", "avi", "webm"] }))
        }
    }
}

/// Checks that `file` is a whole, readable video of an accepted container.
pub async fn inspect(state: &AppState, file: &Path) -> Result<(Container, u64, videos::Facts), ApiError> {
    let size = tokio::fs::metadata(file).await.map_err(ApiError::internal)?.len();
    if size > state.settings.max_upload_bytes {
        return Err(too_large(state.settings.max_upload_bytes));
    }
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    tokio::fs::File::open(file)
        .await
        .map_err(ApiError::internal)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .await
        .map_err(ApiError::internal)?;
    let container = container::sniff(&head).map_err(rejection)?;
    let probe = probe::probe(&state.settings.ffprobe, file).await.map_err(|error| match error {
        ProbeError::Unreadable(reason) => {
            ApiError::unprocessable("unreadable_video", format!("the video cannot be read: {reason}"))
        }
        ProbeError::Tool(error) => ApiError::internal(error),
    })?;
    Ok((container, size, probe.facts))
}

/// Makes a video of the staged `file` (moved into storage on success, deleted when rejected).
pub async fn video_from_file(
    state: &AppState,
    user_id: i64,
    fields: VideoFields,
    file: &Path,
    cover: Option<Cover>,
) -> Result<Video, IngestError> {
    let (container, size, facts) = match inspect(state, file).await {
        Ok(inspected) => inspected,
        Err(error) if error.status.is_client_error() => {
            crate::storage::remove_staged(file).await;
            if let Some(cover) = &cover {
                crate::storage::remove_staged(&cover.file).await;
            }
            return Err(IngestError::Rejected(error));
        }
        Err(error) => return Err(IngestError::Unavailable(error)),
    };
    let unavailable = |error: ApiError| IngestError::Unavailable(error);
    let mut conn = state.db.get().await.map_err(|e| unavailable(e.into()))?;
    let id = videos::next_id(&mut conn).await.map_err(|e| unavailable(e.into()))?;
    let original = ObjectPath::from(format!("videos/{id}/original.{}", container.extension()));
    state.storage.commit(file, &original).await.map_err(|e| unavailable(ApiError::internal(format!("{e:#}"))))?;
    let mut video = NewVideo::new(id, user_id, fields);
    video.original_path = original.to_string();
    video.container = container.extension().to_owned();
    video.size_bytes = size as i64;
    video.facts = facts;
    if let Some(cover) = cover {
        let path = ObjectPath::from(format!("videos/{id}/cover.{}", cover.extension));
        match state.storage.commit(&cover.file, &path).await {
            Ok(()) => video.cover_path = Some(path.to_string()),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), video_id = id, "the cover was not kept"),
        }
    }
    let created = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let created = videos::insert(conn, &video).await?;
            let event = VideoUploaded {
                video_id: created.id,
                author_id: created.user_id,
                title: created.title.clone(),
                hashtags: created.hashtags.clone(),
                price_minor: created.price_minor,
                is_ad: created.is_ad,
            };
            // One row, two destinations: the event on Kafka and the processing job on JetStream.
            let to = Destination {
                kafka_topic: Some(contracts::topics::MEDIA_VIDEOS.to_owned()),
                nats_subject: Some(subjects::JOBS_MEDIA_PROCESS.to_owned()),
            };
            outbox::enqueue(conn, Envelope::of(event), &to).await?;
            Ok(created)
        })
        .await;
    match created {
        Ok(created) => {
            state.metrics.videos_uploaded.inc();
            Ok(created)
        }
        Err(error) => {
            if let Err(cleanup) = state.storage.delete_prefix(&ObjectPath::from(format!("videos/{id}"))).await {
                tracing::warn!(error = %format!("{cleanup:#}"), video_id = id, "stored files of a failed upload remain");
            }
            Err(IngestError::Unavailable(error))
        }
    }
}
