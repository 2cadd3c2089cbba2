//! A recording fake of a third-party HTTP API (OneSignal, Mobizon, Agora …): answers every
//! request with a configured response and keeps what it got for the test to inspect.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Debug, Clone)]
pub struct CannedResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<RecordedRequest>>,
    responses: Mutex<HashMap<String, CannedResponse>>,
}

pub struct FakeHttp {
    port: u16,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

async fn record(request: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let recorded = RecordedRequest {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        query: request.query_string().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: body.to_vec(),
    };
    shared.requests.lock().expect("fake lock").push(recorded);
    let canned = shared.responses.lock().expect("fake lock").get(request.path()).cloned();
    match canned {
        Some(canned) => HttpResponse::build(actix_web::http::StatusCode::from_u16(canned.status).unwrap_or_default())
            .json(canned.body),
        None => HttpResponse::Ok().json(serde_json::json!({ "ok": true })),
    }
}

impl FakeHttp {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(record)))
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind fake");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, shared, handle }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers requests to `path` with `status` and `body` from now on.
    pub fn respond(&self, path: &str, status: u16, body: serde_json::Value) {
        self.shared.responses.lock().expect("fake lock").insert(path.to_owned(), CannedResponse { status, body });
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("fake lock").clone()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}
