//! The seed's chunked upload for unstable networks: start, send 1 MB chunks in any order (a
//! re-sent chunk changes nothing), ask for progress; the last chunk to arrive makes the video.

use super::schema;
use super::view::VideoView;
use crate::domain::video::{RawFields, VideoFields};
use crate::ingest;
use crate::resumable::{self, Lease};
use crate::state::{ActiveUpload, AppState};
use crate::store::uploads::{self, NewUpload, Upload};
use crate::store::videos;
use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use bytes::BytesMut;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use platform::error::FieldProblems;
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use utoipa::ToSchema;
use uuid::Uuid;

/// Starts a chunked upload: the file's name and size, and the video's fields.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartChunks {
    #[schema(schema_with = file_name)]
    pub file_name: String,
    /// Bytes, 1 up to the largest upload.
    #[schema(minimum = 1)]
    pub file_size: i64,
    #[schema(schema_with = total_chunks)]
    pub total_chunks: Option<i32>,
    #[schema(schema_with = schema::title, required = true)]
    pub title: Option<String>,
    #[schema(schema_with = schema::description)]
    pub description: Option<String>,
    #[schema(schema_with = schema::hashtags)]
    pub hashtags: Option<String>,
    #[schema(schema_with = schema::price)]
    pub price: Option<serde_json::Value>,
    #[schema(schema_with = schema::product_description)]
    pub product_description: Option<String>,
    /// A boolean, 0 or 1, or a word (`true`, `no`, …).
    #[schema(value_type = Option<bool>)]
    pub is_ad: Option<serde_json::Value>,
}

const MAX_FILE_NAME_CHARS: usize = 255;

fn file_name() -> utoipa::openapi::schema::Object {
    schema::text(1, MAX_FILE_NAME_CHARS).description(Some("At most 255 characters, not blank.")).build()
}

/// The server decides the chunks (`chunk_size` and `total_chunks` in the answer); an old
/// client's count is still checked against them.
fn total_chunks() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Null)
        .deprecated(Some(utoipa::openapi::Deprecated::True))
        .description(Some(
            "Leave it out: the answer says `chunk_size` and `total_chunks`. If sent, it must be \
             `ceil(file_size / chunk_size)`.",
        ))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub upload_id: Uuid,
    /// `chunks` or `tus`.
    pub protocol: String,
    /// receiving, assembling, complete or rejected.
    pub status: String,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    pub chunk_size: Option<i64>,
    pub total_chunks: Option<i32>,
    pub received_chunks: Option<i32>,
    /// Chunks still to send (first 1000).
    pub missing_chunks: Vec<i32>,
    pub received_bytes: i64,
    pub percent: f64,
    pub expires_at: DateTime<Utc>,
    /// Why the finished file was not accepted (status `rejected`).
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    pub video: Option<VideoView>,
}

fn text(value: Option<serde_json::Value>) -> Option<String> {
    value.map(|v| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// Starts a chunked upload (1 MB chunks).
#[utoipa::path(post, path = "/api/v2/uploads", tag = "uploads", security(("bearer" = [])), request_body = StartChunks,
    responses((status = 201, body = Progress)))]
pub async fn start(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<StartChunks>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let chunk_size = state.settings.chunk_size as i64;
    let mut problems = FieldProblems::new();
    // A declared size is a field like any other (its maximum is in the document): 400, not the
    // 413 a body that really is too large gets.
    let max_bytes = state.settings.max_upload_bytes;
    if body.file_size > max_bytes as i64 {
        problems.add("file_size", format!("{} ({max_bytes} bytes)", ingest::size_limit(max_bytes)));
    }
    let raw = RawFields {
        title: body.title,
        description: body.description,
        hashtags: body.hashtags,
        price: text(body.price),
        product_description: body.product_description,
        is_ad: text(body.is_ad),
    };
    let fields = VideoFields::parse(&raw, &mut problems);
    if body.file_name.trim().is_empty() || body.file_name.chars().count() > MAX_FILE_NAME_CHARS {
        problems.add("file_name", format!("1 to {MAX_FILE_NAME_CHARS} characters, not blank"));
    }
    if body.file_size <= 0 {
        problems.add("file_size", "the file is empty");
    }
    let total_chunks = ((body.file_size.max(1) + chunk_size - 1) / chunk_size) as i32;
    if body.total_chunks.is_some_and(|t| t != total_chunks) {
        problems
            .add("total_chunks", format!("{total_chunks} chunks of {chunk_size} bytes make {} bytes", body.file_size));
    }
    problems.finish()?;
    let fields = fields.ok_or_else(|| ApiError::internal("fields parsed without problems yet absent"))?;
    let id = Uuid::now_v7();
    let staged = state.storage.staged(id);
    let file = tokio::fs::File::create(&staged).await.map_err(ApiError::internal)?;
    file.set_len(body.file_size as u64).await.map_err(ApiError::internal)?;
    let new = NewUpload {
        id,
        user_id: user.id,
        protocol: "chunks",
        length: Some(body.file_size),
        offset_: 0,
        chunk_size: Some(chunk_size),
        total_chunks: Some(total_chunks),
        file_name: Some(body.file_name.trim().to_owned()),
        metadata: serde_json::to_value(&fields).map_err(ApiError::internal)?,
        tus_metadata: None,
        concat: None,
        parts: Vec::new(),
        expires_at: resumable::expiry(&state),
    };
    let mut conn = state.db.get().await?;
    let upload = match uploads::insert(&mut conn, &new).await {
        Ok(upload) => upload,
        Err(error) => {
            crate::storage::remove_staged(&staged).await;
            return Err(error.into());
        }
    };
    Ok(HttpResponse::Created().json(progress(&state, &upload).await?))
}

/// One chunk (multipart: `chunk_index`, `total_chunks`, `file_name`, `file_size`, and the
/// bytes in `chunk`). The last chunk to arrive assembles the file and makes the video.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChunkForm {
    chunk_index: i32,
    total_chunks: i32,
    file_name: String,
    file_size: i64,
    #[schema(value_type = String, format = Binary)]
    chunk: Vec<u8>,
}

/// Sends one chunk; any order, idempotent.
#[utoipa::path(post, path = "/api/v2/uploads/{id}/chunks", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body(content = ChunkForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Progress), (status = 409),
              (status = 415), (status = 422)))]
pub async fn chunk(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let upload = own_upload(&mut conn, *id, user.id).await?;
    drop(conn);
    if upload.protocol != "chunks" {
        return Err(ApiError::not_found("no such chunked upload"));
    }
    let (chunk_size, total, file_size) = (
        upload.chunk_size.unwrap_or_default(),
        upload.total_chunks.unwrap_or_default(),
        upload.length.unwrap_or_default(),
    );
    let _active = ActiveUpload::start(&state.metrics);
    let mut data: Option<BytesMut> = None;
    let mut problems = FieldProblems::new();
    let mut index: Option<i32> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(platform::http::form::error)?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut bytes = BytesMut::new();
        while let Some(piece) = field.next().await {
            let piece = piece.map_err(platform::http::form::error)?;
            // Never hold more than one chunk (plus one byte to tell it is too long).
            if (bytes.len() as i64) <= chunk_size {
                bytes.extend_from_slice(&piece[..piece.len().min((chunk_size + 1) as usize - bytes.len())]);
            }
        }
        let value = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "chunk" | "file" => data = Some(bytes),
            "chunk_index" => {
                index = problems.check("chunk_index", value().parse().map_err(|_| "must be an integer".to_owned()))
            }
            "total_chunks" if value() != total.to_string() => {
                problems.add("total_chunks", format!("this upload has {total} chunks"));
            }
            "file_size" if value() != file_size.to_string() => {
                problems.add("file_size", format!("this upload's file has {file_size} bytes"));
            }
            "file_name" => {
                if let Err(problem) = platform::http::text::storable(bytes.to_vec()) {
                    problems.add("file_name", problem);
                }
            }
            _ => {} // anything else: ignored
        }
    }
    let index = match index {
        Some(index) if (0..total).contains(&index) => Some(index),
        Some(_) => {
            return Err(ApiError::bad_request(
                "chunk_index_out_of_range",
                format!("chunk_index must be 0 to {}", total - 1),
            )
            .with_details(serde_json::json!({ "total_chunks": total })));
        }
        None => {
            problems.add("chunk_index", "required");
            None
        }
    };
    let expected = index.map(|i| if i == total - 1 { file_size - chunk_size * i64::from(i) } else { chunk_size });
    match (&data, expected) {
        (None, _) => problems.add("chunk", "a multipart field named chunk with the bytes is required"),
        (Some(bytes), Some(expected)) if bytes.len() as i64 != expected => {
            problems.add("chunk", format!("chunk {} has {expected} bytes", index.unwrap_or_default()))
        }
        _ => {}
    }
    problems.finish()?;
    let (Some(index), Some(data)) = (index, data) else {
        return Err(ApiError::internal("chunk checked without problems yet absent"));
    };
    state.metrics.upload_bytes.with_label_values(&["chunks"]).inc_by(data.len() as u64);
    let mut conn = state.db.get().await?;
    let (received, _) = uploads::received_chunks(&mut conn, upload.id).await?;
    if !received.contains(&index) {
        if upload.status != uploads::RECEIVING {
            return Err(ApiError::conflict("upload_not_receiving", format!("the upload is {}", upload.status)));
        }
        let lease = Lease::take(&state.redis, upload.id).await?;
        write_at(&state, upload.id, index as u64 * chunk_size as u64, &data).await?;
        uploads::record_chunk(&mut conn, upload.id, index, data.len() as i64, resumable::expiry(&state)).await?;
        drop(lease);
        let (received, _) = uploads::received_chunks(&mut conn, upload.id).await?;
        if received.len() as i32 == total {
            drop(conn);
            resumable::finish(&state, &upload).await?;
            conn = state.db.get().await?;
        }
    }
    let upload = own_upload(&mut conn, upload.id, user.id).await?;
    Ok(HttpResponse::Ok().json(progress(&state, &upload).await?))
}

async fn write_at(state: &AppState, upload: Uuid, offset: u64, data: &[u8]) -> Result<(), ApiError> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(state.storage.staged(upload))
        .await
        .map_err(|e| ApiError::conflict("upload_gone", format!("the upload's file is gone: {e}")))?;
    file.seek(std::io::SeekFrom::Start(offset)).await.map_err(ApiError::internal)?;
    file.write_all(data).await.map_err(ApiError::internal)?;
    file.flush().await.map_err(ApiError::internal)?;
    Ok(())
}

/// An upload's progress (either protocol).
#[utoipa::path(get, path = "/api/v2/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Progress)))]
pub async fn status(state: web::Data<AppState>, user: AuthUser, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let upload = own_upload(&mut conn, *id, user.id).await?;
    Ok(HttpResponse::Ok().json(progress(&state, &upload).await?))
}

/// Cancels an upload that has not become a video: its received bytes are deleted.
#[utoipa::path(delete, path = "/api/v2/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 204), (status = 409)))]
pub async fn cancel(state: web::Data<AppState>, user: AuthUser, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let upload = own_upload(&mut conn, *id, user.id).await?;
    terminate(&state, &mut conn, &upload).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes an unfinished upload with its bytes (a finished one is a video: 409).
pub async fn terminate(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    upload: &Upload,
) -> Result<(), ApiError> {
    if upload.status == uploads::COMPLETE && upload.concat.as_deref() != Some("partial") {
        return Err(ApiError::conflict("upload_complete", "the upload is already a video"));
    }
    if upload.status == uploads::ASSEMBLING {
        return Err(ApiError::conflict("upload_assembling", "the upload is becoming a video"));
    }
    let _lease = Lease::take(&state.redis, upload.id).await?;
    uploads::delete(conn, upload.id).await?;
    crate::storage::remove_staged(&state.storage.staged(upload.id)).await;
    Ok(())
}

/// The caller's upload, or 404 (another user's upload is not theirs to see).
pub async fn own_upload(
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
    user_id: i64,
) -> Result<Upload, ApiError> {
    uploads::find_own(conn, id, user_id).await?.ok_or_else(|| ApiError::not_found("no such upload"))
}

pub async fn progress(state: &AppState, upload: &Upload) -> Result<Progress, ApiError> {
    let mut conn = state.db.get().await?;
    let (received, received_bytes, missing) = if upload.protocol == "chunks" {
        let (received, bytes) = uploads::received_chunks(&mut conn, upload.id).await?;
        let missing: Vec<i32> = (0..upload.total_chunks.unwrap_or_default())
            .filter(|i| received.binary_search(i).is_err())
            .take(1000)
            .collect();
        (Some(received.len() as i32), bytes, missing)
    } else {
        (None, upload.offset_, Vec::new())
    };
    let video = match upload.video_id {
        Some(id) => videos::find(&mut conn, id).await?.map(|v| VideoView::of(&v)),
        None => None,
    };
    let percent = match upload.length {
        Some(length) if length > 0 => (received_bytes as f64 * 100.0 / length as f64).min(100.0),
        _ => 0.0,
    };
    Ok(Progress {
        upload_id: upload.id,
        protocol: upload.protocol.clone(),
        status: upload.status.clone(),
        file_name: upload.file_name.clone(),
        file_size: upload.length,
        chunk_size: upload.chunk_size,
        total_chunks: upload.total_chunks,
        received_chunks: received,
        missing_chunks: missing,
        received_bytes,
        percent,
        expires_at: upload.expires_at,
        error: upload.error.clone(),
        video,
    })
}
