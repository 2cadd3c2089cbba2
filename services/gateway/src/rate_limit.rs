//! Rate limits shared by every gateway replica: a sliding window in one atomic Redis script
//! (a sorted set of the window's request times, on Redis's clock), keyed by tier and caller
//! (user id when authenticated, client IP otherwise). The (limit + 1)-th request within any
//! window of `period` is refused, whichever replica it reaches. A window holds one member per
//! trip to Redis (not per request), and keys expire with their window.
//!
//! A round trip to Redis for every request would cost more than the rest of the proxying, so a
//! replica leases permits: a caller's first request takes one, and while the caller keeps
//! coming its lease is topped up in the background when half used, twice as large each time
//! (up to 1 % of the limit, at most [`MAX_LEASE`]), so requests do not wait for Redis. Leased
//! permits count in the shared window when taken, so no caller gets more than its limit; a
//! permit is used within two [`LEASE_LIFETIME`]s of the trip that took it (its window may end
//! that much early), and unused ones are lost (a caller may be refused up to 1 % of its limit early
//! per replica). Limits of 100 and less lease one permit at a time: exact.
//! A refusal is remembered until the window's oldest request leaves it: nothing can free a
//! place sooner, so a caller hammering past its limit costs no Redis call.
//!
//! While Redis is unreachable each replica falls back to the same window in its own memory:
//! the limit then holds per replica instead of across them (up to limit × replicas), which
//! keeps protecting the services; `gateway_rate_limit_fallback_total` counts such decisions and
//! the switch is logged once each way.

use platform::redis::RedisPool;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most permits one lease takes.
pub const MAX_LEASE: u32 = 1024;
/// How long a lease's permits stay usable after its last trip to Redis. A permit's window starts
/// when it is counted, so it may end up to two lifetimes early (a refill extends older permits).
pub const LEASE_LIFETIME: Duration = Duration::from_secs(1);
const REDIS_TIMEOUT: Duration = Duration::from_millis(200);
/// Local entries (leases, fallback windows) beyond which expired ones are swept.
const MAX_LOCAL_KEYS: usize = 100_000;

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

    /// The largest lease: 1 % of the limit, between 1 and [`MAX_LEASE`].
    fn lease_cap(self) -> u32 {
        (self.limit / 100).clamp(1, MAX_LEASE)
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

/// Milliseconds until the window's oldest request (at `oldest`, ms) leaves it, now `now` (ms).
fn reset_ms(quota: Quota, oldest: Option<u64>, now: u64) -> u64 {
    oldest.map_or(quota.period_ms(), |oldest| (oldest + quota.period_ms()).saturating_sub(now))
}

/// The decision from what the window held: `count` requests before this one, the oldest at
/// `oldest` (ms), now `now` (ms). Shared by the Redis path and the local fallback.
pub fn decide(quota: Quota, count: u32, oldest: Option<u64>, now: u64) -> Decision {
    decision(quota, count < quota.limit, quota.limit.saturating_sub(count + 1), reset_ms(quota, oldest, now))
}

fn decision(quota: Quota, allowed: bool, remaining: u32, reset_ms: u64) -> Decision {
    let reset_secs = ceil_secs(reset_ms);
    Decision {
        allowed,
        limit: quota.limit,
        remaining: if allowed { remaining } else { 0 },
        reset_secs,
        retry_after_secs: if allowed { 0 } else { reset_secs },
    }
}

/// What one trip to Redis found and took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Trip {
    /// The answer for a request that uses the first permit taken.
    decision: Decision,
    /// Milliseconds until the window's oldest request leaves it.
    reset_ms: u64,
    asked: u32,
    granted: u32,
}

impl Trip {
    /// From the script's answer: `count` requests were in the window, the oldest at `oldest`
    /// (ms), Redis's time `now` (ms).
    fn new(quota: Quota, count: u32, oldest: Option<u64>, now: u64, asked: u32, granted: u32) -> Self {
        Self { decision: decide(quota, count, oldest, now), reset_ms: reset_ms(quota, oldest, now), asked, granted }
    }
}

/// What one replica knows of a caller's window between trips to Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lease {
    /// Permits taken from the shared window and not used yet.
    unused: u32,
    /// Free places the window had besides this lease at the last trip.
    free_elsewhere: u32,
    /// The window was full: every request is refused until `valid_until` (= `reset_at`).
    refused: bool,
    valid_until: Instant,
    /// When the window's oldest request leaves it.
    reset_at: Instant,
    /// Permits asked for by the last trip to Redis.
    size: u32,
    /// A trip for more permits is under way.
    refilling: bool,
}

impl Lease {
    /// After a trip made by a request (which used the first permit taken).
    fn taken(trip: Trip, now: Instant) -> Self {
        let reset_at = now + Duration::from_millis(trip.reset_ms);
        let unused = trip.granted.saturating_sub(1);
        Self {
            unused,
            free_elsewhere: trip.decision.remaining.saturating_sub(unused),
            refused: !trip.decision.allowed,
            valid_until: if trip.decision.allowed { now + LEASE_LIFETIME } else { reset_at },
            reset_at,
            size: trip.asked,
            refilling: false,
        }
    }

    /// After a trip made ahead of need (no request used a permit of it).
    fn refilled(&mut self, trip: Trip, now: Instant) {
        self.refilling = false;
        self.reset_at = now + Duration::from_millis(trip.reset_ms);
        let free = if trip.decision.allowed { trip.decision.remaining + 1 } else { 0 };
        self.free_elsewhere = free.saturating_sub(trip.granted);
        if trip.granted > 0 {
            self.unused += trip.granted;
            self.valid_until = now + LEASE_LIFETIME;
            self.size = trip.asked;
        }
    }

    /// The answer from this lease alone, when it has one.
    fn take(&mut self, quota: Quota, now: Instant) -> Option<Decision> {
        if now >= self.valid_until || (self.unused == 0 && !self.refused) {
            return None;
        }
        let reset_ms = self.reset_at.saturating_duration_since(now).as_millis() as u64;
        if self.refused {
            return Some(decision(quota, false, 0, reset_ms));
        }
        self.unused -= 1;
        Some(decision(quota, true, self.free_elsewhere + self.unused, reset_ms))
    }

    /// The size of a trip to start now, ahead of need, so that no request waits for Redis
    /// while the caller keeps coming: when half the lease is used, twice as many permits.
    fn refill_ahead(&mut self, quota: Quota) -> Option<u32> {
        if self.refused || self.refilling || quota.lease_cap() == 1 || self.unused > self.size / 2 {
            return None;
        }
        self.refilling = true;
        Some((self.size * 2).min(quota.lease_cap()))
    }

    /// Permits for a trip made by a request: twice as many when this lease was used up in
    /// time, as many when it was used up late, one when permits were left over.
    fn next_size(lease: Option<&Self>, quota: Quota, now: Instant) -> u32 {
        match lease {
            Some(lease) if !lease.refused && lease.unused == 0 => {
                let size = if now < lease.valid_until { lease.size * 2 } else { lease.size };
                size.min(quota.lease_cap())
            }
            _ => 1,
        }
    }
}

/// Trims what left the window, counts the rest and takes up to ARGV[4] permits of what is
/// free, at Redis's time. Returns {count before, oldest time or -1, now, permits taken}.
///
/// A trip's permits are one member of the window (KEYS[1]), named `<replica>:<trip>:<permits>`
/// and scored with the trip's time, and the window's total is kept beside it (KEYS[2]): a
/// window holds one member per trip, not per request, so a caller allowed millions a minute
/// costs Redis a few hundred members, and each trip does work for what left the window only.
/// Without the total (evicted alone), it is summed from the members again.
const SCRIPT: &str = r"
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function permits(members)
  local sum = 0
  for _, member in ipairs(members) do sum = sum + tonumber(string.match(member, '(%d+)$')) end
  return sum
end
local count = tonumber(redis.call('GET', KEYS[2]) or '-1')
if count < 0 then count = permits(redis.call('ZRANGE', KEYS[1], 0, -1)) end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - period)
if #expired > 0 then
  count = count - permits(expired)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local oldest = -1
if first[2] then oldest = tonumber(first[2]) else count = 0 end
local granted = math.max(0, math.min(tonumber(ARGV[4]), limit - count))
if granted > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. granted)
  redis.call('PEXPIRE', KEYS[1], period)
  redis.call('SET', KEYS[2], count + granted, 'PX', period)
elseif #expired > 0 then
  redis.call('SET', KEYS[2], count, 'KEEPTTL')
end
return {count, oldest, now, granted}
";

pub struct RateLimiter {
    redis: RedisPool,
    script: deadpool_redis::redis::Script,
    /// Names this replica's trips to Redis apart (with `trips`): the window's members.
    replica: String,
    trips: AtomicU64,
    leases: Mutex<HashMap<String, Lease>>,
    fallback: Mutex<HashMap<String, VecDeque<u64>>>,
    started: Instant,
    degraded: AtomicBool,
    fallbacks: prometheus::IntCounter,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RateLimiter {
    pub fn new(redis: RedisPool, fallbacks: prometheus::IntCounter) -> Self {
        Self {
            redis,
            script: deadpool_redis::redis::Script::new(SCRIPT),
            replica: uuid::Uuid::new_v4().simple().to_string(),
            trips: AtomicU64::new(0),
            leases: Mutex::new(HashMap::new()),
            fallback: Mutex::new(HashMap::new()),
            started: Instant::now(),
            degraded: AtomicBool::new(false),
            fallbacks,
        }
    }

    pub async fn check(self: &Arc<Self>, key: &str, quota: Quota) -> Decision {
        let size = {
            let mut leases = lock(&self.leases);
            let now = Instant::now();
            if let Some(lease) = leases.get_mut(key)
                && let Some(decision) = lease.take(quota, now)
            {
                if let Some(size) = lease.refill_ahead(quota) {
                    self.refill(key.to_owned(), quota, size);
                }
                return decision;
            }
            Lease::next_size(leases.get(key), quota, now)
        };
        match self.trip(key, quota, size).await {
            Ok(trip) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through Redis again");
                }
                let lease = Lease::taken(trip, Instant::now());
                let mut leases = lock(&self.leases);
                sweep(&mut leases, |lease| lease.valid_until > Instant::now());
                match leases.get_mut(key) {
                    // Another trip for this caller came back first: the permits add up.
                    Some(held) if held.unused > 0 && !held.refused && Instant::now() < held.valid_until => {
                        held.unused += lease.unused;
                    }
                    _ => {
                        leases.insert(key.to_owned(), lease);
                    }
                }
                trip.decision
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

    /// Tops up a caller's lease in the background.
    fn refill(self: &Arc<Self>, key: String, quota: Quota, size: u32) {
        let limiter = self.clone();
        tokio::spawn(async move {
            let trip = limiter.trip(&key, quota, size).await;
            let mut leases = lock(&limiter.leases);
            let Some(lease) = leases.get_mut(&key) else { return };
            match trip {
                Ok(trip) => lease.refilled(trip, Instant::now()),
                // The request that finds the lease used up asks Redis (or the fallback) itself.
                Err(error) => {
                    lease.refilling = false;
                    tracing::debug!(%error, "lease not refilled");
                }
            }
        });
    }

    /// One trip to Redis for up to `size` permits.
    async fn trip(&self, key: &str, quota: Quota, size: u32) -> anyhow::Result<Trip> {
        let mut redis = tokio::time::timeout(REDIS_TIMEOUT, self.redis.get()).await??;
        // One hash slot for both keys (`{…}`), should Redis be a cluster.
        let window = self.redis.key(&format!("gateway:rl:{{{key}}}:window"));
        let mut invocation = self.script.key(&window);
        invocation.key(format!("{window}:count"));
        let sequence = self.trips.fetch_add(1, Ordering::Relaxed);
        invocation.arg(quota.period_ms()).arg(quota.limit).arg(format!("{}:{sequence}", self.replica)).arg(size);
        let (count, oldest, now, granted): (u32, i64, u64, u32) =
            tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async(&mut redis)).await??;
        Ok(Trip::new(quota, count, u64::try_from(oldest).ok(), now, size, granted))
    }

    fn check_local(&self, key: &str, quota: Quota) -> Decision {
        let now = self.started.elapsed().as_millis() as u64;
        let mut windows = lock(&self.fallback);
        sweep(&mut windows, |times| times.back().is_some_and(|last| last + quota.period_ms() > now));
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

/// Keeps the local maps bounded: past [`MAX_LOCAL_KEYS`], what no longer matters goes.
fn sweep<T>(entries: &mut HashMap<String, T>, keep: impl Fn(&T) -> bool) {
    if entries.len() > MAX_LOCAL_KEYS {
        entries.retain(|_, entry| keep(entry));
    }
}

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

    #[test]
    fn leases_are_at_most_one_percent_of_the_limit() {
        assert_eq!(Quota::per_minute(100).lease_cap(), 1, "the strict tier stays exact");
        assert_eq!(Quota::per_minute(30).lease_cap(), 1);
        assert_eq!(Quota::per_minute(5000).lease_cap(), 50);
        assert_eq!(Quota::per_minute(1_000_000).lease_cap(), MAX_LEASE);
    }

    #[test]
    fn a_lease_answers_until_used_up_counting_down_the_window() {
        let (quota, now) = (Quota::per_minute(5000), Instant::now());
        // 10 requests were in the window; this trip took 8 permits, the first for itself.
        let trip = Trip::new(quota, 10, Some(0), 20_000, 8, 8);
        assert_eq!(trip.decision.remaining, 4989);
        let mut lease = Lease::taken(trip, now);
        for n in 1..8 {
            let decision = lease.take(quota, now).expect("a permit is left");
            assert_eq!((decision.allowed, decision.remaining), (true, 4989 - n), "permit {n}");
        }
        assert_eq!(lease.take(quota, now), None, "used up: back to Redis");
        assert_eq!(Lease::next_size(Some(&lease), quota, now), 16, "used up in time: twice as many");
    }

    #[test]
    fn an_expired_lease_answers_nothing_and_leftovers_shrink_the_next_one() {
        let (quota, now) = (Quota::per_minute(5000), Instant::now());
        let mut lease = Lease::taken(Trip::new(quota, 0, None, 0, 32, 32), now);
        let later = now + LEASE_LIFETIME;
        assert_eq!(lease.take(quota, later), None);
        assert_eq!(Lease::next_size(Some(&lease), quota, later), 1);
        assert_eq!(Lease::next_size(None, quota, later), 1, "a new caller starts with one");
    }

    #[test]
    fn growth_stops_at_the_cap() {
        let (quota, now) = (Quota::per_minute(5000), Instant::now());
        let lease = Lease::taken(Trip::new(quota, 0, None, 0, 50, 1), now);
        assert_eq!(Lease::next_size(Some(&lease), quota, now), 50);
    }

    #[test]
    fn half_a_lease_used_starts_one_refill_of_twice_the_size() {
        let (quota, now) = (Quota::per_minute(5000), Instant::now());
        let mut lease = Lease::taken(Trip::new(quota, 0, None, 0, 8, 8), now);
        for _ in 0..2 {
            lease.take(quota, now);
            assert_eq!(lease.refill_ahead(quota), None, "more than half left");
        }
        lease.take(quota, now);
        assert_eq!(lease.refill_ahead(quota), Some(16), "4 of 8 left");
        assert_eq!(lease.refill_ahead(quota), None, "one refill at a time");

        // 8 requests were in the window; the refill took 16 more, none used yet.
        let later = now + Duration::from_millis(500);
        lease.refilled(Trip::new(quota, 8, Some(0), 500, 16, 16), later);
        assert_eq!((lease.unused, lease.size, lease.refilling), (20, 16, false));
        assert_eq!(lease.valid_until, later + LEASE_LIFETIME, "fresh permits, fresh lifetime");
        let decision = lease.take(quota, later).unwrap();
        assert_eq!(decision.remaining, (5000 - 8 - 16) + 19, "the window's free places and this lease's");
    }

    #[test]
    fn a_refill_finding_the_window_full_adds_nothing() {
        let (quota, now) = (Quota::per_minute(5000), Instant::now());
        let mut lease = Lease::taken(Trip::new(quota, 4990, Some(0), 0, 4, 4), now);
        lease.take(quota, now);
        assert!(lease.refill_ahead(quota).is_some());
        lease.refilled(Trip::new(quota, 5000, Some(0), 10, 8, 0), now);
        assert_eq!((lease.unused, lease.free_elsewhere, lease.refilling), (2, 0, false));
    }

    #[test]
    fn limits_of_a_hundred_never_refill_ahead() {
        let (quota, now) = (Quota::per_minute(100), Instant::now());
        let mut lease = Lease::taken(Trip::new(quota, 0, None, 0, 1, 1), now);
        assert_eq!(lease.refill_ahead(quota), None);
    }

    #[test]
    fn a_refusal_holds_until_the_oldest_request_leaves_the_window() {
        let (quota, now) = (Quota::per_minute(100), Instant::now());
        let mut lease = Lease::taken(Trip::new(quota, 100, Some(1_000), 30_000, 1, 0), now);
        let decision = lease.take(quota, now + Duration::from_secs(30)).expect("still refused");
        assert_eq!((decision.allowed, decision.retry_after_secs), (false, 1));
        assert_eq!(lease.take(quota, now + Duration::from_millis(31_000)), None, "then Redis decides again");
        assert_eq!(Lease::next_size(Some(&lease), quota, now), 1);
    }
}
