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
        .env("KAFKA_BATCH_MESSAGES", "1")
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

/// Outbox → broker → consumer → inbox on a broker of the test's own: the relay of the test's
/// outbox and a [`RecordEffect`] consumer of [`TOPIC`], running until [`Pipeline::finish`].
pub struct Pipeline {
    pub schema: TestSchema,
    stop: tokio_util::sync::CancellationToken,
    relay: tokio::task::JoinHandle<()>,
    consumer: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Pipeline {
    pub async fn start(broker: &testkit::broker::KafkaBroker) -> Self {
        testkit::init_logs();
        let schema = TestSchema::create(&[]).await;
        create_test_tables(&schema).await;
        let mut settings = testkit::settings(&schema, &testkit::unique_prefix());
        settings.kafka.brokers = broker.brokers();
        settings.kafka.message_timeout_ms = 3_000;
        let pool = platform::db::pool(&settings.database).unwrap();
        platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let relay = platform::outbox::OutboxRelay::new(pool.clone(), &settings.database, settings.outbox.clone())
            .with_kafka(platform::kafka::producer(&settings.kafka).unwrap());
        let consumer = platform::consumer::ConsumerRunner::new("effects", &[TOPIC], pool, settings.kafka, RecordEffect);
        Self {
            schema,
            relay: tokio::spawn(relay.run(stop.clone())),
            consumer: tokio::spawn(consumer.run(stop.clone())),
            stop,
        }
    }

    /// Writes `count` events from `first` on, 50 per business transaction.
    pub async fn write(&self, first: i64, count: i64) {
        write_events(&mut self.schema.connect().await, first, count, 50, &Destination::kafka(TOPIC)).await;
    }

    pub async fn effects(&self) -> i64 {
        count(&mut self.schema.connect().await, "SELECT count(*) AS n FROM effects").await
    }

    /// Waits until `total` effects are recorded, then (after a moment in which redeliveries
    /// would show) stops and checks one effect per event, none lost, the outbox drained.
    pub async fn finish(self, total: i64, within: std::time::Duration) {
        testkit::eventually("every effect", within, || async {
            let pending = outbox::pending(&mut self.schema.connect().await).await.unwrap();
            let effects = self.effects().await;
            eprintln!("effects {effects} of {total}, outbox pending {pending}");
            effects >= total
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        self.stop.cancel();
        self.relay.await.unwrap();
        self.consumer.await.unwrap().unwrap();
        let mut conn = self.schema.connect().await;
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM effects").await, total, "one effect per event");
        assert_eq!(count(&mut conn, "SELECT count(DISTINCT n) AS n FROM effects").await, total, "no event lost");
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM inbox").await, total);
        assert_eq!(outbox::pending(&mut conn).await.unwrap(), 0, "the outbox is drained");
    }
}
