//! Password policy and argon2id hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Frequent passwords that meet the character rules but must still be refused.
const COMMON: &[&str] = &[
    "password1",
    "password123",
    "qwerty123",
    "qwerty12",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "abc12345",
    "abcd1234",
    "welcome1",
    "iloveyou1",
    "admin123",
    "admin1234",
    "letmein1",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "qwertyui1",
    "zaq12wsx",
    "1qaz2wsx",
    "asdfgh12",
    "football1",
    "monkey123",
    "dragon123",
    "sunshine1",
    "master123",
    "princess1",
    "qwerty1234",
    "password1!",
    "Password1",
    "Qwerty123",
    "Aa123456",
    "Aa12345678",
    "Almaty2024",
    "Astana2024",
    "kazakhstan1",
    "Kazakhstan1",
    "mebelplace1",
    "Mebelplace1",
    "11111111a",
    "a12345678",
    "12345678a",
    "q1w2e3r4",
    "Q1w2e3r4",
    "123qweasd",
    "qweasd123",
    "qwe123qwe",
    "1234qwer",
];

/// At least 8 characters, at least two of {upper, lower, digit, special}, not a common password.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 8 {
        return Err("must be at least 8 characters long");
    }
    if password.chars().count() > 128 {
        return Err("must be at most 128 characters long");
    }
    let classes = [
        password.chars().any(char::is_uppercase),
        password.chars().any(char::is_lowercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|present| **present).count() < 2 {
        return Err("must mix at least two of: upper-case, lower-case, digits, symbols");
    }
    if COMMON.iter().any(|common| common.eq_ignore_ascii_case(password)) {
        return Err("is too common");
    }
    Ok(())
}

/// argon2id with configurable cost (docs/decisions/0003-argon2-parameters.md).
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Verified against when the account does not exist, so both answers take as long.
    decoy_hash: String,
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy_hash = hash_with(&argon2, "not a real password")?;
        Ok(Self { argon2, decoy_hash })
    }

    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        hash_with(&self.argon2, password)
    }

    pub fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|parsed| self.argon2.verify_password(password.as_bytes(), &parsed).is_ok())
    }

    /// Spends the time of one verification, for a sign-in attempt on an unknown account.
    pub fn verify_nothing(&self, password: &str) {
        let _ = self.verify(password, &self.decoy_hash);
    }
}

fn hash_with(argon2: &Argon2<'static>, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2.hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("argon2: {e}"))?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_accepts_mixed_passwords() {
        for password in ["Shkaf2024", "диван-угловой", "correct horse battery", "ОченьСложный1"]
        {
            assert!(check_policy(password).is_ok(), "{password}");
        }
    }

    #[test]
    fn policy_rejects_weak_passwords() {
        assert_eq!(check_policy("Ab1!"), Err("must be at least 8 characters long"));
        assert!(check_policy("abcdefghij").is_err(), "one class only");
        assert!(check_policy("12345678").is_err(), "digits only");
        assert_eq!(check_policy("Password1"), Err("is too common"));
        assert_eq!(check_policy("QWERTY123"), Err("is too common"));
    }

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let hasher = PasswordHasher::new(1024, 1).unwrap();
        let hash = hasher.hash("Shkaf2024").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("Shkaf2024", &hash));
        assert!(!hasher.verify("shkaf2024", &hash));
        assert!(!hasher.verify("Shkaf2024", "garbage"));
    }
}
