//! Rate limits shared by every gateway replica: a sliding window in one atomic Redis script
//! (a sorted set of the window's request times, on Redis's clock), keyed by tier and caller
//! (user id when authenticated, client IP otherwise). Exact: the (limit + 1)-th request within
//! any window of `period` is refused, whichever replica it reaches. Memory is bounded by the
//! limit per active key, and keys expire with their window.
//!
//! While Redis is unreachable each replica falls back to the same window in its own memory:
//! the limit then holds per replica instead of across them (up to limit × replicas), which
//! keeps protecting the services; `gateway_rate_limit_fallback_total` counts such decisions and
//! the switch is logged once each way.

use platform::redis::RedisPool;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `limit` requests per sliding `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
}

impl Quota {
    pub fn per_minute(limit: u32) -> Self {
        Self { limit: limit.max(1), period: Duration::from_secs(60) }
    }

    fn period_ms(self) -> u64 {
        self.period.as_millis() as u64
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the oldest request in the window leaves it (`RateLimit-Reset`).
    pub reset_secs: u64,
    /// Seconds to wait before retrying (for 429).
    pub retry_after_secs: u64,
}

fn ceil_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

/// The decision from what the window held: `count` requests before this one, the oldest at
/// `oldest` (ms), now `now` (ms). Shared by the Redis path and the local fallback.
pub fn decide(quota: Quota, count: u32, oldest: Option<u64>, now: u64) -> Decision {
    let reset_ms = oldest.map_or(quota.period_ms(), |oldest| (oldest + quota.period_ms()).saturating_sub(now));
    if count >= quota.limit {
        return Decision {
            allowed: false,
            limit: quota.limit,
            remaining: 0,
            reset_secs: ceil_secs(reset_ms),
            retry_after_secs: ceil_secs(reset_ms),
        };
    }
    Decision {
        allowed: true,
        limit: quota.limit,
        remaining: quota.limit - count - 1,
        reset_secs: ceil_secs(reset_ms),
        retry_after_secs: 0,
    }
}

/// Drops what left the window, counts the rest and, when allowed, records this request.
/// Returns {count before, oldest time or -1, now}.
const SCRIPT: &str = r"
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local oldest = -1
if first[2] then oldest = tonumber(first[2]) end
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
end
return {count, oldest, now}
";

pub struct RateLimiter {
    redis: RedisPool,
    script: deadpool_redis::redis::Script,
    local: Mutex<HashMap<String, VecDeque<u64>>>,
    started: Instant,
    degraded: AtomicBool,
    fallbacks: prometheus::IntCounter,
}

impl RateLimiter {
    pub fn new(redis: RedisPool, fallbacks: prometheus::IntCounter) -> Self {
        Self {
            redis,
            script: deadpool_redis::redis::Script::new(SCRIPT),
            local: Mutex::new(HashMap::new()),
            started: Instant::now(),
            degraded: AtomicBool::new(false),
            fallbacks,
        }
    }

    pub async fn check(&self, key: &str, quota: Quota) -> Decision {
        match self.check_shared(key, quota).await {
            Ok(decision) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through Redis again");
                }
                decision
            }
            Err(error) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "Redis unavailable: rate limits fall back to this replica's memory");
                }
                self.fallbacks.inc();
                self.check_local(key, quota)
            }
        }
    }

    async fn check_shared(&self, key: &str, quota: Quota) -> anyhow::Result<Decision> {
        let mut redis = tokio::time::timeout(REDIS_TIMEOUT, self.redis.get()).await??;
        let mut invocation = self.script.key(self.redis.key(&format!("gateway:rl:{key}")));
        invocation.arg(quota.period_ms()).arg(quota.limit).arg(uuid::Uuid::new_v4().simple().to_string());
        let (count, oldest, now): (u32, i64, u64) =
            tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async(&mut redis)).await??;
        Ok(decide(quota, count, u64::try_from(oldest).ok(), now))
    }

    fn check_local(&self, key: &str, quota: Quota) -> Decision {
        let now = self.started.elapsed().as_millis() as u64;
        let mut windows = self.local.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, times| times.back().is_some_and(|last| last + quota.period_ms() > now));
        }
        let times = windows.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|oldest| oldest + quota.period_ms() <= now) {
            times.pop_front();
        }
        let decision = decide(quota, times.len() as u32, times.front().copied(), now);
        if decision.allowed {
            times.push_back(now);
        }
        decision
    }
}

const REDIS_TIMEOUT: Duration = Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_after_the_limit_is_refused_until_the_oldest_leaves() {
        let quota = Quota::per_minute(100);
        for count in 0..100 {
            let decision = decide(quota, count, Some(1_000), 30_000);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, 99 - count);
        }
        let refused = decide(quota, 100, Some(1_000), 30_000);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.retry_after_secs), (0, 31), "the oldest leaves at 61 s");
    }

    #[test]
    fn an_empty_window_resets_a_full_period_later() {
        let decision = decide(Quota::per_minute(5), 0, None, 0);
        assert_eq!((decision.allowed, decision.remaining, decision.reset_secs), (true, 4, 60));
    }
}
