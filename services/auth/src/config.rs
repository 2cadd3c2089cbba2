//! The auth service's configuration: the platform sections plus `auth`.

use serde::Deserialize;

pub const ENV_ALIASES: &[(&str, &str)] = &[("JWT_KEYS_DIR", "auth.keys_dir"), ("JWT_ACTIVE_KID", "auth.active_kid")];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub auth: AuthSettings,
}

impl platform::service::ServiceConfig for Config {
    fn platform(&self) -> &platform::Settings {
        &self.platform
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Folder of RSA private keys (`<kid>.pem`); all are published in the JWKS.
    pub keys_dir: String,
    /// The key that signs new tokens; the newest file name when unset.
    pub active_kid: Option<String>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_days: i64,
    /// A refresh token presented again this soon after its rotation answers with the same
    /// successor instead of revoking its family (a retry, two tabs); 0 turns the grace off.
    pub refresh_reuse_grace_secs: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Threads that hash passwords (each holds `argon2_memory_kib` while busy); 0: one per core.
    pub hashing_threads: usize,
    /// Sign-ins and registrations waiting for a hashing thread at most; more answer 503.
    pub hashing_queue: usize,
    /// A sign-in still waiting for a hashing thread after this long answers 503.
    pub hashing_queue_deadline_ms: u64,
    /// Failed sign-ins per account (and per client IP) allowed within the window.
    pub login_max_failures_per_account: u64,
    pub login_max_failures_per_ip: u64,
    pub login_failure_window_secs: u64,
    /// `Secure` cookies; off only for plain-HTTP local development.
    pub secure_cookies: bool,
    /// How long public profiles stay in Redis; 0 turns the cache off.
    pub profile_cache_secs: u64,
}

impl AuthSettings {
    /// The hashing pool these settings describe, started.
    pub fn hashing_pool(&self) -> anyhow::Result<crate::hashing::HashingPool> {
        let hasher = crate::domain::password::PasswordHasher::new(self.argon2_memory_kib, self.argon2_iterations)?;
        let settings = crate::hashing::PoolSettings {
            threads: self.hashing_threads,
            queue_capacity: self.hashing_queue,
            queue_deadline: std::time::Duration::from_millis(self.hashing_queue_deadline_ms),
        };
        Ok(crate::hashing::HashingPool::start(hasher, settings)?)
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            keys_dir: "var/keys/auth".into(),
            active_kid: None,
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 30,
            refresh_reuse_grace_secs: 10,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            hashing_threads: 0,
            hashing_queue: 128,
            hashing_queue_deadline_ms: 2_000,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 50,
            login_failure_window_secs: 15 * 60,
            secure_cookies: true,
            profile_cache_secs: 600,
        }
    }
}
