//! Video analysis on request: the owner asks (`POST /videos/{id}/analyze`), a row and its job
//! (`jobs.media.analyze`, through the outbox) are written together, and the analyzer fills the
//! row. A job delivered again redoes the analysis and overwrites the same row; past
//! `job_max_attempts` the analysis fails with the reason.

use crate::domain::analysis::{self, AnalysisType, Finding, Frames};
use crate::state::AppState;
use crate::store::videos::{self, Video};
use crate::worker::{JobHandler, Queue};
use async_nats::jetstream::{self, AckKind};
use chrono::{DateTime, Utc};
use contracts::events::VideoAnalysisRequested;
use contracts::{Envelope, Payload, subjects};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use object_store::path::Path as ObjectPath;
use platform::ApiError;
use platform::outbox::{self, Destination};
use serde::Serialize;
use std::sync::Arc;

pub const ANALYSIS: Queue = Queue { consumer: "media-analyzer", subject: subjects::JOBS_MEDIA_ANALYZE };

pub const HANDLER: JobHandler = |state, message| Box::pin(handle(state, message));

/// Frames sampled for the scene analysis: one per second, at most this many.
const MAX_FRAMES: usize = 120;
const FRAME_SIDE: usize = 32;

#[derive(Debug, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct Analysis {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub video_id: i64,
    #[diesel(sql_type = Text)]
    pub analysis_type: String,
    #[diesel(sql_type = Double)]
    pub confidence_threshold: f64,
    /// queued, running, done or failed
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Findings at or above the threshold, each with its method.
    #[diesel(sql_type = Nullable<Jsonb>)]
    #[schema(value_type = Option<Vec<Finding>>)]
    pub findings: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, video_id, analysis_type, confidence_threshold, status, findings, error, created_at, finished_at";

/// Queues an analysis of the owner's ready video.
pub async fn request(
    state: &AppState,
    user_id: i64,
    video_id: i64,
    kind: AnalysisType,
    threshold: f64,
) -> Result<Analysis, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let video = owned_ready(conn, user_id, video_id).await?;
        let analysis: Analysis = diesel::sql_query(format!(
            "INSERT INTO video_analyses (video_id, analysis_type, confidence_threshold) VALUES ($1, $2, $3)
             RETURNING {COLUMNS}"
        ))
        .bind::<BigInt, _>(video.id)
        .bind::<Text, _>(kind.as_str())
        .bind::<Double, _>(threshold)
        .get_result(conn)
        .await?;
        let job = VideoAnalysisRequested {
            analysis_id: analysis.id,
            video_id: video.id,
            analysis_type: kind.as_str().to_owned(),
        };
        outbox::enqueue(conn, Envelope::of(job), &Destination::nats(subjects::JOBS_MEDIA_ANALYZE)).await?;
        Ok(analysis)
    })
    .await
}

/// The analyses of the owner's video, newest first.
pub async fn list(state: &AppState, user_id: i64, video_id: i64) -> Result<Vec<Analysis>, ApiError> {
    let mut conn = state.db.get().await?;
    own(&mut conn, user_id, video_id).await?;
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM video_analyses WHERE video_id = $1 ORDER BY id DESC LIMIT 100"
    ))
    .bind::<BigInt, _>(video_id)
    .load(&mut conn)
    .await?)
}

/// The caller's video; anyone else's is 404, like one that does not exist.
async fn own(conn: &mut AsyncPgConnection, user_id: i64, video_id: i64) -> Result<Video, ApiError> {
    videos::find_own(conn, video_id, user_id).await?.ok_or_else(|| ApiError::not_found("no such video"))
}

async fn owned_ready(conn: &mut AsyncPgConnection, user_id: i64, video_id: i64) -> Result<Video, ApiError> {
    let video = own(conn, user_id, video_id).await?;
    if video.status() != crate::domain::video::VideoStatus::Ready {
        return Err(ApiError::conflict("video_not_ready", "a video is analysed once it is processed"));
    }
    Ok(video)
}

async fn handle(state: Arc<AppState>, message: jetstream::Message) {
    let job = match Envelope::decode_checked(&message.payload).ok().and_then(|e| e.payload) {
        Some(Payload::VideoAnalysisRequested(job)) => job,
        _ => {
            tracing::error!(subject = %message.subject, "a job that is not a video.analysis_requested envelope; dropped");
            let _ = message.ack_with(AckKind::Term).await;
            return;
        }
    };
    let acked = match analyse(&state, &job).await {
        Ok(()) => message.ack().await,
        Err(error) => {
            tracing::warn!(analysis_id = job.analysis_id, error = %format!("{error:#}"), "analysis will be retried");
            message.ack_with(AckKind::Nak(Some(std::time::Duration::from_secs(2)))).await
        }
    };
    if let Err(error) = acked {
        tracing::warn!(analysis_id = job.analysis_id, %error, "cannot acknowledge an analysis job");
    }
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    analysis_type: String,
    #[diesel(sql_type = Double)]
    confidence_threshold: f64,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Runs one analysis to its end (done or failed); an error means "try again later".
async fn analyse(state: &AppState, job: &VideoAnalysisRequested) -> anyhow::Result<()> {
    let mut conn = state.db.get().await?;
    let claimed: Vec<Claimed> = diesel::sql_query(
        "UPDATE video_analyses SET status = 'running', attempts = attempts + 1
         WHERE id = $1 AND status IN ('queued', 'running') RETURNING analysis_type, confidence_threshold, attempts",
    )
    .bind::<BigInt, _>(job.analysis_id)
    .load(&mut conn)
    .await?;
    let Some(claimed) = claimed.into_iter().next() else {
        return Ok(()); // finished before, or its video is gone
    };
    let Some(kind) = AnalysisType::parse(&claimed.analysis_type) else {
        return finish(&mut conn, job.analysis_id, Err(format!("unknown analysis type {}", claimed.analysis_type)))
            .await;
    };
    let Some(video) = videos::find(&mut conn, job.video_id).await? else {
        return Ok(());
    };
    drop(conn);
    let outcome = match findings(state, &video, kind).await {
        Ok(found) => Ok(analysis::above(found, claimed.confidence_threshold)),
        Err(error) if claimed.attempts >= state.settings.job_max_attempts => {
            Err(format!("gave up after {} attempts: {error:#}", claimed.attempts))
        }
        Err(error) => return Err(error),
    };
    finish(&mut *state.db.get().await?, job.analysis_id, outcome).await
}

async fn finish(conn: &mut AsyncPgConnection, id: i64, outcome: Result<Vec<Finding>, String>) -> anyhow::Result<()> {
    let (status, findings, error) = match outcome {
        Ok(found) => ("done", Some(serde_json::to_value(found)?), None),
        Err(reason) => ("failed", None, Some(reason)),
    };
    diesel::sql_query(
        "UPDATE video_analyses SET status = $2, findings = $3, error = $4, finished_at = now()
         WHERE id = $1 AND status = 'running'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Jsonb>, _>(findings)
    .bind::<Nullable<Text>, _>(error)
    .execute(conn)
    .await?;
    Ok(())
}

async fn findings(state: &AppState, video: &Video, kind: AnalysisType) -> anyhow::Result<Vec<Finding>> {
    let text = |kinds: &[&str]| analysis::taxonomy(&video.title, &video.description, &video.hashtags, kinds);
    Ok(match kind {
        AnalysisType::Furniture => text(&["item", "material", "style"]),
        AnalysisType::Objects => text(&["item"]),
        AnalysisType::Text => {
            let mut all = text(&["item", "material", "style"]);
            all.extend(analysis::sentiment([video.title.as_str(), video.description.as_str()]));
            all
        }
        AnalysisType::Sentiment => {
            #[derive(QueryableByName)]
            struct Comment {
                #[diesel(sql_type = Text)]
                text: String,
            }
            let comments: Vec<Comment> =
                diesel::sql_query("SELECT text FROM comments WHERE video_id = $1 ORDER BY id DESC LIMIT 1000")
                    .bind::<BigInt, _>(video.id)
                    .load(&mut *state.db.get().await?)
                    .await?;
            analysis::sentiment(comments.iter().map(|c| c.text.as_str()))
        }
        AnalysisType::Scene => scene(state, video).await?,
    })
}

/// Samples frames of the original with ffmpeg and measures them.
async fn scene(state: &AppState, video: &Video) -> anyhow::Result<Vec<Finding>> {
    let scratch = state.storage.scratch_dir();
    tokio::fs::create_dir_all(&scratch).await?;
    let measured = async {
        let input = state.storage.readable_file(&ObjectPath::from(video.original_path.as_str()), &scratch).await?;
        let output = tokio::process::Command::new(&state.settings.ffmpeg)
            .args(["-v", "error", "-i"])
            .arg(&input)
            .args(["-vf", &format!("fps=1,scale={FRAME_SIDE}:{FRAME_SIDE}"), "-frames:v", &MAX_FRAMES.to_string()])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .kill_on_drop(true)
            .output()
            .await?;
        anyhow::ensure!(output.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&output.stderr).trim());
        Ok(Frames { rgb: &output.stdout, width: FRAME_SIDE, height: FRAME_SIDE }.scene())
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    measured
}
