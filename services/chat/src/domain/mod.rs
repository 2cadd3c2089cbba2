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
    System,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::System => "system",
        }
    }
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
