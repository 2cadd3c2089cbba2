//! The auth service: accounts, verification codes, RS256 access tokens with a JWKS, rotating
//! refresh tokens. `build` wires it from its configuration, for `main` and for tests alike.

pub mod accounts;
pub mod admin;
pub mod config;
pub mod domain;
pub mod http;
pub mod keys;
pub mod master_stats;
pub mod profiles;
pub mod relations;
pub mod rpc;
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
use platform::config::{Environment, NatsSettings};
use platform::consumer::ConsumerRunner;
use platform::{Application, Connections, db, nats};
use std::sync::Arc;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/auth");

/// The topics this service publishes to.
const TOPICS: &[&str] =
    &[contracts::topics::AUTH_USERS, contracts::topics::AUTH_VERIFICATIONS, contracts::topics::AUTH_SUBSCRIPTIONS];

pub async fn build(config: Config) -> anyhow::Result<Application> {
    let settings = &config.platform;
    let connections = Connections::open(SERVICE, settings).await?;
    let (db, redis) = (connections.db.clone(), connections.redis.clone());
    let development = settings.app.environment != Environment::Production;
    let keys = KeyRing::load(config.auth.keys_dir.as_ref(), config.auth.active_kid.as_deref(), development)?;
    let passwords = PasswordHasher::new(config.auth.argon2_memory_kib, config.auth.argon2_iterations)?;
    let verifier =
        web::Data::new(TokenVerifier::new(KeySource::Static(keys.jwks().clone()), &settings.jwt, Some(redis.clone())));
    let health = connections.health(SERVICE, env!("CARGO_PKG_VERSION"));
    let relay = connections.outbox_relay(settings);
    let state = web::Data::new(AppState {
        db,
        redis,
        keys: Arc::new(keys),
        passwords,
        jwt: settings.jwt.clone(),
        settings: config.auth.clone(),
        storage: platform::storage::object_store(&settings.storage)?,
        storage_settings: settings.storage.clone(),
    });
    let stats = ConsumerRunner::new(
        master_stats::CONSUMER_GROUP,
        &[contracts::topics::MARKETPLACE_MASTERS],
        state.db.clone(),
        settings.kafka.clone(),
        master_stats::MasterStatsHandler { state: state.get_ref().clone() },
    );
    let rpc_state = state.clone();
    let mut app = Application::build(SERVICE, settings, health, move |cfg| {
        cfg.app_data(state.clone()).app_data(verifier.clone()).configure(http::routes);
    })?;
    app.spawn_publishing(settings.kafka.clone(), TOPICS, relay);
    app.spawn_consumer("master-stats-consumer", stats);
    serve_rpc(&mut app, &rpc_state, connections.nats, &settings.nats);
    Ok(app)
}

/// Answers the other services' lookups (`rpc.auth.*`) on NATS.
fn serve_rpc(app: &mut Application, state: &web::Data<AppState>, client: async_nats::Client, settings: &NatsSettings) {
    use contracts::subjects::{RPC_AUTH_BLOCKS_CHECK, RPC_AUTH_USERS_BATCH_GET, RPC_AUTH_USERS_GET};
    macro_rules! serve {
        ($name:literal, $subject:expr, $handler:path) => {{
            let (state, client, settings) = (state.clone(), client.clone(), settings.clone());
            app.spawn_background($name, move |stop| async move {
                let handler = |request| {
                    let state = state.clone();
                    async move { $handler(&state, request).await }
                };
                nats::serve_requests(client, settings, $subject, SERVICE, handler, stop).await;
            });
        }};
    }
    serve!("rpc-users-get", RPC_AUTH_USERS_GET, rpc::get_user);
    serve!("rpc-users-batch-get", RPC_AUTH_USERS_BATCH_GET, rpc::get_users);
    serve!("rpc-blocks-check", RPC_AUTH_BLOCKS_CHECK, rpc::check_block);
}

/// Creates an admin account (the `create-admin` command).
pub async fn create_admin(
    config: &Config,
    email_or_phone: &str,
    username: &str,
    password: String,
) -> anyhow::Result<store::users::User> {
    let db = db::pool(&config.platform.database)?;
    let passwords = PasswordHasher::new(config.auth.argon2_memory_kib, config.auth.argon2_iterations)?;
    accounts::create_admin(&db, &passwords, email_or_phone, username, password)
        .await
        .map_err(|error| anyhow::anyhow!("{}: {}", error.message, error.details))
}
