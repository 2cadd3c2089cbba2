//! This replica's WebSocket connections, by user. A user with connections here has one NATS
//! subscription to `rt.user.<id>` whatever the number of their devices; its frames are handed
//! to each connection's bounded queue. A connection whose queue is full is marked slow (and
//! closed by its session) instead of buffering without end.

use async_nats::Client;
use bytes::Bytes;
use futures_util::StreamExt;
use platform::config::NatsSettings;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

struct Connection {
    id: u64,
    queue: mpsc::Sender<Bytes>,
    slow: CancellationToken,
}

type Connections = Arc<Mutex<Vec<Connection>>>;

struct UserSlot {
    connections: Connections,
    forwarder: tokio::task::JoinHandle<()>,
}

/// A connection's end of the hub.
pub struct Registration {
    pub id: u64,
    pub frames: mpsc::Receiver<Bytes>,
    /// Cancelled when the queue overflowed: the session closes with 4008.
    pub slow: CancellationToken,
}

pub struct Hub {
    nats: Client,
    settings: NatsSettings,
    queue: usize,
    users: tokio::sync::Mutex<HashMap<i64, UserSlot>>,
    next_id: AtomicU64,
    open: AtomicUsize,
}

impl Hub {
    pub fn new(nats: Client, settings: NatsSettings, queue: usize) -> Self {
        Self {
            nats,
            settings,
            queue: queue.max(1),
            users: tokio::sync::Mutex::default(),
            next_id: AtomicU64::new(1),
            open: AtomicUsize::new(0),
        }
    }

    /// Open connections on this replica.
    pub fn connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Adds a connection of `user_id`. Once this returns, every frame published to the user
    /// reaches the connection (the subscription is confirmed by the server), so a replay from
    /// the database that starts afterwards misses nothing.
    pub async fn register(&self, user_id: i64) -> anyhow::Result<Registration> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, frames) = mpsc::channel(self.queue);
        let slow = CancellationToken::new();
        let connection = Connection { id, queue, slow: slow.clone() };
        let mut users = self.users.lock().await;
        match users.get(&user_id) {
            Some(slot) => lock(&slot.connections).push(connection),
            None => {
                let subject = self.settings.subject(&contracts::subjects::realtime_user(user_id));
                let subscription = self.nats.subscribe(subject).await?;
                self.nats.flush().await?;
                let connections: Connections = Arc::new(Mutex::new(vec![connection]));
                let forwarder = tokio::spawn(forward(subscription, connections.clone()));
                users.insert(user_id, UserSlot { connections, forwarder });
            }
        }
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Registration { id, frames, slow })
    }

    /// Removes a connection; the user's subscription ends with their last connection here.
    pub async fn unregister(&self, user_id: i64, id: u64) {
        let mut users = self.users.lock().await;
        let Some(slot) = users.get(&user_id) else { return };
        let now_empty = {
            let mut connections = lock(&slot.connections);
            let before = connections.len();
            connections.retain(|c| c.id != id);
            if connections.len() < before {
                self.open.fetch_sub(1, Ordering::Relaxed);
            }
            connections.is_empty()
        };
        if now_empty && let Some(slot) = users.remove(&user_id) {
            slot.forwarder.abort();
        }
    }
}

fn lock(connections: &Connections) -> std::sync::MutexGuard<'_, Vec<Connection>> {
    connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn forward(mut subscription: async_nats::Subscriber, connections: Connections) {
    while let Some(message) = subscription.next().await {
        for connection in lock(&connections).iter() {
            if connection.slow.is_cancelled() {
                continue;
            }
            if let Err(mpsc::error::TrySendError::Full(_)) = connection.queue.try_send(message.payload.clone()) {
                tracing::warn!(connection = connection.id, "send queue full: disconnecting a slow client");
                connection.slow.cancel();
            }
        }
    }
}
