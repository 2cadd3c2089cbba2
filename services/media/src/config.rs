//! The media service's configuration: the platform sections plus `media`.

use serde::Deserialize;

pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("MEDIA_STAGING_DIR", "media.staging_dir"),
    ("MEDIA_MAX_FILE_SIZE", "media.max_upload_bytes"),
    ("MEDIA_WORKER", "media.worker"),
    ("FFMPEG_PATH", "media.ffmpeg"),
    ("FFPROBE_PATH", "media.ffprobe"),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub media: MediaSettings,
}

impl platform::service::ServiceConfig for Config {
    fn platform(&self) -> &platform::Settings {
        &self.platform
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MediaSettings {
    /// Where uploads are staged while they arrive: a local (or shared, with several replicas)
    /// directory. With the local storage backend, put it on the same filesystem as the storage
    /// path so that a finished upload is moved, not copied.
    pub staging_dir: String,
    /// The largest video accepted, in bytes (the seed's 300 MB).
    pub max_upload_bytes: u64,
    /// Chunk size of the seed's chunked API.
    pub chunk_size: u64,
    /// An unfinished upload is deleted this long after its last activity.
    pub upload_ttl_secs: u64,
    /// How often the expiry job looks for abandoned uploads.
    pub expiry_interval_secs: u64,
    /// Whether this process runs the processing worker (replicas may run it or not).
    pub worker: bool,
    /// Jobs processed at once by this process's worker.
    pub worker_concurrency: usize,
    /// A job not acknowledged (and not reported in progress) for this long is redelivered.
    pub job_ack_wait_secs: u64,
    /// Deliveries of one job before the video is marked failed.
    pub job_max_attempts: i32,
    pub ffmpeg: String,
    pub ffprobe: String,
    /// HLS segment length in seconds (keyframes are aligned to it).
    pub hls_segment_secs: u32,
    /// Lifetime of presigned GET URLs when the storage is S3.
    pub presign_ttl_secs: u64,
    /// A story is shown this long (the seed's 24 hours).
    pub story_lifetime_secs: u64,
    /// How often buffered view counts are written to the database.
    pub views_flush_interval_ms: u64,
    /// Feed pages are cached this long (their counters are always read fresh); 0 turns it off.
    pub feed_cache_secs: u64,
    /// A ready video's details are cached this long (counters fresh; an edit drops them).
    pub video_cache_secs: u64,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            staging_dir: "var/storage/staging".into(),
            max_upload_bytes: 300 * 1024 * 1024,
            chunk_size: 1024 * 1024,
            upload_ttl_secs: 24 * 3600,
            expiry_interval_secs: 60,
            worker: true,
            worker_concurrency: 1,
            job_ack_wait_secs: 60,
            job_max_attempts: 3,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            hls_segment_secs: 4,
            presign_ttl_secs: 3600,
            story_lifetime_secs: 24 * 3600,
            views_flush_interval_ms: 5_000,
            feed_cache_secs: 180,
            video_cache_secs: 900,
        }
    }
}
