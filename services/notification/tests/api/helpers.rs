//! The notification service running against the real servers, with fakes of its providers.

use contracts::events::{EventPayload, Payload};
use contracts::{Envelope, Role};
use diesel_async::AsyncPgConnection;
use notification::config::{Config, Mode, NotificationSettings};
use prost::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::fake_http::{FakeHttp, RecordedRequest};
use testkit::keys::KEY_1;
use testkit::smtp::{SinkOptions, SmtpSink};
use testkit::{ApiClient, TestApp, TestSchema, unique_prefix};

pub use testkit::error_code;

/// OneSignal's create-notification path and Mobizon's send path.
pub const ONESIGNAL_PATH: &str = "/notifications";
pub const MOBIZON_PATH: &str = "/service/message/sendsmsmessage";

pub struct World {
    pub api: ApiClient,
    pub config: Config,
    pub onesignal: FakeHttp,
    pub mobizon: FakeHttp,
    pub smtp: SmtpSink,
    pub schema: TestSchema,
    /// The auth service beside it, sharing its topics (when started with [`World::with_auth`]).
    pub auth: Option<ApiClient>,
    producer: FutureProducer,
    _jwks: FakeHttp,
    _apps: Vec<TestApp>,
    _auth_schema: Option<TestSchema>,
}

/// Settings for fast tests: short retries, quick polling.
pub fn quick(settings: &mut NotificationSettings) {
    settings.mode = Mode::Send;
    settings.max_attempts = 12;
    settings.retry_base_ms = 20;
    settings.retry_cap_ms = 400;
    settings.poll_interval_ms = 100;
    settings.provider_timeout_ms = 5_000;
    settings.smtp.pool_size = 4;
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A world whose notification settings `adjust` changes (after [`quick`]).
    pub async fn start_with(adjust: impl FnOnce(&mut NotificationSettings)) -> Self {
        Self::start_on(&unique_prefix(), SinkOptions::default(), adjust).await
    }

    /// A world whose SMTP sink has `sink`'s security and login.
    pub async fn with_smtp(sink: SinkOptions, adjust: impl FnOnce(&mut NotificationSettings)) -> Self {
        Self::start_on(&unique_prefix(), sink, adjust).await
    }

    /// The notification and auth services on the same topics: auth's events reach it.
    pub async fn with_auth(adjust: impl FnOnce(&mut NotificationSettings)) -> Self {
        let prefix = unique_prefix();
        let schema = TestSchema::create(&[auth::MIGRATIONS]).await;
        let config = auth::config::Config {
            platform: testkit::settings(&schema, &prefix),
            auth: auth::config::AuthSettings {
                keys_dir: testkit::keys::keys_dir(&[KEY_1]).to_string_lossy().into_owned(),
                argon2_memory_kib: 1024,
                argon2_iterations: 1,
                secure_cookies: false,
                ..Default::default()
            },
        };
        let app = TestApp::start(auth::build(config).await.expect("auth builds"));
        let mut world = Self::start_on(&prefix, SinkOptions::default(), adjust).await;
        world.auth = Some(ApiClient::new(app.address.clone()));
        world._apps.push(app);
        world._auth_schema = Some(schema);
        world
    }

    async fn start_on(prefix: &str, sink: SinkOptions, adjust: impl FnOnce(&mut NotificationSettings)) -> Self {
        testkit::init_logs();
        let (onesignal, mobizon, smtp, jwks) = (
            FakeHttp::start().await,
            FakeHttp::start().await,
            SmtpSink::start_with(sink).await,
            FakeHttp::start().await,
        );
        onesignal.respond(ONESIGNAL_PATH, 200, json!({ "id": "b98881cc-1e94-4366-bbd9-db8f3429292b", "errors": null }));
        mobizon.respond(
            MOBIZON_PATH,
            200,
            json!({ "code": 0, "data": { "campaignId": "1", "messageId": "2" }, "message": "" }),
        );
        jwks.respond("/jwks.json", 200, serde_json::to_value(testkit::keys::jwks(&[KEY_1])).unwrap());
        let schema = TestSchema::create(&[notification::MIGRATIONS]).await;
        let mut platform = testkit::settings(&schema, prefix);
        platform.jwt.jwks_url = jwks.url() + "/jwks.json";
        let mut settings = NotificationSettings::default();
        quick(&mut settings);
        settings.onesignal.url = onesignal.url();
        settings.onesignal.app_id = "app-1".into();
        settings.onesignal.api_key = secrecy::SecretString::from("rest-key");
        settings.mobizon.url = mobizon.url();
        settings.smtp.port = smtp.port();
        adjust(&mut settings);
        let config = Config { platform, notification: settings };
        let app = TestApp::start(notification::build(config.clone()).await.expect("notification builds"));
        let producer = platform::kafka::producer(&config.platform.kafka).expect("a Kafka producer").client();
        let topics: Vec<&str> = contracts::topics::ALL.to_vec();
        platform::kafka::ensure_topics(&config.platform.kafka, &topics).await.expect("topics");
        Self {
            api: ApiClient::new(app.address.clone()),
            config,
            onesignal,
            mobizon,
            smtp,
            schema,
            auth: None,
            producer,
            _jwks: jwks,
            _apps: vec![app],
            _auth_schema: None,
        }
    }

    /// Publishes `payload` on its topic as its producer would.
    pub async fn publish(&self, payload: impl EventPayload) {
        self.send(&Envelope::of(payload)).await;
    }

    pub async fn send(&self, envelope: &Envelope) {
        let topic = self.config.platform.kafka.topic(envelope.payload.as_ref().map_or("", Payload::topic));
        let bytes = envelope.encode_to_vec();
        let record = FutureRecord::to(&topic).key(envelope.aggregate_id.as_str()).payload(&bytes);
        self.producer.send(record, Duration::from_secs(10)).await.map_err(|(error, _)| error).unwrap();
    }

    pub async fn db(&self) -> AsyncPgConnection {
        self.schema.connect().await
    }

    /// Tells the service where `user` is reached, as auth's verification events do.
    pub async fn contact(&self, user: i64, email: Option<&str>, phone: Option<&str>) {
        let mut conn = self.db().await;
        if let Some(email) = email {
            notification::store::contacts::remember(&mut conn, user, "email", email, "ru").await.unwrap();
        }
        if let Some(phone) = phone {
            notification::store::contacts::remember(&mut conn, user, "sms", phone, "ru").await.unwrap();
        }
    }

    /// Deliveries by status.
    pub async fn statuses(&self) -> Vec<(String, i64)> {
        notification::store::deliveries::count_by_status(&mut self.db().await).await.unwrap()
    }

    /// Waits until no delivery is pending or being sent (held ones wait for their window).
    pub async fn settled(&self, expected: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let statuses = self.statuses().await;
            let total: i64 = statuses.iter().map(|(_, n)| n).sum();
            if total >= expected && statuses.iter().all(|(status, _)| status != "pending" && status != "sending") {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "not settled: {statuses:?}, {expected} expected");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Pushes the fake accepted for `user` (by external id or, with devices, any).
    pub fn pushes_to(&self, user: i64) -> Vec<RecordedRequest> {
        self.onesignal
            .accepted()
            .into_iter()
            .filter(|r| r.json()["include_aliases"]["external_id"][0].as_str() == Some(user.to_string().as_str()))
            .collect()
    }

    pub fn mails_to(&self, address: &str) -> Vec<testkit::smtp::ReceivedMail> {
        self.smtp.mails().into_iter().filter(|m| m.to.iter().any(|to| to == address)).collect()
    }

    pub fn sms_to(&self, phone: &str) -> Vec<RecordedRequest> {
        let recipient = phone.trim_start_matches('+');
        self.mobizon
            .accepted()
            .into_iter()
            .filter(|r| r.form().get("recipient").map(String::as_str) == Some(recipient))
            .collect()
    }

    pub async fn get(&self, path: &str, user: i64) -> (u16, Value) {
        self.api.get(path, &token(user)).await
    }

    pub async fn post(&self, path: &str, user: i64, body: Value) -> (u16, Value) {
        self.api.post_as(path, &token(user), body).await
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        self.api.get(path, &testkit::keys::token(1, Role::Admin)).await
    }

    pub async fn admin_post(&self, path: &str) -> (u16, Value) {
        self.api.post_as(path, &testkit::keys::token(1, Role::Admin), json!({})).await
    }
}

pub use testkit::smtp::code_in;

pub fn token(user: i64) -> String {
    testkit::keys::token(user, Role::Buyer)
}
