//! Read-through JSON caching in Redis. A cache outage only costs speed: every Redis failure
//! is logged and the value is loaded from its source instead.
//!
//! Forgetting a value (after the change it reflects has committed) also marks its key as
//! changed for a few seconds, and a loaded value is not stored while that mark stands: a reader
//! that loaded the old value just before the commit cannot put it back after the forget.

use crate::redis::RedisPool;
use deadpool_redis::redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;

/// How long a forgotten key refuses values loaded meanwhile: longer than any load takes.
const CHANGED_SECS: u64 = 10;

/// Stores the value unless the key was forgotten lately.
const STORE: &str = "if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 0";

/// Values of one kind (`namespace`) cached for `ttl_secs`; a TTL of 0 turns caching off.
#[derive(Clone)]
pub struct JsonCache {
    redis: RedisPool,
    namespace: &'static str,
    ttl_secs: u64,
}

impl JsonCache {
    pub fn new(redis: RedisPool, namespace: &'static str, ttl_secs: u64) -> Self {
        Self { redis, namespace, ttl_secs }
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&format!("{}:{key}", self.namespace))
    }

    /// The cached value under `key`, else `load`'s (then cached).
    pub async fn get_or_load<T, E, F>(&self, key: &str, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        if self.ttl_secs == 0 {
            return load.await;
        }
        let key = self.key(key);
        let mut redis = match self.redis.get().await {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::warn!(%error, namespace = self.namespace, "cache unavailable");
                None
            }
        };
        if let Some(conn) = redis.as_mut()
            && let Ok(Some(cached)) = conn.get::<_, Option<String>>(&key).await
            && let Ok(value) = serde_json::from_str(&cached)
        {
            return Ok(value);
        }
        let value = load.await?;
        if let (Some(conn), Ok(json)) = (redis.as_mut(), serde_json::to_string(&value)) {
            let stored: Result<i64, _> = deadpool_redis::redis::Script::new(STORE)
                .key(&key)
                .key(format!("{key}:changed"))
                .arg(json)
                .arg(self.ttl_secs)
                .invoke_async(conn)
                .await;
            if let Err(error) = stored {
                tracing::warn!(%error, namespace = self.namespace, "cannot cache a value");
            }
        }
        Ok(value)
    }

    /// Drops the values under `keys` (after the change they reflect has committed).
    pub async fn forget(&self, keys: impl IntoIterator<Item = impl std::fmt::Display>) {
        let keys: Vec<String> = keys.into_iter().map(|k| self.key(&k.to_string())).collect();
        if keys.is_empty() {
            return;
        }
        let mut forget = deadpool_redis::redis::pipe();
        for key in &keys {
            forget.del(key).ignore().set_ex(format!("{key}:changed"), 1, CHANGED_SECS).ignore();
        }
        let deleted: Result<(), _> = match self.redis.get().await {
            Ok(mut conn) => forget.query_async(&mut conn).await,
            Err(error) => return tracing::warn!(%error, namespace = self.namespace, "cannot drop cached values"),
        };
        if let Err(error) = deleted {
            tracing::warn!(%error, namespace = self.namespace, "cannot drop cached values");
        }
    }
}
