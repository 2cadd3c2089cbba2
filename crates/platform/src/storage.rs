//! Object storage: the local filesystem by default, S3 (or MinIO) when configured.

use crate::config::{StorageBackend, StorageSettings};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::signer::Signer;
use secrecy::ExposeSecret;
use std::sync::Arc;

pub fn object_store(settings: &StorageSettings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    Ok(match settings.backend {
        StorageBackend::Local => {
            std::fs::create_dir_all(&settings.path)?;
            Arc::new(LocalFileSystem::new_with_prefix(&settings.path)?)
        }
        StorageBackend::S3 => Arc::new(s3(settings)?),
    })
}

/// Presigns URLs when the storage is S3 (clients then fetch objects from S3 directly);
/// `None` for the local filesystem, whose objects the service serves itself.
pub fn signer(settings: &StorageSettings) -> anyhow::Result<Option<Arc<dyn Signer>>> {
    Ok(match settings.backend {
        StorageBackend::Local => None,
        StorageBackend::S3 => Some(Arc::new(s3(settings)?)),
    })
}

/// The directory holding the objects when the storage is the local filesystem.
pub fn local_root(settings: &StorageSettings) -> Option<std::path::PathBuf> {
    (settings.backend == StorageBackend::Local).then(|| std::path::PathBuf::from(&settings.path))
}

/// What an image is by its first bytes (never by its name or declared type): `(extension,
/// MIME type)` of a JPEG, PNG or WebP image; `None` for anything else.
pub fn sniff_image(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("jpg", "image/jpeg"))
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("png", "image/png"))
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(("webp", "image/webp"))
    } else {
        None
    }
}

/// A PDF document by its first bytes: `(extension, MIME type)`; `None` for anything else.
pub fn sniff_pdf(head: &[u8]) -> Option<(&'static str, &'static str)> {
    head.starts_with(b"%PDF-").then_some(("pdf", "application/pdf"))
}

/// What a video is by its first bytes (at least 64 when the file has them): `(extension, MIME
/// type)` of an mp4, mov, avi or webm container; `None` for anything else.
pub fn sniff_video(head: &[u8]) -> Option<(&'static str, &'static str)> {
    let at = |range: std::ops::Range<usize>| head.get(range).unwrap_or_default();
    // ISO base media (mp4, mov): a box size, then the box type. An audio-only brand is no video.
    match at(4..8) {
        b"ftyp" if at(8..12) == b"qt  " => return Some(("mov", "video/quicktime")),
        b"ftyp" if at(8..12) != b"M4A " => return Some(("mp4", "video/mp4")),
        b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot" => return Some(("mov", "video/quicktime")),
        _ => {}
    }
    if at(0..4) == b"RIFF" && at(8..12) == b"AVI " {
        return Some(("avi", "video/x-msvideo"));
    }
    // EBML header with DocType "webm" (Matroska's other doc types are not accepted).
    if at(0..4) == [0x1A, 0x45, 0xDF, 0xA3] && head.windows(4).any(|w| w == b"webm") {
        return Some(("webm", "video/webm"));
    }
    None
}

/// What a sound recording is by its first bytes: `(extension, MIME type)` of an Ogg (Opus,
/// Vorbis), MP3 or M4A file; `None` for anything else.
pub fn sniff_audio(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(b"OggS") {
        Some(("ogg", "audio/ogg"))
    } else if head.starts_with(b"ID3") || head.starts_with(&[0xFF, 0xFB]) {
        Some(("mp3", "audio/mpeg"))
    } else if head.get(4..12) == Some(b"ftypM4A ".as_slice()) {
        Some(("m4a", "audio/mp4"))
    } else {
        None
    }
}

fn s3(settings: &StorageSettings) -> anyhow::Result<AmazonS3> {
    let mut builder =
        AmazonS3Builder::from_env().with_bucket_name(&settings.s3_bucket).with_region(&settings.s3_region);
    if let Some(endpoint) = &settings.s3_endpoint {
        builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(key_id) = &settings.s3_access_key_id {
        builder = builder.with_access_key_id(key_id);
    }
    if let Some(secret) = &settings.s3_secret_access_key {
        builder = builder.with_secret_access_key(secret.expose_secret());
    }
    Ok(builder.build()?)
}

/// The public URL of a stored object.
pub fn public_url(settings: &StorageSettings, path: &object_store::path::Path) -> String {
    format!("{}/{}", settings.public_base_url.trim_end_matches('/'), path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::{ObjectStoreExt, PutPayload};

    #[tokio::test]
    async fn local_store_round_trips_an_object() {
        let dir = std::env::temp_dir().join(format!("mebelplace-storage-{}", uuid::Uuid::now_v7()));
        let settings = StorageSettings { path: dir.to_string_lossy().into_owned(), ..Default::default() };
        let store = object_store(&settings).unwrap();
        let path = object_store::path::Path::from("avatars/1.png");
        store.put(&path, PutPayload::from_static(b"png")).await.unwrap();
        let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], b"png");
        assert_eq!(public_url(&settings, &path), "http://127.0.0.1:8080/media/avatars/1.png");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
