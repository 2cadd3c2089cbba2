use actix_web::web;
use contracts::Envelope;
use contracts::events::UserVerified;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use platform::consumer::EventHandler;
use platform::health::Health;
use platform::outbox::{self, Destination};
use platform::{Application, Settings};
use testkit::{TestApp, TestSchema};

pub const TOPIC: &str = contracts::topics::AUTH_USERS;

/// Starts an app with the platform's scaffolding and the given routes on a free port.
pub async fn spawn_app<F>(settings: &Settings, health: Health, routes: F) -> TestApp
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    TestApp::start(Application::build("test", settings, health, Default::default(), routes).expect("app builds"))
}

pub fn no_dependencies() -> Health {
    Health::new("test", "0.0.0", vec![])
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client")
}

/// A test event whose payload carries `n`, so effects can be counted per event.
pub fn event(n: i64) -> Envelope {
    Envelope::new("test", n, UserVerified { user_id: n, channel: "sms".into() })
}

/// Writes `count` events starting at `first`, `per_transaction` per transaction, each
/// transaction also making a business change (a row in `business`).
pub async fn write_events(
    conn: &mut AsyncPgConnection,
    first: i64,
    count: i64,
    per_transaction: i64,
    to: &Destination,
) {
    let mut n = first;
    while n < first + count {
        let last = (n + per_transaction).min(first + count);
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            for i in n..last {
                diesel::sql_query("INSERT INTO business (n) VALUES ($1)").bind::<BigInt, _>(i).execute(conn).await?;
                outbox::enqueue(conn, event(i), to).await?;
            }
            Ok(())
        })
        .await
        .expect("business transaction commits");
        n = last;
    }
}

pub async fn create_test_tables(schema: &TestSchema) {
    let mut conn = schema.connect().await;
    conn.batch_execute(
        "CREATE TABLE business (n BIGINT NOT NULL);
         CREATE TABLE effects (event_id TEXT NOT NULL, n BIGINT NOT NULL);",
    )
    .await
    .expect("test tables");
}

pub async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<Count>(conn).await.expect("count query").n
}

/// Records every event it handles in `effects` (no unique key: a second effect would show).
pub struct RecordEffect;

impl EventHandler for RecordEffect {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        let n: i64 = event.aggregate_id.parse()?;
        diesel::sql_query("INSERT INTO effects (event_id, n) VALUES ($1, $2)")
            .bind::<diesel::sql_types::Text, _>(&event.id)
            .bind::<BigInt, _>(n)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// The template service (`minimal-service`) as a process on its own database and prefixes, with
/// `extra` environment variables; returns once `/ready` answers 200.
pub async fn spawn_template_service(schema: &TestSchema, extra: &[(&str, String)]) -> (tokio::process::Child, String) {
    let port = testkit::free_port();
    let prefix = testkit::unique_prefix();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_minimal-service"));
    command
        .env("PORT", port.to_string())
        .env("DATABASE_URL", &schema.url)
        .env("DATABASE_SCHEMA", &schema.name)
        .env("KAFKA_BROKERS", testkit::kafka_brokers())
        .env("KAFKA_IDEMPOTENT_PRODUCER", "false")
        .env("MEBELPLACE__KAFKA__TOPIC_PREFIX", &prefix)
        .env("MEBELPLACE__KAFKA__PARTITIONS", "1")
        .env("MEBELPLACE__REDIS__KEY_PREFIX", &prefix)
        .env("LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    for (name, value) in extra {
        command.env(name, value);
    }
    let child = command.spawn().expect("the template service starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = client();
    testkit::eventually("the service is ready", std::time::Duration::from_secs(30), || {
        let request = client.get(format!("{base}/ready")).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    (child, base)
}
