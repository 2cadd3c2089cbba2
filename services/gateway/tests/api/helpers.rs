//! A real gateway process in front of fake upstream services (recording HTTP servers with the
//! behaviours a proxy must handle: slow answers, streamed uploads, WebSocket echo).

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::KEY_1;

/// A fake service: answers with its name and what it received.
pub struct Upstream {
    pub address: String,
    pub seen: Arc<Mutex<Vec<String>>>,
    _server: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct Name(&'static str, Arc<Mutex<Vec<String>>>);

async fn echo(request: HttpRequest, name: web::Data<Name>, mut body: web::Payload) -> HttpResponse {
    let path = request.path().to_owned();
    name.1.lock().unwrap().push(format!("{} {path}", request.method()));
    if path == "/ready" {
        return HttpResponse::Ok().json(json!({ "status": "ok" }));
    }
    if path.ends_with("/slow") {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if path.ends_with("openapi.json") {
        let operation = format!("/api/v2/{}/things", name.0);
        return HttpResponse::Ok().json(json!({ "openapi": "3.1.0", "info": { "title": name.0, "version": "1" },
            "paths": { operation: { "get": { "summary": format!("{} things", name.0), "responses": { "200": { "description": "ok" } } } } },
            "components": { "schemas": { format!("{}Thing", name.0): { "type": "object" } } } }));
    }
    if request.method() == "GET" && (path.starts_with("/api/v2/search/") || path == "/api/v2/requests") {
        return HttpResponse::Ok().json(json!({ "items": [{ "from": name.0, "path": path }], "next_cursor": null }));
    }
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => bytes += chunk.len() as u64,
            Err(_) => return HttpResponse::BadRequest().finish(),
        }
    }
    let headers: serde_json::Map<String, Value> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.to_str().unwrap_or_default().to_owned())))
        .collect();
    HttpResponse::Ok().json(json!({ "service": name.0, "method": request.method().as_str(), "path": path,
        "query": request.query_string(), "headers": headers, "body_bytes": bytes }))
}

async fn websocket(request: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut messages) = actix_ws::handle(&request, body)?;
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            let open = match message {
                actix_ws::Message::Text(text) => session.text(format!("echo: {text}")).await.is_ok(),
                actix_ws::Message::Close(_) => false,
                _ => true,
            };
            if !open {
                break;
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}

impl Upstream {
    pub async fn start(name: &'static str) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::new(Name(name, seen.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(usize::MAX))
                .route("/ws", web::get().to(websocket))
                .default_service(web::to(echo))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let address = server.addrs()[0].to_string();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { address, seen, _server: handle }
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().filter(|r| !r.ends_with("/ready")).cloned().collect()
    }
}

/// An address nothing listens on.
pub fn dead_address() -> String {
    format!("127.0.0.1:{}", testkit::free_port())
}

/// The fakes of every service, a JWKS, and the settings a gateway needs to use them.
pub struct Services {
    pub auth: Upstream,
    pub media: Upstream,
    pub marketplace: Upstream,
    pub chat: Upstream,
    pub notification: Upstream,
    pub jwks: FakeHttp,
    pub redis_prefix: String,
}

impl Services {
    pub async fn start() -> Self {
        let jwks = FakeHttp::start().await;
        jwks.respond("/jwks.json", 200, serde_json::to_value(testkit::keys::jwks(&[KEY_1])).unwrap());
        Self {
            auth: Upstream::start("auth").await,
            media: Upstream::start("media").await,
            marketplace: Upstream::start("marketplace").await,
            chat: Upstream::start("chat").await,
            notification: Upstream::start("notification").await,
            jwks,
            redis_prefix: testkit::unique_prefix(),
        }
    }

    /// Gateway settings over these upstreams; `adjust` changes the `gateway` section.
    pub fn config(&self, adjust: impl FnOnce(&mut Value)) -> Value {
        let mut gateway = json!({
            "upstreams": {
                "auth": [self.auth.address], "media": [self.media.address], "marketplace": [self.marketplace.address],
                "chat": [self.chat.address], "notification": [self.notification.address],
            },
            "connect_timeout_ms": 500,
            "read_timeout_ms": 1500,
            "health_check_interval_ms": 200,
            "search_deadline_ms": 1000,
            "docs_dir": concat!(env!("CARGO_MANIFEST_DIR"), "/../../var/docs"),
        });
        adjust(&mut gateway);
        json!({
            "app": { "log_level": "warn" },
            "redis": { "url": "redis://127.0.0.1:6379", "key_prefix": self.redis_prefix },
            "jwt": { "jwks_url": format!("{}/jwks.json", self.jwks.url()) },
            "gateway": gateway,
        })
    }
}

/// A gateway process; SIGTERM on drop.
pub struct Gateway {
    pub url: String,
    pub client: reqwest::Client,
    child: Child,
    _config: std::path::PathBuf,
}

impl Gateway {
    pub async fn start(mut config: Value) -> Self {
        let port = testkit::free_port();
        config["http"] = json!({ "host": "127.0.0.1", "port": port, "shutdown_timeout_secs": 1 });
        let file = std::env::temp_dir().join(format!("gateway-{}.yml", uuid::Uuid::now_v7()));
        std::fs::write(&file, config.to_string()).unwrap();
        let child =
            Command::new(env!("CARGO_BIN_EXE_gateway")).env("CONFIG_FILE", &file).spawn().expect("gateway starts");
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let gateway = Self { url, client, child, _config: file };
        let live = format!("{}/live", gateway.url);
        testkit::eventually("the gateway answers", Duration::from_secs(20), || async {
            gateway.client.get(&live).send().await.is_ok_and(|r| r.status().is_success())
        })
        .await;
        gateway
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `(status, headers, body)` of a request.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = request.send().await.expect("the gateway answers");
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let text = response.text().await.unwrap_or_default();
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    #[allow(dead_code)] // the bench measures the process's CPU time
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The most memory the process has held (VmHWM), in bytes.
    pub fn peak_rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib * 1024
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
