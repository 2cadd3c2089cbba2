//! Verification codes: 6 digits, stored hashed, expiring, single use, a limited number of tries.

use chrono::{DateTime, Duration, Utc};
use rsa::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub const LIFETIME: Duration = Duration::minutes(10);
pub const MAX_ATTEMPTS: i32 = 5;

pub fn generate() -> String {
    format!("{:06}", OsRng.next_u32() % 1_000_000)
}

/// Codes are hashed with their row's destination, so equal codes hash differently.
pub fn hash(destination: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{destination}:{code}").as_bytes()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Wrong { attempts_left: i32 },
    Expired,
    AttemptsExhausted,
    AlreadyUsed,
}

/// The rule for one try of `code` against a stored code.
pub fn judge(
    stored_hash: &str,
    destination: &str,
    code: &str,
    attempts: i32,
    expires_at: DateTime<Utc>,
    consumed: bool,
    now: DateTime<Utc>,
) -> Verdict {
    if consumed {
        Verdict::AlreadyUsed
    } else if attempts >= MAX_ATTEMPTS {
        Verdict::AttemptsExhausted
    } else if now >= expires_at {
        Verdict::Expired
    } else if hash(destination, code) == stored_hash {
        Verdict::Accepted
    } else {
        Verdict::Wrong { attempts_left: MAX_ATTEMPTS - attempts - 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge_at(code: &str, attempts: i32, minutes_later: i64, consumed: bool) -> Verdict {
        let issued = Utc::now();
        let stored = hash("+77785421871", "123456");
        judge(
            &stored,
            "+77785421871",
            code,
            attempts,
            issued + LIFETIME,
            consumed,
            issued + Duration::minutes(minutes_later),
        )
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let code = generate();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn the_right_code_in_time_is_accepted_once() {
        assert_eq!(judge_at("123456", 0, 1, false), Verdict::Accepted);
        assert_eq!(judge_at("123456", 0, 1, true), Verdict::AlreadyUsed);
    }

    #[test]
    fn wrong_expired_and_exhausted_codes_are_refused() {
        assert_eq!(judge_at("654321", 0, 1, false), Verdict::Wrong { attempts_left: 4 });
        assert_eq!(judge_at("654321", 4, 1, false), Verdict::Wrong { attempts_left: 0 });
        assert_eq!(judge_at("123456", 0, 10, false), Verdict::Expired);
        assert_eq!(judge_at("123456", 5, 1, false), Verdict::AttemptsExhausted);
    }
}
