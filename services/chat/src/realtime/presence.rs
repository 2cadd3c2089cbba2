//! Presence in Redis: each live connection is a member of the user's sorted set
//! `chat:presence:<user>`, scored with the moment it stops counting (now + TTL) and refreshed
//! by the session's heartbeats. A user is online while any member is unexpired, so several
//! devices count once and a killed replica's connections lapse within the TTL without anyone
//! cleaning up. `chat:last_seen:<user>` keeps the last heartbeat or disconnect (milliseconds).

use chrono::{DateTime, Utc};
use deadpool_redis::redis::{self, AsyncCommands};
use platform::redis::RedisPool;
use std::time::Duration;

#[derive(Clone)]
pub struct Presence {
    redis: RedisPool,
    ttl: Duration,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Presence {
    pub fn new(redis: RedisPool, ttl: Duration) -> Self {
        Self { redis, ttl }
    }

    fn set_key(&self, user_id: i64) -> String {
        self.redis.key(&format!("chat:presence:{user_id}"))
    }

    fn seen_key(&self, user_id: i64) -> String {
        self.redis.key(&format!("chat:last_seen:{user_id}"))
    }

    /// Records a live connection (or its heartbeat); `true` when the user was offline before.
    pub async fn beat(&self, user_id: i64, connection: &str) -> anyhow::Result<bool> {
        let now = now_ms();
        let key = self.set_key(user_id);
        let ttl = self.ttl.as_millis() as i64;
        let (live, ..): (i64, i64, i64, i64, ()) = redis::pipe()
            .zcount(&key, now, "+inf")
            .zadd(&key, connection, now + ttl)
            .zrembyscore(&key, "-inf", now)
            .pexpire(&key, ttl)
            .set(self.seen_key(user_id), now)
            .query_async(&mut self.redis.get().await?)
            .await?;
        Ok(live == 0)
    }

    /// Forgets a connection; `true` when the user has no other live one.
    pub async fn gone(&self, user_id: i64, connection: &str) -> anyhow::Result<bool> {
        let now = now_ms();
        let key = self.set_key(user_id);
        let (_, live, ()): (i64, i64, ()) = redis::pipe()
            .zrem(&key, connection)
            .zcount(&key, now, "+inf")
            .set(self.seen_key(user_id), now)
            .query_async(&mut self.redis.get().await?)
            .await?;
        Ok(live == 0)
    }

    /// Which of `users` are online now, in the same order.
    pub async fn online(&self, users: &[i64]) -> anyhow::Result<Vec<bool>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut pipe = redis::pipe();
        for user in users {
            pipe.zcount(self.set_key(*user), now, "+inf");
        }
        let counts: Vec<i64> = pipe.query_async(&mut self.redis.get().await?).await?;
        Ok(counts.into_iter().map(|n| n > 0).collect())
    }

    pub async fn last_seen(&self, user_id: i64) -> anyhow::Result<Option<DateTime<Utc>>> {
        let ms: Option<i64> = self.redis.get().await?.get(self.seen_key(user_id)).await?;
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }
}
