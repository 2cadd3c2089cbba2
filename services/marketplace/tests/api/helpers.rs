//! The auth and marketplace services running side by side against the real servers, sharing
//! Kafka topics (one prefix per test), Redis keys and the signing keys.

use contracts::Envelope;
use marketplace::config::{Config, MarketplaceSettings};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use testkit::keys::{KEY_1, keys_dir};
use testkit::{ApiClient, TestApp, TestSchema, unique_prefix};

pub use testkit::error_code;

pub const PASSWORD: &str = "Shkaf-2024";

pub struct World {
    /// The marketplace service.
    pub api: ApiClient,
    /// The auth service.
    pub auth: ApiClient,
    pub config: Config,
    auth_config: auth::config::Config,
    _apps: (TestApp, TestApp),
    _schemas: (TestSchema, TestSchema),
}

/// A signed-in user.
pub struct User {
    pub id: i64,
    pub token: String,
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(MarketplaceSettings::default()).await
    }

    pub async fn start_with(marketplace: MarketplaceSettings) -> Self {
        testkit::init_logs();
        let prefix = unique_prefix();
        let auth_schema = TestSchema::create(&[auth::MIGRATIONS]).await;
        let auth_config = auth::config::Config {
            platform: testkit::settings(&auth_schema, &prefix),
            auth: auth::config::AuthSettings {
                keys_dir: keys_dir(&[KEY_1]).to_string_lossy().into_owned(),
                argon2_memory_kib: 1024,
                argon2_iterations: 1,
                secure_cookies: false,
                ..Default::default()
            },
        };
        let auth_app = TestApp::start(auth::build(auth_config.clone()).await.expect("auth builds"));
        let schema = TestSchema::create(&[marketplace::MIGRATIONS]).await;
        let mut platform = testkit::settings(&schema, &prefix);
        platform.jwt.jwks_url = auth_app.url("/.well-known/jwks.json");
        let config = Config { platform, marketplace };
        let app = TestApp::start(marketplace::build(config.clone()).await.expect("marketplace builds"));
        Self {
            api: ApiClient::new(app.address.clone()),
            auth: ApiClient::new(auth_app.address.clone()),
            config,
            auth_config,
            _apps: (app, auth_app),
            _schemas: (schema, auth_schema),
        }
    }

    /// Registers a new user of `role` through the auth service.
    pub async fn user(&self, role: &str) -> User {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let username = format!("{role}{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let body = json!({
            "email_or_phone": format!("{username}@mebelplace.kz"),
            "password": PASSWORD,
            "username": username,
            "role": role,
        });
        let (status, body) = self.auth.post("/api/v2/auth/register", body).await;
        assert_eq!(status, 201, "{body}");
        User { id: body["user"]["id"].as_i64().unwrap(), token: body["access_token"].as_str().unwrap().to_owned() }
    }

    pub async fn buyer(&self) -> User {
        self.user("buyer").await
    }

    pub async fn master(&self) -> User {
        self.user("master").await
    }

    /// An admin made the operator's way, signed in.
    pub async fn admin(&self) -> User {
        let admin =
            auth::create_admin(&self.auth_config, "admin@mebelplace.kz", "admin", PASSWORD.to_owned()).await.unwrap();
        let login = json!({ "email_or_phone": "admin@mebelplace.kz", "password": PASSWORD });
        let (status, session) = self.auth.post("/api/v2/auth/login", login).await;
        assert_eq!(status, 200, "{session}");
        User { id: admin.id, token: session["access_token"].as_str().unwrap().to_owned() }
    }

    /// A request posted by `buyer` (in Almaty, sliding wardrobes, 150 000 ₸).
    pub async fn request(&self, buyer: &User) -> i64 {
        let (status, body) = self.api.post_as("/api/v2/requests", &buyer.token, wardrobe_request()).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn propose(&self, master: &User, request_id: i64, price: i64) -> i64 {
        let body = json!({ "price_minor": price, "deadline_days": 14, "message": "Могу выполнить заказ" });
        let path = format!("/api/v2/requests/{request_id}/proposals");
        let (status, body) = self.api.post_as(&path, &master.token, body).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// An order: `buyer`'s request, `master`'s accepted proposal.
    pub async fn order(&self, buyer: &User, master: &User) -> i64 {
        let request = self.request(buyer).await;
        let proposal = self.propose(master, request, 15_000_000).await;
        let path = format!("/api/v2/requests/{request}/proposals/{proposal}/accept");
        let (status, body) = self.api.post_as(&path, &buyer.token, json!({})).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// `POST /orders/{id}/{action}` by `user`: the status code and body.
    pub async fn act(&self, user: &User, order: i64, action: &str, body: Value) -> (u16, Value) {
        self.api.post_as(&format!("/api/v2/orders/{order}/{action}"), &user.token, body).await
    }

    pub async fn order_status(&self, user: &User, order: i64) -> String {
        let (status, body) = self.api.get(&format!("/api/v2/orders/{order}"), &user.token).await;
        assert_eq!(status, 200, "{body}");
        body["status"].as_str().unwrap().to_owned()
    }

    /// Reads this test's Kafka topic from the start until an event matches.
    pub async fn event<T>(&self, topic: &str, pick: impl FnMut(&Envelope) -> Option<T>) -> T {
        testkit::events::find(&self.config.platform.kafka, topic, pick).await
    }
}

pub fn wardrobe_request() -> Value {
    json!({
        "title": "Нужен шкаф-купе",
        "description": "Шкаф-купе в прихожую, 2,4 м, зеркальные двери",
        "region": "Алматы",
        "categories": ["шкафы-купе"],
        "budget": 150_000,
        "images": ["https://cdn.mebelplace.kz/req/1.jpg"],
    })
}
