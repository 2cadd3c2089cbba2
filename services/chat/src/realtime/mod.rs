//! Real-time delivery: frames published to `rt.user.<id>` on NATS reach that user's
//! WebSockets on whichever replica holds them ([`hub`]); presence lives in Redis
//! ([`presence`]); [`session`] runs one WebSocket. The protocol is in docs/realtime.md.

pub mod frames;
pub mod hub;
pub mod presence;
pub mod session;

use frames::ServerFrame;
use platform::config::NatsSettings;

pub struct Realtime {
    pub hub: hub::Hub,
    pub presence: presence::Presence,
    nats: async_nats::Client,
    settings: NatsSettings,
}

impl Realtime {
    pub fn new(nats: async_nats::Client, settings: NatsSettings, hub: hub::Hub, presence: presence::Presence) -> Self {
        Self { hub, presence, nats, settings }
    }

    /// Sends `frame` to every connection of `users`, on any replica. Best effort: a frame lost
    /// here is still in the database, and the connection's gap check or the next resume
    /// brings it (docs/decisions/0007-chat-delivery.md).
    pub async fn push(&self, users: &[i64], frame: &ServerFrame) {
        let payload = frame.to_bytes();
        for user in users {
            let subject = self.settings.subject(&contracts::subjects::realtime_user(*user));
            if let Err(error) = self.nats.publish(subject, payload.clone()).await {
                tracing::warn!(%error, user, "real-time frame not published");
            }
        }
    }

    /// Which of `users` have a live connection; all offline when Redis cannot say (so that
    /// notification errs on the side of telling them).
    pub async fn online(&self, users: &[i64]) -> Vec<bool> {
        self.presence.online(users).await.unwrap_or_else(|error| {
            tracing::warn!(error = %format!("{error:#}"), "presence unknown");
            vec![false; users.len()]
        })
    }
}
