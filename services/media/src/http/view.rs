//! How a video looks on the API.

use super::files::url;
use crate::domain::video::VideoStatus;
use crate::store::videos::Video;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Thumbnails {
    /// 320×180
    pub small: String,
    /// 640×360
    pub medium: String,
    /// 1280×720
    pub large: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VideoView {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub description: String,
    pub hashtags: Vec<String>,
    /// Tenge (the seed's meaning), exact to the tiyn.
    pub price: Option<f64>,
    /// Tiyn.
    pub price_minor: Option<i64>,
    pub is_product: bool,
    pub product_description: Option<String>,
    pub is_ad: bool,
    pub status: VideoStatus,
    /// Why processing failed (status `failed`).
    pub failure_reason: Option<String>,
    /// The uploaded file's container: mp4, mov, avi or webm.
    pub container: String,
    pub size_bytes: i64,
    /// Whole seconds (the seed's `duration`).
    pub duration: Option<i64>,
    pub duration_ms: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub fps: Option<f64>,
    pub codec: Option<String>,
    pub bitrate: Option<i64>,
    /// The original file.
    pub video_url: String,
    /// The uploader's cover, else the medium thumbnail once processed.
    pub thumbnail_url: Option<String>,
    pub thumbnails: Option<Thumbnails>,
    /// The HLS master playlist once processed.
    pub hls_url: Option<String>,
    /// `360p`, `480p`, … (up to the source's resolution).
    pub renditions: Vec<String>,
    pub views_count: i64,
    pub likes_count: i64,
    pub comments_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl VideoView {
    pub fn of(video: &Video) -> Self {
        let thumbnails = match video.thumbnails.as_slice() {
            [small, medium, large] => Some(Thumbnails { small: url(small), medium: url(medium), large: url(large) }),
            _ => None,
        };
        let thumbnail_url =
            video.cover_path.as_deref().map(url).or_else(|| thumbnails.as_ref().map(|t| t.medium.clone()));
        Self {
            id: video.id,
            user_id: video.user_id,
            title: video.title.clone(),
            description: video.description.clone(),
            hashtags: video.hashtags.clone(),
            price: video.price_minor.map(|minor| minor as f64 / 100.0),
            price_minor: video.price_minor,
            is_product: video.price_minor.is_some(),
            product_description: video.product_description.clone(),
            is_ad: video.is_ad,
            status: video.status(),
            failure_reason: video.failure_reason.clone(),
            container: video.container.clone(),
            size_bytes: video.size_bytes,
            duration: video.duration_ms.map(|ms| ms / 1000),
            duration_ms: video.duration_ms,
            width: video.width,
            height: video.height,
            fps: video.fps,
            codec: video.codec.clone(),
            bitrate: video.bitrate,
            video_url: url(&video.original_path),
            thumbnail_url,
            thumbnails,
            hls_url: video.hls_path.as_deref().map(url),
            renditions: video.renditions.clone(),
            views_count: video.views_count,
            likes_count: video.likes_count,
            comments_count: video.comments_count,
            created_at: video.created_at,
            updated_at: video.updated_at,
            processed_at: video.processed_at,
        }
    }
}
