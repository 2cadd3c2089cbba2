//! A fresh schema per test in the shared `mebelplace_test` database, migrated like
//! production (platform tables, then the service's), dropped when the test ends. Schemas left
//! behind by killed test processes are swept after an hour.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::EmbeddedMigrations;
use platform::config::DatabaseSettings;
use secrecy::SecretString;
use std::time::{SystemTime, UNIX_EPOCH};

const TEST_DATABASE: &str = "mebelplace_test";

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// The test server's `host:port`, for a [`crate::proxy::TcpProxy`] in front of it.
pub fn server_address() -> String {
    let url = server_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    host.split('/').next().unwrap_or(host).to_owned()
}

/// The test database's URL through another address (e.g. a [`crate::proxy::TcpProxy`]).
pub fn url_via(host_port: &str) -> String {
    format!("postgres://postgres@{host_port}/{TEST_DATABASE}")
}

pub struct TestSchema {
    pub name: String,
    pub url: String,
}

impl TestSchema {
    /// Creates and migrates `t_<unix time>_<random>`.
    pub async fn create(service_migrations: &'static [EmbeddedMigrations]) -> Self {
        let url = format!("{}/{TEST_DATABASE}", server_url());
        ensure_database().await;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
        let name = format!("t_{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        sweep_stale_schemas(&url, now).await;
        let schema = Self { name, url };
        platform::db::migrate(&schema.settings(), service_migrations).await.expect("test schema migrates");
        schema
    }

    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from(self.url.clone()),
            ca_file: None,
            schema: self.name.clone(),
            max_connections: 10,
            connect_timeout_secs: 2,
        }
    }

    /// The same schema reached through another address (e.g. a [`crate::proxy::TcpProxy`]).
    pub fn settings_via(&self, host_port: &str) -> DatabaseSettings {
        DatabaseSettings { url: SecretString::from(url_via(host_port)), ..self.settings() }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        platform::db::connect(&self.url, &self.name).await.expect("connect to the test schema")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = AsyncPgConnection::establish(&url).await {
                    // A service still running on the test's (now blocked) runtime may sit in a
                    // transaction on this schema; its connections are ended so the drop goes on.
                    let _ = conn
                        .batch_execute(&format!(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                             WHERE application_name = '{name}' AND pid <> pg_backend_pid();
                             DROP SCHEMA IF EXISTS {name} CASCADE"
                        ))
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Parallel test processes race to create the database and its extensions; losing is fine.
fn lost_creation_race(result: diesel::QueryResult<()>) {
    if let Err(error) = result {
        let message = error.to_string();
        assert!(message.contains("already exists") || message.contains("duplicate key"), "{message}");
    }
}

async fn ensure_database() {
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", server_url()))
        .await
        .expect("PostgreSQL answers on 127.0.0.1:5432 (run scripts/infra-up)");
    lost_creation_race(admin.batch_execute(&format!("CREATE DATABASE {TEST_DATABASE}")).await);
    let mut test = AsyncPgConnection::establish(&format!("{}/{TEST_DATABASE}", server_url()))
        .await
        .expect("connect to the test database");
    // Extensions are per database; services' migrations then find them in place.
    lost_creation_race(test.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public").await);
}

async fn sweep_stale_schemas(url: &str, now: u64) {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Schema {
        #[diesel(sql_type = Text)]
        nspname: String,
    }
    let Ok(mut conn) = AsyncPgConnection::establish(url).await else { return };
    let schemas: Vec<Schema> = diesel::sql_query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%\\_%'")
        .load(&mut conn)
        .await
        .unwrap_or_default();
    for schema in schemas {
        let created = schema.nspname.split('_').nth(1).and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t + 3600 < now) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.nspname)).await;
        }
    }
}
