use auth::config::{AuthSettings, Config};
use contracts::Envelope;
use contracts::events::envelope::Payload;
use serde_json::{Value, json};
use std::path::PathBuf;
pub use testkit::error_code;
use testkit::keys::KEY_1;
pub use testkit::keys::keys_dir;
use testkit::{ApiClient, TestApp, TestSchema, unique_prefix};

pub const PASSWORD: &str = "Shkaf-2024";

pub struct TestAuth {
    pub app: TestApp,
    pub config: Config,
    pub api: ApiClient,
    schema: TestSchema,
}

impl std::ops::Deref for TestAuth {
    type Target = ApiClient;

    fn deref(&self) -> &ApiClient {
        &self.api
    }
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
        let api = ApiClient::new(app.address.clone());
        Self { app, config, api, schema }
    }

    /// The same database and settings with another key configuration (a redeploy).
    pub async fn restart_with_keys(self, keys_dir: PathBuf, active_kid: Option<&str>) -> Self {
        let Self { app, mut config, schema, .. } = self;
        drop(app);
        config.auth.keys_dir = keys_dir.to_string_lossy().into_owned();
        config.auth.active_kid = active_kid.map(str::to_owned);
        Self::start_on(schema, config).await
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

    /// Moves every rotation of refresh tokens an hour into the past, past any grace window.
    pub async fn end_grace_windows(&self) {
        use diesel_async::RunQueryDsl;
        let mut conn = self.schema.connect().await;
        diesel::sql_query("UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 hour'")
            .execute(&mut conn)
            .await
            .unwrap();
    }

    /// Reads this test's Kafka topic from the start until an event matches.
    pub async fn event<T>(&self, topic: &str, pick: impl FnMut(&Envelope) -> Option<T>) -> T {
        testkit::events::find(&self.config.platform.kafka, topic, pick).await
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
