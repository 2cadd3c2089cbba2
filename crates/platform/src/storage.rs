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
