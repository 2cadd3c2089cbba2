//! Kinds of notification and delivery channels, with each kind's default channels.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Push,
    Sms,
    Email,
    InApp,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Push, Channel::Sms, Channel::Email, Channel::InApp];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Sms => "sms",
            Self::Email => "email",
            Self::InApp => "in_app",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Channels that reach a device or an inbox outside the app: held during quiet hours.
    pub fn is_external(self) -> bool {
        self != Self::InApp
    }

    /// Whether a message is sent again when nobody knows if the last try reached the provider
    /// (the sender died during the call, or the call got no answer). Push: OneSignal drops a
    /// repeated `idempotency_key`. In-app: the app drops a notification id it has. E-mail:
    /// SMTP takes no key, but the copy has the same Message-ID, which mail systems recognise,
    /// and a rare second copy is better than a lost code. SMS: Mobizon takes no key and a second
    /// call is a second message on the user's phone, so an admin decides
    /// (docs/decisions/0010-delivery-in-doubt.md).
    pub fn resent_when_in_doubt(self) -> bool {
        self != Self::Sms
    }
}

/// What a notification is about; the user's preferences are per kind and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A verification code: a security message, sent whatever the settings.
    Verification,
    Welcome,
    /// A request in a master's region and categories.
    NewRequest,
    NewProposal,
    ProposalAccepted,
    OrderStatus,
    Review,
    ChatMessage,
    IncomingCall,
    MissedCall,
    Like,
    Comment,
    NewFollower,
    Achievement,
    TicketReply,
    /// The periodic summary of low-priority notifications.
    Digest,
    /// Asked for by another service (`notification.requested`) with a kind of its own.
    Other,
}

use Channel::{Email, InApp, Push};

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Verification,
        Kind::Welcome,
        Kind::NewRequest,
        Kind::NewProposal,
        Kind::ProposalAccepted,
        Kind::OrderStatus,
        Kind::Review,
        Kind::ChatMessage,
        Kind::IncomingCall,
        Kind::MissedCall,
        Kind::Like,
        Kind::Comment,
        Kind::NewFollower,
        Kind::Achievement,
        Kind::TicketReply,
        Kind::Digest,
        Kind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::Welcome => "welcome",
            Self::NewRequest => "new_request",
            Self::NewProposal => "new_proposal",
            Self::ProposalAccepted => "proposal_accepted",
            Self::OrderStatus => "order_status",
            Self::Review => "review",
            Self::ChatMessage => "chat_message",
            Self::IncomingCall => "incoming_call",
            Self::MissedCall => "missed_call",
            Self::Like => "like",
            Self::Comment => "comment",
            Self::NewFollower => "new_follower",
            Self::Achievement => "achievement",
            Self::TicketReply => "ticket_reply",
            Self::Digest => "digest",
            Self::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Channels used when the user has not chosen otherwise. SMS costs money: only codes use
    /// it unless the user turns it on.
    pub fn default_channels(self) -> &'static [Channel] {
        match self {
            Self::Verification => &[],
            Self::Welcome => &[Email],
            Self::NewProposal | Self::ProposalAccepted | Self::OrderStatus | Self::TicketReply => &[Push, Email, InApp],
            Self::ChatMessage | Self::IncomingCall => &[Push],
            Self::Digest => &[Email],
            Self::NewRequest
            | Self::Review
            | Self::MissedCall
            | Self::Like
            | Self::Comment
            | Self::NewFollower
            | Self::Achievement
            | Self::Other => &[Push, InApp],
        }
    }

    /// Security messages bypass preferences and quiet hours.
    pub fn is_security(self) -> bool {
        self == Self::Verification
    }

    /// Kinds a user may gather into a digest instead of hearing of each.
    pub fn is_low_priority(self) -> bool {
        matches!(self, Self::Like | Self::NewFollower)
    }

    /// Whether e-mail of this kind carries one-click unsubscribe headers (RFC 8058):
    /// everything except what the user asked for (codes) or must get once (welcome).
    pub fn is_transactional(self) -> bool {
        matches!(self, Self::Verification | Self::Welcome)
    }

    /// Kinds whose channels a user may change.
    pub fn configurable() -> impl Iterator<Item = Kind> {
        Self::ALL.into_iter().filter(|k| !k.is_security())
    }
}

/// Which channels a notification of `kind` goes to, given the user's choices (`enabled`
/// answers `Some` where the user chose) and, when the sender asked for some, `requested`.
pub fn channels_for(kind: Kind, requested: &[Channel], chosen: impl Fn(Channel) -> Option<bool>) -> Vec<Channel> {
    let defaults: &[Channel] = if requested.is_empty() { kind.default_channels() } else { requested };
    Channel::ALL.into_iter().filter(|&c| chosen(c).unwrap_or(defaults.contains(&c))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Kind::parse("nonsense"), None);
    }

    #[test]
    fn choices_override_defaults() {
        assert_eq!(channels_for(Kind::Like, &[], |_| None), [Channel::Push, Channel::InApp]);
        let no_push = |c| (c == Channel::Push).then_some(false);
        assert_eq!(channels_for(Kind::Like, &[], no_push), [Channel::InApp]);
        let sms_on = |c| (c == Channel::Sms).then_some(true);
        assert_eq!(
            channels_for(Kind::NewProposal, &[], sms_on),
            [Channel::Push, Channel::Sms, Channel::Email, Channel::InApp]
        );
        assert_eq!(channels_for(Kind::Other, &[Channel::Email], |_| None), [Channel::Email]);
    }

    #[test]
    fn only_sms_is_not_sent_again_in_doubt() {
        let resent: Vec<Channel> = Channel::ALL.into_iter().filter(|c| c.resent_when_in_doubt()).collect();
        assert_eq!(resent, [Channel::Push, Channel::Email, Channel::InApp]);
    }

    #[test]
    fn codes_are_not_configurable() {
        assert!(Kind::configurable().all(|k| !k.is_security()));
        assert!(Kind::Verification.is_transactional() && !Kind::Like.is_transactional());
    }
}
