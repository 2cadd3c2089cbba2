//! Redis: a connection pool plus the key prefix every key goes through, so that tests (and
//! environments) can share one server.

use crate::config::RedisSettings;
use deadpool_redis::{Config, Connection, Pool, PoolError, Runtime};
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
    let mut config = Config::from_url(settings.url.expose_secret());
    let mut pool_config = deadpool_redis::PoolConfig::new(settings.max_connections);
    pool_config.timeouts.wait = Some(Duration::from_secs(2));
    pool_config.timeouts.create = Some(Duration::from_secs(2));
    pool_config.timeouts.recycle = Some(Duration::from_secs(2));
    config.pool = Some(pool_config);
    Ok(RedisPool { pool: config.create_pool(Some(Runtime::Tokio1))?, prefix: settings.key_prefix.as_str().into() })
}

pub async fn ping(pool: &RedisPool) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let _: String = deadpool_redis::redis::cmd("PING").query_async(&mut conn).await?;
    Ok(())
}
