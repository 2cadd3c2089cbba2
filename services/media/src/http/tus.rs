//! tus 1.0 (<https://tus.io/protocols/resumable-upload>) at `/api/v2/media/tus`: core, creation,
//! creation-with-upload, creation-defer-length, expiration, checksum (sha1, sha256),
//! termination and concatenation. A finished upload becomes a video like the other paths;
//! its video fields come in `Upload-Metadata` (title, description, hashtags, price,
//! product_description, is_ad; `filename` is kept).

use super::chunks::{own_upload, terminate};
use crate::domain::tus::{self, Algorithm, Checksum, Concat};
use crate::domain::video::{RawFields, VideoFields};
use crate::ingest;
use crate::resumable::{self, Lease};
use crate::state::{ActiveUpload, AppState};
use crate::store::uploads::{self, NewUpload, Upload};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HttpDate};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use platform::error::FieldProblems;
use platform::{ApiError, AuthUser};
use sha1::Digest;
use std::time::SystemTime;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

pub const TUS_PATH: &str = "/api/v2/media/tus";

/// The protocol version every request but `OPTIONS` names in `Tus-Resumable`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum TusVersion {
    #[schema(rename = "1.0.0")]
    V1,
}

/// The bytes of a `PATCH` (or of a creation with upload).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct UploadBytes(Vec<u8>);

const WRONG_VERSION: &str = "`Tus-Resumable` names a version this server does not speak (`Tus-Version` says which)";

/// The server's tus capabilities.
#[utoipa::path(options, path = "/api/v2/media/tus", tag = "tus",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm")))]
pub async fn options(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Tus-Resumable", tus::VERSION))
        .insert_header(("Tus-Version", tus::VERSION))
        .insert_header(("Tus-Extension", tus::EXTENSIONS))
        .insert_header(("Tus-Max-Size", state.settings.max_upload_bytes.to_string()))
        .insert_header(("Tus-Checksum-Algorithm", tus::CHECKSUM_ALGORITHMS))
        .finish()
}

/// Creates an upload, with its first bytes when a body is sent. Besides the headers below, the
/// creation-defer-length extension takes `Upload-Defer-Length: 1` instead of `Upload-Length`
/// (not both), and `Upload-Checksum` checks the first bytes (460 when they differ).
/// `Upload-Metadata` carries the video's fields; without a `title`, the video is named after
/// `filename` (without its extension), else "Без названия".
#[utoipa::path(post, path = "/api/v2/media/tus", tag = "tus", security(("bearer" = [])),
    params(
        ("Tus-Resumable" = inline(TusVersion), Header, description = "the protocol version: 1.0.0"),
        ("Upload-Length" = u64, Header, minimum = 1, description = "the file's size in bytes (a file is never empty), up to `Tus-Max-Size` (413 above it)"),
        ("Upload-Metadata" = Option<String>, Header, description = "comma-separated `key base64(value)` pairs; \
            the service reads title, description, hashtags, price, product_description and is_ad (each as in \
            the upload form, UTF-8 without NUL; ignored in partial uploads) and filename, and keeps other keys \
            as sent"),
        ("Upload-Concat" = Option<String>, Header, pattern = r"^partial$|^final;(?: */api/v2/media/tus/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})+ *$",
            description = "`partial` for a piece of a later upload, or `final;` and the pieces' URLs"),
    ),
    request_body(content = Option<UploadBytes>, content_type = "application/offset+octet-stream", description = "optional first bytes"),
    responses((status = 201, description = "created; Location names the upload"), (status = 413),
              (status = 412, description = WRONG_VERSION),
              (status = 460)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let headers = request.headers();
    resumable_version(headers)?;
    let max = state.settings.max_upload_bytes as i64;
    let concat =
        header(headers, "Upload-Concat").map(tus::parse_concat).transpose().map_err(invalid("Upload-Concat"))?;
    let metadata_header = match headers.get("Upload-Metadata").map(|v| v.to_str()) {
        Some(Ok(value)) => Some(value.trim().to_owned()),
        Some(Err(_)) => return Err(invalid("Upload-Metadata")("is not ASCII text".into())),
        None => None,
    };
    let read: Vec<&str> = RawFields::NAMES.into_iter().chain(["filename"]).collect();
    let metadata = metadata_header
        .as_deref()
        .map(|header| tus::parse_metadata(header, &read))
        .transpose()
        .map_err(invalid("Upload-Metadata"))?;
    let mut raw = RawFields::default();
    let mut file_name = None;
    for (key, value) in metadata.into_iter().flatten() {
        if key == "filename" {
            file_name = value;
        } else if let Some(value) = value {
            raw.set(&key, value);
        }
    }
    let mut problems = FieldProblems::new();
    // Partial uploads are pieces, not videos: their fields come with the final upload.
    let fields = if concat == Some(Concat::Partial) {
        None
    } else {
        raw.title_from_file_name(file_name.as_deref());
        VideoFields::parse(&raw, &mut problems)
    };
    problems.finish()?;
    let id = Uuid::now_v7();
    let mut conn = state.db.get().await?;
    let (length, parts) = match &concat {
        Some(Concat::Final(parts)) => {
            let found = uploads::find_many_own(&mut conn, parts, user.id).await?;
            let mut total = 0i64;
            for part in parts {
                let upload = found
                    .iter()
                    .find(|u| u.id == *part)
                    .ok_or_else(|| ApiError::not_found(format!("no such upload {part}")))?;
                if upload.concat.as_deref() != Some("partial") {
                    return Err(ApiError::bad_request("not_partial", format!("upload {part} is not a partial upload")));
                }
                if upload.length != Some(upload.offset_) {
                    return Err(ApiError::conflict("partial_incomplete", format!("upload {part} is not complete")));
                }
                total += upload.offset_;
            }
            if total > max {
                return Err(ingest::too_large(max as u64));
            }
            (Some(total), parts.clone())
        }
        _ => (declared_length(headers, max)?, Vec::new()),
    };
    let staged = state.storage.staged(id);
    tokio::fs::File::create(&staged).await.map_err(ApiError::internal)?;
    let new = NewUpload {
        id,
        user_id: user.id,
        protocol: "tus",
        length,
        offset_: 0,
        chunk_size: None,
        total_chunks: None,
        file_name,
        metadata: fields.map(|f| serde_json::to_value(&f)).transpose().map_err(ApiError::internal)?.unwrap_or_default(),
        tus_metadata: metadata_header,
        concat: concat.as_ref().map(|c| if *c == Concat::Partial { "partial" } else { "final" }),
        parts: parts.clone(),
        expires_at: resumable::expiry(&state),
    };
    let mut upload = match uploads::insert(&mut conn, &new).await {
        Ok(upload) => upload,
        Err(error) => {
            crate::storage::remove_staged(&staged).await;
            return Err(error.into());
        }
    };
    drop(conn);
    let location = format!("{TUS_PATH}/{id}");
    if !parts.is_empty() {
        concatenate(&state, &upload).await?;
        let mut conn = state.db.get().await?;
        uploads::advance(&mut conn, id, 0, length.unwrap_or_default(), length, upload.expires_at).await?;
        upload = own_upload(&mut conn, id, user.id).await?;
        drop(conn);
        resumable::finish(&state, &upload).await?;
        for part in &parts {
            let mut conn = state.db.get().await?;
            uploads::delete(&mut conn, *part).await?;
            crate::storage::remove_staged(&state.storage.staged(*part)).await;
        }
        return Ok(answer(StatusCode::CREATED).insert_header(("Location", location)).finish());
    }
    let with_body = header(headers, "Content-Type") == Some(tus::OFFSET_CONTENT_TYPE);
    let mut response = answer(StatusCode::CREATED);
    response.insert_header(("Location", location)).insert_header(("Upload-Expires", http_date(upload.expires_at)));
    if with_body {
        let offset = append(&state, &upload, &request, body).await?;
        response.insert_header(("Upload-Offset", offset.to_string()));
    }
    Ok(response.finish())
}

/// Where an upload stands: `Upload-Offset`, `Upload-Length` (or `Upload-Defer-Length`),
/// `Upload-Metadata`, `Upload-Concat`, `Upload-Expires`.
#[utoipa::path(head, path = "/api/v2/media/tus/{id}", tag = "tus", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Tus-Resumable" = inline(TusVersion), Header, description = "the protocol version: 1.0.0")),
    responses((status = 200, description = "the upload's offset and length"), (status = 410, description = "rejected or expired"),
              (status = 412, description = WRONG_VERSION)))]
pub async fn head(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resumable_version(request.headers())?;
    let mut conn = state.db.get().await?;
    let upload = live_upload(&mut conn, *id, user.id).await?;
    let mut response = answer(StatusCode::OK);
    response.insert_header(("Cache-Control", "no-store")).insert_header(("Upload-Offset", upload.offset_.to_string()));
    match upload.length {
        Some(length) => response.insert_header(("Upload-Length", length.to_string())),
        None => response.insert_header(("Upload-Defer-Length", "1")),
    };
    if let Some(metadata) = &upload.tus_metadata {
        response.insert_header(("Upload-Metadata", metadata.clone()));
    }
    match upload.concat.as_deref() {
        Some("partial") => {
            response.insert_header(("Upload-Concat", "partial"));
        }
        Some(_) => {
            let urls: Vec<String> = upload.parts.iter().map(|p| format!("{TUS_PATH}/{p}")).collect();
            response.insert_header(("Upload-Concat", format!("final;{}", urls.join(" "))));
        }
        None => {}
    }
    progress_headers(&mut response, &upload);
    Ok(response.finish())
}

/// Appends bytes at `Upload-Offset` (409 when it is not the upload's offset); with
/// `Upload-Checksum` (`sha1` or `sha256` and the base64 digest), bytes whose digest differs are
/// discarded (460); an upload created with `Upload-Defer-Length` takes its `Upload-Length` here.
#[utoipa::path(patch, path = "/api/v2/media/tus/{id}", tag = "tus", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Tus-Resumable" = inline(TusVersion), Header, description = "the protocol version: 1.0.0"),
        ("Upload-Offset" = u64, Header, description = "where these bytes go: the upload's current offset")),
    request_body(content = UploadBytes, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "written; Upload-Offset is the new offset (Video-Id once complete)"),
              (status = 409), (status = 410),
              (status = 412, description = WRONG_VERSION),
              (status = 423), (status = 460)))]
pub async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let headers = request.headers();
    resumable_version(headers)?;
    if header(headers, "Content-Type") != Some(tus::OFFSET_CONTENT_TYPE) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("a PATCH carries {}", tus::OFFSET_CONTENT_TYPE),
        ));
    }
    let mut conn = state.db.get().await?;
    let upload = live_upload(&mut conn, *id, user.id).await?;
    drop(conn);
    if upload.concat.as_deref() == Some("final") {
        return Err(ApiError::forbidden("a final upload is made of its parts; it takes no PATCH"));
    }
    let offset = append(&state, &upload, &request, body).await?;
    let mut conn = state.db.get().await?;
    let upload = own_upload(&mut conn, upload.id, user.id).await?;
    let mut response = answer(StatusCode::NO_CONTENT);
    response.insert_header(("Upload-Offset", offset.to_string()));
    progress_headers(&mut response, &upload);
    Ok(response.finish())
}

/// Terminates an unfinished upload: its bytes are deleted.
#[utoipa::path(delete, path = "/api/v2/media/tus/{id}", tag = "tus", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Tus-Resumable" = inline(TusVersion), Header, description = "the protocol version: 1.0.0")),
    responses((status = 204), (status = 409),
              (status = 412, description = WRONG_VERSION)))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resumable_version(request.headers())?;
    let mut conn = state.db.get().await?;
    let upload = own_upload(&mut conn, *id, user.id).await?;
    terminate(&state, &mut conn, &upload).await?;
    Ok(answer(StatusCode::NO_CONTENT).finish())
}

/// Writes the request's body at the upload's offset and moves the offset; the upload becomes a
/// video when its last byte arrives. Answers the new offset.
async fn append(
    state: &AppState,
    upload: &Upload,
    request: &HttpRequest,
    mut body: web::Payload,
) -> Result<i64, ApiError> {
    let headers = request.headers();
    let claimed: i64 = match header(headers, "Upload-Offset") {
        Some(value) => {
            value.parse().map_err(|_| ApiError::bad_request("invalid_header", "Upload-Offset must be a number"))?
        }
        None if request.method() == actix_web::http::Method::POST => 0,
        None => return Err(ApiError::bad_request("invalid_header", "Upload-Offset is required")),
    };
    let checksum = header(headers, "Upload-Checksum")
        .map(tus::parse_checksum)
        .transpose()
        .map_err(|problem| ApiError::bad_request("invalid_checksum", problem))?;
    let mut length = upload.length;
    if let Some(value) = header(headers, "Upload-Length") {
        let declared: i64 =
            value.parse().map_err(|_| ApiError::bad_request("invalid_header", "Upload-Length must be a number"))?;
        match length {
            Some(known) if known != declared => {
                return Err(ApiError::bad_request("length_fixed", "the upload's length is already set"));
            }
            _ => {}
        }
        if declared < claimed {
            return Err(ApiError::bad_request("invalid_header", "Upload-Length is below the offset"));
        }
        if declared > state.settings.max_upload_bytes as i64 {
            return Err(ingest::too_large(state.settings.max_upload_bytes));
        }
        length = Some(declared);
    }
    let lease = Lease::take(&state.redis, upload.id).await?;
    // Read the offset under the lease: it cannot move meanwhile.
    let mut conn = state.db.get().await?;
    let current = own_upload(&mut conn, upload.id, upload.user_id).await?;
    drop(conn);
    if claimed != current.offset_ {
        return Err(ApiError::conflict("offset_mismatch", format!("the upload's offset is {}", current.offset_))
            .with_details(serde_json::json!({ "offset": current.offset_ })));
    }
    if current.status != uploads::RECEIVING {
        return Ok(current.offset_); // complete: nothing more to write
    }
    let limit = length.unwrap_or(state.settings.max_upload_bytes as i64);
    let _active = ActiveUpload::start(&state.metrics);
    let written = write_body(state, &current, &mut body, limit, checksum, lease).await;
    let (written, lease) = match written {
        Written::Whole(bytes, lease) => (bytes, lease),
        Written::Cut(bytes, lease, error) => {
            // The client went away: keep what arrived (the upload resumes from there).
            save_offset(state, &current, current.offset_ + bytes, length).await?;
            drop(lease);
            return Err(error);
        }
        Written::Refused(error) => return Err(error),
    };
    let offset = current.offset_ + written;
    save_offset(state, &current, offset, length).await?;
    drop(lease);
    if length == Some(offset) {
        let mut conn = state.db.get().await?;
        let finished = own_upload(&mut conn, upload.id, upload.user_id).await?;
        drop(conn);
        if finished.concat.as_deref() == Some("partial") {
            let mut conn = state.db.get().await?;
            uploads::complete(&mut conn, upload.id, None).await?;
        } else {
            resumable::finish(state, &finished).await?;
        }
    }
    Ok(offset)
}

async fn save_offset(state: &AppState, upload: &Upload, offset: i64, length: Option<i64>) -> Result<(), ApiError> {
    let mut conn = state.db.get().await?;
    if !uploads::advance(
        &mut conn,
        upload.id,
        upload.offset_,
        offset,
        length.or(upload.length),
        resumable::expiry(state),
    )
    .await?
    {
        return Err(ApiError::conflict("offset_mismatch", "the upload moved meanwhile"));
    }
    Ok(())
}

enum Written {
    Whole(i64, Lease),
    /// The body ended early (a cut connection): this many bytes were kept.
    Cut(i64, Lease, ApiError),
    /// Nothing kept (checksum mismatch, too large, storage trouble).
    Refused(ApiError),
}

enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

async fn write_body(
    state: &AppState,
    upload: &Upload,
    body: &mut web::Payload,
    limit: i64,
    checksum: Option<Checksum>,
    mut lease: Lease,
) -> Written {
    let path = state.storage.staged(upload.id);
    let start = upload.offset_ as u64;
    let opened = async {
        let mut file = tokio::fs::OpenOptions::new().write(true).open(&path).await?;
        file.seek(std::io::SeekFrom::Start(start)).await?;
        Ok::<_, std::io::Error>(tokio::io::BufWriter::with_capacity(1024 * 1024, file))
    };
    let mut file = match opened.await {
        Ok(file) => file,
        Err(error) => return Written::Refused(ApiError::internal(error)),
    };
    let mut hasher = checksum.as_ref().map(|c| match c.algorithm {
        Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
        Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
    });
    let counter = state.metrics.upload_bytes.with_label_values(&["tus"]);
    let mut written: i64 = 0;
    let mut cut: Option<ApiError> = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                cut = Some(ApiError::bad_request("incomplete_body", format!("the body ended early: {error}")));
                break;
            }
        };
        if upload.offset_ + written + chunk.len() as i64 > limit {
            let _ = discard(file, start).await;
            return Written::Refused(if upload.length.is_some() || limit < state.settings.max_upload_bytes as i64 {
                ApiError::bad_request("beyond_length", "the bytes go past the upload's length")
            } else {
                ingest::too_large(state.settings.max_upload_bytes)
            });
        }
        match &mut hasher {
            Some(Hasher::Sha1(h)) => h.update(&chunk),
            Some(Hasher::Sha256(h)) => h.update(&chunk),
            None => {}
        }
        if let Err(error) = file.write_all(&chunk).await {
            let _ = discard(file, start).await;
            return Written::Refused(ApiError::internal(error));
        }
        written += chunk.len() as i64;
        counter.inc_by(chunk.len() as u64);
        lease.keep().await;
    }
    if let Err(error) = file.flush().await {
        let _ = discard(file, start).await;
        return Written::Refused(ApiError::internal(error));
    }
    if let (Some(checksum), Some(hasher)) = (checksum, hasher) {
        let digest = match hasher {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        // Unverifiable (cut) or wrong: the bytes are discarded.
        if cut.is_some() || digest != checksum.digest {
            let _ = discard(file, start).await;
            return Written::Refused(ApiError::new(
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
                "checksum_mismatch",
                "the bytes' checksum differs from Upload-Checksum; they were discarded",
            ));
        }
    }
    match cut {
        Some(error) => Written::Cut(written, lease, error),
        None => Written::Whole(written, lease),
    }
}

/// Drops what this request wrote past `start`.
async fn discard(file: tokio::io::BufWriter<tokio::fs::File>, start: u64) -> std::io::Result<()> {
    file.into_inner().set_len(start).await
}

/// Writes the parts of a final upload, in order, into its staged file.
async fn concatenate(state: &AppState, upload: &Upload) -> Result<(), ApiError> {
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(state.storage.staged(upload.id))
        .await
        .map_err(ApiError::internal)?;
    for part in &upload.parts {
        let mut source = tokio::fs::File::open(state.storage.staged(*part)).await.map_err(ApiError::internal)?;
        tokio::io::copy(&mut source, &mut out).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(())
}

/// The caller's upload, still answerable (a rejected one is gone: 410).
async fn live_upload(conn: &mut diesel_async::AsyncPgConnection, id: Uuid, user_id: i64) -> Result<Upload, ApiError> {
    let upload = own_upload(conn, id, user_id).await?;
    if upload.protocol != "tus" {
        return Err(ApiError::not_found("no such tus upload"));
    }
    if upload.status == uploads::REJECTED || (upload.expires_at < Utc::now() && upload.status == uploads::RECEIVING) {
        return Err(ApiError::new(StatusCode::GONE, "upload_gone", "the upload was rejected or has expired")
            .with_details(upload.error.unwrap_or_default()));
    }
    Ok(upload)
}

/// What an upload's HEAD and PATCH answers say besides the offset: when an unfinished upload
/// expires, and the video a finished one became.
fn progress_headers(response: &mut HttpResponseBuilder, upload: &Upload) {
    if upload.status == uploads::RECEIVING {
        response.insert_header(("Upload-Expires", http_date(upload.expires_at)));
    }
    if let Some(video) = upload.video_id {
        response.insert_header(("Video-Id", video.to_string()));
    }
}

/// Every tus answer says which protocol version it speaks.
fn answer(status: StatusCode) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response.insert_header(("Tus-Resumable", tus::VERSION));
    response
}

/// The request's `Tus-Resumable` is the version spoken here. Another version gets the protocol's
/// 412; a missing header, or one that names no version at all, is a malformed request (400).
fn resumable_version(headers: &HeaderMap) -> Result<(), ApiError> {
    let details = serde_json::json!({ "tus_version": tus::VERSION });
    match header(headers, "Tus-Resumable") {
        Some(tus::VERSION) => Ok(()),
        Some(other) if !tus::is_version(other) => {
            Err(ApiError::bad_request("invalid_header", "Tus-Resumable: 1.0.0 is required").with_details(details))
        }
        None => Err(ApiError::bad_request("invalid_header", "Tus-Resumable: 1.0.0 is required").with_details(details)),
        Some(_) => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "unsupported_tus_version",
            "Tus-Resumable: 1.0.0 is required",
        )
        .with_details(details)),
    }
}

/// `Upload-Length`, or `None` with `Upload-Defer-Length: 1`.
fn declared_length(headers: &HeaderMap, max: i64) -> Result<Option<i64>, ApiError> {
    match (header(headers, "Upload-Length"), header(headers, "Upload-Defer-Length")) {
        (Some(value), None) => {
            let length: i64 = value.parse().ok().filter(|l| *l >= 0).ok_or_else(|| {
                ApiError::bad_request("invalid_header", "Upload-Length must be a non-negative number")
            })?;
            if length > max {
                return Err(ingest::too_large(max as u64));
            }
            if length == 0 {
                return Err(ApiError::bad_request("empty_file", "Upload-Length is 0: a video is never empty"));
            }
            Ok(Some(length))
        }
        (None, Some("1")) => Ok(None),
        _ => Err(ApiError::bad_request("invalid_header", "give Upload-Length or Upload-Defer-Length: 1 (not both)")),
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn invalid(name: &'static str) -> impl Fn(String) -> ApiError {
    move |problem| ApiError::bad_request("invalid_header", format!("{name}: {problem}"))
}

fn http_date(at: DateTime<Utc>) -> String {
    HttpDate::from(SystemTime::from(at)).to_string()
}
