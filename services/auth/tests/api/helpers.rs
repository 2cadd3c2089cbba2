use auth::config::{AuthSettings, Config};
use contracts::Envelope;
use contracts::events::envelope::Payload;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use testkit::keys::KEY_1;
use testkit::{TestApp, TestSchema, unique_prefix};

pub const PASSWORD: &str = "Shkaf-2024";

pub struct TestAuth {
    pub app: TestApp,
    pub config: Config,
    pub client: reqwest::Client,
    _schema: TestSchema,
}

/// A keys folder holding the given test keys.
pub fn keys_dir(keys: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mebelplace-keys-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    for (kid, pem) in keys {
        std::fs::write(dir.join(format!("{kid}.pem")), pem).unwrap();
    }
    dir
}

impl TestAuth {
    pub async fn start() -> Self {
        Self::start_with(keys_dir(&[KEY_1]), None).await
    }

    pub async fn start_with(keys_dir: PathBuf, active_kid: Option<&str>) -> Self {
        let schema = TestSchema::create(&[auth::MIGRATIONS]).await;
        let config = Config {
            platform: testkit::settings(&schema, &unique_prefix()),
            auth: AuthSettings {
                keys_dir: keys_dir.to_string_lossy().into_owned(),
                active_kid: active_kid.map(str::to_owned),
                argon2_memory_kib: 1024,
                argon2_iterations: 1,
                secure_cookies: false,
                ..AuthSettings::default()
            },
        };
        Self::start_on(schema, config).await
    }

    async fn start_on(schema: TestSchema, config: Config) -> Self {
        let app = TestApp::start(auth::build(config.clone()).await.expect("auth builds"));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self { app, config, client, _schema: schema }
    }

    /// The same database and settings with another key configuration (a redeploy).
    pub async fn restart_with_keys(self, keys_dir: PathBuf, active_kid: Option<&str>) -> Self {
        let Self { app, mut config, _schema: schema, .. } = self;
        drop(app);
        config.auth.keys_dir = keys_dir.to_string_lossy().into_owned();
        config.auth.active_kid = active_kid.map(str::to_owned);
        Self::start_on(schema, config).await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.app.url(path)).json(&body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(self.client.get(self.app.url(path)).bearer_auth(token)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(self.app.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn post_as(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.app.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(self.client.delete(self.app.url(path)).bearer_auth(token)).await
    }

    /// A registered user: `(id, access token)`.
    pub async fn user(&self, email_or_phone: &str, username: &str, role: &str) -> (i64, String) {
        let body = self.register(email_or_phone, username, role).await;
        (body["user"]["id"].as_i64().unwrap(), body["access_token"].as_str().unwrap().to_owned())
    }

    /// An admin made the operator's way (`create-admin`), signed in: `(id, access token)`.
    pub async fn admin(&self) -> (i64, String) {
        let admin =
            auth::create_admin(&self.config, "admin@mebelplace.kz", "admin", PASSWORD.to_owned()).await.unwrap();
        let (status, session) = self
            .post("/api/v2/auth/login", json!({ "email_or_phone": "admin@mebelplace.kz", "password": PASSWORD }))
            .await;
        assert_eq!(status, 200, "{session}");
        (admin.id, session["access_token"].as_str().unwrap().to_owned())
    }

    pub async fn register(&self, email_or_phone: &str, username: &str, role: &str) -> Value {
        let body =
            json!({ "email_or_phone": email_or_phone, "password": PASSWORD, "username": username, "role": role });
        let (status, body) = self.post("/api/v2/auth/register", body).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Reads this test's Kafka topic from the start until an event matches.
    pub async fn event<T>(&self, topic: &str, mut pick: impl FnMut(&Envelope) -> Option<T>) -> T {
        let kafka = &self.config.platform.kafka;
        let consumer: StreamConsumer =
            platform::kafka::consumer(kafka, &format!("reader-{}", uuid::Uuid::now_v7())).unwrap();
        consumer.subscribe(&[&kafka.topic(topic)]).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let received = tokio::time::timeout_at(deadline, consumer.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching event on {topic}"));
            // The service creates its topics in the background; until then the broker says so.
            let Ok(message) = received else { continue };
            let envelope = Envelope::decode_checked(message.payload().unwrap()).unwrap();
            if let Some(found) = pick(&envelope) {
                assert_eq!(message.key().unwrap(), envelope.aggregate_id.as_bytes(), "keyed by aggregate id");
                return found;
            }
        }
    }

    /// The verification code sent to `destination`, read from `auth.verification_requested`.
    pub async fn code_for(&self, destination: &str) -> String {
        self.event(contracts::topics::AUTH_VERIFICATIONS, |envelope| match &envelope.payload {
            Some(Payload::VerificationRequested(v)) if v.destination == destination => Some(v.code.clone()),
            _ => None,
        })
        .await
    }
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
