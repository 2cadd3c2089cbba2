//! What the handlers, the worker and the jobs share.

use crate::config::MediaSettings;
use crate::storage::Storage;
use platform::db::PgPool;
use platform::redis::RedisPool;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

pub struct AppState {
    pub db: PgPool,
    pub redis: RedisPool,
    pub storage: Storage,
    pub settings: MediaSettings,
    pub metrics: MediaMetrics,
}

impl AppState {
    /// A state of its own for `config` (new pools): what a tool or a test needs to run the
    /// service's jobs beside it.
    pub fn open(config: &crate::config::Config) -> anyhow::Result<Self> {
        Ok(Self {
            db: platform::db::pool(&config.platform.database)?,
            redis: platform::redis::pool(&config.platform.redis)?,
            storage: Storage::open(&config.platform.storage, &config.media)?,
            settings: config.media.clone(),
            metrics: MediaMetrics::new(),
        })
    }
}

/// The media service's own metrics, beside the platform's HTTP ones.
#[derive(Clone)]
pub struct MediaMetrics {
    /// Bytes received by the upload paths, by path (`multipart`, `chunks`, `tus`).
    pub upload_bytes: IntCounterVec,
    /// Uploads receiving bytes right now, in this process.
    pub active_uploads: IntGauge,
    pub videos_uploaded: IntCounter,
    /// Jobs waiting in the work queue (as of the worker's last look).
    pub queue_depth: IntGauge,
    pub job_seconds: Histogram,
    pub jobs_finished: IntCounterVec,
    /// Videos by status (as of the last count).
    pub videos: IntGaugeVec,
    /// Stories shown now (not expired).
    pub active_stories: IntGauge,
}

impl MediaMetrics {
    pub fn new() -> Self {
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition")
        };
        Self {
            upload_bytes: counter_vec("media_upload_bytes_total", "Bytes received by uploads", &["path"]),
            active_uploads: IntGauge::new("media_active_uploads", "Uploads receiving bytes now")
                .expect("static metric definition"),
            videos_uploaded: IntCounter::new("media_videos_uploaded_total", "Videos made from finished uploads")
                .expect("static metric definition"),
            queue_depth: IntGauge::new("media_job_queue_depth", "Processing jobs waiting in the work queue")
                .expect("static metric definition"),
            job_seconds: Histogram::with_opts(
                HistogramOpts::new("media_job_duration_seconds", "Wall time of processing jobs")
                    .buckets(vec![1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0]),
            )
            .expect("static metric definition"),
            jobs_finished: counter_vec("media_jobs_total", "Processing jobs finished, by outcome", &["outcome"]),
            videos: IntGaugeVec::new(Opts::new("media_videos", "Videos by status"), &["status"])
                .expect("static metric definition"),
            active_stories: IntGauge::new("media_active_stories", "Stories shown now")
                .expect("static metric definition"),
        }
    }

    pub fn register(&self, registry: &Registry) -> anyhow::Result<()> {
        // Every series exists from the start (a vector without children is not exported).
        for path in ["multipart", "chunks", "tus"] {
            self.upload_bytes.with_label_values(&[path]);
        }
        for outcome in ["ready", "failed", "skipped", "retry"] {
            self.jobs_finished.with_label_values(&[outcome]);
        }
        registry.register(Box::new(self.upload_bytes.clone()))?;
        registry.register(Box::new(self.active_uploads.clone()))?;
        registry.register(Box::new(self.videos_uploaded.clone()))?;
        registry.register(Box::new(self.queue_depth.clone()))?;
        registry.register(Box::new(self.job_seconds.clone()))?;
        registry.register(Box::new(self.jobs_finished.clone()))?;
        registry.register(Box::new(self.videos.clone()))?;
        registry.register(Box::new(self.active_stories.clone()))?;
        Ok(())
    }
}

impl Default for MediaMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts an upload as active while it lives.
pub struct ActiveUpload(IntGauge);

impl ActiveUpload {
    pub fn start(metrics: &MediaMetrics) -> Self {
        metrics.active_uploads.inc();
        Self(metrics.active_uploads.clone())
    }
}

impl Drop for ActiveUpload {
    fn drop(&mut self) {
        self.0.dec();
    }
}
