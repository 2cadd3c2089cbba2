//! Redis: a connection pool plus the key prefix every key goes through, so that tests (and
//! environments) can share one server. `rediss://` URLs connect over TLS (rustls), checking
//! the certificate against the system's authorities or the CA file.

use crate::config::RedisSettings;
use deadpool_redis::redis::{Client, IntoConnectionInfo, TlsCertificates};
use deadpool_redis::{Connection, Manager, Pool, PoolError, Runtime};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct RedisPool {
    pool: Pool,
    prefix: Arc<str>,
}

impl RedisPool {
    pub async fn get(&self) -> Result<Connection, PoolError> {
        self.pool.get().await
    }

    /// `key` with this deployment's prefix.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

pub fn pool(settings: &RedisSettings) -> anyhow::Result<RedisPool> {
    let url = settings.url.expose_secret();
    if url.starts_with("rediss://") {
        crate::tls::install_default_provider();
    }
    // deadpool-redis' own `Config` drops a connection's TLS certificates, so the manager is
    // built from the client's connection info.
    let connection = match &settings.ca_file {
        None => url.into_connection_info()?,
        Some(path) => {
            let certificates = TlsCertificates {
                client_tls: None,
                root_cert: Some(crate::tls::read_ca_file(path).map_err(anyhow::Error::msg)?),
            };
            Client::build_with_tls(url, certificates)
                .map_err(|e| anyhow::anyhow!("REDIS_CA_FILE needs a rediss:// URL: {e}"))?
                .get_connection_info()
                .clone()
        }
    };
    let timeout = Some(Duration::from_secs(2));
    let pool = Pool::builder(Manager::new(connection)?)
        .max_size(settings.max_connections)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(Runtime::Tokio1)
        .build()?;
    Ok(RedisPool { pool, prefix: settings.key_prefix.as_str().into() })
}

pub async fn ping(pool: &RedisPool) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let _: String = deadpool_redis::redis::cmd("PING").query_async(&mut conn).await?;
    Ok(())
}
