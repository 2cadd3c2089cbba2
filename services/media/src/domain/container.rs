//! What an uploaded file is, decided by its first bytes (never by its name or declared type).

use serde::Serialize;

/// The containers the seed accepts: mp4, mov, avi, webm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    Mp4,
    Mov,
    Webm,
    Avi,
}

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_BYTES: usize = 64;

impl Container {
    pub fn extension(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Webm => "webm",
            Container::Avi => "avi",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Container::Mp4 => "video/mp4",
            Container::Mov => "video/quicktime",
            Container::Webm => "video/webm",
            Container::Avi => "video/x-msvideo",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Container::Mp4, Container::Mov, Container::Webm, Container::Avi].into_iter().find(|c| c.extension() == name)
    }
}

/// Why a file is not an accepted video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not an mp4, mov, avi or webm video")]
    NotAVideo,
}

/// The container of a file from its first bytes (at least [`SNIFF_BYTES`] when the file has them).
pub fn sniff(head: &[u8]) -> Result<Container, Rejection> {
    if head.is_empty() {
        return Err(Rejection::Empty);
    }
    platform::storage::sniff_video(head)
        .and_then(|(extension, _)| Container::parse(extension))
        .ok_or(Rejection::NotAVideo)
}

pub use platform::storage::sniff_image;

/// The MIME type of a stored file by its extension (what the service itself wrote).
pub fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "ts" => "video/mp2t",
        "m4s" => "video/iso.segment",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "avi" => "video/x-msvideo",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_by_their_bytes() {
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41"), Ok(Container::Mp4));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\x02\0qt  "), Ok(Container::Mov));
        assert_eq!(sniff(b"RIFF\x10\0\0\0AVI LIST"), Ok(Container::Avi));
        assert_eq!(sniff(b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), Ok(Container::Webm));
    }

    #[test]
    fn text_renamed_to_mp4_and_empty_files_are_rejected() {
        assert_eq!(sniff(b"hello, I am a text file called video.mp4"), Err(Rejection::NotAVideo));
        assert_eq!(sniff(b""), Err(Rejection::Empty));
        assert_eq!(sniff(b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"), Err(Rejection::NotAVideo));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), Err(Rejection::NotAVideo));
    }

    #[test]
    fn images_and_stored_files_have_their_types() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some(("png", "image/png")));
        assert_eq!(sniff_image(b"GIF89a"), None);
        assert_eq!(mime_of("videos/1/hls/720p/index.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(mime_of("videos/1/hls/720p/seg_001.ts"), "video/mp2t");
        assert_eq!(Container::parse("webm"), Some(Container::Webm));
    }
}
