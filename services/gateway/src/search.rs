//! `GET /api/v2/search`: asks every search source at once, within a deadline, and merges the
//! answers; a source that fails or is late is named in `unavailable` instead of failing all.

use crate::config::SearchSource;
use crate::upstreams::Upstreams;
use serde_json::{Map, Value, json};
use std::time::Duration;

pub struct Search {
    client: reqwest::Client,
    sources: Vec<SearchSource>,
    deadline: Duration,
}

impl Search {
    pub fn new(sources: Vec<SearchSource>, deadline: Duration) -> Self {
        Self { client: reqwest::Client::new(), sources, deadline }
    }

    /// The merged answer for `query` (the caller's query string, passed on as it is).
    pub async fn run(&self, upstreams: &Upstreams, q: &str, query: &str, token: Option<&str>) -> Value {
        let asked: Vec<&SearchSource> = self.sources.iter().filter(|s| !s.authenticated || token.is_some()).collect();
        let answers =
            futures_util::future::join_all(asked.iter().map(|source| self.ask(upstreams, source, query, token))).await;
        let mut results = Map::new();
        let mut unavailable = Vec::new();
        for (source, answer) in asked.iter().zip(answers) {
            match answer {
                Some(items) => {
                    results.insert(source.name.clone(), items);
                }
                None => unavailable.push(source.name.clone()),
            }
        }
        json!({ "query": q, "results": results, "unavailable": unavailable })
    }

    async fn ask(
        &self,
        upstreams: &Upstreams,
        source: &SearchSource,
        query: &str,
        token: Option<&str>,
    ) -> Option<Value> {
        let backend = upstreams.select(&source.upstream)?;
        let mut request =
            self.client.get(format!("http://{}{}?{query}", backend.addr, source.path)).timeout(self.deadline);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.ok()?;
        if !response.status().is_success() {
            tracing::debug!(source = %source.name, status = %response.status(), "search source refused");
            return None;
        }
        let mut page: Value = response.json().await.ok()?;
        Some(page.get_mut("items").map(Value::take).unwrap_or(Value::Array(Vec::new())))
    }
}
