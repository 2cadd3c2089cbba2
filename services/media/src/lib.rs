//! The media service: videos and their uploads (multipart, the seed's chunks, tus 1.0), object
//! storage, and the processing worker (ffprobe, thumbnails, HLS). `build` wires it from its
//! configuration, for `main` and for tests alike.

pub mod config;
pub mod domain;
pub mod http;
pub mod ingest;
pub mod probe;
pub mod resumable;
pub mod social;
pub mod state;
pub mod storage;
pub mod store;
pub mod stories;
pub mod transcode;
pub mod worker;

use crate::config::Config;
use crate::state::{AppState, MediaMetrics};
use actix_web::web;
use contracts::services::MEDIA;
use contracts::topics;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::{Declaration, Kit};
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/media");

pub const SERVICE: Declaration<Config> = Declaration {
    spec: &MEDIA,
    migrations: &[MIGRATIONS],
    env_aliases: config::ENV_ALIASES,
    build: |config| Box::pin(build(config)),
    commands: &[],
};

pub async fn build(config: Config) -> anyhow::Result<platform::Application> {
    let mut kit = Kit::open(&MEDIA, &config.platform).await?;
    let metrics = MediaMetrics::new();
    let state = Arc::new(AppState {
        db: kit.db(),
        redis: kit.redis(),
        storage: storage::Storage::open(&config.platform.storage, &config.media)?,
        settings: config.media.clone(),
        metrics: metrics.clone(),
    });
    // Jobs are published by the outbox relay: their stream must exist before the first one.
    let ensured =
        tokio::time::timeout(Duration::from_secs(2), worker::ensure_stream(kit.nats(), &config.platform.nats)).await;
    if !matches!(ensured, Ok(Ok(_))) {
        let (client, nats) = (kit.nats(), config.platform.nats.clone());
        kit.job("ensure-job-stream", move |stop| worker::keep_ensuring_stream(client, nats, stop));
    }
    let interval = Duration::from_secs(config.media.expiry_interval_secs.max(1));
    kit.job("upload-expiry", {
        let state = state.clone();
        move |stop| resumable::expire(state, interval, stop)
    });
    let views = Duration::from_millis(config.media.views_flush_interval_ms.max(10));
    kit.consume(social::SOCIAL_CONSUMER, &[topics::AUTH_USERS, topics::AUTH_SUBSCRIPTIONS], social::SocialHandler)
        .job("view-flush", {
            let state = state.clone();
            move |stop| social::flush_views(state, views, stop)
        })
        .job("deleted-files", {
            let state = state.clone();
            move |stop| social::remove_deleted_files(state, interval, stop)
        })
        .job("story-expiry", {
            let state = state.clone();
            move |stop| stories::expire(state, interval, stop)
        });
    if config.media.worker {
        let (client, nats) = (kit.nats(), config.platform.nats.clone());
        let worker_state = state.clone();
        kit.job("media-worker", move |stop| worker::run(worker_state, client, nats, stop));
        let sweep_state = state.clone();
        kit.job("requeue-lost-jobs", move |stop| worker::requeue_lost(sweep_state, interval, stop));
    }
    kit.document(&http::ApiDoc::openapi());
    let data = web::Data::from(state);
    let app = kit.serve(move |cfg| {
        cfg.app_data(data.clone()).configure(http::routes);
    })?;
    metrics.register(&app.metrics().registry)?;
    Ok(app)
}
