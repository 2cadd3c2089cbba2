//! Redis counters that slow down guessing: failed sign-ins per account and per client IP, and
//! verification-code sends per destination (1 a minute, 5 an hour).

use deadpool_redis::redis::{self, AsyncCommands};
use platform::ApiError;
use platform::redis::RedisPool;

const CODE_SENDS_PER_HOUR: u64 = 5;
const CODE_RESEND_SECS: u64 = 60;

/// 429 if `key` already counted `max` failures in its window.
pub async fn ensure_below(redis: &RedisPool, key: &str, max: u64) -> Result<(), ApiError> {
    let key = &redis.key(key);
    let mut conn = redis.get().await?;
    let (count, ttl): (Option<u64>, i64) = redis::pipe().get(key).ttl(key).query_async(&mut conn).await?;
    if count.unwrap_or(0) >= max { Err(ApiError::too_many_requests(ttl.max(1) as u64)) } else { Ok(()) }
}

pub async fn count_failure(redis: &RedisPool, key: &str, window_secs: u64) -> Result<(), ApiError> {
    let key = &redis.key(key);
    let mut conn = redis.get().await?;
    let _: () = redis::pipe()
        .incr(key, 1)
        .ignore()
        .cmd("EXPIRE")
        .arg(key)
        .arg(window_secs)
        .arg("NX")
        .ignore()
        .query_async(&mut conn)
        .await?;
    Ok(())
}

pub async fn clear(redis: &RedisPool, key: &str) -> Result<(), ApiError> {
    let mut conn = redis.get().await?;
    let _: () = conn.del(redis.key(key)).await?;
    Ok(())
}

pub fn login_account_key(identity: &str) -> String {
    format!("auth:login_failures:account:{identity}")
}

pub fn login_ip_key(ip: &str) -> String {
    format!("auth:login_failures:ip:{ip}")
}

/// Takes one code send for `destination`, or answers 429 with when to try again.
pub async fn take_code_send(redis: &RedisPool, destination: &str) -> Result<(), ApiError> {
    let mut conn = redis.get().await?;
    let minute_key = redis.key(&format!("auth:code_sends:minute:{destination}"));
    let hour_key = redis.key(&format!("auth:code_sends:hour:{destination}"));
    let first_this_minute: bool = redis::cmd("SET")
        .arg(&minute_key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(CODE_RESEND_SECS)
        .query_async::<Option<String>>(&mut conn)
        .await?
        .is_some();
    if !first_this_minute {
        let ttl: i64 = conn.ttl(&minute_key).await?;
        return Err(ApiError::too_many_requests(ttl.max(1) as u64));
    }
    let (sent, ttl): (u64, i64) = redis::pipe()
        .incr(&hour_key, 1)
        .cmd("EXPIRE")
        .arg(&hour_key)
        .arg(3600)
        .arg("NX")
        .ignore()
        .ttl(&hour_key)
        .query_async(&mut conn)
        .await?;
    if sent > CODE_SENDS_PER_HOUR {
        return Err(ApiError::too_many_requests(ttl.max(1) as u64));
    }
    Ok(())
}
