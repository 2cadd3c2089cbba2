//! The auth service: accounts, verification codes, RS256 access tokens with a JWKS, rotating
//! refresh tokens. `build` wires it from its configuration, for `main` and for tests alike.

pub mod accounts;
pub mod admin;
pub mod config;
pub mod domain;
pub mod hashing;
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

use crate::config::Config;
use crate::keys::KeyRing;
use crate::state::AppState;
use actix_web::web;
use contracts::services::AUTH;
use contracts::subjects::{RPC_AUTH_BLOCKS_CHECK, RPC_AUTH_USERS_BATCH_GET, RPC_AUTH_USERS_GET};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::auth::KeySource;
use platform::config::Environment;
use platform::service::Command;
use platform::{Declaration, Kit, db};
use std::sync::Arc;
use utoipa::OpenApi;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/auth");

pub const SERVICE: Declaration<Config> = Declaration {
    spec: &AUTH,
    migrations: &[MIGRATIONS],
    env_aliases: config::ENV_ALIASES,
    build: |config| Box::pin(build(config)),
    commands: &[Command {
        name: "create-admin",
        usage: "create-admin <email-or-phone> <username> (password from MEBELPLACE_ADMIN_PASSWORD or stdin)",
        run: |config, args| Box::pin(create_admin_command(config, args)),
    }],
};

pub async fn build(config: Config) -> anyhow::Result<platform::Application> {
    let settings = &config.platform;
    let mut kit = Kit::open(&AUTH, settings).await?;
    let development = settings.app.environment != Environment::Production;
    let keys = KeyRing::load(config.auth.keys_dir.as_ref(), config.auth.active_kid.as_deref(), development)?;
    let passwords = config.auth.hashing_pool()?;
    kit.verify_with(KeySource::Static(keys.jwks().clone()));
    let state = AppState {
        db: kit.db(),
        redis: kit.redis(),
        keys: Arc::new(keys),
        passwords,
        jwt: settings.jwt.clone(),
        settings: config.auth.clone(),
        storage: platform::storage::object_store(&settings.storage)?,
        storage_settings: settings.storage.clone(),
    };
    kit.consume(
        master_stats::CONSUMER,
        &[contracts::topics::MARKETPLACE_MASTERS],
        master_stats::MasterStatsHandler { state: state.clone() },
    );
    let lookups = state.clone();
    kit.reply(RPC_AUTH_USERS_GET, rpc::answering(lookups.clone(), rpc::get_user))
        .reply(RPC_AUTH_USERS_BATCH_GET, rpc::answering(lookups.clone(), rpc::get_users))
        .reply(RPC_AUTH_BLOCKS_CHECK, rpc::answering(lookups, rpc::check_block));
    kit.gauge(
        "auth_users",
        "Accounts that are not banned or suspended",
        "SELECT count(*) AS value FROM users WHERE status = 'active'",
    )?
    .gauge(
        "auth_masters",
        "Active master accounts",
        "SELECT count(*) AS value FROM users WHERE status = 'active' AND role = 'master'",
    )?;
    let state = web::Data::new(state);
    kit.document(&http::ApiDoc::openapi());
    kit.serve(move |cfg| {
        cfg.app_data(state.clone()).configure(http::routes);
    })
}

async fn create_admin_command(config: Config, args: Vec<String>) -> anyhow::Result<()> {
    let [email_or_phone, username] = args.as_slice() else {
        anyhow::bail!("usage: auth create-admin <email-or-phone> <username>");
    };
    let password = match std::env::var("MEBELPLACE_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => std::io::stdin().lines().next().transpose()?.unwrap_or_default(),
    };
    let admin = create_admin(&config, email_or_phone, username, password).await?;
    println!("admin {} created with id {}", admin.username, admin.id);
    Ok(())
}

/// Creates an admin account (the `create-admin` command).
pub async fn create_admin(
    config: &Config,
    email_or_phone: &str,
    username: &str,
    password: String,
) -> anyhow::Result<store::users::User> {
    let db = db::pool(&config.platform.database)?;
    let passwords = config.auth.hashing_pool()?;
    accounts::create_admin(&db, &passwords, email_or_phone, username, password)
        .await
        .map_err(|error| anyhow::anyhow!("{}: {}", error.message, error.details))
}
