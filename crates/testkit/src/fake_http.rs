//! A recording fake of a third-party HTTP API (OneSignal, Mobizon, Agora …): answers every
//! request with a configured response and keeps what it got for the test to inspect. It can
//! fail a share of calls on purpose (429 with `Retry-After`, 500, 503), as providers do.

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
    /// The status the fake answered with.
    pub status: u16,
}

impl RecordedRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A form-encoded body's fields.
    pub fn form(&self) -> HashMap<String, String> {
        url_decoded(&self.body)
    }

    /// Whether the fake accepted the call (answered 2xx).
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn url_decoded(bytes: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(bytes).into_owned().collect()
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
    /// Share of calls answered with a failure, in parts per thousand.
    failing_per_mille: std::sync::atomic::AtomicU32,
    failures: std::sync::atomic::AtomicU32,
}

impl Shared {
    /// A failure to answer this call with, if it is one of the failing share.
    fn failure(&self) -> Option<HttpResponse> {
        use std::sync::atomic::Ordering::Relaxed;
        let per_mille = self.failing_per_mille.load(Relaxed);
        if per_mille == 0 || fastrand::u32(0..1000) >= per_mille {
            return None;
        }
        let body = serde_json::json!({ "error": "failing on purpose" });
        Some(match self.failures.fetch_add(1, Relaxed) % 3 {
            0 => HttpResponse::TooManyRequests().insert_header(("Retry-After", "1")).json(body),
            1 => HttpResponse::InternalServerError().json(body),
            _ => HttpResponse::ServiceUnavailable().json(body),
        })
    }
}

pub struct FakeHttp {
    port: u16,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

async fn record(request: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let response = shared.failure().unwrap_or_else(|| canned(&request, &shared));
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
        status: response.status().as_u16(),
    };
    shared.requests.lock().expect("fake lock").push(recorded);
    response
}

fn canned(request: &HttpRequest, shared: &Shared) -> HttpResponse {
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

    /// Fails about `fraction` of the calls from now on (429 with `Retry-After: 1`, 500, 503 in
    /// turn); 0 stops failing.
    pub fn fail_randomly(&self, fraction: f64) {
        let per_mille = (fraction.clamp(0.0, 1.0) * 1000.0).round() as u32;
        self.shared.failing_per_mille.store(per_mille, std::sync::atomic::Ordering::Relaxed);
    }

    /// The calls the fake accepted (answered 2xx).
    pub fn accepted(&self) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(RecordedRequest::accepted).collect()
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
