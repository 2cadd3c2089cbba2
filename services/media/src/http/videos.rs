//! `POST /videos/upload` (the seed's multipart upload) and a video's details.

use super::schema;
use super::view::VideoView;
use crate::domain::container::sniff_image;
use crate::domain::video::{RawFields, VideoEdit, VideoFields, VideoStatus};
use crate::ingest::{self, Cover};
use crate::state::{ActiveUpload, AppState};
use crate::storage::Scratch;
use actix_multipart::{Field, Multipart};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use platform::error::FieldProblems;
use platform::http::form;
use platform::{ApiError, AuthUser};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// A custom cover may be at most this large.
const MAX_COVER_BYTES: u64 = 5 * 1024 * 1024;
/// A text field may be at most this large.
const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Room for the multipart framing and text fields around the video in a declared length.
const FORM_OVERHEAD_BYTES: u64 = 1024 * 1024;

/// The seed's upload form (multipart/form-data), without other fields. Each text field is UTF-8
/// of at most 16 KB.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// mp4, mov, avi or webm, up to 300 MB; its type is decided by its content.
    #[schema(value_type = String, format = Binary)]
    video: Vec<u8>,
    /// An optional cover image (jpeg, png, webp; up to 5 MB), recognised by its content.
    #[schema(schema_with = schema::file)]
    thumbnail: Option<Vec<u8>>,
    #[schema(schema_with = schema::title)]
    title: String,
    #[schema(schema_with = schema::form_description)]
    description: Option<String>,
    #[schema(schema_with = schema::form_hashtags)]
    hashtags: Option<String>,
    #[schema(schema_with = schema::form_price)]
    price: Option<String>,
    #[schema(schema_with = schema::form_product_description)]
    product_description: Option<String>,
    #[schema(schema_with = schema::form_flag)]
    is_ad: Option<String>,
}

/// Uploads a video with its fields; it is streamed to storage as it arrives, checked by its
/// content, and queued for processing (status `uploaded`).
#[utoipa::path(post, path = "/api/v2/videos/upload", tag = "videos", security(("bearer" = [])),
    request_body(content((UploadForm = "multipart/form-data", encoding(
        ("video" = (content_type = "video/mp4, video/quicktime, video/x-msvideo, video/webm")),
        ("thumbnail" = (content_type = "image/jpeg, image/png, image/webp")))))),
    responses((status = 201, body = VideoView), (status = 413),
              (status = 415), (status = 422)))]
pub async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let max = state.settings.max_upload_bytes;
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max + MAX_COVER_BYTES + FORM_OVERHEAD_BYTES) {
        return Err(ingest::too_large(max));
    }
    let _active = ActiveUpload::start(&state.metrics);
    let mut raw = RawFields::default();
    let (mut video, mut cover): (Option<Scratch>, Option<(Scratch, &'static str)>) = (None, None);
    let mut problems = FieldProblems::new();
    let mut failure: Option<ApiError> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(form::error)?;
        let name = field.name().unwrap_or_default().to_owned();
        if failure.is_some() {
            form::discard(&mut field).await?;
            continue;
        }
        match name.as_str() {
            "video" if video.is_some() => problems.add("video", "only one video per upload"),
            "video" => {
                let scratch = Scratch(state.storage.scratch());
                match save(&mut field, &scratch.0, max, &state).await? {
                    Saved::Whole => video = Some(scratch),
                    Saved::TooLarge => failure = Some(ingest::too_large(max)),
                }
            }
            "thumbnail" => {
                let scratch = Scratch(state.storage.scratch());
                match save(&mut field, &scratch.0, MAX_COVER_BYTES, &state).await? {
                    Saved::Whole => match image_kind(&scratch.0).await {
                        Some(extension) => cover = Some((scratch, extension)),
                        None => problems.add("thumbnail", "must be a jpeg, png or webp image"),
                    },
                    Saved::TooLarge => problems.add("thumbnail", "at most 5 MB"),
                }
            }
            _ => match text(&mut field).await? {
                Some(value) => {
                    if !raw.set(&name, value) {
                        problems.add("form", format!("`{name}` is not a field of this form"));
                    }
                }
                None => {
                    problems.add("form", format!("the field `{name}` is not UTF-8 text (without NUL) of at most 16 KB"))
                }
            },
        }
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    let fields = VideoFields::parse(&raw, &mut problems);
    if video.is_none() {
        problems.add("video", "a multipart field named video is required");
    }
    problems.finish()?;
    let (Some(fields), Some(video)) = (fields, video) else {
        return Err(ApiError::internal("fields parsed without problems yet absent"));
    };
    let cover = cover.as_ref().map(|(scratch, extension)| Cover { file: scratch.0.clone(), extension });
    let created = ingest::video_from_file(&state, user.id, fields, &video.0, cover).await?;
    Ok(HttpResponse::Created().json(VideoView::of(&created)))
}

/// A video: its owner sees it in every status; others only once it is ready. Counts a view
/// (once per viewer and hour: the user, else the `X-Client-Id` key, else the address).
#[utoipa::path(get, path = "/api/v2/videos/{id}", tag = "videos", params(("id" = i64, Path),
        ("X-Client-Id" = Option<String>, Header, description = "a stable key of an anonymous viewer")),
    responses((status = 200, body = VideoView), (status = 404)))]
pub async fn details(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let video = crate::videos::details(&state, user.as_ref().map(|u| u.id), id.into_inner()).await?;
    if video.status == VideoStatus::Ready {
        let viewer = match (&user, request.headers().get("X-Client-Id").and_then(|v| v.to_str().ok())) {
            (Some(user), _) => format!("u{}", user.id),
            (None, Some(key)) if !key.is_empty() && key.len() <= 128 => format!("c{key}"),
            _ => format!("a{}", request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()),
        };
        if let Err(error) = crate::social::count_view(&state, video.id, &viewer).await {
            tracing::warn!(%error, video_id = video.id, "a view was not counted");
        }
    }
    Ok(HttpResponse::Ok().json(video))
}

/// Changes the owner's video: only the fields given; `null` clears the price or the product
/// description. Another user's video answers 404 and does not change.
#[utoipa::path(patch, path = "/api/v2/videos/{id}", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = VideoEdit,
    responses((status = 200, body = VideoView), (status = 404),
              (status = 400)))]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<VideoEdit>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::videos::edit(&state, user.id, id.into_inner(), &body).await?))
}

enum Saved {
    Whole,
    /// More than the limit arrived; what arrived is discarded and the rest drained.
    TooLarge,
}

/// Streams a file field to `file`, at most `limit` bytes.
async fn save(field: &mut Field, file: &Path, limit: u64, state: &AppState) -> Result<Saved, ApiError> {
    let out = tokio::fs::File::create(file).await.map_err(ApiError::internal)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, out);
    let mut written: u64 = 0;
    let counter = state.metrics.upload_bytes.with_label_values(&["multipart"]);
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(form::error)?;
        written += chunk.len() as u64;
        counter.inc_by(chunk.len() as u64);
        if written > limit {
            drop(out);
            let _ = tokio::fs::remove_file(file).await;
            form::discard(field).await?;
            return Ok(Saved::TooLarge);
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(Saved::Whole)
}

/// A text field's value; `None` when it is too long or not [storable](platform::http::text::storable).
async fn text(field: &mut Field) -> Result<Option<String>, ApiError> {
    Ok(form::read_text(field, MAX_TEXT_BYTES).await?.ok())
}

async fn image_kind(file: &Path) -> Option<&'static str> {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 16];
    let mut source = tokio::fs::File::open(file).await.ok()?;
    let read = source.read(&mut head).await.ok()?;
    sniff_image(&head[..read]).map(|(extension, _)| extension)
}
