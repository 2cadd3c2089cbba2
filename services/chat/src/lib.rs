//! The chat service: chats and messages with real-time delivery over WebSockets that never
//! loses or repeats a message (docs/realtime.md, docs/decisions/0007-chat-delivery.md).
//! `build` wires it from its configuration, for `main` and for tests alike.

pub mod calls;
pub mod chats;
pub mod config;
pub mod consumers;
pub mod domain;
pub mod http;
pub mod media;
pub mod messages;
pub mod realtime;
pub mod state;
pub mod store;
pub mod support;

use crate::config::Config;
use crate::realtime::{Realtime, hub::Hub, presence::Presence};
use crate::state::AppState;
use actix_web::web;
use contracts::services::CHAT;
use contracts::topics;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::{Declaration, Kit};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/chat");

pub const SERVICE: Declaration<Config> = Declaration {
    spec: &CHAT,
    migrations: &[MIGRATIONS],
    env_aliases: config::ENV_ALIASES,
    build: |config| Box::pin(build(config)),
    commands: &[],
};

pub async fn build(config: Config) -> anyhow::Result<platform::Application> {
    let mut kit = Kit::open(&CHAT, &config.platform).await?;
    let settings = config.chat.clone();
    let hub = Hub::new(kit.nats(), config.platform.nats.clone(), settings.send_queue);
    let presence = Presence::new(kit.redis(), Duration::from_secs(settings.presence_ttl_secs.max(1)));
    let realtime = Arc::new(Realtime::new(kit.nats(), config.platform.nats.clone(), hub, presence));
    let state = AppState {
        db: kit.db(),
        redis: kit.redis(),
        settings,
        calls: config.calls.clone(),
        realtime,
        storage: platform::storage::object_store(&config.platform.storage)?,
        closing: CancellationToken::new(),
    };
    kit.consume(consumers::DEALS, &[topics::MARKETPLACE_REQUESTS], consumers::DealsHandler { state: state.clone() })
        .consume(consumers::BLOCKS, &[topics::AUTH_USERS], consumers::BlocksHandler);
    let sweeping = state.clone();
    kit.every("call-sweep", Duration::from_secs(config.calls.sweep_secs.max(1)), move || {
        let state = sweeping.clone();
        async move { calls::sweep(&state).await }
    });
    kit.document(&http::ApiDoc::openapi());
    let closing = state.closing.clone();
    let data = web::Data::new(state);
    let app = kit.serve(move |cfg| {
        cfg.app_data(data.clone()).configure(http::routes);
    })?;
    let shutdown = app.shutdown_handle();
    tokio::spawn(async move {
        shutdown.requested().await;
        closing.cancel();
    });
    Ok(app)
}
