//! The consumers: every event that tells someone something becomes notifications and their
//! deliveries, in the transaction that records the event in the inbox.

use crate::domain::Channel;
use crate::domain::kind::channels_for;
use crate::domain::plan::{self, Intent};
use crate::store::notifications::{self, NewNotification};
use crate::store::{contacts, settings};
use contracts::Envelope;
use contracts::events::envelope::Payload;
use diesel_async::AsyncPgConnection;
use platform::consumer::EventHandler;
use std::sync::Arc;
use tokio::sync::Notify;

/// Consumer of verification codes (group `notification.codes`): kept apart so that codes
/// never wait behind a backlog of likes.
pub const CODES: &str = "codes";
/// Consumer of everything else (group `notification.events`).
pub const EVENTS: &str = "events";

pub struct NotifyHandler {
    /// Wakes the sender once new deliveries are committed.
    pub wake: Arc<Notify>,
}

impl EventHandler for NotifyHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        let Some(payload) = &event.payload else { return Ok(()) };
        if let Payload::VerificationRequested(e) = payload {
            contacts::remember(conn, e.user_id, &e.channel, &e.destination, &e.locale).await?;
        }
        for intent in plan::intents(payload) {
            notify(conn, &format!("{}:{}", event.id, intent.reason), &intent).await?;
        }
        Ok(())
    }

    async fn after_commit(&self, _event: &Envelope) {
        self.wake.notify_one();
    }
}

/// Stores what `intent` tells its user and a delivery per channel the user's settings allow.
/// `source` makes it unique: the same source never notifies the same user twice.
pub async fn notify(conn: &mut AsyncPgConnection, source: &str, intent: &Intent) -> diesel::QueryResult<()> {
    let (channels, digest_pending) = if intent.kind.is_security() {
        (intent.requested.clone(), false)
    } else {
        let user = settings::load(conn, intent.user_id).await?;
        let channels = channels_for(intent.kind, &intent.requested, |c| user.choice(intent.kind, c));
        if user.digest && intent.kind.is_low_priority() {
            // Told later in the digest; in the app now.
            (channels.into_iter().filter(|c| *c == Channel::InApp).collect(), true)
        } else {
            (channels, false)
        }
    };
    if channels.is_empty() && !digest_pending {
        return Ok(());
    }
    let new = NewNotification {
        user_id: intent.user_id,
        kind: intent.kind.as_str(),
        data: &intent.data,
        source,
        in_app: channels.contains(&Channel::InApp) || digest_pending,
        digest_pending,
    };
    let Some(id) = notifications::insert(conn, &new).await? else { return Ok(()) };
    let security = intent.kind.is_security();
    notifications::insert_deliveries(conn, id, intent.user_id, &channels, security, intent.destination.as_deref()).await
}

/// The topics each consumer reads (docs/events.md lists notification as their consumer).
pub const EVENT_TOPICS: &[&str] = &[
    contracts::topics::AUTH_USERS,
    contracts::topics::AUTH_SUBSCRIPTIONS,
    contracts::topics::MARKETPLACE_REQUESTS,
    contracts::topics::MARKETPLACE_ORDERS,
    contracts::topics::MARKETPLACE_MASTERS,
    contracts::topics::MEDIA_VIDEOS,
    contracts::topics::MEDIA_STORIES,
    contracts::topics::CHAT_MESSAGES,
    contracts::topics::CHAT_CALLS,
    contracts::topics::CHAT_SUPPORT,
    contracts::topics::NOTIFICATIONS_REQUESTS,
];
