//! PostgreSQL: a diesel-async deadpool whose connections see only the service's schema,
//! and migrations (the platform's outbox/inbox first, then the service's own). Every
//! connection honours the URL's `sslmode` and the CA file (`db/tls.rs`).

mod tls;

use crate::config::DatabaseSettings;
use diesel::ConnectionResult;
use diesel::migration::{Migration, MigrationSource};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;
use secrecy::ExposeSecret;
use std::time::Duration;

pub use tls::PgTarget;

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = Object<AsyncPgConnection>;
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

/// Whether `error` says the connection to the database is gone (the server or the path to it
/// went away), not that the statement was wrong: diesel-async reports a closed connection as
/// `UnableToSendCommand` ("connection closed") or `ClosedConnection`.
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
    )
}

/// The outbox and inbox tables every service has in its own schema.
pub const PLATFORM_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/platform");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("schema name {0:?} is not a plain lower-case identifier")]
    BadSchema(String),
    #[error("invalid database settings: {0}")]
    Settings(String),
    #[error("cannot build the database pool: {0}")]
    Pool(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Schema names are spliced into `SET search_path`, so only plain identifiers pass.
pub fn validate_schema(schema: &str) -> Result<&str, DbError> {
    let mut chars = schema.chars();
    let valid_start = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid_start && valid_rest && schema.len() <= 63 {
        Ok(schema)
    } else {
        Err(DbError::BadSchema(schema.to_owned()))
    }
}

/// The database the settings name, with their TLS parameters.
pub fn target(settings: &DatabaseSettings) -> Result<PgTarget, DbError> {
    PgTarget::new(settings.url.expose_secret(), settings.ca_file.as_deref()).map_err(DbError::Settings)
}

/// Opens one connection to `url` (its `sslmode`/`sslrootcert` honoured) whose `search_path`
/// is the given schema; see [`connect_to`].
pub async fn connect(url: &str, schema: &str) -> ConnectionResult<AsyncPgConnection> {
    let target = PgTarget::new(url, None).map_err(diesel::ConnectionError::InvalidConnectionUrl)?;
    connect_to(&target, schema).await
}

/// Opens one connection whose `search_path` is the given schema. The schema is also the
/// connection's `application_name`, so `pg_stat_activity` tells which service holds what.
pub async fn connect_to(target: &PgTarget, schema: &str) -> ConnectionResult<AsyncPgConnection> {
    let mut conn = target.connect().await?;
    conn.batch_execute(&format!("SET search_path TO {schema}, public; SET application_name TO '{schema}'"))
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

pub fn pool(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    let schema = validate_schema(&settings.schema)?.to_owned();
    let target = target(settings)?;
    let mut config = ManagerConfig::default();
    // A pooled connection is handed out without a test query (`Verified` costs a round trip
    // per checkout, most of a short request's database time); one the server closed is still
    // recognised (the client sees the socket close) and replaced.
    config.recycling_method = RecyclingMethod::Fast;
    // The manager hands over the URL it was built with; `target` is that URL already parsed,
    // with its TLS configuration and CA file read once.
    config.custom_setup = Box::new(move |_url| {
        let (target, schema) = (target.clone(), schema.clone());
        async move { connect_to(&target, &schema).await }.boxed()
    });
    let manager = AsyncDieselConnectionManager::new_with_config(settings.url.expose_secret(), config);
    let timeout = Some(Duration::from_secs(settings.connect_timeout_secs));
    Pool::builder(manager)
        .max_size(settings.max_connections)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Creates the schema if needed and runs the platform's and then the service's pending
/// migrations, holding an advisory lock so that concurrent migrators take turns.
pub async fn migrate(
    settings: &DatabaseSettings,
    service_migrations: &'static [EmbeddedMigrations],
) -> Result<(), DbError> {
    let schema = validate_schema(&settings.schema)?.to_owned();
    let mut conn = target(settings)?.connect().await?;
    conn.batch_execute(&format!(
        "SELECT pg_advisory_lock(hashtext('mebelplace.migrate.{schema}'));
         CREATE SCHEMA IF NOT EXISTS {schema};
         SET search_path TO {schema}, public;"
    ))
    .await?;
    let mut wrapper = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
    let sets: Vec<&'static EmbeddedMigrations> =
        std::iter::once(&PLATFORM_MIGRATIONS).chain(service_migrations).collect();
    tokio::task::spawn_blocking(move || {
        let outcome = sets
            .into_iter()
            .try_for_each(|migrations| wrapper.run_pending_migrations(Borrowed(migrations)).map(drop))
            .map_err(|e| DbError::Migration(e.to_string()));
        // Dropping the connection releases the advisory lock.
        drop(wrapper);
        outcome
    })
    .await
    .map_err(|e| DbError::Migration(e.to_string()))?
}

/// Runs `query`, which answers one row with a `bigint` column named `value` (a count).
pub async fn count(pool: &PgPool, query: &str) -> Result<i64, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        value: i64,
    }
    let mut conn = pool.get().await.map_err(|e| DbError::Pool(e.to_string()))?;
    let row: Value = diesel_async::RunQueryDsl::get_result(diesel::sql_query(query), &mut conn).await?;
    Ok(row.value)
}

/// Embedded migrations are statics; this lets the harness take them by reference.
struct Borrowed(&'static EmbeddedMigrations);

impl MigrationSource<diesel::pg::Pg> for Borrowed {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<diesel::pg::Pg>>>> {
        self.0.migrations()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_must_be_plain_identifiers() {
        assert!(validate_schema("auth").is_ok());
        assert!(validate_schema("t_1abc").is_ok());
        assert!(validate_schema("Auth").is_err());
        assert!(validate_schema("auth; DROP TABLE users").is_err());
        assert!(validate_schema("").is_err());
        assert!(validate_schema("1auth").is_err());
    }
}
