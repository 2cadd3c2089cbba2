//! Support tickets' pure rules: where a ticket stands and who may move it, what a reply does to
//! it, and what a ticket may hold (subject, text, category, attached files).
//!
//! open → in_progress → resolved → closed. Support (admins) may also resolve or close a ticket
//! straight from the queue, put one in progress back into it (→ open), take a resolved one up
//! again (→ in_progress) and close one in progress. A closed ticket is final for support. The
//! author reopens a resolved or closed ticket (→ open). Support answering an open ticket takes
//! it in progress; the author writing to a resolved ticket reopens it (the problem is not
//! solved after all); nobody writes to a closed ticket (the author reopens it first).

use chrono::{DateTime, Duration, Utc};

platform::text_enum! {
    /// Where a ticket stands.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum TicketStatus {
        Open = "open",
        InProgress = "in_progress",
        Resolved = "resolved",
        Closed = "closed",
    }
}

platform::text_enum! {
    /// What a ticket is about.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum TicketCategory {
        Account = "account",
        Order = "order",
        Payment = "payment",
        Technical = "technical",
        Complaint = "complaint",
        Other = "other",
    }
}

/// Who acts on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The user who opened it.
    Author,
    /// An admin.
    Support,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("a ticket that is {from} cannot become {to}")]
    Transition { from: TicketStatus, to: TicketStatus },
    #[error("the ticket is closed; reopen it to write again")]
    Closed,
}

/// `to`, if `side` may move a ticket there from `from`.
pub fn transition(from: TicketStatus, to: TicketStatus, side: Side) -> Result<TicketStatus, Refused> {
    use TicketStatus::*;
    let allowed = match side {
        Side::Support => matches!(
            (from, to),
            (Open, InProgress | Resolved | Closed)
                | (InProgress, Open | Resolved | Closed)
                | (Resolved, InProgress | Closed)
        ),
        Side::Author => matches!((from, to), (Resolved | Closed, Open)),
    };
    if allowed { Ok(to) } else { Err(Refused::Transition { from, to }) }
}

/// The status of a ticket after a reply by `side` (the same one when the reply moves nothing).
pub fn after_reply(status: TicketStatus, side: Side) -> Result<TicketStatus, Refused> {
    use TicketStatus::*;
    match (status, side) {
        (Closed, _) => Err(Refused::Closed),
        (Open, Side::Support) => Ok(InProgress),
        (Resolved, Side::Author) => Ok(Open),
        (status, _) => Ok(status),
    }
}

/// The longest subject, in characters.
pub const SUBJECT_CHARS: usize = 200;
/// The longest ticket or reply text, in characters.
pub const TEXT_CHARS: usize = 5000;
/// Files attached to one ticket.
pub const MAX_ATTACHMENTS: usize = 3;
/// The largest attached file.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The oldest age an admin filters by (ten years): the moment stays far from overflowing.
const MAX_AGE_HOURS: i64 = 10 * 366 * 24;

/// A subject, trimmed: not empty, at most [`SUBJECT_CHARS`].
pub fn subject(text: &str) -> Result<String, String> {
    crate::domain::message_text(text, SUBJECT_CHARS)
}

/// A ticket's or reply's text, trimmed: not empty, at most [`TEXT_CHARS`].
pub fn text(text: &str) -> Result<String, String> {
    crate::domain::message_text(text, TEXT_CHARS)
}

pub fn category(text: &str) -> Result<TicketCategory, String> {
    text.parse().map_err(|_| format!("must be one of {}", names(TicketCategory::ALL.iter().map(|c| c.as_str()))))
}

pub fn status(text: &str) -> Result<TicketStatus, String> {
    text.parse().map_err(|_| format!("must be one of {}", names(TicketStatus::ALL.iter().map(|s| s.as_str()))))
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// An id the client names (an order, a request, an admin): positive.
pub fn id(id: i64) -> Result<i64, String> {
    if id > 0 { Ok(id) } else { Err("must be a positive id".into()) }
}

/// The moment before which tickets are older than `hours`.
pub fn created_before(hours: i64, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if (0..=MAX_AGE_HOURS).contains(&hours) {
        Ok(now - Duration::hours(hours))
    } else {
        Err(format!("must be between 0 and {MAX_AGE_HOURS}"))
    }
}

/// A kind of file that may be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    pub extension: &'static str,
    pub content_type: &'static str,
}

/// What a file is, by its first bytes (never by its name or declared type): a JPEG, PNG or
/// WebP image or a PDF document; `None` for anything else.
pub fn file_kind(head: &[u8]) -> Option<FileKind> {
    let (extension, content_type) =
        platform::storage::sniff_image(head).or_else(|| platform::storage::sniff_pdf(head))?;
    Some(FileKind { extension, content_type })
}

#[cfg(test)]
mod tests {
    use super::Side::{Author, Support};
    use super::TicketStatus::*;
    use super::*;

    #[test]
    fn support_walks_a_ticket_from_the_queue_to_closed() {
        let mut status = Open;
        for to in [InProgress, Resolved, Closed] {
            status = transition(status, to, Support).unwrap();
        }
        assert_eq!(status, Closed);
    }

    #[test]
    fn support_may_skip_ahead_requeue_and_take_up_again_but_not_revive_a_closed_ticket() {
        for (from, to) in
            [(Open, Resolved), (Open, Closed), (InProgress, Open), (InProgress, Closed), (Resolved, InProgress)]
        {
            assert_eq!(transition(from, to, Support), Ok(to), "{from} → {to}");
        }
        for (from, to) in [(Resolved, Open), (Closed, Open), (Closed, InProgress), (Closed, Resolved), (Open, Open)] {
            assert_eq!(transition(from, to, Support), Err(Refused::Transition { from, to }), "{from} → {to}");
        }
    }

    #[test]
    fn the_author_only_reopens_a_resolved_or_closed_ticket() {
        assert_eq!(transition(Resolved, Open, Author), Ok(Open));
        assert_eq!(transition(Closed, Open, Author), Ok(Open));
        for from in TicketStatus::ALL.iter().copied() {
            for to in TicketStatus::ALL.iter().copied().filter(|to| *to != Open) {
                assert!(transition(from, to, Author).is_err(), "{from} → {to}");
            }
        }
        assert!(transition(Open, Open, Author).is_err(), "an open ticket is not reopened");
        assert!(transition(InProgress, Open, Author).is_err());
    }

    #[test]
    fn replies_take_open_tickets_up_and_reopen_resolved_ones_for_their_author() {
        assert_eq!(after_reply(Open, Support), Ok(InProgress));
        assert_eq!(after_reply(InProgress, Support), Ok(InProgress));
        assert_eq!(after_reply(Resolved, Support), Ok(Resolved), "a note after resolving");
        assert_eq!(after_reply(Open, Author), Ok(Open));
        assert_eq!(after_reply(InProgress, Author), Ok(InProgress));
        assert_eq!(after_reply(Resolved, Author), Ok(Open));
        assert_eq!(after_reply(Closed, Author), Err(Refused::Closed));
        assert_eq!(after_reply(Closed, Support), Err(Refused::Closed));
    }

    #[test]
    fn subjects_and_texts_are_trimmed_and_limited_in_characters() {
        assert_eq!(subject("  Не приходит код  "), Ok("Не приходит код".to_owned()));
        assert!(subject("   ").is_err());
        assert!(subject(&"ы".repeat(SUBJECT_CHARS)).is_ok());
        assert!(subject(&"ы".repeat(SUBJECT_CHARS + 1)).is_err());
        assert!(text(&"ә".repeat(TEXT_CHARS)).is_ok());
        assert!(text(&"ә".repeat(TEXT_CHARS + 1)).is_err());
        assert!(text("\n\t").is_err());
    }

    #[test]
    fn categories_and_statuses_are_a_fixed_list() {
        assert_eq!(category("payment"), Ok(TicketCategory::Payment));
        assert_eq!(category("other"), Ok(TicketCategory::Other));
        let problem = category("Payment").unwrap_err();
        assert!(problem.contains("account, order, payment, technical, complaint, other"), "{problem}");
        assert_eq!(status("in_progress"), Ok(InProgress));
        assert!(status("done").unwrap_err().contains("open, in_progress, resolved, closed"));
    }

    #[test]
    fn ids_are_positive_and_ages_bounded() {
        assert_eq!(id(7), Ok(7));
        assert!(id(0).is_err());
        assert!(id(-3).is_err());
        let now = Utc::now();
        assert_eq!(created_before(24, now), Ok(now - Duration::hours(24)));
        assert_eq!(created_before(0, now), Ok(now));
        assert!(created_before(-1, now).is_err());
        assert!(created_before(i64::MAX, now).is_err());
    }

    #[test]
    fn files_are_recognised_by_content() {
        let kind = |bytes: &[u8]| file_kind(bytes).map(|k| (k.extension, k.content_type));
        assert_eq!(kind(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(("jpg", "image/jpeg")));
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n...."), Some(("png", "image/png")));
        assert_eq!(kind(b"RIFF\x10\0\0\0WEBPVP8 "), Some(("webp", "image/webp")));
        assert_eq!(kind(b"%PDF-1.7\n%"), Some(("pdf", "application/pdf")));
        assert_eq!(kind(b"GIF89a...."), None, "no GIFs");
        assert_eq!(kind(b"XXXX\x10\0\0\0WEBPVP8 "), None, "WEBP without RIFF");
        assert_eq!(kind(b"MZ\x90\0 pretending.png"), None);
        assert_eq!(kind(b"<svg xmlns=..."), None);
        assert_eq!(kind(b""), None);
    }
}
