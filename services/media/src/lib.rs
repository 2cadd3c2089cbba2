//! The media service: videos and their uploads (multipart, the seed's chunks, tus 1.0), object
//! storage, and the processing worker (ffprobe, thumbnails, HLS). `build` wires it from its
//! configuration, for `main` and for tests alike.

pub mod analysis;
pub mod config;
pub mod domain;
pub mod feed;
pub mod gauges;
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
pub mod videos;
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

/// Runs `tick` on the shared state every `interval`.
fn every<F, Fut>(kit: &mut Kit, name: &'static str, interval: Duration, state: &Arc<AppState>, tick: F)
where
    F: Fn(Arc<AppState>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let state = state.clone();
    kit.every(name, interval, move || tick(state.clone()));
}

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
    let views = Duration::from_millis(config.media.views_flush_interval_ms.max(10));
    kit.consume(social::SOCIAL_CONSUMER, &[topics::AUTH_USERS, topics::AUTH_SUBSCRIPTIONS], social::SocialHandler);
    every(&mut kit, "upload-expiry", interval, &state, |s| async move { resumable::expire_once(&s).await.map(drop) });
    every(&mut kit, "view-flush", views, &state, |s| async move { social::flush_views_once(&s).await });
    every(&mut kit, "deleted-files", interval, &state, |s| async move { social::remove_deleted_once(&s).await });
    every(&mut kit, "story-expiry", interval, &state, |s| async move { stories::expire_once(&s).await.map(drop) });
    every(&mut kit, "business-gauges", interval, &state, |s| async move { gauges::refresh(&s).await });
    if config.media.worker {
        let (client, nats) = (kit.nats(), config.platform.nats.clone());
        let worker_state = state.clone();
        kit.job("media-worker", move |stop| worker::run(worker_state, client, nats, stop));
        let (client, nats, analyzer_state) = (kit.nats(), config.platform.nats.clone(), state.clone());
        kit.job("media-analyzer", move |stop| {
            worker::serve(analyzer_state, client, nats, analysis::ANALYSIS, 1, analysis::HANDLER, stop)
        });
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
