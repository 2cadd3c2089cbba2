//! Password policy and argon2id hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// Two of the four classes [`check_policy`] counts, as the OpenAPI document says it (with
/// `minLength`/`maxLength`): one lookahead pair per combination.
macro_rules! has {
    (upper) => {
        r"(?=[\s\S]*\p{Lu})"
    };
    (lower) => {
        r"(?=[\s\S]*\p{Ll})"
    };
    (digit) => {
        r"(?=[\s\S]*[0-9])"
    };
    (other) => {
        r"(?=[\s\S]*[^\p{L}\p{N}])"
    };
}

pub const POLICY_PATTERN: &str = concat!(
    "^(?:",
    has!(upper),
    has!(lower),
    "|",
    has!(upper),
    has!(digit),
    "|",
    has!(upper),
    has!(other),
    "|",
    has!(lower),
    has!(digit),
    "|",
    has!(lower),
    has!(other),
    "|",
    has!(digit),
    has!(other),
    ")"
);

/// At least 8 characters, at least two of {upper, lower, digit, special}, not a common password.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < MIN_CHARS {
        return Err("must be at least 8 characters long");
    }
    if password.chars().count() > MAX_CHARS {
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

/// argon2id with configurable cost (docs/decisions/0003-argon2-parameters.md). Every hash runs
/// in a [`Memory`] the caller keeps, so a thread that hashes one password after another reuses
/// one block of memory instead of asking the allocator for 19 MiB each time.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Verified against when the account does not exist, so both answers take as long.
    decoy_hash: String,
}

/// The working memory of one hash at a time (argon2's `m_cost` KiB).
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0 = vec![Block::default(); count];
        }
        &mut self.0[..count]
    }

    /// Gives the memory back; the next hash allocates it again.
    pub fn release(&mut self) {
        self.0 = Vec::new();
    }

    pub fn is_held(&self) -> bool {
        !self.0.is_empty()
    }
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self { argon2, decoy_hash: String::new() };
        hasher.decoy_hash = hasher.hash("not a real password", &mut Memory::default())?;
        Ok(hasher)
    }

    /// A PHC string (`$argon2id$v=19$m=…,t=…,p=1$salt$hash`) with a fresh salt.
    pub fn hash(&self, password: &str, memory: &mut Memory) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let params = self.argon2.params();
        let mut output = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        self.argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                &mut output,
                memory.blocks(params.block_count()),
            )
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: params.try_into().map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&output).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches a stored PHC string; the string's own parameters apply, so
    /// hashes made with an older cost keep verifying.
    pub fn verify(&self, password: &str, hash: &str, memory: &mut Memory) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else { return false };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
        let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
            return false;
        };
        let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
        let Ok(version) = version else { return false };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut output = vec![0u8; expected.len()];
        let hashed = argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut output,
            memory.blocks(params.block_count()),
        );
        // `Output`'s equality is constant-time.
        hashed.is_ok() && Output::new(&output).is_ok_and(|output| output == expected)
    }

    /// Spends the time of one verification, for a sign-in attempt on an unknown account.
    pub fn verify_nothing(&self, password: &str, memory: &mut Memory) {
        let _ = self.verify(password, &self.decoy_hash, memory);
    }
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
    fn the_documented_length_bounds_hold() {
        assert!(check_policy(&format!("Aa{}", "1".repeat(MIN_CHARS - 2))).is_ok());
        assert!(check_policy(&format!("Aa{}", "1".repeat(MIN_CHARS - 3))).is_err());
        assert!(check_policy(&format!("Aa{}", "1".repeat(MAX_CHARS - 2))).is_ok());
        assert!(check_policy(&format!("Aa{}", "1".repeat(MAX_CHARS - 1))).is_err());
    }

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let hasher = PasswordHasher::new(1024, 1).unwrap();
        let memory = &mut Memory::default();
        let hash = hasher.hash("Shkaf2024", memory).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("Shkaf2024", &hash, memory));
        assert!(!hasher.verify("shkaf2024", &hash, memory));
        assert!(!hasher.verify("Shkaf2024", "garbage", memory));
    }

    #[test]
    fn hashes_of_another_cost_and_of_the_argon2_crate_still_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let stronger = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(2048, 2, 1, None).unwrap());
        let salt = SaltString::generate(&mut OsRng);
        let stored = stronger.hash_password(b"Shkaf2024", &salt).unwrap().to_string();
        let hasher = PasswordHasher::new(1024, 1).unwrap();
        let memory = &mut Memory::default();
        assert!(hasher.verify("Shkaf2024", &stored, memory));
        assert!(!hasher.verify("Shkaf2025", &stored, memory));
        // The memory grew for the larger hash and serves the smaller one from its prefix.
        let own = hasher.hash("Shkaf2024", memory).unwrap();
        assert!(hasher.verify("Shkaf2024", &own, memory));
        memory.release();
        assert!(!memory.is_held());
    }
}
