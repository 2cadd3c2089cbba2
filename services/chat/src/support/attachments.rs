//! Files attached to tickets: checked by their first bytes, put in the object store (under
//! `support/<author>/`, names nobody can guess) before the ticket's transaction, and served
//! only to the ticket's readers.

use super::domain;
use crate::state::AppState;
use crate::store::tickets::StoredFile;
use bytes::Bytes;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use platform::ApiError;

/// A file as it arrived, not yet checked.
pub struct Upload {
    /// The name the client gave it (shown to readers, never trusted for its type).
    pub file_name: Option<String>,
    pub bytes: Bytes,
}

pub fn unsupported() -> ApiError {
    ApiError::unsupported_media_type("attachments must be JPEG, PNG or WebP images or PDF documents")
}

pub fn too_large() -> ApiError {
    ApiError::payload_too_large(format!(
        "an attachment may be at most {} MB",
        domain::MAX_ATTACHMENT_BYTES / (1024 * 1024)
    ))
}

/// Stores `uploads` of `author_id`: 415 (and nothing stored) when any is not an accepted kind.
pub async fn store(state: &AppState, author_id: i64, uploads: Vec<Upload>) -> Result<Vec<StoredFile>, ApiError> {
    let kinds = uploads.iter().map(|upload| domain::file_kind(&upload.bytes).ok_or_else(unsupported));
    let kinds = kinds.collect::<Result<Vec<_>, _>>()?;
    let mut stored = Vec::with_capacity(uploads.len());
    for (upload, kind) in uploads.into_iter().zip(kinds) {
        let path = Path::from(format!("support/{author_id}/{}.{}", uuid::Uuid::now_v7(), kind.extension));
        let size = upload.bytes.len() as i64;
        if let Err(error) = state.storage.put(&path, upload.bytes.into()).await {
            forget(state, &stored).await;
            return Err(ApiError::internal(error));
        }
        stored.push(StoredFile {
            path: path.to_string(),
            file_name: upload.file_name,
            content_type: kind.content_type,
            size,
        });
    }
    Ok(stored)
}

/// Removes stored files whose ticket was not created (best effort: a leftover is only space).
pub async fn forget(state: &AppState, files: &[StoredFile]) {
    for file in files {
        if let Err(error) = state.storage.delete(&Path::from(file.path.as_str())).await {
            tracing::warn!(%error, path = file.path, "an orphaned attachment stays in storage");
        }
    }
}

pub async fn read(state: &AppState, path: &str) -> Result<Bytes, ApiError> {
    let object = state.storage.get(&Path::from(path)).await.map_err(ApiError::internal)?;
    object.bytes().await.map_err(ApiError::internal)
}
