//! Layered configuration: built-in defaults → `config.yml` → environment variables.
//!
//! Environment variables come in two spellings: the seed's flat names (`DATABASE_URL`,
//! `REDIS_URL`, `PORT` …, see [`PLATFORM_ENV_ALIASES`]) and the nested form
//! `MEBELPLACE__SECTION__KEY` for every other key. A malformed value fails naming the variable.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Flat environment names from the seed, mapped to configuration keys.
pub const PLATFORM_ENV_ALIASES: &[(&str, &str)] = &[
    ("APP_ENV", "app.environment"),
    ("LOG_LEVEL", "app.log_level"),
    ("HOST", "http.host"),
    ("PORT", "http.port"),
    ("DATABASE_URL", "database.url"),
    ("DATABASE_SCHEMA", "database.schema"),
    ("DATABASE_MAX_CONNECTIONS", "database.max_connections"),
    ("DATABASE_CA_FILE", "database.ca_file"),
    ("REDIS_URL", "redis.url"),
    ("REDIS_CA_FILE", "redis.ca_file"),
    ("NATS_URL", "nats.url"),
    ("KAFKA_BROKERS", "kafka.brokers"),
    ("KAFKA_IDEMPOTENT_PRODUCER", "kafka.idempotent_producer"),
    ("KAFKA_BATCH_MESSAGES", "kafka.batch_messages"),
    ("KAFKA_SECURITY_PROTOCOL", "kafka.security_protocol"),
    ("KAFKA_SASL_MECHANISM", "kafka.sasl_mechanism"),
    ("KAFKA_SASL_USERNAME", "kafka.sasl_username"),
    ("KAFKA_SASL_PASSWORD", "kafka.sasl_password"),
    ("KAFKA_SSL_CA_LOCATION", "kafka.ssl_ca_location"),
    ("JWT_JWKS_URL", "jwt.jwks_url"),
    ("JWT_ISSUER", "jwt.issuer"),
    ("JWT_AUDIENCE", "jwt.audience"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "telemetry.otlp_endpoint"),
    ("STORAGE_BACKEND", "storage.backend"),
    ("STORAGE_PATH", "storage.path"),
    ("S3_BUCKET", "storage.s3_bucket"),
    ("S3_ENDPOINT", "storage.s3_endpoint"),
    ("S3_REGION", "storage.s3_region"),
    ("S3_ACCESS_KEY_ID", "storage.s3_access_key_id"),
    ("S3_SECRET_ACCESS_KEY", "storage.s3_secret_access_key"),
];

const NESTED_ENV_PREFIX: &str = "MEBELPLACE__";
const CONFIG_FILE_ENV: &str = "CONFIG_FILE";
const DEFAULT_CONFIG_FILE: &str = "config.yml";

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// What differs between services before any file or variable is read.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    /// Its PostgreSQL schema.
    pub schema: &'static str,
    pub port: u16,
}

/// Loads `T` from the defaults in its `#[serde(default)]`s, the YAML file named by
/// `CONFIG_FILE` (default `config.yml`, optional), and the environment.
/// `service_aliases` adds a service's own flat variable names (e.g. `MOBIZON_API_KEY`).
pub fn load<T: DeserializeOwned>(
    defaults: ServiceDefaults,
    service_aliases: &[(&'static str, &'static str)],
) -> Result<T, ConfigError> {
    let file = std::env::var(CONFIG_FILE_ENV).unwrap_or_else(|_| DEFAULT_CONFIG_FILE.to_owned());
    load_from(Path::new(&file), defaults, service_aliases)
}

pub fn load_from<T: DeserializeOwned>(
    file: &Path,
    defaults: ServiceDefaults,
    service_aliases: &[(&'static str, &'static str)],
) -> Result<T, ConfigError> {
    let aliases = all_aliases(service_aliases);
    let alias_names: Vec<&str> = aliases.iter().map(|(name, _)| *name).collect();
    let lookup = aliases.clone();
    let flat_env = Env::raw().only(&alias_names).map(move |name| {
        let target = lookup
            .iter()
            .find(|(alias, _)| name.as_str().eq_ignore_ascii_case(alias))
            .map_or(name.as_str(), |(_, key)| key);
        target.to_owned().into()
    });
    Figment::new()
        .merge(Serialized::default("database.schema", defaults.schema))
        .merge(Serialized::default("http.port", defaults.port))
        .merge(Yaml::file(file))
        .merge(Env::prefixed(NESTED_ENV_PREFIX).split("__"))
        .merge(flat_env)
        .extract()
        .map_err(|errors| {
            let described: Vec<String> = errors.into_iter().map(|e| describe(&e, &aliases)).collect();
            ConfigError(described.join("; "))
        })
}

fn all_aliases(service_aliases: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    PLATFORM_ENV_ALIASES.iter().chain(service_aliases).copied().collect()
}

/// Names the environment variable a bad value came from. Serde's `flatten` (which services
/// use to embed [`Settings`]) hides the key path, so the variable is found by its value.
fn describe(error: &figment::Error, aliases: &[(&str, &str)]) -> String {
    let message = error.kind.to_string();
    let mentions = |value: &str| {
        !value.is_empty() && (message.contains(&format!("\"{value}\"")) || message.contains(&format!("`{value}`")))
    };
    let nested = std::env::vars().filter(|(name, _)| name.starts_with(NESTED_ENV_PREFIX));
    let flat = aliases.iter().filter_map(|(name, _)| std::env::var(name).ok().map(|v| ((*name).to_owned(), v)));
    let culprit = flat.chain(nested).find(|(_, value)| mentions(value));
    let key = error.path.join(".");
    match (culprit, key.is_empty()) {
        (Some((variable, _)), _) => format!("environment variable {variable}: {message}"),
        (None, false) => format!("{key}: {message}"),
        (None, true) => format!("{message} (check {DEFAULT_CONFIG_FILE} and the environment)"),
    }
}

/// The sections every service has. Services embed it with `#[serde(flatten)]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub app: AppSettings,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub nats: NatsSettings,
    pub kafka: KafkaSettings,
    pub jwt: JwtSettings,
    pub telemetry: TelemetrySettings,
    pub storage: StorageSettings,
    pub outbox: OutboxSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Test,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    pub environment: Environment,
    pub log_level: String,
    /// Human-readable logs instead of JSON lines (local development).
    pub pretty_logs: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self { environment: Environment::Development, log_level: "info".into(), pretty_logs: false }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    /// Largest JSON body accepted, in bytes.
    pub json_limit_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    pub hsts_max_age_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 2,
            json_limit_bytes: 256 * 1024,
            shutdown_timeout_secs: 30,
            hsts_max_age_secs: 31_536_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// A `postgres://` URL. Its `sslmode` (`disable`, `prefer` (default), `require`,
    /// `verify-ca`, `verify-full`) and `sslrootcert` are read as libpq reads them.
    pub url: SecretString,
    /// A PEM file of the certificate authorities that signed the server's certificate (the
    /// URL's `sslrootcert` wins). With it even `prefer`/`require` check the chain, as in libpq.
    pub ca_file: Option<PathBuf>,
    /// The service's own schema; its connections see only this schema.
    pub schema: String,
    pub max_connections: usize,
    pub connect_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("postgres://postgres@127.0.0.1:5432/mebelplace"),
            ca_file: None,
            schema: "public".into(),
            max_connections: 25,
            connect_timeout_secs: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// `redis://…`, or `rediss://…` for TLS (the certificate and its name are checked).
    pub url: SecretString,
    /// With `rediss://`: a PEM file of the certificate authorities to trust instead of the
    /// system's.
    pub ca_file: Option<PathBuf>,
    pub max_connections: usize,
    /// Prepended to every key.
    pub key_prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("redis://127.0.0.1:6379"),
            ca_file: None,
            max_connections: 10,
            key_prefix: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NatsSettings {
    pub url: String,
    /// Prepended to every subject; lets tests (and tenants) share one server.
    pub subject_prefix: String,
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self { url: "nats://127.0.0.1:4222".into(), subject_prefix: String::new() }
    }
}

impl NatsSettings {
    pub fn subject(&self, logical: &str) -> String {
        format!("{}{logical}", self.subject_prefix)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct KafkaSettings {
    pub brokers: String,
    /// Prepended to every topic and consumer group; lets tests share one broker.
    pub topic_prefix: String,
    /// How long the producer keeps retrying one message before reporting failure.
    pub message_timeout_ms: u64,
    pub partitions: i32,
    /// Deliveries of one message before it goes to the dead-letter topic.
    pub max_attempts: u32,
    /// Kafka's idempotent producer (no duplicates from producer retries). The local tansu
    /// broker loses track of producer sequences across a restart, so local runs turn it off;
    /// consumers deduplicate through the inbox either way.
    pub idempotent_producer: bool,
    /// Most messages in one record batch (librdkafka's `batch.num.messages`). The local tansu
    /// broker with `memory://` storage skips the rest of a batch when a consumer resumes inside
    /// it, so local runs and tests send one message per batch (docs/decisions/0002-kafka-broker.md).
    pub batch_messages: u32,
    /// `plaintext` (default), `ssl`, `sasl_plaintext` or `sasl_ssl` (the TLS ones need a build
    /// with the `kafka-tls` feature, as the image has).
    pub security_protocol: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<SecretString>,
    /// A PEM file of the certificate authorities that signed the brokers' certificates.
    pub ssl_ca_location: Option<String>,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topic_prefix: String::new(),
            message_timeout_ms: 10_000,
            partitions: 3,
            max_attempts: 5,
            idempotent_producer: true,
            batch_messages: 10_000,
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
        }
    }
}

impl KafkaSettings {
    pub fn topic(&self, logical: &str) -> String {
        format!("{}{logical}", self.topic_prefix)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct JwtSettings {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    /// Keys are refetched at most this often when an unknown `kid` shows up.
    pub jwks_min_refresh_secs: u64,
    /// Keys are refetched at least this often.
    pub jwks_max_age_secs: u64,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            jwks_url: "http://127.0.0.1:8081/.well-known/jwks.json".into(),
            issuer: "mebelplace-auth".into(),
            audience: "mebelplace".into(),
            jwks_min_refresh_secs: 10,
            jwks_max_age_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// OTLP/HTTP collector base URL, e.g. `http://jaeger:4318`. Traces are exported only when set.
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    #[default]
    Local,
    S3,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    pub path: String,
    pub public_base_url: String,
    pub s3_bucket: String,
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<SecretString>,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: StorageBackend::Local,
            path: "var/storage".into(),
            public_base_url: "http://127.0.0.1:8080/media".into(),
            s3_bucket: "mebelplace".into(),
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OutboxSettings {
    pub batch_size: i64,
    /// Fallback poll when no NOTIFY arrives.
    pub poll_interval_ms: u64,
    /// A claimed row is retried by another relay if not marked sent within this time.
    pub lease_secs: u64,
    pub max_backoff_ms: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self { batch_size: 500, poll_interval_ms: 1_000, lease_secs: 30, max_backoff_ms: 30_000 }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use figment::Jail;
    use secrecy::ExposeSecret;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct ServiceConfig {
        #[serde(flatten)]
        platform: Settings,
        sms: SmsSettings,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct SmsSettings {
        api_key: Option<SecretString>,
        senders: Vec<String>,
    }

    const SMS_ALIASES: &[(&str, &str)] = &[("MOBIZON_API_KEY", "sms.api_key")];
    const DEFAULTS: ServiceDefaults = ServiceDefaults { schema: "notification", port: 8085 };

    #[test]
    fn defaults_apply_without_file_or_environment() {
        Jail::expect_with(|_| {
            let config: ServiceConfig = load_from(Path::new("config.yml"), DEFAULTS, SMS_ALIASES).unwrap();
            assert_eq!(config.platform.http.port, 8085, "the service's default port");
            assert_eq!(config.platform.database.schema, "notification");
            assert_eq!(config.platform.kafka.brokers, "127.0.0.1:9092");
            assert!(config.sms.api_key.is_none());
            Ok(())
        });
    }

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        Jail::expect_with(|jail| {
            jail.create_file("config.yml", "http:\n  port: 9000\n  workers: 4\nredis:\n  url: redis://file:6379\n")?;
            jail.set_env("PORT", "9100");
            jail.set_env("MEBELPLACE__HTTP__WORKERS", "8");
            jail.set_env("MOBIZON_API_KEY", "secret-key");
            let config: ServiceConfig = load_from(Path::new("config.yml"), DEFAULTS, SMS_ALIASES).unwrap();
            assert_eq!(config.platform.http.port, 9100, "flat env beats the file");
            assert_eq!(config.platform.http.workers, 8, "nested env beats the file");
            assert_eq!(config.platform.redis.url.expose_secret(), "redis://file:6379", "file beats default");
            assert_eq!(config.platform.http.json_limit_bytes, 256 * 1024, "default stays");
            assert_eq!(config.sms.api_key.unwrap().expose_secret(), "secret-key");
            Ok(())
        });
    }

    #[test]
    fn a_list_is_a_bracketed_environment_value() {
        Jail::expect_with(|jail| {
            jail.set_env("MEBELPLACE__SMS__SENDERS", r#"["turn:a.kz:3478?transport=udp","turns:a.kz:5349"]"#);
            let config: ServiceConfig = load_from(Path::new("config.yml"), DEFAULTS, SMS_ALIASES).unwrap();
            assert_eq!(config.sms.senders, ["turn:a.kz:3478?transport=udp", "turns:a.kz:5349"]);
            Ok(())
        });
    }

    #[test]
    fn malformed_variable_is_named_in_the_error() {
        Jail::expect_with(|jail| {
            jail.set_env("PORT", "eighty");
            let error = load_from::<ServiceConfig>(Path::new("config.yml"), DEFAULTS, SMS_ALIASES).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("PORT"), "{message}");
            assert!(message.contains("eighty"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn ca_files_for_postgres_and_redis_have_flat_names() {
        Jail::expect_with(|jail| {
            jail.set_env("DATABASE_CA_FILE", "/etc/mebelplace/db-ca.pem");
            jail.set_env("REDIS_CA_FILE", "/etc/mebelplace/redis-ca.pem");
            let config: ServiceConfig = load_from(Path::new("config.yml"), DEFAULTS, SMS_ALIASES).unwrap();
            assert_eq!(config.platform.database.ca_file, Some(PathBuf::from("/etc/mebelplace/db-ca.pem")));
            assert_eq!(config.platform.redis.ca_file, Some(PathBuf::from("/etc/mebelplace/redis-ca.pem")));
            Ok(())
        });
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        Jail::expect_with(|jail| {
            jail.set_env("DATABASE_URL", "postgres://user:hunter2@db/mebelplace");
            let config: ServiceConfig = load_from(Path::new("config.yml"), DEFAULTS, SMS_ALIASES).unwrap();
            assert!(!format!("{config:?}").contains("hunter2"));
            Ok(())
        });
    }
}
