//! The files of media messages: put in the object store under `chat/<chat>/` with names
//! nobody can guess, fetched through `/api/v2/chats/<chat>/media/<name>` by the chat's
//! participants only, removed when their message is deleted.

use crate::domain::Attachment;
use crate::state::AppState;
use bytes::Bytes;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use platform::ApiError;

/// A stored file, as a message records it.
#[derive(Debug, Clone)]
pub struct Media {
    pub url: String,
    pub content_type: String,
    pub size: i64,
    pub name: Option<String>,
}

/// The URL participants fetch a file of `chat_id` named `name` at.
pub fn url(chat_id: i64, name: &str) -> String {
    format!("/api/v2/chats/{chat_id}/media/{name}")
}

/// Whether `name` is one this module gives (`<uuid>.<extension>`): anything else is no file.
pub fn is_name(name: &str) -> bool {
    let Some((id, extension)) = name.split_once('.') else { return false };
    uuid::Uuid::try_parse(id).is_ok()
        && (1..=5).contains(&extension.len())
        && extension.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn object(chat_id: i64, name: &str) -> Path {
    Path::from(format!("chat/{chat_id}/{name}"))
}

/// Stores the file of a message about to be sent to `chat_id`.
pub async fn store(
    state: &AppState,
    chat_id: i64,
    attachment: Attachment,
    bytes: Bytes,
    name: Option<String>,
) -> Result<Media, ApiError> {
    let file = format!("{}.{}", uuid::Uuid::now_v7(), attachment.extension);
    let size = bytes.len() as i64;
    state.storage.put(&object(chat_id, &file), bytes.into()).await.map_err(ApiError::internal)?;
    Ok(Media { url: url(chat_id, &file), content_type: attachment.content_type.to_owned(), size, name })
}

/// Removes the file at `media_url` of `chat_id` (best effort: a leftover is only space).
pub async fn forget(state: &AppState, chat_id: i64, media_url: &str) {
    let Some(name) = media_url.strip_prefix(&url(chat_id, "")) else { return };
    if let Err(error) = state.storage.delete(&object(chat_id, name)).await {
        tracing::warn!(%error, media_url, "an orphaned chat file stays in storage");
    }
}

pub async fn read(state: &AppState, chat_id: i64, name: &str) -> Result<Bytes, ApiError> {
    let file = state.storage.get(&object(chat_id, name)).await.map_err(|error| match error {
        object_store::Error::NotFound { .. } => ApiError::not_found("no such file"),
        other => ApiError::internal(other),
    })?;
    file.bytes().await.map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_names_are_files() {
        let name = format!("{}.png", uuid::Uuid::now_v7());
        assert!(is_name(&name));
        for other in ["../../etc/passwd", "x.png", &format!("{}", uuid::Uuid::now_v7()), &format!("{name}/..")] {
            assert!(!is_name(other), "{other}");
        }
        assert_eq!(url(7, &name), format!("/api/v2/chats/7/media/{name}"));
    }
}
