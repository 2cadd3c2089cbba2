//! Generated event types plus the mapping between payload variants and event type names.

use prost::Message;

#[allow(clippy::all, clippy::pedantic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/mebelplace.events.v1.rs"));
}

pub use generated::envelope::Payload;
pub use generated::*;
pub use prost_types::Timestamp;

impl From<crate::Role> for generated::Role {
    fn from(role: crate::Role) -> Self {
        match role {
            crate::Role::Buyer => generated::Role::Buyer,
            crate::Role::Master => generated::Role::Master,
            crate::Role::Admin => generated::Role::Admin,
        }
    }
}

/// A protobuf timestamp of a moment.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// A payload message that can travel in an [`Envelope`]; `TYPE` is its dotted event name.
pub trait EventPayload: Into<Payload> {
    const TYPE: &'static str;
}

macro_rules! event_types {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        $(
            impl EventPayload for $variant {
                const TYPE: &'static str = $name;
            }
            impl From<$variant> for Payload {
                fn from(payload: $variant) -> Self {
                    Payload::$variant(payload)
                }
            }
        )+

        impl Payload {
            /// The dotted event name of this payload, e.g. `user.registered`.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Payload::$variant(_) => $name,)+
                }
            }
        }

        /// Every event type name this contract knows.
        pub const ALL_EVENT_TYPES: &[&str] = &[$($name),+];
    };
}

event_types! {
    UserRegistered => "user.registered",
    UserVerified => "user.verified",
    UserUpdated => "user.updated",
    UserRoleChanged => "user.role_changed",
    UserBanned => "user.banned",
    UserUnbanned => "user.unbanned",
    UserSuspended => "user.suspended",
    UserBlocked => "user.blocked",
    UserUnblocked => "user.unblocked",
    VerificationRequested => "auth.verification_requested",
    SubscriptionCreated => "subscription.created",
    SubscriptionDeleted => "subscription.deleted",
    RequestCreated => "request.created",
    RequestUpdated => "request.updated",
    RequestClosed => "request.closed",
    RequestExpired => "request.expired",
    ProposalCreated => "proposal.created",
    ProposalAccepted => "proposal.accepted",
    ProposalRejected => "proposal.rejected",
    OrderCreated => "order.created",
    OrderStatusChanged => "order.status_changed",
    ReviewCreated => "review.created",
    MasterStatsChanged => "master.stats_changed",
    PointsAwarded => "points.awarded",
    AchievementUnlocked => "achievement.unlocked",
    VideoUploaded => "video.uploaded",
    VideoProcessed => "video.processed",
    VideoFailed => "video.failed",
    VideoLiked => "video.liked",
    VideoUnliked => "video.unliked",
    VideoCommented => "video.commented",
    VideoViewed => "video.viewed",
    VideoDeleted => "video.deleted",
    StoryCreated => "story.created",
    StoryExpired => "story.expired",
    ChatCreated => "chat.created",
    ChatMessageSent => "chat.message_sent",
    ChatMessageRead => "chat.message_read",
    ChatTyping => "chat.typing",
    CallInitiated => "call.initiated",
    CallAnswered => "call.answered",
    CallEnded => "call.ended",
    CallMissed => "call.missed",
    TicketCreated => "ticket.created",
    TicketReplied => "ticket.replied",
    TicketStatusChanged => "ticket.status_changed",
    NotificationRequested => "notification.requested",
}

/// Why bytes from a broker are not a usable envelope.
#[derive(Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    Undecodable(String),
    MissingPayload,
    TypeMismatch { declared: String, actual: &'static str },
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Undecodable(cause) => write!(f, "undecodable envelope: {cause}"),
            Self::MissingPayload => write!(f, "envelope has no payload"),
            Self::TypeMismatch { declared, actual } => {
                write!(f, "envelope type {declared:?} does not match payload {actual:?}")
            }
        }
    }
}

impl std::error::Error for EnvelopeError {}

impl Envelope {
    /// A new envelope with a fresh UUIDv7 id, stamped now.
    pub fn new(producer: &str, aggregate_id: impl ToString, payload: impl Into<Payload>) -> Self {
        let payload = payload.into();
        Envelope {
            id: uuid::Uuid::now_v7().to_string(),
            r#type: payload.event_type().to_owned(),
            occurred_at: Some(timestamp(chrono::Utc::now())),
            aggregate_id: aggregate_id.to_string(),
            producer: producer.to_owned(),
            traceparent: String::new(),
            payload: Some(payload),
        }
    }

    pub fn with_traceparent(mut self, traceparent: Option<String>) -> Self {
        self.traceparent = traceparent.unwrap_or_default();
        self
    }

    /// Decodes and checks that the declared type matches the payload.
    pub fn decode_checked(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let envelope = Envelope::decode(bytes).map_err(|e| EnvelopeError::Undecodable(e.to_string()))?;
        let actual = envelope.payload.as_ref().ok_or(EnvelopeError::MissingPayload)?.event_type();
        if envelope.r#type != actual {
            return Err(EnvelopeError::TypeMismatch { declared: envelope.r#type, actual });
        }
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_envelope_names_its_payload_type() {
        let envelope = Envelope::new("auth", 42, UserVerified { user_id: 42, channel: "sms".into() });
        assert_eq!(envelope.r#type, "user.verified");
        assert_eq!(envelope.aggregate_id, "42");
        assert_eq!(uuid::Uuid::parse_str(&envelope.id).unwrap().get_version_num(), 7);
    }

    #[test]
    fn round_trip_through_bytes() {
        let envelope = Envelope::new(
            "marketplace",
            7,
            RequestCreated {
                request_id: 7,
                buyer_id: 1,
                title: "Шкаф-купе".into(),
                region_code: "almaty".into(),
                category_codes: vec!["wardrobes".into()],
                budget_minor: Some(15_000_000),
            },
        );
        let decoded = Envelope::decode_checked(&envelope.encode_to_vec()).unwrap();
        assert_eq!(decoded, envelope);
    }

    #[test]
    fn mismatched_type_is_rejected() {
        let mut envelope = Envelope::new("auth", 1, UserVerified { user_id: 1, channel: "sms".into() });
        envelope.r#type = "user.banned".into();
        assert!(matches!(Envelope::decode_checked(&envelope.encode_to_vec()), Err(EnvelopeError::TypeMismatch { .. })));
    }

    #[test]
    fn garbage_is_undecodable() {
        assert!(matches!(Envelope::decode_checked(b"\xff\xff\xff"), Err(EnvelopeError::Undecodable(_))));
        assert_eq!(Envelope::decode_checked(b""), Err(EnvelopeError::MissingPayload));
    }

    #[test]
    fn event_type_names_are_unique() {
        let mut names = ALL_EVENT_TYPES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL_EVENT_TYPES.len());
    }
}
