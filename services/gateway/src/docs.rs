//! API documentation: `GET /api/v2/openapi.json` merged from the services' documents (cached
//! for a minute), and `/docs` rendering it with Swagger UI served from local files.

use crate::upstreams::Upstreams;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CACHE_FOR: Duration = Duration::from_secs(60);
const INDEX: &str = include_str!("../assets/index.html");
const INIT: &str = include_str!("../assets/init.js");

/// The policy of the docs page: its own scripts and styles (Swagger UI sets inline styles).
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

pub struct Docs {
    client: reqwest::Client,
    documents: BTreeMap<String, String>,
    dir: PathBuf,
    cache: Mutex<Option<(Instant, Value)>>,
}

impl Docs {
    pub fn new(documents: BTreeMap<String, String>, dir: impl Into<PathBuf>) -> Self {
        Self { client: reqwest::Client::new(), documents, dir: dir.into(), cache: Mutex::new(None) }
    }

    pub async fn openapi(&self, upstreams: &Upstreams) -> Value {
        if let Some((at, document)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return document.clone();
        }
        let mut merged = json!({
            "openapi": "3.1.0",
            "info": { "title": "MebelPlace API", "version": env!("CARGO_PKG_VERSION"),
                      "description": "Every service behind the gateway, under /api/v2." },
            "paths": {},
            "components": { "schemas": {}, "securitySchemes": {} },
        });
        let fetches = self.documents.iter().map(|(service, path)| self.fetch(upstreams, service, path));
        let documents = futures_util::future::join_all(fetches).await;
        let mut unavailable = Vec::new();
        for ((service, _), document) in self.documents.iter().zip(documents) {
            match document {
                Some(document) => merge(&mut merged, &document),
                None => unavailable.push(service.clone()),
            }
        }
        // `q` as the proxy checks it: at least 2 characters besides the spaces around.
        let space = platform::http::openapi::white_space();
        let q = json!({ "type": "string", "pattern": format!("[^{space}][\\s\\S]*[^{space}]") });
        let error = json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } });
        merged["paths"]["/api/v2/search"] = json!({ "get": {
            "tags": ["search"], "summary": "Universal search: users, masters, videos and requests at once",
            "parameters": [{ "name": "q", "in": "query", "required": true, "schema": q }],
            "responses": {
                "200": { "description": "Results by source, and the sources that did not answer" },
                "400": { "description": "`q` has fewer than 2 characters besides spaces", "content": error },
            },
        }});
        merged["x-unavailable"] = json!(unavailable);
        if unavailable.is_empty() {
            *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), merged.clone()));
        }
        merged
    }

    async fn fetch(&self, upstreams: &Upstreams, service: &str, path: &str) -> Option<Value> {
        let backend = upstreams.select(service)?;
        let response = self
            .client
            .get(format!("http://{}{path}", backend.addr))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(())?;
        response.json().await.ok()
    }

    /// A file of the docs page: `(content type, bytes)`.
    pub fn asset(&self, name: &str) -> Option<(&'static str, Vec<u8>)> {
        match name {
            "" | "index.html" => Some(("text/html; charset=utf-8", INDEX.as_bytes().to_vec())),
            "init.js" => Some(("application/javascript", INIT.as_bytes().to_vec())),
            "swagger-ui.css" => std::fs::read(self.dir.join(name)).ok().map(|b| ("text/css", b)),
            "swagger-ui-bundle.js" => std::fs::read(self.dir.join(name)).ok().map(|b| ("application/javascript", b)),
            _ => None,
        }
    }
}

/// Adds `document`'s paths, schemas and security schemes to `merged`.
fn merge(merged: &mut Value, document: &Value) {
    for pointer in ["/paths", "/components/schemas", "/components/securitySchemes"] {
        if let (Some(Value::Object(entries)), Some(Value::Object(slot))) =
            (document.pointer(pointer), merged.pointer_mut(pointer))
        {
            slot.extend(entries.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_merge_paths_schemas_and_schemes() {
        let mut merged = json!({ "paths": {}, "components": { "schemas": {}, "securitySchemes": {} } });
        merge(
            &mut merged,
            &json!({ "paths": { "/a": {} }, "components": { "schemas": { "A": {} },
            "securitySchemes": { "bearer": { "type": "http" } } } }),
        );
        merge(&mut merged, &json!({ "paths": { "/b": {} }, "components": { "schemas": { "B": {} } } }));
        assert_eq!(merged["paths"].as_object().unwrap().len(), 2);
        assert_eq!(merged["components"]["schemas"].as_object().unwrap().len(), 2);
        assert_eq!(merged["components"]["securitySchemes"]["bearer"]["type"], "http");
    }
}
