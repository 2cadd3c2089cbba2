//! A fresh database per test, cloned from a migrated template, dropped when the test ends.
//!
//! Migrating a schema for every test (platform tables, then the service's, with its seed data)
//! was most of a short test's time. Instead, each set of migrations is applied once to a
//! template database `tpl_<hash of the migrations' files>`, and every test gets
//! `CREATE DATABASE t_<unix time>_<random> TEMPLATE tpl_…` (a file copy) with the template's
//! schema renamed to the test's name. A migration that changes gets a new template. Databases
//! left behind by killed test processes are swept after an hour.

use diesel::migration::MigrationSource;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::EmbeddedMigrations;
use platform::config::DatabaseSettings;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The schema the migrations run in inside a template; renamed in each clone.
const TEMPLATE_SCHEMA: &str = "tpl";

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

async fn connect(database: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(&format!("{}/{database}", server_url()))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL answers on 127.0.0.1:5432 (run scripts/infra-up): {e}"))
}

/// A database of a test's own; its service schema has the same name as the database.
pub struct TestSchema {
    pub name: String,
    pub url: String,
}

impl TestSchema {
    /// A database migrated with the platform's and `service_migrations`.
    pub async fn create(service_migrations: &'static [EmbeddedMigrations]) -> Self {
        let template = ensure_template(service_migrations).await;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
        let name = format!("t_{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let mut admin = connect("postgres").await;
        sweep_stale_databases(&mut admin, now).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .unwrap_or_else(|e| panic!("cannot clone {template}: {e}"));
        let mut conn = connect(&name).await;
        conn.batch_execute(&format!("ALTER SCHEMA {TEMPLATE_SCHEMA} RENAME TO {name}")).await.expect("rename schema");
        Self { url: format!("{}/{name}", server_url()), name }
    }

    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from(self.url.clone()),
            schema: self.name.clone(),
            max_connections: 10,
            connect_timeout_secs: 2,
        }
    }

    /// The same database reached through another address (e.g. a [`crate::proxy::TcpProxy`]).
    pub fn settings_via(&self, host_port: &str) -> DatabaseSettings {
        let url = format!("postgres://postgres@{host_port}/{}", self.name);
        DatabaseSettings { url: SecretString::from(url), ..self.settings() }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        platform::db::connect(&self.url, &self.name).await.expect("connect to the test database")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        // FORCE ends the connections of a service still running on the test's runtime.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut admin) = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// The template for this set of migrations, created (once, across test processes) if missing.
async fn ensure_template(service_migrations: &'static [EmbeddedMigrations]) -> String {
    let template = format!("tpl_{}", fingerprint(service_migrations));
    let mut admin = connect("postgres").await;
    // Test processes start together; one builds the template while the others wait.
    admin.batch_execute("SELECT pg_advisory_lock(hashtext('mebelplace.test-templates'))").await.expect("lock");
    if !database_exists(&mut admin, &template).await {
        let building = format!("{template}_building");
        for statement in
            [format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"), format!("CREATE DATABASE {building}")]
        {
            admin.batch_execute(&statement).await.expect("create a template database");
        }
        let mut conn = connect(&building).await;
        // Extensions are per database; the services' migrations expect them in `public`.
        conn.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public").await.expect("pg_trgm");
        drop(conn);
        let settings = DatabaseSettings {
            url: SecretString::from(format!("{}/{building}", server_url())),
            schema: TEMPLATE_SCHEMA.to_owned(),
            max_connections: 1,
            connect_timeout_secs: 5,
        };
        platform::db::migrate(&settings, service_migrations).await.expect("the template migrates");
        // The migration's connection may still be closing; the rename waits for it.
        let rename = format!("ALTER DATABASE {building} RENAME TO {template}");
        let mut attempts = 0;
        while let Err(error) = admin.batch_execute(&rename).await {
            attempts += 1;
            assert!(attempts < 100, "cannot publish the template {template}: {error}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    admin.batch_execute("SELECT pg_advisory_unlock(hashtext('mebelplace.test-templates'))").await.expect("unlock");
    template
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> bool {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        datname: String,
    }
    diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load::<Found>(conn)
        .await
        .is_ok_and(|rows| !rows.is_empty())
}

/// A short hash of every migration the template would run: names and SQL, read from
/// `migrations/` (so that an edited migration gets a new template).
fn fingerprint(service_migrations: &'static [EmbeddedMigrations]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut hasher = Sha256::new();
    let sets = std::iter::once(&platform::db::PLATFORM_MIGRATIONS).chain(service_migrations);
    for set in sets {
        let migrations = MigrationSource::<diesel::pg::Pg>::migrations(set).expect("embedded migrations");
        for migration in migrations {
            let name = migration.name().to_string();
            hasher.update(name.as_bytes());
            let folders = std::fs::read_dir(&root).into_iter().flatten().flatten();
            for folder in folders {
                for file in ["up.sql", "down.sql"] {
                    if let Ok(sql) = std::fs::read(folder.path().join(&name).join(file)) {
                        hasher.update(&sql);
                    }
                }
            }
        }
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

async fn sweep_stale_databases(admin: &mut AsyncPgConnection, now: u64) {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Database {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let databases: Vec<Database> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%\\_%'")
        .load(admin)
        .await
        .unwrap_or_default();
    for database in databases {
        let created = database.datname.split('_').nth(1).and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t + 3600 < now) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", database.datname)).await;
        }
    }
}
