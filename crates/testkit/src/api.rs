//! A JSON client for a service under test: every call answers `(status, body)`.

use serde_json::Value;
use std::time::Duration;

#[derive(Clone)]
pub struct ApiClient {
    pub client: reqwest::Client,
    pub base: String,
}

impl ApiClient {
    pub fn new(base: impl Into<String>) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        Self { client, base: base.into() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request`; a body that is not JSON comes back as a string.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a readable body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// An unauthenticated POST.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).json(&body)).await
    }

    /// An unauthenticated GET.
    pub async fn get_public(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.patch(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn post_as(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(self.client.delete(self.url(path)).bearer_auth(token)).await
    }
}

/// The `error.code` of an error answer.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
