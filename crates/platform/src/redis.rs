//! Redis connection pool.

use crate::config::RedisSettings;
use deadpool_redis::{Config, Pool, Runtime};
use secrecy::ExposeSecret;
use std::time::Duration;

pub type RedisPool = Pool;

pub fn pool(settings: &RedisSettings) -> anyhow::Result<RedisPool> {
    let mut config = Config::from_url(settings.url.expose_secret());
    let mut pool_config = deadpool_redis::PoolConfig::new(settings.max_connections);
    pool_config.timeouts.wait = Some(Duration::from_secs(2));
    pool_config.timeouts.create = Some(Duration::from_secs(2));
    pool_config.timeouts.recycle = Some(Duration::from_secs(2));
    config.pool = Some(pool_config);
    Ok(config.create_pool(Some(Runtime::Tokio1))?)
}

pub async fn ping(pool: &RedisPool) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let _: String = deadpool_redis::redis::cmd("PING").query_async(&mut conn).await?;
    Ok(())
}
