//! The marketplace service: requests, proposals, orders, reviews, the masters' directory and
//! gamification. `build` wires it from its configuration, for `main` and for tests alike.

pub mod config;
pub mod domain;
pub mod error;
pub mod expiry;
pub mod gamification;
pub mod http;
pub mod masters;
pub mod orders;
pub mod proposals;
pub mod requests;
pub mod state;
pub mod store;
pub mod users;

use crate::config::Config;
use crate::gamification::{GamificationHandler, Leaderboards};
use crate::state::AppState;
use actix_web::web;
use contracts::services::MARKETPLACE;
use contracts::topics;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::{Declaration, Kit};
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/marketplace");

pub const SERVICE: Declaration<Config> = Declaration {
    spec: &MARKETPLACE,
    migrations: &[MIGRATIONS],
    env_aliases: config::ENV_ALIASES,
    build: |config| Box::pin(build(config)),
    commands: &[],
};

/// The topics whose events earn points.
const REWARDED: &[&str] =
    &[topics::MARKETPLACE_REQUESTS, topics::MARKETPLACE_ORDERS, topics::AUTH_SUBSCRIPTIONS, topics::MEDIA_VIDEOS];

pub async fn build(config: Config) -> anyhow::Result<platform::Application> {
    let mut kit = Kit::open(&MARKETPLACE, &config.platform).await?;
    let (db, redis) = (kit.db(), kit.redis());
    let mut conn = db.get().await?;
    let reference = Arc::new(store::reference::load(&mut conn).await?);
    let achievements = Arc::new(store::gamification::rules(&mut conn).await?);
    drop(conn);
    let leaderboards = Leaderboards { db: db.clone(), redis: redis.clone() };
    kit.gauge(
        "marketplace_open_requests",
        "Requests waiting for proposals",
        "SELECT count(*) AS value FROM requests WHERE status = 'pending'",
    )?
    .gauge(
        "marketplace_active_orders",
        "Orders not yet completed or cancelled",
        "SELECT count(*) AS value FROM orders WHERE status NOT IN ('completed', 'cancelled')",
    )?;
    let interval = Duration::from_secs(config.marketplace.expiry_interval_secs.max(1));
    let rebuild = leaderboards.clone();
    kit.consume(users::CONSUMER, &[topics::AUTH_USERS], users::UsersHandler { reference: reference.clone() })
        .consume(
            gamification::CONSUMER,
            REWARDED,
            GamificationHandler { boards: leaderboards.clone(), achievements: achievements.clone() },
        )
        .job("request-expiry", {
            let db = db.clone();
            move |stop| expiry::run(db, interval, stop)
        })
        .job("leaderboard-rebuild", move |_| async move {
            if let Err(error) = rebuild.rebuild_if_missing().await {
                tracing::warn!(error = %format!("{error:#}"), "leaderboards not rebuilt at start");
            }
        });
    let state = web::Data::new(AppState {
        db,
        redis,
        settings: config.marketplace.clone(),
        reference,
        leaderboards,
        achievements,
    });
    kit.document(&http::ApiDoc::openapi());
    kit.serve(move |cfg| {
        cfg.app_data(state.clone()).configure(http::routes);
    })
}
