//! The notification service: who is told what, on which channel, exactly once. Events from
//! the other services become notifications (the in-app list) and one delivery per channel the
//! user's settings allow; the sender delivers them through OneSignal, Mobizon, SMTP and NATS,
//! retrying what may pass and parking what cannot as dead letters.

pub mod config;
pub mod delivery;
pub mod digest;
pub mod domain;
pub mod events;
pub mod http;
pub mod metrics;
pub mod state;
pub mod store;
pub mod unsubscribe;

use crate::config::Config;
use crate::delivery::Sender;
use crate::delivery::providers::Providers;
use crate::domain::retry::RetryPolicy;
use crate::events::NotifyHandler;
use crate::metrics::DeliveryMetrics;
use crate::state::AppState;
use crate::unsubscribe::Unsubscribe;
use actix_web::web;
use contracts::services::NOTIFICATION;
use contracts::topics;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::{Declaration, Kit};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use utoipa::OpenApi;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/notification");

pub const SERVICE: Declaration<Config> = Declaration {
    spec: &NOTIFICATION,
    migrations: &[MIGRATIONS],
    env_aliases: config::ENV_ALIASES,
    build: |config| Box::pin(build(config)),
    commands: &[],
};

pub async fn build(config: Config) -> anyhow::Result<platform::Application> {
    let settings = &config.notification;
    let mut kit = Kit::open(&NOTIFICATION, &config.platform).await?;
    let db = kit.db();
    let wake = Arc::new(Notify::new());
    let unsubscribe = Unsubscribe::new(settings.unsubscribe_secret.clone(), &settings.public_url);
    let metrics = DeliveryMetrics::default();
    let sender = Arc::new(Sender {
        db: db.clone(),
        providers: Providers::new(settings, kit.nats(), config.platform.nats.clone(), db.clone())?,
        policy: RetryPolicy {
            base: Duration::from_millis(settings.retry_base_ms),
            cap: Duration::from_millis(settings.retry_cap_ms),
            max_attempts: settings.max_attempts.max(1),
        },
        lease: Duration::from_secs(settings.lease_secs.max(1)),
        concurrency: settings.batch_size.clamp(1, 1000) as usize,
        poll: Duration::from_millis(settings.poll_interval_ms.max(10)),
        wake: wake.clone(),
        metrics: metrics.clone(),
        unsubscribe: unsubscribe.clone(),
    });
    let digest_interval = Duration::from_secs(settings.digest_interval_secs.max(1));
    kit.consume(events::CODES, &[topics::AUTH_VERIFICATIONS], NotifyHandler { wake: wake.clone() })
        .consume(events::EVENTS, events::EVENT_TOPICS, NotifyHandler { wake: wake.clone() })
        .job("sender", move |stop| sender.run(stop))
        .job("digest", {
            let (db, wake) = (db.clone(), wake.clone());
            move |stop| digest::run(db, digest_interval, wake, stop)
        });
    let state = web::Data::new(AppState { db, unsubscribe, wake });
    kit.document(&http::ApiDoc::openapi());
    let app = kit.serve(move |cfg| {
        cfg.app_data(state.clone()).configure(http::routes);
    })?;
    metrics.register(&app.metrics().registry)?;
    Ok(app)
}
