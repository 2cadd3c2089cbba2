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
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Failed sign-ins per account (and per client IP) allowed within the window.
    pub login_max_failures_per_account: u64,
    pub login_max_failures_per_ip: u64,
    pub login_failure_window_secs: u64,
    /// `Secure` cookies; off only for plain-HTTP local development.
    pub secure_cookies: bool,
    /// How long public profiles stay in Redis; 0 turns the cache off.
    pub profile_cache_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            keys_dir: "var/keys/auth".into(),
            active_kid: None,
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 30,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 50,
            login_failure_window_secs: 15 * 60,
            secure_cookies: true,
            profile_cache_secs: 600,
        }
    }
}
