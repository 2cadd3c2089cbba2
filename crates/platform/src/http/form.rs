//! Multipart forms (`multipart/form-data`): fields read with limits, and the error shape for a
//! body that is not a form or is broken.

use crate::error::ApiError;
use actix_multipart::{Field, MultipartError};
use actix_web::HttpRequest;
use actix_web::http::header;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

/// The longest text field a form may carry (each service's own checks are stricter).
pub const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;

/// Whether the request declares a multipart body.
pub fn is_multipart(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("multipart/"))
}

/// A multipart body that cannot be read: 415 when it is not multipart at all, else 400.
pub fn error(error: MultipartError) -> ApiError {
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => {
            ApiError::unsupported_media_type("the body must be multipart/form-data")
        }
        other => ApiError::bad_request("invalid_multipart", other.to_string()),
    }
}

/// A field's bytes, or `None` when more than `limit` arrived: the rest is read and dropped, so
/// that the client, still sending, reads the answer.
pub async fn read_field(field: &mut Field, limit: usize) -> Result<Option<Bytes>, ApiError> {
    let mut bytes = BytesMut::new();
    let mut over = false;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(error)?;
        over = over || bytes.len() + chunk.len() > limit;
        if !over {
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok((!over).then(|| bytes.freeze()))
}

/// Reads a field to its end and drops it.
pub async fn discard(field: &mut Field) -> Result<(), ApiError> {
    read_field(field, 0).await.map(drop)
}

/// A text field of at most `limit` bytes as text to store, or what is wrong with it.
pub async fn read_text(field: &mut Field, limit: usize) -> Result<Result<String, String>, ApiError> {
    Ok(match read_field(field, limit).await? {
        None => Err(format!("must be at most {} KB", limit / 1024)),
        Some(bytes) => super::text::storable(bytes.to_vec()).map_err(str::to_owned),
    })
}

/// The file name a field was sent with, if any.
pub fn file_name(field: &Field) -> Option<String> {
    field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned)
}
