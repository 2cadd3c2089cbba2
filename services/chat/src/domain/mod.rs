//! The chat's pure rules: who a chat is between, what a message may hold, when it may change.

use chrono::{DateTime, Duration, Utc};

/// The two participants of a chat, smaller id first (one chat per pair and request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    low: i64,
    high: i64,
}

impl Pair {
    /// `None` when both are the same user: nobody chats with themselves.
    pub fn new(a: i64, b: i64) -> Option<Self> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self { low: a, high: b }),
            std::cmp::Ordering::Greater => Some(Self { low: b, high: a }),
            std::cmp::Ordering::Equal => None,
        }
    }

    pub fn low(&self) -> i64 {
        self.low
    }

    pub fn high(&self) -> i64 {
        self.high
    }
}

/// What a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Text,
    Image,
    Voice,
    Video,
    File,
    System,
}

impl MessageKind {
    /// The kinds a client may send as a file (`type` of the media form).
    pub const MEDIA: [MessageKind; 4] = [MessageKind::Image, MessageKind::Voice, MessageKind::Video, MessageKind::File];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::Voice => "voice",
            MessageKind::Video => "video",
            MessageKind::File => "file",
            MessageKind::System => "system",
        }
    }

    /// A media kind by its name.
    pub fn media(name: &str) -> Option<Self> {
        Self::MEDIA.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The most bytes a file of this kind may have. A whole form must also fit the gateway's
    /// body limit (10 MiB by default), hence 9 MiB at most.
    pub fn max_bytes(self) -> usize {
        match self {
            MessageKind::Image | MessageKind::Voice => 5 * 1024 * 1024,
            _ => MAX_MEDIA_BYTES,
        }
    }
}

/// The most bytes of any media message's file.
pub const MAX_MEDIA_BYTES: usize = 9 * 1024 * 1024;

/// A media message's file as its bytes show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    pub kind: MessageKind,
    pub extension: &'static str,
    pub content_type: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentRefused {
    #[error("the file is empty")]
    Empty,
    #[error("{} may be at most {} MB", article(kind), max_bytes / (1024 * 1024))]
    TooLarge { kind: &'static str, max_bytes: usize },
    #[error(
        "the file is not {}: images are JPEG, PNG or WebP; voice notes Ogg, MP3, M4A or WebM; videos mp4, mov, avi or webm",
        article(declared)
    )]
    NotOfKind { declared: &'static str },
}

fn article(kind: &str) -> String {
    match kind {
        "image" => "an image".into(),
        "voice" => "a voice note".into(),
        "video" => "a video".into(),
        other => format!("a {other}"),
    }
}

/// What `bytes` are, by their content (never by a name or a declared type): an image, a voice
/// note or a video when they are one, else a file. With a `declared` kind the content must
/// be of that kind (a file may be anything); a voice note may come in a WebM container, as
/// browsers record it.
pub fn attachment(declared: Option<MessageKind>, bytes: &[u8]) -> Result<Attachment, AttachmentRefused> {
    use platform::storage::{sniff_audio, sniff_image, sniff_pdf, sniff_video};
    if bytes.is_empty() {
        return Err(AttachmentRefused::Empty);
    }
    let found = |kind, (extension, content_type)| Attachment { kind, extension, content_type };
    let detected = sniff_image(bytes)
        .map(|t| found(MessageKind::Image, t))
        .or_else(|| sniff_audio(bytes).map(|t| found(MessageKind::Voice, t)))
        .or_else(|| sniff_video(bytes).map(|t| found(MessageKind::Video, t)))
        .unwrap_or_else(|| found(MessageKind::File, sniff_pdf(bytes).unwrap_or(("bin", "application/octet-stream"))));
    let attachment = match declared {
        None => detected,
        Some(MessageKind::File) => Attachment { kind: MessageKind::File, ..detected },
        Some(MessageKind::Voice) if detected.extension == "webm" => {
            Attachment { kind: MessageKind::Voice, extension: "webm", content_type: "audio/webm" }
        }
        Some(kind) if kind == detected.kind => detected,
        Some(kind) => return Err(AttachmentRefused::NotOfKind { declared: kind.as_str() }),
    };
    let max_bytes = attachment.kind.max_bytes();
    if bytes.len() > max_bytes {
        return Err(AttachmentRefused::TooLarge { kind: attachment.kind.as_str(), max_bytes });
    }
    Ok(attachment)
}

/// A file name as a client sent it, fit to show: its last path segment, without control
/// characters, at most 255 characters; `None` when nothing is left.
pub fn file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

/// A message's text, trimmed: not empty, at most `limit` characters.
pub fn message_text(text: &str, limit: usize) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > limit {
        return Err(format!("must be at most {limit} characters"));
    }
    Ok(text.to_owned())
}

/// A client's id for a message (its retry key): 1 to 64 visible ASCII characters.
pub fn client_message_id(id: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(id.to_owned()) } else { Err("must be 1 to 64 visible ASCII characters".into()) }
}

/// Why a message cannot be edited or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefused {
    #[error("only the sender may change a message")]
    NotSender,
    #[error("the message is deleted")]
    Deleted,
    #[error("the message can no longer be changed")]
    WindowPassed,
}

/// May `user_id` edit or delete a message of `sender_id` sent at `sent_at`?
pub fn may_change(
    user_id: i64,
    sender_id: Option<i64>,
    sent_at: DateTime<Utc>,
    deleted: bool,
    window_secs: i64,
    now: DateTime<Utc>,
) -> Result<(), ChangeRefused> {
    if sender_id != Some(user_id) {
        return Err(ChangeRefused::NotSender);
    }
    if deleted {
        return Err(ChangeRefused::Deleted);
    }
    if now - sent_at > Duration::seconds(window_secs) {
        return Err(ChangeRefused::WindowPassed);
    }
    Ok(())
}

/// A media message's caption, trimmed: empty is fine, at most `limit` characters.
pub fn caption(text: &str, limit: usize) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > limit {
        return Err(format!("must be at most {limit} characters"));
    }
    Ok(text.to_owned())
}

/// The first characters of a text, for notifications.
pub fn preview(text: &str) -> String {
    const PREVIEW_CHARS: usize = 100;
    text.chars().take(PREVIEW_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_ordered_and_never_one_user() {
        assert_eq!(Pair::new(9, 4), Pair::new(4, 9));
        assert_eq!(Pair::new(9, 4).map(|p| (p.low(), p.high())), Some((4, 9)));
        assert_eq!(Pair::new(5, 5), None);
    }

    #[test]
    fn text_is_trimmed_and_limited_in_characters() {
        assert_eq!(message_text("  Привет  ", 10), Ok("Привет".to_owned()));
        assert!(message_text("   ", 10).is_err());
        assert!(message_text(&"ш".repeat(10), 10).is_ok());
        assert!(message_text(&"ш".repeat(11), 10).is_err());
    }

    #[test]
    fn media_kinds_are_told_by_content_and_a_declared_kind_must_match() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let ogg = b"OggS\0\x02\0\0\0\0\0\0\0\0";
        let mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41";
        let webm = b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\x82\x84webm";
        let kind = |declared, bytes: &[u8]| attachment(declared, bytes).map(|a| (a.kind, a.content_type));
        assert_eq!(kind(None, png), Ok((MessageKind::Image, "image/png")));
        assert_eq!(kind(None, ogg), Ok((MessageKind::Voice, "audio/ogg")));
        assert_eq!(kind(None, mp4), Ok((MessageKind::Video, "video/mp4")));
        assert_eq!(kind(None, b"%PDF-1.7"), Ok((MessageKind::File, "application/pdf")));
        assert_eq!(kind(None, b"just text"), Ok((MessageKind::File, "application/octet-stream")));
        // A declared kind: the content decides whether it is one; a file may be anything.
        assert_eq!(kind(Some(MessageKind::Image), png), Ok((MessageKind::Image, "image/png")));
        assert_eq!(kind(Some(MessageKind::File), png), Ok((MessageKind::File, "image/png")));
        assert_eq!(kind(Some(MessageKind::Voice), webm), Ok((MessageKind::Voice, "audio/webm")));
        assert_eq!(
            kind(Some(MessageKind::Image), b"%PDF-1.7"),
            Err(AttachmentRefused::NotOfKind { declared: "image" })
        );
        assert_eq!(kind(Some(MessageKind::Voice), mp4), Err(AttachmentRefused::NotOfKind { declared: "voice" }));
        assert_eq!(kind(None, b""), Err(AttachmentRefused::Empty));
    }

    #[test]
    fn each_kind_has_its_size_limit() {
        let mut image = b"\x89PNG\r\n\x1a\n".to_vec();
        image.resize(MessageKind::Image.max_bytes() + 1, 0);
        let refused = attachment(None, &image).unwrap_err();
        assert_eq!(refused, AttachmentRefused::TooLarge { kind: "image", max_bytes: 5 * 1024 * 1024 });
        assert_eq!(refused.to_string(), "an image may be at most 5 MB");
        // The same bytes are a file within a file's limit.
        assert_eq!(attachment(Some(MessageKind::File), &image).map(|a| a.kind), Ok(MessageKind::File));
        assert_eq!(MessageKind::media("voice"), Some(MessageKind::Voice));
        assert_eq!(MessageKind::media("system"), None);
    }

    #[test]
    fn file_names_keep_their_last_segment_without_control_characters() {
        assert_eq!(file_name("C:\\Users\\aigul\\Смета.pdf"), Some("Смета.pdf".to_owned()));
        assert_eq!(file_name("../../etc/passwd"), Some("passwd".to_owned()));
        assert_eq!(file_name("a\u{7}b\n.txt"), Some("ab.txt".to_owned()));
        assert_eq!(file_name(" / "), None);
    }

    #[test]
    fn client_ids_are_short_visible_ascii() {
        assert!(client_message_id("c-1f3a").is_ok());
        assert!(client_message_id("").is_err());
        assert!(client_message_id("with space").is_err());
        assert!(client_message_id(&"x".repeat(65)).is_err());
    }

    #[test]
    fn only_the_sender_changes_a_live_message_within_the_window() {
        let sent = Utc::now();
        assert_eq!(may_change(1, Some(1), sent, false, 60, sent + Duration::seconds(59)), Ok(()));
        assert_eq!(may_change(2, Some(1), sent, false, 60, sent), Err(ChangeRefused::NotSender));
        assert_eq!(may_change(1, None, sent, false, 60, sent), Err(ChangeRefused::NotSender));
        assert_eq!(may_change(1, Some(1), sent, true, 60, sent), Err(ChangeRefused::Deleted));
        assert_eq!(
            may_change(1, Some(1), sent, false, 60, sent + Duration::seconds(61)),
            Err(ChangeRefused::WindowPassed)
        );
    }
}
