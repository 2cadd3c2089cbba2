//! The notification service's configuration: the platform sections plus `notification`.

use secrecy::SecretString;
use serde::Deserialize;

pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("NOTIFICATION_MODE", "notification.mode"),
    ("ONESIGNAL_APP_ID", "notification.onesignal.app_id"),
    ("ONESIGNAL_API_KEY", "notification.onesignal.api_key"),
    ("ONESIGNAL_URL", "notification.onesignal.url"),
    ("MOBIZON_API_KEY", "notification.mobizon.api_key"),
    ("MOBIZON_URL", "notification.mobizon.url"),
    ("MOBIZON_SENDER", "notification.mobizon.sender"),
    ("SMTP_HOST", "notification.smtp.host"),
    ("SMTP_PORT", "notification.smtp.port"),
    ("SMTP_TLS", "notification.smtp.tls"),
    ("SMTP_CA_FILE", "notification.smtp.ca_file"),
    ("SMTP_USERNAME", "notification.smtp.username"),
    ("SMTP_PASSWORD", "notification.smtp.password"),
    ("SMTP_FROM", "notification.smtp.from"),
    ("UNSUBSCRIBE_SECRET", "notification.unsubscribe_secret"),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub notification: NotificationSettings,
}

impl platform::service::ServiceConfig for Config {
    fn platform(&self) -> &platform::Settings {
        &self.platform
    }
}

/// Whether push, SMS and e-mail reach providers or are only recorded (development).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Record every message in `recorded_messages` (shown to admins) instead of sending.
    Record,
    Send,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    pub mode: Mode,
    pub onesignal: OneSignalSettings,
    pub mobizon: MobizonSettings,
    pub smtp: SmtpSettings,
    /// Attempts per delivery before it becomes a dead letter.
    pub max_attempts: i32,
    /// The first retry pause (doubling up to `retry_cap_ms`, with jitter).
    pub retry_base_ms: u64,
    pub retry_cap_ms: u64,
    /// Deliveries claimed per round, sent concurrently.
    pub batch_size: i64,
    /// How long a claimed delivery is left to its sender before another may take it over.
    pub lease_secs: u64,
    /// How often the sender looks for due deliveries when nothing woke it.
    pub poll_interval_ms: u64,
    /// How often digests are sent to users who gather low-priority notifications.
    pub digest_interval_secs: u64,
    /// Timeout of one provider call.
    pub provider_timeout_ms: u64,
    /// Signs one-click unsubscribe links.
    pub unsubscribe_secret: SecretString,
    /// Where unsubscribe links point (the gateway's public address).
    pub public_url: String,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            mode: Mode::Record,
            onesignal: OneSignalSettings::default(),
            mobizon: MobizonSettings::default(),
            smtp: SmtpSettings::default(),
            max_attempts: 8,
            retry_base_ms: 2_000,
            retry_cap_ms: 15 * 60 * 1000,
            batch_size: 64,
            lease_secs: 60,
            poll_interval_ms: 1_000,
            digest_interval_secs: 3_600,
            provider_timeout_ms: 10_000,
            unsubscribe_secret: SecretString::from("development-unsubscribe-secret"),
            public_url: "https://mebelplace.com.kz".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OneSignalSettings {
    pub url: String,
    pub app_id: String,
    pub api_key: SecretString,
}

impl Default for OneSignalSettings {
    fn default() -> Self {
        Self { url: "https://api.onesignal.com".into(), app_id: String::new(), api_key: SecretString::from("") }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MobizonSettings {
    pub url: String,
    pub api_key: SecretString,
    /// Registered sender name (alpha name); empty: the account's default.
    pub sender: String,
}

impl Default for MobizonSettings {
    fn default() -> Self {
        Self { url: "https://api.mobizon.kz".into(), api_key: SecretString::from(""), sender: String::new() }
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP, for a relay on the same host or a trusted network (port 25).
    #[default]
    None,
    /// A plain connection upgraded with STARTTLS before anything is sent; fails if the server
    /// does not offer it (submission, port 587).
    Starttls,
    /// TLS from the first byte (submissions, port 465).
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// A PEM file of the certificate authorities to trust instead of the system's (a private
    /// relay's own CA). The server's certificate is always checked, and must name `host`.
    pub ca_file: Option<String>,
    /// Log in (AUTH) when set.
    pub username: String,
    pub password: SecretString,
    pub from: String,
    /// Connections kept open to the server.
    pub pool_size: u32,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::None,
            ca_file: None,
            username: String::new(),
            password: SecretString::from(""),
            from: "MebelPlace <noreply@mebelplace.com.kz>".into(),
            pool_size: 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_password_is_not_printed() {
        let smtp = SmtpSettings { password: SecretString::from("hunter2"), ..SmtpSettings::default() };
        assert!(!format!("{smtp:?}").contains("hunter2"));
    }

    #[test]
    fn smtp_tls_is_named_as_operators_write_it() {
        let smtp: SmtpSettings =
            serde_json::from_value(serde_json::json!({ "tls": "starttls", "ca_file": "/etc/relay-ca.pem" })).unwrap();
        assert_eq!((smtp.tls, smtp.ca_file.as_deref()), (SmtpTls::Starttls, Some("/etc/relay-ca.pem")));
        assert_eq!(serde_json::from_value::<SmtpTls>(serde_json::json!("tls")).unwrap(), SmtpTls::Tls);
        assert!(serde_json::from_value::<SmtpTls>(serde_json::json!("ssl")).is_err());
    }
}
