//! Chat replicas against the real servers: one migrated schema, one Kafka/NATS/Redis prefix per
//! test, shared by every replica of the test (in-process, or processes that can be killed).

use chat::calls::tokens::{Provider, TokenSettings, TurnSettings};
use chat::config::{CallSettings, ChatSettings, Config};
use contracts::{Envelope, Role};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::{KEY_1, jwks, token};
use testkit::{ApiClient, TestApp, TestSchema, unique_prefix};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub use testkit::error_code;

/// How long a test waits for a frame or an event that must come.
pub const WAIT: Duration = Duration::from_secs(20);

pub enum Replica {
    InProcess(Option<TestApp>),
    Process(tokio::process::Child),
}

pub struct World {
    pub config: Config,
    /// One client per replica, in start order.
    pub apis: Vec<ApiClient>,
    replicas: Vec<Replica>,
    pub schema: TestSchema,
    _jwks: FakeHttp,
}

/// A user with a token the replicas accept.
#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub token: String,
}

impl World {
    /// `replicas` chat replicas in-process, with default settings.
    pub async fn start(replicas: usize) -> Self {
        Self::start_with(ChatSettings::default(), replicas).await
    }

    pub async fn start_with(chat: ChatSettings, replicas: usize) -> Self {
        let mut world = Self::empty(chat).await;
        for _ in 0..replicas {
            world.add_in_process().await;
        }
        world
    }

    /// The world with no replica yet.
    pub async fn empty(chat: ChatSettings) -> Self {
        testkit::init_logs();
        let schema = TestSchema::create(&[chat::MIGRATIONS]).await;
        let jwks_server = FakeHttp::start().await;
        jwks_server.respond("/.well-known/jwks.json", 200, serde_json::to_value(jwks(&[KEY_1])).unwrap());
        let mut platform = testkit::settings(&schema, &unique_prefix());
        platform.jwt.jwks_url = format!("{}/.well-known/jwks.json", jwks_server.url());
        let calls = CallSettings { sweep_secs: 1, tokens: turn_tokens(), ..Default::default() };
        let config = Config { platform, chat, calls };
        Self { config, apis: Vec::new(), replicas: Vec::new(), schema, _jwks: jwks_server }
    }

    pub async fn add_in_process(&mut self) -> usize {
        let app = TestApp::start(chat::build(self.config.clone()).await.expect("chat builds"));
        self.apis.push(ApiClient::new(app.address.clone()));
        self.replicas.push(Replica::InProcess(Some(app)));
        self.replicas.len() - 1
    }

    /// A replica as a process of the `chat` binary (so that it can be killed); returns once ready.
    pub async fn add_process(&mut self) -> usize {
        let port = testkit::free_port();
        let platform = &self.config.platform;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat"));
        command
            .env("PORT", port.to_string())
            .env("DATABASE_URL", &self.schema.url)
            .env("DATABASE_SCHEMA", &self.schema.name)
            .env("KAFKA_BROKERS", testkit::kafka_brokers())
            .env("KAFKA_IDEMPOTENT_PRODUCER", "false")
            .env("NATS_URL", testkit::nats_url())
            .env("JWT_JWKS_URL", &platform.jwt.jwks_url)
            .env("MEBELPLACE__KAFKA__TOPIC_PREFIX", &platform.kafka.topic_prefix)
            .env("MEBELPLACE__KAFKA__PARTITIONS", "1")
            .env("MEBELPLACE__REDIS__KEY_PREFIX", &platform.redis.key_prefix)
            .env("MEBELPLACE__NATS__SUBJECT_PREFIX", &platform.nats.subject_prefix)
            .env("MEBELPLACE__HTTP__WORKERS", "1")
            .env("CHAT_HEARTBEAT_SECS", self.config.chat.heartbeat_secs.to_string())
            .env("CHAT_PRESENCE_TTL_SECS", self.config.chat.presence_ttl_secs.to_string())
            .env("CHAT_SEND_QUEUE", self.config.chat.send_queue.to_string())
            .env("LOG_LEVEL", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        let child = command.spawn().expect("the chat binary starts");
        let api = ApiClient::new(format!("http://127.0.0.1:{port}"));
        testkit::eventually("the replica is ready", Duration::from_secs(60), || {
            let request = api.client.get(api.url("/ready")).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        self.apis.push(api);
        self.replicas.push(Replica::Process(child));
        self.replicas.len() - 1
    }

    /// SIGKILL for a process replica: no goodbye to anyone. An in-process one shuts down.
    pub async fn kill(&mut self, replica: usize) {
        match &mut self.replicas[replica] {
            Replica::Process(child) => {
                child.kill().await.expect("the replica dies");
            }
            Replica::InProcess(app) => drop(app.take()),
        }
    }

    pub fn api(&self, replica: usize) -> &ApiClient {
        &self.apis[replica]
    }

    pub fn ws_url(&self, replica: usize, after: &str) -> String {
        let base = self.apis[replica].base.replacen("http://", "ws://", 1);
        if after.is_empty() { format!("{base}/api/v2/ws") } else { format!("{base}/api/v2/ws?after={after}") }
    }

    /// A new user (ids are unique within the test's schema).
    pub fn user(&self) -> User {
        static NEXT: AtomicI64 = AtomicI64::new(1000);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        User { id, token: token(id, Role::Buyer) }
    }

    /// A new admin.
    pub fn admin(&self) -> User {
        let user = self.user();
        User { token: token(user.id, Role::Admin), ..user }
    }

    /// Opens a chat from `a` to `b` on replica 0 and returns its id.
    pub async fn chat(&self, a: &User, b: &User) -> i64 {
        let (status, body) = self.api(0).post_as("/api/v2/chats", &a.token, json!({ "recipient_id": b.id })).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        body["id"].as_i64().unwrap()
    }

    /// `user` sends `text` to the chat through `replica`; the stored message.
    pub async fn send(&self, replica: usize, user: &User, chat: i64, text: &str) -> Value {
        let path = format!("/api/v2/chats/{chat}/messages");
        let (status, body) = self.api(replica).post_as(&path, &user.token, json!({ "text": text })).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn connect(&self, replica: usize, user: &User, after: &str) -> Ws {
        Ws::connect(&self.ws_url(replica, after), Some(&user.token)).await
    }

    /// Publishes `payload` on its Kafka topic as its producer would.
    pub async fn publish(&self, payload: impl Into<contracts::Payload>) {
        let envelope = Envelope::of(payload);
        let topic = envelope.payload.as_ref().map(|p| p.topic()).expect("a payload");
        testkit::events::publish(&self.config.platform.kafka, topic, &envelope).await;
    }

    pub async fn event<T>(&self, topic: &str, pick: impl FnMut(&Envelope) -> Option<T>) -> T {
        testkit::events::find(&self.config.platform.kafka, topic, pick).await
    }
}

/// WebRTC tokens for the TURN server `scripts/infra-up` runs.
fn turn_tokens() -> TokenSettings {
    let turn = TurnSettings {
        secret: testkit::turn::secret().into(),
        urls: vec![testkit::turn::url()],
        stun_urls: Vec::new(),
    };
    TokenSettings { provider: Provider::Turn, turn, ..Default::default() }
}

/// A WebSocket client of the test.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(u16),
    /// Without a close frame.
    Dropped,
}

impl Ws {
    pub async fn connect(url: &str, token: Option<&str>) -> Self {
        Self::try_connect(url, token).await.expect("the upgrade succeeds")
    }

    /// The upgrade, or the HTTP status it was refused with.
    pub async fn try_connect(url: &str, token: Option<&str>) -> Result<Self, u16> {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        if let Some(token) = token {
            request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Self { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(error) => panic!("WebSocket connect failed: {error}"),
        }
    }

    /// A client with a tiny receive buffer (it will read nothing for a while).
    pub async fn connect_slow(url: &str, token: &str) -> Self {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        let host = request.uri().authority().expect("host:port").as_str().to_owned();
        let address: std::net::SocketAddr = host.parse().expect("an IP address");
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small buffer");
        let tcp = socket.connect(address).await.expect("connected");
        let (stream, _) = tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .expect("the upgrade succeeds");
        Self { stream }
    }

    /// No message frame comes within half a second (other frames are fine).
    pub async fn no_more_messages(&mut self) {
        while let Some(frame) = self.next_within(Duration::from_millis(500)).await {
            assert_ne!(frame["type"], "message", "an extra message: {frame}");
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream.send(WsMessage::text(frame.to_string())).await.expect("frame sent");
    }

    /// The next JSON frame, `None` when the connection ended or nothing came within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(WsMessage::Text(text)))) => return Some(serde_json::from_str(&text).expect("JSON frames")),
                Ok(Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_)))) => continue,
                _ => return None,
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(WAIT).await.expect("a frame")
    }

    /// Frames until one of `kind` (others skipped).
    pub async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// The next `n` message frames (other frames skipped).
    pub async fn messages(&mut self, n: usize) -> Vec<Value> {
        let mut messages = Vec::with_capacity(n);
        while messages.len() < n {
            let frame = self.next().await;
            if frame["type"] == "message" {
                messages.push(frame);
            }
        }
        messages
    }

    /// Reads until the connection ends; how it ended.
    pub async fn ended(&mut self) -> Ended {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await.expect("the connection ends") {
                Some(Ok(WsMessage::Close(frame))) => {
                    return Ended::Closed(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ended::Dropped,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// The sequence numbers of message frames.
pub fn seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().map(|f| f["seq"].as_i64().unwrap()).collect()
}
