//! The marketplace service: requests, proposals, orders, reviews, the master directory and
//! gamification. `build` wires it from its configuration, for `main` and for tests alike.

pub mod config;
pub mod deals;
pub mod directory;
pub mod domain;
pub mod events;
pub mod expiry;
pub mod gamification;
pub mod http;
pub mod masters;
pub mod orders;
pub mod state;
pub mod store;

use crate::config::{Config, SERVICE};
use crate::gamification::{GamificationHandler, Leaderboards};
use crate::state::AppState;
use actix_web::web;
use contracts::topics;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::auth::{KeySource, TokenVerifier};
use platform::consumer::ConsumerRunner;
use platform::{Application, Connections};
use std::sync::Arc;
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/marketplace");

/// The topics this service publishes to.
const TOPICS: &[&str] = &[topics::MARKETPLACE_REQUESTS, topics::MARKETPLACE_ORDERS, topics::MARKETPLACE_MASTERS];

/// The topics whose events earn points.
const REWARDED: &[&str] =
    &[topics::MARKETPLACE_REQUESTS, topics::MARKETPLACE_ORDERS, topics::AUTH_SUBSCRIPTIONS, topics::MEDIA_VIDEOS];

pub async fn build(config: Config) -> anyhow::Result<Application> {
    let settings = &config.platform;
    let connections = Connections::open(SERVICE, settings).await?;
    let (db, redis) = (connections.db.clone(), connections.redis.clone());
    let mut conn = db.get().await?;
    let reference = Arc::new(store::reference::load(&mut conn).await?);
    let achievements = Arc::new(store::gamification::rules(&mut conn).await?);
    drop(conn);
    let verifier = web::Data::new(TokenVerifier::new(
        KeySource::jwks(settings.jwt.jwks_url.clone()),
        &settings.jwt,
        Some(redis.clone()),
    ));
    let health = connections.health(SERVICE, env!("CARGO_PKG_VERSION"));
    let relay = connections.outbox_relay(settings);
    let leaderboards = Leaderboards { db: db.clone(), redis: redis.clone() };
    let directory = ConsumerRunner::new(
        directory::CONSUMER_GROUP,
        &[topics::AUTH_USERS],
        db.clone(),
        settings.kafka.clone(),
        directory::DirectoryHandler { reference: reference.clone() },
    );
    let points = ConsumerRunner::new(
        gamification::CONSUMER_GROUP,
        REWARDED,
        db.clone(),
        settings.kafka.clone(),
        GamificationHandler { boards: leaderboards.clone(), achievements: achievements.clone() },
    );
    let state = web::Data::new(AppState {
        db: db.clone(),
        redis,
        settings: config.marketplace.clone(),
        reference,
        leaderboards: leaderboards.clone(),
        achievements,
    });
    let mut app = Application::build(SERVICE, settings, health, move |cfg| {
        cfg.app_data(state.clone()).app_data(verifier.clone()).configure(http::routes);
    })?;
    app.spawn_publishing(settings.kafka.clone(), TOPICS, relay);
    app.spawn_consumer("directory-consumer", directory);
    app.spawn_consumer("gamification-consumer", points);
    let interval = Duration::from_secs(config.marketplace.expiry_interval_secs.max(1));
    app.spawn_background("request-expiry", move |stop| expiry::run(db, interval, stop));
    app.spawn_background("leaderboard-rebuild", move |_| async move {
        if let Err(error) = leaderboards.rebuild_if_missing().await {
            tracing::warn!(error = %format!("{error:#}"), "leaderboards not rebuilt at start");
        }
    });
    Ok(app)
}
