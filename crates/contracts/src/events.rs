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

/// A payload message that can travel in an [`Envelope`]: its dotted event name, the Kafka topic
/// it is published on, and the aggregate it is about (the message key, so that one aggregate's
/// events stay in order).
pub trait EventPayload: Into<Payload> {
    const TYPE: &'static str;
    const TOPIC: &'static str;
    fn aggregate_id(&self) -> i64;
}

/// One kind of event: its payload message (in proto/), dotted name and topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub payload: &'static str,
    pub name: &'static str,
    pub topic: &'static str,
}

macro_rules! event_types {
    ($($variant:ident => $name:literal on $topic:ident by |$event:ident| $aggregate:expr),+ $(,)?) => {
        $(
            impl EventPayload for $variant {
                const TYPE: &'static str = $name;
                const TOPIC: &'static str = crate::topics::$topic;
                fn aggregate_id(&self) -> i64 {
                    let $event = self;
                    $aggregate
                }
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

            /// The Kafka topic this payload is published on.
            pub fn topic(&self) -> &'static str {
                match self {
                    $(Payload::$variant(_) => crate::topics::$topic,)+
                }
            }

            /// The aggregate the event is about (its message key).
            pub fn aggregate_id(&self) -> i64 {
                match self {
                    $(Payload::$variant(payload) => payload.aggregate_id(),)+
                }
            }
        }

        /// Every event type this contract knows.
        pub const ALL_EVENT_TYPES: &[EventType] = &[$(EventType {
            payload: stringify!($variant),
            name: $name,
            topic: crate::topics::$topic,
        }),+];
    };
}

fn profile_id(profile: Option<&UserProfile>) -> i64 {
    profile.map_or(0, |p| p.user_id)
}

event_types! {
    UserRegistered => "user.registered" on AUTH_USERS by |e| profile_id(e.user.as_ref()),
    UserVerified => "user.verified" on AUTH_USERS by |e| e.user_id,
    UserUpdated => "user.updated" on AUTH_USERS by |e| profile_id(e.user.as_ref()),
    UserRoleChanged => "user.role_changed" on AUTH_USERS by |e| e.user_id,
    UserBanned => "user.banned" on AUTH_USERS by |e| e.user_id,
    UserUnbanned => "user.unbanned" on AUTH_USERS by |e| e.user_id,
    UserSuspended => "user.suspended" on AUTH_USERS by |e| e.user_id,
    UserBlocked => "user.blocked" on AUTH_USERS by |e| e.blocker_id,
    UserUnblocked => "user.unblocked" on AUTH_USERS by |e| e.blocker_id,
    VerificationRequested => "auth.verification_requested" on AUTH_VERIFICATIONS by |e| e.user_id,
    SubscriptionCreated => "subscription.created" on AUTH_SUBSCRIPTIONS by |e| e.followee_id,
    SubscriptionDeleted => "subscription.deleted" on AUTH_SUBSCRIPTIONS by |e| e.followee_id,
    RequestCreated => "request.created" on MARKETPLACE_REQUESTS by |e| e.request_id,
    RequestUpdated => "request.updated" on MARKETPLACE_REQUESTS by |e| e.request_id,
    RequestClosed => "request.closed" on MARKETPLACE_REQUESTS by |e| e.request_id,
    RequestExpired => "request.expired" on MARKETPLACE_REQUESTS by |e| e.request_id,
    ProposalCreated => "proposal.created" on MARKETPLACE_REQUESTS by |e| e.request_id,
    ProposalAccepted => "proposal.accepted" on MARKETPLACE_REQUESTS by |e| e.request_id,
    ProposalRejected => "proposal.rejected" on MARKETPLACE_REQUESTS by |e| e.request_id,
    OrderCreated => "order.created" on MARKETPLACE_ORDERS by |e| e.order_id,
    OrderStatusChanged => "order.status_changed" on MARKETPLACE_ORDERS by |e| e.order_id,
    ReviewCreated => "review.created" on MARKETPLACE_ORDERS by |e| e.order_id,
    MasterStatsChanged => "master.stats_changed" on MARKETPLACE_MASTERS by |e| e.master_id,
    PointsAwarded => "points.awarded" on MARKETPLACE_MASTERS by |e| e.user_id,
    AchievementUnlocked => "achievement.unlocked" on MARKETPLACE_MASTERS by |e| e.user_id,
    MasterServicesChanged => "master.services_changed" on MARKETPLACE_MASTERS by |e| e.master_id,
    VideoUploaded => "video.uploaded" on MEDIA_VIDEOS by |e| e.video_id,
    VideoProcessed => "video.processed" on MEDIA_VIDEOS by |e| e.video_id,
    VideoFailed => "video.failed" on MEDIA_VIDEOS by |e| e.video_id,
    VideoLiked => "video.liked" on MEDIA_VIDEOS by |e| e.video_id,
    VideoUnliked => "video.unliked" on MEDIA_VIDEOS by |e| e.video_id,
    VideoCommented => "video.commented" on MEDIA_VIDEOS by |e| e.video_id,
    VideoViewed => "video.viewed" on MEDIA_VIDEOS by |e| e.video_id,
    VideoDeleted => "video.deleted" on MEDIA_VIDEOS by |e| e.video_id,
    StoryCreated => "story.created" on MEDIA_STORIES by |e| e.story_id,
    StoryExpired => "story.expired" on MEDIA_STORIES by |e| e.story_id,
    VideoAnalysisRequested => "video.analysis_requested" on MEDIA_VIDEOS by |e| e.video_id,
    ChatCreated => "chat.created" on CHAT_MESSAGES by |e| e.chat_id,
    ChatMessageSent => "chat.message_sent" on CHAT_MESSAGES by |e| e.chat_id,
    ChatMessageRead => "chat.message_read" on CHAT_MESSAGES by |e| e.chat_id,
    ChatTyping => "chat.typing" on CHAT_MESSAGES by |e| e.chat_id,
    CallInitiated => "call.initiated" on CHAT_CALLS by |e| e.call_id,
    CallAnswered => "call.answered" on CHAT_CALLS by |e| e.call_id,
    CallEnded => "call.ended" on CHAT_CALLS by |e| e.call_id,
    CallMissed => "call.missed" on CHAT_CALLS by |e| e.call_id,
    TicketCreated => "ticket.created" on CHAT_SUPPORT by |e| e.ticket_id,
    TicketReplied => "ticket.replied" on CHAT_SUPPORT by |e| e.ticket_id,
    TicketStatusChanged => "ticket.status_changed" on CHAT_SUPPORT by |e| e.ticket_id,
    NotificationRequested => "notification.requested" on NOTIFICATIONS_REQUESTS by |e| e.user_id,
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

    /// An envelope for `payload`, produced by the service that owns its topic and keyed by its
    /// aggregate. (`notification.requested` may come from any service: use [`Envelope::new`].)
    pub fn of(payload: impl Into<Payload>) -> Self {
        let payload = payload.into();
        let producer = crate::services::owner_of(payload.topic()).map_or("unknown", |s| s.name);
        Self::new(producer, payload.aggregate_id(), payload)
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
                serving_master_ids: vec![3],
            },
        );
        let decoded = Envelope::decode_checked(&envelope.encode_to_vec()).unwrap();
        assert_eq!(decoded, envelope);
    }

    #[test]
    fn an_event_knows_its_topic_producer_and_key() {
        let envelope = Envelope::of(OrderCreated { order_id: 9, request_id: 3, ..Default::default() });
        assert_eq!((envelope.producer.as_str(), envelope.aggregate_id.as_str()), ("marketplace", "9"));
        assert_eq!(envelope.payload.unwrap().topic(), crate::topics::MARKETPLACE_ORDERS);
        assert_eq!(<UserBlocked as EventPayload>::TOPIC, crate::topics::AUTH_USERS);
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
        let mut names: Vec<&str> = ALL_EVENT_TYPES.iter().map(|event| event.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL_EVENT_TYPES.len());
    }
}
