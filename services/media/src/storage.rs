//! Where media bytes live: uploads are staged in local files while they arrive, then committed
//! to the object store (moved when the store is the local filesystem, streamed in a multipart
//! upload when it is S3); the worker's outputs go the same way.

use crate::config::MediaSettings;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use platform::config::StorageSettings;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Part size of multipart uploads to S3.
const PART_BYTES: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct Storage {
    pub store: Arc<dyn ObjectStore>,
    pub signer: Option<Arc<dyn Signer>>,
    local_root: Option<PathBuf>,
    staging: PathBuf,
}

impl Storage {
    pub fn open(settings: &StorageSettings, media: &MediaSettings) -> anyhow::Result<Self> {
        let staging = PathBuf::from(&media.staging_dir);
        std::fs::create_dir_all(&staging)?;
        Ok(Self {
            store: platform::storage::object_store(settings)?,
            signer: platform::storage::signer(settings)?,
            local_root: platform::storage::local_root(settings),
            staging,
        })
    }

    /// The staged file of an upload.
    pub fn staged(&self, upload: uuid::Uuid) -> PathBuf {
        self.staging.join(format!("{upload}.part"))
    }

    /// A fresh staging file name (multipart uploads, assembled tus concatenations).
    pub fn scratch(&self) -> PathBuf {
        self.staging.join(format!("{}.tmp", uuid::Uuid::now_v7()))
    }

    /// A fresh scratch directory (the worker's outputs).
    pub fn scratch_dir(&self) -> PathBuf {
        self.staging.join(format!("{}.work", uuid::Uuid::now_v7()))
    }

    /// The object's file, when the store is the local filesystem.
    pub fn local_path(&self, path: &ObjectPath) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(path.as_ref()))
    }

    /// Puts the local file `file` into the store at `to` and removes the file.
    pub async fn commit(&self, file: &Path, to: &ObjectPath) -> anyhow::Result<()> {
        if let Some(target) = self.local_path(to) {
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            match tokio::fs::rename(file, &target).await {
                Ok(()) => return Ok(()),
                // Another filesystem: copy, then remove.
                Err(_) => {
                    tokio::fs::copy(file, &target).await?;
                    tokio::fs::remove_file(file).await?;
                    return Ok(());
                }
            }
        }
        self.upload(file, to).await?;
        tokio::fs::remove_file(file).await?;
        Ok(())
    }

    /// Streams a local file into the store in a multipart upload, a part at a time.
    async fn upload(&self, file: &Path, to: &ObjectPath) -> anyhow::Result<()> {
        let mut source = tokio::fs::File::open(file).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(self.store.put_multipart(to).await?, PART_BYTES);
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let read = match source.read(&mut buffer).await {
                Ok(read) => read,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error.into());
                }
            };
            if read == 0 {
                break;
            }
            writer.wait_for_capacity(2).await?;
            writer.write(&buffer[..read]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// A local copy of an object for ffmpeg: the object's own file when the store is local,
    /// else a download into `scratch` (returned so that it can be removed).
    pub async fn readable_file(&self, path: &ObjectPath, scratch: &Path) -> anyhow::Result<PathBuf> {
        if let Some(local) = self.local_path(path) {
            tokio::fs::metadata(&local).await.map_err(|e| anyhow::anyhow!("{path} is not in storage: {e}"))?;
            return Ok(local);
        }
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let target = scratch.join("original");
        let mut file = tokio::fs::File::create(&target).await?;
        let mut stream = self.store.get(path).await?.into_stream();
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(target)
    }

    /// Removes every object under `prefix` (a video's files).
    pub async fn delete_prefix(&self, prefix: &ObjectPath) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let mut listing = self.store.list(Some(prefix));
        while let Some(meta) = listing.next().await {
            self.store.delete(&meta?.location).await?;
        }
        Ok(())
    }
}

/// A staged file of one request, removed when the request ends however it ends (a client that
/// disconnects drops the handler); a file moved into storage is already gone.
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Removes a staged file, ignoring a file that is already gone.
pub async fn remove_staged(file: &Path) {
    if let Err(error) = tokio::fs::remove_file(file).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%error, file = %file.display(), "cannot remove a staged file");
    }
}
