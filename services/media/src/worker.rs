//! The processing worker: takes jobs from the durable JetStream work queue
//! (`jobs.media.process`), probes the original, makes thumbnails and the HLS ladder, and marks
//! the video ready (or failed, with the reason) with its event, in one transaction.
//!
//! Any number of replicas may run it: the queue gives each job to one of them. A job is
//! acknowledged only when its outcome is committed; a worker killed mid-job leaves it
//! unacknowledged, so it is delivered again after `job_ack_wait_secs` (a running job reports
//! progress to keep it) and done once: outputs have fixed names (a redo overwrites them), and
//! only a video still `processing` becomes `ready`. Attempts are counted on the video row;
//! past `job_max_attempts` the video fails with the last reason.

use crate::domain::ladder::{self, Source};
use crate::probe;
use crate::state::AppState;
use crate::store::videos::{self, Outputs, Video};
use crate::transcode::{self, THUMBNAILS, TranscodeError};
use async_nats::jetstream::{self, AckKind, consumer::pull, stream};
use contracts::events::{VideoFailed, VideoProcessed, VideoUploaded};
use contracts::{Envelope, Payload, subjects};
use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use platform::config::NatsSettings;
use platform::outbox::{self, Destination};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The durable consumer every replica shares.
const CONSUMER: &str = "media-worker";

/// The work queue's stream: one per subject prefix (tests run side by side on one server).
pub fn stream_name(nats: &NatsSettings) -> String {
    let suffix: String = nats.subject_prefix.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if suffix.is_empty() { "MEDIA_JOBS".to_owned() } else { format!("MEDIA_JOBS_{suffix}") }
}

/// Creates (or finds) the work-queue stream, so that jobs published before any worker runs
/// are kept.
pub async fn ensure_stream(client: async_nats::Client, nats: &NatsSettings) -> anyhow::Result<stream::Stream> {
    let context = jetstream::new(client);
    Ok(context
        .get_or_create_stream(stream::Config {
            name: stream_name(nats),
            subjects: vec![nats.subject("jobs.media.>")],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await?)
}

/// Keeps trying to create the stream until it exists (NATS may be down at start).
pub async fn keep_ensuring_stream(client: async_nats::Client, nats: NatsSettings, stop: CancellationToken) {
    let mut backoff = platform::outbox::Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match ensure_stream(client.clone(), &nats).await {
            Ok(_) => return,
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "the work queue's stream is not there yet"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_pause()) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// One kind of job: its durable consumer (shared by replicas) and subject.
#[derive(Clone, Copy)]
pub struct Queue {
    pub consumer: &'static str,
    pub subject: &'static str,
}

pub const PROCESSING: Queue = Queue { consumer: CONSUMER, subject: subjects::JOBS_MEDIA_PROCESS };

/// Handles one delivered job; acknowledges it (or not) itself.
pub type JobHandler = fn(Arc<AppState>, jetstream::Message) -> futures_util::future::BoxFuture<'static, ()>;

/// Creates (or finds) the work-queue stream and the queue's durable consumer.
pub async fn queue(
    client: async_nats::Client,
    nats: &NatsSettings,
    queue: Queue,
    ack_wait: Duration,
) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
    let stream = ensure_stream(client, nats).await?;
    let consumer = stream
        .get_or_create_consumer(
            queue.consumer,
            pull::Config {
                durable_name: Some(queue.consumer.to_owned()),
                filter_subject: nats.subject(queue.subject),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait,
                ..Default::default()
            },
        )
        .await?;
    Ok(consumer)
}

/// Runs the processing worker until `stop`.
pub async fn run(state: Arc<AppState>, client: async_nats::Client, nats: NatsSettings, stop: CancellationToken) {
    let slots = state.settings.worker_concurrency.max(1);
    serve(state, client, nats, PROCESSING, slots, |state, message| Box::pin(handle(state, message)), stop).await
}

/// Takes jobs of `queue` until `stop`: `slots` at once, each taken when a slot is free (no
/// prefetching, so that a waiting job is not held by a busy replica).
pub async fn serve(
    state: Arc<AppState>,
    client: async_nats::Client,
    nats: NatsSettings,
    queue_of: Queue,
    slots: usize,
    handler: JobHandler,
    stop: CancellationToken,
) {
    let ack_wait = Duration::from_secs(state.settings.job_ack_wait_secs.max(1));
    let mut backoff = platform::outbox::Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let consumer = loop {
        match queue(client.clone(), &nats, queue_of, ack_wait).await {
            Ok(consumer) => break consumer,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "the work queue is not available yet");
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_pause()) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }
    };
    let workers: Vec<_> =
        (0..slots).map(|_| tokio::spawn(take_jobs(state.clone(), consumer.clone(), handler, stop.clone()))).collect();
    let depth = (queue_of.consumer == PROCESSING.consumer)
        .then(|| tokio::spawn(watch_depth(state.clone(), consumer, stop.clone())));
    for worker in workers {
        let _ = worker.await;
    }
    if let Some(depth) = depth {
        let _ = depth.await;
    }
}

async fn take_jobs(
    state: Arc<AppState>,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    handler: JobHandler,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        let batch = consumer.fetch().max_messages(1).expires(Duration::from_secs(2)).messages().await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "cannot fetch jobs");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.cancelled() => return,
                }
                continue;
            }
        };
        loop {
            let message = tokio::select! {
                message = batch.next() => message,
                _ = stop.cancelled() => return,
            };
            match message {
                Some(Ok(message)) => {
                    // A job in hand is finished even when shutdown comes meanwhile (its
                    // outcome is committed, or it is redelivered after a kill).
                    handler(state.clone(), message).await;
                }
                Some(Err(error)) => tracing::debug!(%error, "fetch ended"),
                None => break,
            }
        }
    }
}

/// Reports the queue's depth in the metrics every few seconds.
async fn watch_depth(
    state: Arc<AppState>,
    mut consumer: jetstream::consumer::Consumer<pull::Config>,
    stop: CancellationToken,
) {
    loop {
        if let Ok(info) = consumer.info().await {
            state.metrics.queue_depth.set((info.num_pending + info.num_ack_pending as u64) as i64);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// What became of one delivery.
enum Outcome {
    /// Committed (ready, failed, or nothing left to do): acknowledge.
    Done(&'static str),
    /// A passing trouble (storage, database): deliver again later.
    Retry(String),
}

async fn handle(state: Arc<AppState>, message: jetstream::Message) {
    let state = &state;
    let started = Instant::now();
    let Some(video_id) = job_video(&message.payload) else {
        tracing::error!(subject = %message.subject, "a job that is not a video.uploaded envelope; dropped");
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let heartbeat = CancellationToken::new();
    let beats = tokio::spawn(keep_alive(state.clone(), message.clone(), video_id, heartbeat.clone()));
    let outcome = process(state, video_id).await;
    heartbeat.cancel();
    let _ = beats.await;
    let acked = match &outcome {
        Outcome::Done(label) => {
            state.metrics.jobs_finished.with_label_values(&[label]).inc();
            state.metrics.job_seconds.observe(started.elapsed().as_secs_f64());
            message.ack().await
        }
        Outcome::Retry(reason) => {
            tracing::warn!(video_id, %reason, "processing will be retried");
            state.metrics.jobs_finished.with_label_values(&["retry"]).inc();
            message.ack_with(AckKind::Nak(Some(Duration::from_secs(2)))).await
        }
    };
    if let Err(error) = acked {
        tracing::warn!(video_id, %error, "cannot acknowledge a job; it will be delivered again");
    }
}

fn job_video(payload: &[u8]) -> Option<i64> {
    match Envelope::decode_checked(payload).ok()?.payload? {
        Payload::VideoUploaded(VideoUploaded { video_id, .. }) => Some(video_id),
        _ => None,
    }
}

/// Tells JetStream (and the re-queue sweep) that the job is alive, a few times per ack wait.
async fn keep_alive(state: Arc<AppState>, message: jetstream::Message, video_id: i64, stop: CancellationToken) {
    let every = Duration::from_secs(state.settings.job_ack_wait_secs.max(3) / 3);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.cancelled() => return,
        }
        let _ = message.ack_with(AckKind::Progress).await;
        if let Ok(mut conn) = state.db.get().await {
            let _ = videos::touch(&mut conn, video_id).await;
        }
    }
}

async fn process(state: &AppState, video_id: i64) -> Outcome {
    let claimed = match state.db.get().await {
        Ok(mut conn) => videos::claim(&mut conn, video_id).await,
        Err(error) => return Outcome::Retry(error.to_string()),
    };
    let video = match claimed {
        Ok(Some(video)) => video,
        Ok(None) => return Outcome::Done("skipped"),
        Err(error) => return Outcome::Retry(error.to_string()),
    };
    if video.attempts > state.settings.job_max_attempts {
        let reason = format!("gave up after {} attempts", state.settings.job_max_attempts);
        return fail(state, &video, &reason).await;
    }
    let scratch = state.storage.scratch_dir();
    let result = make_outputs(state, &video, &scratch).await;
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    match result {
        Ok(outputs) => finish(state, &video, outputs).await,
        Err(Failure::Undecodable(reason)) => fail(state, &video, &reason).await,
        Err(Failure::Passing(reason)) if video.attempts >= state.settings.job_max_attempts => {
            fail(state, &video, &format!("gave up after {} attempts: {reason}", video.attempts)).await
        }
        Err(Failure::Passing(reason)) => Outcome::Retry(reason),
    }
}

enum Failure {
    /// ffmpeg cannot make anything of the video: no retry will help.
    Undecodable(String),
    Passing(String),
}

impl From<TranscodeError> for Failure {
    fn from(error: TranscodeError) -> Self {
        Failure::Undecodable(format!("ffmpeg cannot process the video: {}", error.0))
    }
}

fn passing(error: impl std::fmt::Display) -> Failure {
    Failure::Passing(error.to_string())
}

async fn make_outputs(state: &AppState, video: &Video, scratch: &Path) -> Result<Outputs, Failure> {
    let settings = &state.settings;
    let out = scratch.join("out");
    let hls_dir = out.join("hls");
    tokio::fs::create_dir_all(&hls_dir).await.map_err(passing)?;
    let original = ObjectPath::from(video.original_path.as_str());
    let input = state.storage.readable_file(&original, scratch).await.map_err(|e| passing(format!("{e:#}")))?;
    let probed = probe::probe(&settings.ffprobe, &input).await.map_err(|error| match error {
        probe::ProbeError::Unreadable(reason) => Failure::Undecodable(format!("the video cannot be read: {reason}")),
        probe::ProbeError::Tool(error) => passing(error),
    })?;
    let facts = probed.facts;
    let source = Source {
        width: facts.width.unwrap_or_default().max(2) as u32,
        height: facts.height.unwrap_or_default().max(2) as u32,
        fps: facts.fps.unwrap_or(30.0),
        bitrate: facts.bitrate.map(|b| b as u64),
    };
    let duration = facts.duration_ms.unwrap_or_default() as f64 / 1000.0;
    transcode::run(&settings.ffmpeg, &transcode::thumbnail_args(&input, &out, duration)).await?;
    let rungs = ladder::ladder(&source);
    let args = transcode::hls_args(&input, &hls_dir, &source, &rungs, probed.has_audio, settings.hls_segment_secs);
    transcode::run(&settings.ffmpeg, &args).await?;
    let files = transcode::files_under(&out).map_err(passing)?;
    let made = |name: &str| {
        files.iter().any(|(file, relative)| relative == name && file.metadata().is_ok_and(|m| m.len() > 0))
    };
    let complete = THUMBNAILS.iter().all(|(name, _, _)| made(&format!("{name}.jpg")))
        && made("hls/master.m3u8")
        && rungs.iter().all(|r| made(&format!("hls/{}/seg_000.ts", r.name)));
    if !complete {
        return Err(Failure::Undecodable("ffmpeg cannot process the video: no frame could be decoded".into()));
    }
    let prefix = format!("videos/{}", video.id);
    for (file, relative) in files {
        let to = ObjectPath::from(format!("{prefix}/{relative}"));
        state.storage.commit(&file, &to).await.map_err(|e| passing(format!("{e:#}")))?;
    }
    Ok(Outputs {
        thumbnails: THUMBNAILS.iter().map(|(name, _, _)| format!("{prefix}/{name}.jpg")).collect(),
        hls_path: Some(format!("{prefix}/hls/master.m3u8")),
        renditions: rungs.iter().map(|r| r.name.clone()).collect(),
        facts,
    })
}

async fn finish(state: &AppState, video: &Video, outputs: Outputs) -> Outcome {
    let event = VideoProcessed {
        video_id: video.id,
        author_id: video.user_id,
        duration_seconds: (outputs.facts.duration_ms.unwrap_or_default() / 1000) as i32,
        thumbnail_urls: outputs.thumbnails.iter().map(|p| crate::http::files::url(p)).collect(),
        hls_url: outputs.hls_path.as_deref().map(crate::http::files::url).unwrap_or_default(),
    };
    conclude(state, video.id, Conclusion::Ready(&outputs), event.into()).await
}

/// Where a processed video ends.
#[derive(Clone, Copy)]
enum Conclusion<'a> {
    Ready(&'a Outputs),
    Failed(&'a str),
}

/// Moves the video to its conclusion and publishes `event` with it in one transaction; a
/// redelivered job whose video has already moved publishes nothing.
async fn conclude(state: &AppState, video_id: i64, conclusion: Conclusion<'_>, event: Payload) -> Outcome {
    let committed = async {
        let mut conn = state.db.get().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let moved = match conclusion {
                Conclusion::Ready(outputs) => videos::mark_ready(conn, video_id, outputs).await?,
                Conclusion::Failed(reason) => videos::mark_failed(conn, video_id, reason).await?,
            };
            if moved {
                outbox::publish(conn, event).await?;
            }
            Ok(())
        })
        .await?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    match (committed, conclusion) {
        (Ok(()), Conclusion::Ready(_)) => Outcome::Done("ready"),
        (Ok(()), Conclusion::Failed(_)) => Outcome::Done("failed"),
        (Err(error), _) => Outcome::Retry(error.to_string()),
    }
}

async fn fail(state: &AppState, video: &Video, reason: &str) -> Outcome {
    tracing::info!(video_id = video.id, %reason, "processing failed");
    let event = VideoFailed { video_id: video.id, author_id: video.user_id, reason: reason.to_owned() };
    conclude(state, video.id, Conclusion::Failed(reason), event.into()).await
}

/// Re-queues videos whose job seems lost (waiting, untouched for a while): the outbox relay
/// publishes a job again. A duplicate is harmless (see the module's documentation).
pub async fn requeue_lost(state: Arc<AppState>, interval: Duration, stop: CancellationToken) {
    let stale = chrono::Duration::seconds((state.settings.job_ack_wait_secs * 3 + 60) as i64);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return,
        }
        if let Err(error) = requeue_once(&state, chrono::Utc::now() - stale).await {
            tracing::warn!(error = %format!("{error:#}"), "cannot look for lost jobs");
        }
    }
}

pub async fn requeue_once(state: &AppState, before: chrono::DateTime<chrono::Utc>) -> anyhow::Result<usize> {
    let mut conn = state.db.get().await?;
    let waiting = videos::waiting_since(&mut conn, before, 100).await?;
    for video in &waiting {
        let job = VideoUploaded {
            video_id: video.id,
            author_id: video.user_id,
            title: video.title.clone(),
            hashtags: video.hashtags.clone(),
            price_minor: video.price_minor,
            is_ad: video.is_ad,
        };
        let id = video.id;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            videos::touch(conn, id).await?;
            outbox::enqueue(conn, Envelope::of(job), &Destination::nats(subjects::JOBS_MEDIA_PROCESS)).await
        })
        .await?;
        tracing::info!(video_id = id, "processing job queued again");
    }
    Ok(waiting.len())
}
