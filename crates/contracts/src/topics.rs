//! Kafka topic names. Topics are keyed by aggregate id; see docs/events.md for the catalogue.

pub const AUTH_USERS: &str = "mebelplace.auth.users.v1";
pub const AUTH_VERIFICATIONS: &str = "mebelplace.auth.verifications.v1";
pub const AUTH_SUBSCRIPTIONS: &str = "mebelplace.auth.subscriptions.v1";
pub const MARKETPLACE_REQUESTS: &str = "mebelplace.marketplace.requests.v1";
pub const MARKETPLACE_ORDERS: &str = "mebelplace.marketplace.orders.v1";
pub const MARKETPLACE_MASTERS: &str = "mebelplace.marketplace.masters.v1";
pub const MEDIA_VIDEOS: &str = "mebelplace.media.videos.v1";
pub const MEDIA_STORIES: &str = "mebelplace.media.stories.v1";
pub const CHAT_MESSAGES: &str = "mebelplace.chat.messages.v1";
pub const CHAT_CALLS: &str = "mebelplace.chat.calls.v1";
pub const CHAT_SUPPORT: &str = "mebelplace.chat.support.v1";
pub const NOTIFICATIONS_REQUESTS: &str = "mebelplace.notification.requests.v1";

pub const ALL: &[&str] = &[
    AUTH_USERS,
    AUTH_VERIFICATIONS,
    AUTH_SUBSCRIPTIONS,
    MARKETPLACE_REQUESTS,
    MARKETPLACE_ORDERS,
    MARKETPLACE_MASTERS,
    MEDIA_VIDEOS,
    MEDIA_STORIES,
    CHAT_MESSAGES,
    CHAT_CALLS,
    CHAT_SUPPORT,
    NOTIFICATIONS_REQUESTS,
];

/// Where a consumer group parks messages it could not process.
pub fn dead_letter(topic: &str, consumer_group: &str) -> String {
    format!("{topic}.dlq.{consumer_group}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dead_letter_topic_names_topic_and_consumer() {
        assert_eq!(super::dead_letter(super::AUTH_USERS, "marketplace"), "mebelplace.auth.users.v1.dlq.marketplace");
    }
}
