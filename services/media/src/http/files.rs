//! Serving stored media: originals, thumbnails and HLS playlists/segments, with HTTP Range
//! (206), ETag/Last-Modified revalidation (304), cache headers and MIME types; a presigned
//! redirect to S3 when the storage is S3.

use crate::domain::container::mime_of;
use crate::state::AppState;
use actix_web::http::header::{self, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStoreExt};
use platform::ApiError;
use std::time::{Duration, SystemTime};

/// Where the service serves stored files.
pub const FILES_PREFIX: &str = "/api/v2/media/files/";

/// The URL (through the gateway) of a stored file.
pub fn url(path: &str) -> String {
    format!("{FILES_PREFIX}{path}")
}

/// A stored file (`videos/<id>/...`), whole or a byte range.
#[utoipa::path(get, path = "/api/v2/media/files/{path}", tag = "files",
    params(("path" = String, Path, description = "the file's path, e.g. videos/1/hls/master.m3u8"),
           ("Range" = Option<String>, Header, description = "bytes=<from>-<to>")),
    responses((status = 200, description = "the file"), (status = 206, description = "the requested range"),
              (status = 302, description = "a presigned URL of the file (S3 storage)"),
              (status = 304, description = "not modified"), (status = 416)))]
pub async fn get_file(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(&state, &request, &path).await
}

/// A stored file's headers.
#[utoipa::path(head, path = "/api/v2/media/files/{path}", tag = "files",
    params(("path" = String, Path)),
    responses((status = 200, description = "the file's headers"), (status = 302, description = "a presigned URL")))]
pub async fn head_file(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(&state, &request, &path).await
}

fn object_path(raw: &str) -> Result<ObjectPath, ApiError> {
    // Only videos' and stories' files are served (never staged uploads); `..` cannot be parsed.
    let path = ObjectPath::parse(raw).map_err(|_| ApiError::not_found("no such file"))?;
    if !(raw.starts_with("videos/") || raw.starts_with("stories/")) || raw.ends_with('/') {
        return Err(ApiError::not_found("no such file"));
    }
    Ok(path)
}

async fn serve(state: &AppState, request: &HttpRequest, raw: &str) -> Result<HttpResponse, ApiError> {
    let path = object_path(raw)?;
    if let Some(signer) = &state.storage.signer {
        let ttl = Duration::from_secs(state.settings.presign_ttl_secs);
        let method = if request.method() == Method::HEAD {
            object_store::signer::Method::HEAD
        } else {
            object_store::signer::Method::GET
        };
        let url = signer.signed_url(method, &path, ttl).await.map_err(ApiError::internal)?;
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url.to_string()))
            .insert_header((header::CACHE_CONTROL, format!("private, max-age={}", ttl.as_secs() / 2)))
            .finish());
    }
    let meta = match state.storage.store.head(&path).await {
        Ok(meta) => meta,
        Err(object_store::Error::NotFound { .. }) => return Err(ApiError::not_found("no such file")),
        Err(error) => return Err(ApiError::internal(error)),
    };
    let etag = format!(
        "\"{}\"",
        meta.e_tag.clone().unwrap_or_else(|| format!("{:x}-{:x}", meta.size, meta.last_modified.timestamp()))
    );
    let modified: SystemTime = meta.last_modified.into();
    let mut response = HttpResponse::build(StatusCode::OK);
    response
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::LAST_MODIFIED, HttpDate::from(modified).to_string()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, cache_control(raw)))
        .insert_header((header::CONTENT_TYPE, mime_of(raw)));
    if not_modified(request, &etag, modified) {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    let range = match request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(header_value) => match byte_range(header_value, meta.size) {
            Some(range) => Some(range),
            None => {
                use actix_web::ResponseError;
                let mut answer = ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    "the range is not within the file",
                )
                .with_details(serde_json::json!({ "size": meta.size }))
                .error_response();
                if let Ok(value) = header::HeaderValue::from_str(&format!("bytes */{}", meta.size)) {
                    answer.headers_mut().insert(header::CONTENT_RANGE, value);
                }
                return Ok(answer);
            }
        },
    };
    let (status, start, end) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
        None => (StatusCode::OK, 0, meta.size),
    };
    response.status(status).no_chunking(end - start);
    if status == StatusCode::PARTIAL_CONTENT {
        response
            .insert_header((header::CONTENT_RANGE, format!("bytes {start}-{}/{}", end.saturating_sub(1), meta.size)));
    }
    if start == end {
        return Ok(response.finish());
    }
    // HEAD too: the server sends the headers of this sized body, not the body.
    let options = GetOptions { range: Some(GetRange::Bounded(start..end)), ..Default::default() };
    let body = state.storage.store.get_opts(&path, options).await.map_err(ApiError::internal)?.into_stream();
    Ok(response.streaming(body.map(|chunk| chunk.map_err(std::io::Error::other))))
}

/// Segments and originals never change under their name; playlists and thumbnails may be
/// remade by a reprocessing, so they are revalidated.
fn cache_control(path: &str) -> &'static str {
    if path.ends_with(".ts") || path.contains("/original.") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60, must-revalidate"
    }
}

fn not_modified(request: &HttpRequest, etag: &str, modified: SystemTime) -> bool {
    if let Some(tags) = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return tags.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.trim_start_matches("W/") == etag);
    }
    request
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<HttpDate>().ok())
        .is_some_and(|since| {
            let since: SystemTime = since.into();
            modified.duration_since(since).map_or(true, |newer| newer < Duration::from_secs(1))
        })
}

/// One range of `Range: bytes=...` as `start..end` (end exclusive), within `size`.
pub fn byte_range(header_value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header_value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // one range only
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let (start, end) = if first.is_empty() {
        let suffix: u64 = last.parse().ok()?;
        if suffix == 0 {
            return None;
        }
        (size.saturating_sub(suffix), size)
    } else {
        let start: u64 = first.parse().ok()?;
        let end = if last.is_empty() { size } else { last.parse::<u64>().ok()?.saturating_add(1).min(size) };
        (start, end)
    };
    if start >= size || start >= end {
        return None;
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(byte_range("bytes=0-99", 1000), Some((0, 100)));
        assert_eq!(byte_range("bytes=900-", 1000), Some((900, 1000)));
        assert_eq!(byte_range("bytes=-100", 1000), Some((900, 1000)));
        assert_eq!(byte_range("bytes=990-2000", 1000), Some((990, 1000)));
        assert!(byte_range("bytes=1000-", 1000).is_none());
        assert!(byte_range("bytes=0-1,5-6", 1000).is_none());
        assert!(byte_range("items=0-1", 1000).is_none());
    }

    #[test]
    fn only_video_files_are_served() {
        assert!(object_path("videos/1/hls/master.m3u8").is_ok());
        assert!(object_path("staging/abc.part").is_err());
        assert!(object_path("videos/../staging/abc.part").is_err());
    }
}
