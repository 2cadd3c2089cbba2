//! Who is told what of an event. A pure function of the payload, except for new requests,
//! whose recipients (the masters serving its region and categories) come from storage.

use super::{Channel, Kind};
use contracts::events::envelope::Payload;
use contracts::events::{self, RequestCreated};
use serde_json::{Value, json};

/// One user to tell one thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub user_id: i64,
    pub kind: Kind,
    /// Why this user hears of this event (with the event id it makes the notification unique).
    pub reason: &'static str,
    pub data: Value,
    /// Channels the sender asked for (empty: the kind's defaults and the user's choices).
    pub requested: Vec<Channel>,
    /// A fixed address (verification codes go where the code was asked for).
    pub destination: Option<String>,
}

impl Intent {
    fn new(user_id: i64, kind: Kind, reason: &'static str, data: Value) -> Self {
        Self { user_id, kind, reason, data, requested: Vec::new(), destination: None }
    }
}

fn channel_of(value: i32) -> Option<Channel> {
    match events::Channel::try_from(value).ok()? {
        events::Channel::Push => Some(Channel::Push),
        events::Channel::Sms => Some(Channel::Sms),
        events::Channel::Email => Some(Channel::Email),
        events::Channel::InApp => Some(Channel::InApp),
        events::Channel::Unspecified => None,
    }
}

/// The intents of an event.
pub fn intents(payload: &Payload) -> Vec<Intent> {
    match payload {
        Payload::VerificationRequested(e) => {
            let channel = if e.channel == "sms" { Channel::Sms } else { Channel::Email };
            let data = json!({ "code": e.code, "channel": e.channel });
            vec![Intent {
                requested: vec![channel],
                destination: Some(e.destination.clone()),
                ..Intent::new(e.user_id, Kind::Verification, "code", data)
            }]
        }
        Payload::UserRegistered(e) if e.has_email => e
            .user
            .as_ref()
            .map(|user| Intent::new(user.user_id, Kind::Welcome, "welcome", json!({ "username": user.username })))
            .into_iter()
            .collect(),
        Payload::RequestCreated(e) => e.serving_master_ids.iter().map(|&master| new_request(master, e)).collect(),
        Payload::ProposalCreated(e) => vec![Intent::new(
            e.buyer_id,
            Kind::NewProposal,
            "buyer",
            json!({ "request_id": e.request_id, "proposal_id": e.proposal_id, "master_id": e.master_id,
                    "price_minor": e.price_minor, "deadline_days": e.deadline_days }),
        )],
        Payload::ProposalAccepted(e) => vec![Intent::new(
            e.master_id,
            Kind::ProposalAccepted,
            "master",
            json!({ "request_id": e.request_id, "proposal_id": e.proposal_id, "order_id": e.order_id }),
        )],
        Payload::OrderCreated(e) => {
            let data = json!({ "order_id": e.order_id, "request_id": e.request_id, "status": "pending" });
            vec![
                Intent::new(e.buyer_id, Kind::OrderStatus, "buyer", data.clone()),
                Intent::new(e.master_id, Kind::OrderStatus, "master", data),
            ]
        }
        Payload::OrderStatusChanged(e) => {
            let data = json!({ "order_id": e.order_id, "status": e.new_status, "old_status": e.old_status,
                               "note": e.note });
            [(e.buyer_id, "buyer"), (e.master_id, "master")]
                .into_iter()
                .filter(|(user, _)| *user != e.actor_id)
                .map(|(user, reason)| Intent::new(user, Kind::OrderStatus, reason, data.clone()))
                .collect()
        }
        Payload::ReviewCreated(e) => vec![Intent::new(
            e.master_id,
            Kind::Review,
            "master",
            json!({ "order_id": e.order_id, "review_id": e.review_id, "rating": e.rating }),
        )],
        Payload::ChatMessageSent(e) => e
            .offline_recipient_ids
            .iter()
            .filter(|&&user| user != e.sender_id)
            .map(|&user| {
                let data = json!({ "chat_id": e.chat_id, "message_id": e.message_id, "sender_id": e.sender_id,
                                   "preview": e.preview, "message_kind": e.kind });
                Intent::new(user, Kind::ChatMessage, "recipient", data)
            })
            .collect(),
        Payload::CallInitiated(e) => vec![Intent::new(
            e.callee_id,
            Kind::IncomingCall,
            "callee",
            json!({ "call_id": e.call_id, "caller_id": e.caller_id, "call_kind": e.kind }),
        )],
        Payload::CallMissed(e) => vec![Intent::new(
            e.callee_id,
            Kind::MissedCall,
            "callee",
            json!({ "call_id": e.call_id, "caller_id": e.caller_id }),
        )],
        Payload::VideoLiked(e) if e.user_id != e.author_id => vec![Intent::new(
            e.author_id,
            Kind::Like,
            "author",
            json!({ "video_id": e.video_id, "user_id": e.user_id }),
        )],
        Payload::VideoCommented(e) if e.commenter_id != e.author_id => vec![Intent::new(
            e.author_id,
            Kind::Comment,
            "author",
            json!({ "video_id": e.video_id, "comment_id": e.comment_id, "user_id": e.commenter_id }),
        )],
        Payload::SubscriptionCreated(e) => {
            vec![Intent::new(e.followee_id, Kind::NewFollower, "followee", json!({ "user_id": e.follower_id }))]
        }
        Payload::AchievementUnlocked(e) => {
            vec![Intent::new(e.user_id, Kind::Achievement, "user", json!({ "code": e.code, "title": e.title }))]
        }
        Payload::TicketReplied(e) if e.author_id != e.user_id => {
            vec![Intent::new(e.user_id, Kind::TicketReply, "owner", json!({ "ticket_id": e.ticket_id }))]
        }
        Payload::NotificationRequested(e) => {
            let kind = Kind::parse(&e.kind).filter(|k| !k.is_security()).unwrap_or(Kind::Other);
            let data = json!({ "kind": e.kind, "title": e.title, "body": e.body, "data": e.data });
            vec![Intent {
                requested: e.channels.iter().filter_map(|&c| channel_of(c)).collect(),
                ..Intent::new(e.user_id, kind, "requested", data)
            }]
        }
        _ => Vec::new(),
    }
}

/// What a master serving the request's region and categories is told of it.
pub fn new_request(master_id: i64, request: &RequestCreated) -> Intent {
    Intent::new(
        master_id,
        Kind::NewRequest,
        "master",
        json!({ "request_id": request.request_id, "title": request.title, "region": request.region_code,
                "budget_minor": request.budget_minor }),
    )
}

/// A digest of what `kinds` counted, as one notification.
pub fn digest(user_id: i64, kinds: &[String]) -> Intent {
    let mut counts = serde_json::Map::new();
    for kind in kinds {
        let count = counts.get(kind).and_then(|v| v.as_i64()).unwrap_or(0) + 1;
        counts.insert(kind.clone(), count.into());
    }
    Intent::new(user_id, Kind::Digest, "digest", json!({ "count": kinds.len(), "kinds": counts }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;
    use contracts::events::*;

    #[test]
    fn a_code_goes_to_its_address_on_its_channel() {
        let event = VerificationRequested {
            user_id: 7,
            channel: "sms".into(),
            destination: "+77001234567".into(),
            code: "123456".into(),
            ..Default::default()
        };
        let [intent] = &intents(&event.into())[..] else { panic!("one intent") };
        assert_eq!((intent.kind, intent.requested.as_slice()), (Kind::Verification, &[Channel::Sms][..]));
        assert_eq!(intent.destination.as_deref(), Some("+77001234567"));
    }

    #[test]
    fn a_new_request_tells_the_masters_it_names() {
        let request =
            RequestCreated { request_id: 4, buyer_id: 1, serving_master_ids: vec![10, 12], ..Default::default() };
        let told: Vec<(i64, Kind)> = intents(&request.into()).iter().map(|i| (i.user_id, i.kind)).collect();
        assert_eq!(told, [(10, Kind::NewRequest), (12, Kind::NewRequest)]);
    }

    #[test]
    fn order_changes_tell_the_other_side_and_chat_only_the_offline() {
        let change = OrderStatusChanged { order_id: 1, buyer_id: 2, master_id: 3, actor_id: 3, ..Default::default() };
        let told: Vec<i64> = intents(&change.into()).iter().map(|i| i.user_id).collect();
        assert_eq!(told, [2]);
        let message = ChatMessageSent {
            chat_id: 1,
            sender_id: 5,
            recipient_ids: vec![6, 7],
            offline_recipient_ids: vec![7],
            ..Default::default()
        };
        let told: Vec<i64> = intents(&message.into()).iter().map(|i| i.user_id).collect();
        assert_eq!(told, [7]);
    }

    #[test]
    fn own_likes_tell_nobody_and_requested_kinds_never_pose_as_codes() {
        assert!(intents(&VideoLiked { video_id: 1, author_id: 2, user_id: 2 }.into()).is_empty());
        let asked = NotificationRequested {
            user_id: 1,
            kind: "verification".into(),
            channels: vec![events::Channel::Email as i32],
            ..Default::default()
        };
        let [intent] = &intents(&asked.into())[..] else { panic!("one intent") };
        assert_eq!((intent.kind, intent.requested.as_slice()), (Kind::Other, &[Channel::Email][..]));
    }
}
