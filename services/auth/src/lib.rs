//! The auth service: accounts, verification codes, RS256 access tokens with a JWKS, rotating
//! refresh tokens. `build` wires it from its configuration, for `main` and for tests alike.

pub mod accounts;
pub mod config;
pub mod domain;
pub mod http;
pub mod keys;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tokens;

use crate::config::{Config, SERVICE};
use crate::domain::password::PasswordHasher;
use crate::keys::KeyRing;
use crate::state::AppState;
use actix_web::web;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::auth::{KeySource, TokenVerifier};
use platform::config::Environment;
use platform::health::{Dependency, Health};
use platform::outbox::OutboxRelay;
use platform::{Application, db, kafka, nats, redis};
use std::sync::Arc;
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/auth");

/// The topics this service publishes to.
const TOPICS: &[&str] = &[contracts::topics::AUTH_USERS, contracts::topics::AUTH_VERIFICATIONS];

pub async fn build(config: Config) -> anyhow::Result<Application> {
    let settings = &config.platform;
    let db = db::pool(&settings.database)?;
    let redis = redis::pool(&settings.redis)?;
    let nats = nats::connect(&settings.nats, SERVICE).await?;
    let producer = kafka::producer(&settings.kafka)?;
    let development = settings.app.environment != Environment::Production;
    let keys = KeyRing::load(config.auth.keys_dir.as_ref(), config.auth.active_kid.as_deref(), development)?;
    let passwords = PasswordHasher::new(config.auth.argon2_memory_kib, config.auth.argon2_iterations)?;
    let verifier =
        web::Data::new(TokenVerifier::new(KeySource::Static(keys.jwks().clone()), &settings.jwt, Some(redis.clone())));
    let health = Health::new(
        SERVICE,
        env!("CARGO_PKG_VERSION"),
        vec![
            Dependency::postgres(db.clone()),
            Dependency::redis(redis.clone()),
            Dependency::nats(nats.clone()),
            Dependency::kafka(producer.clone()),
        ],
    );
    let relay = OutboxRelay::new(db.clone(), &settings.database, settings.outbox.clone())
        .with_kafka(producer, settings.kafka.clone())
        .with_nats(nats, settings.nats.clone());
    let state = web::Data::new(AppState {
        db,
        redis,
        keys: Arc::new(keys),
        passwords,
        jwt: settings.jwt.clone(),
        settings: config.auth.clone(),
    });
    let mut app = Application::build(SERVICE, settings, health, move |cfg| {
        cfg.app_data(state.clone()).app_data(verifier.clone()).configure(http::routes);
    })?;
    let kafka_settings = settings.kafka.clone();
    app.spawn_background("ensure-topics", move |stop| async move {
        let mut backoff = platform::outbox::Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        while let Err(error) = kafka::ensure_topics(&kafka_settings, TOPICS).await {
            tracing::warn!(%error, "cannot create topics yet");
            tokio::select! {
                _ = tokio::time::sleep(backoff.next_pause()) => {}
                _ = stop.cancelled() => return,
            }
        }
    });
    app.spawn_background("outbox-relay", |stop| relay.run(stop));
    Ok(app)
}
