//! When to try a failed delivery again: exponential back-off with jitter, never sooner than
//! the provider's `Retry-After`.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Back-off parameters: the first pause is about `base`, doubling up to `cap`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: i32,
}

impl RetryPolicy {
    /// The pause after failed attempt number `attempt` (1-based). `jitter` in [0, 1) spreads
    /// retries over the upper half of the exponential step ("equal jitter"), so a burst of
    /// failures does not come back as a burst.
    pub fn pause(&self, attempt: i32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = attempt.clamp(1, 30) as u32 - 1;
        let step = self.base.saturating_mul(1u32 << exponent.min(20)).min(self.cap);
        let pause = step / 2 + step.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
        pause.max(retry_after.unwrap_or_default().min(Duration::from_secs(3600)))
    }
}

/// A `Retry-After` header value: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { base: Duration::from_secs(2), cap: Duration::from_secs(60), max_attempts: 8 };

    #[test]
    fn pauses_grow_with_jitter_and_a_cap() {
        assert_eq!(POLICY.pause(1, None, 0.0), Duration::from_secs(1));
        assert_eq!(POLICY.pause(1, None, 0.999_999).as_secs(), 1);
        assert_eq!(POLICY.pause(3, None, 0.0), Duration::from_secs(4));
        assert_eq!(POLICY.pause(3, None, 0.5), Duration::from_secs(6));
        assert_eq!(POLICY.pause(30, None, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn retry_after_is_honoured() {
        assert_eq!(POLICY.pause(1, Some(Duration::from_secs(30)), 0.0), Duration::from_secs(30));
        assert_eq!(POLICY.pause(5, Some(Duration::from_secs(1)), 0.0), Duration::from_secs(16));
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
