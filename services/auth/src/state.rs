//! What the handlers share.

use crate::config::AuthSettings;
use crate::hashing::HashingPool;
use crate::keys::KeyRing;
use platform::config::{JwtSettings, StorageSettings};
use platform::db::PgPool;
use platform::redis::RedisPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub redis: RedisPool,
    pub keys: Arc<KeyRing>,
    pub passwords: HashingPool,
    pub jwt: JwtSettings,
    pub settings: AuthSettings,
    pub storage: Arc<dyn object_store::ObjectStore>,
    pub storage_settings: StorageSettings,
}
