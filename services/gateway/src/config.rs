//! The gateway's configuration: the platform sections it uses (http port, redis, jwt,
//! telemetry) plus `gateway`: upstreams, routes, limits, browser rules.

use platform::config::ServiceDefaults;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const SERVICE: &str = contracts::services::GATEWAY.name;
pub const DEFAULTS: ServiceDefaults = ServiceDefaults { schema: "gateway", port: contracts::services::GATEWAY.port };
pub const ENV_ALIASES: &[(&str, &str)] = &[("CORS_ALLOWED_ORIGINS", "gateway.cors_origins")];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub gateway: GatewaySettings,
}

/// A path prefix (under `/api/v2` unless it starts elsewhere) served by an upstream service.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RouteRule {
    pub prefix: String,
    pub upstream: String,
}

/// Requests that need no access token: `method` (any when absent) and a path prefix.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PublicRule {
    pub method: Option<String>,
    pub prefix: String,
}

/// Where a service's search answers and its OpenAPI document live.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SearchSource {
    /// The key in the merged answer (`users`, `masters`, `videos`, `requests`).
    pub name: String,
    pub upstream: String,
    pub path: String,
    /// Only asked for callers with a token (their token is passed on).
    #[serde(default)]
    pub authenticated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    pub api_per_minute: u32,
    /// `/auth/*` and the verification-code endpoints.
    pub strict_per_minute: u32,
    pub upload_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GatewaySettings {
    /// Upstream service → its replicas (`host:port`).
    pub upstreams: BTreeMap<String, Vec<String>>,
    pub routes: Vec<RouteRule>,
    pub public: Vec<PublicRule>,
    /// Prefixes whose requests count as uploads (own rate tier, larger body limit).
    pub upload_prefixes: Vec<String>,
    pub cors_origins: Vec<String>,
    pub rate_limits: RateLimits,
    pub body_limit_bytes: u64,
    pub upload_body_limit_bytes: u64,
    pub connect_timeout_ms: u64,
    /// A request header must arrive whole within this time from its first byte (slow clients
    /// get 408 and are disconnected).
    pub header_timeout_ms: u64,
    /// Longest request target (path and query) accepted; longer ones answer 414.
    pub max_uri_bytes: usize,
    /// Largest header section accepted (names and values); larger ones answer 431.
    pub max_header_bytes: usize,
    pub read_timeout_ms: u64,
    pub health_check_interval_ms: u64,
    /// How long a replica that failed a connection is left out.
    pub ejection_secs: u64,
    pub search_sources: Vec<SearchSource>,
    pub search_deadline_ms: u64,
    /// Upstream service → the path of its OpenAPI document.
    pub openapi_documents: BTreeMap<String, String>,
    /// Swagger UI's files (`scripts/docs-assets` fetches them from the npm registry).
    pub docs_dir: String,
    /// Worker threads of the proxy.
    pub threads: usize,
    /// Whether the worker threads share one runtime and steal each other's tasks (Pingora's
    /// default), or each runs its own, as nginx's workers do (docs/decisions/0011).
    pub work_stealing: bool,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for GatewaySettings {
    fn default() -> Self {
        // Routing, public routes, uploads, search and docs come from the service catalogue.
        let services = || contracts::services::CATALOGUE.iter();
        let upstreams = || contracts::services::upstreams();
        Self {
            upstreams: upstreams().map(|s| (s.name.to_owned(), vec![format!("127.0.0.1:{}", s.port)])).collect(),
            routes: upstreams()
                .flat_map(|s| {
                    s.routes.iter().map(|prefix| RouteRule { prefix: (*prefix).into(), upstream: s.name.into() })
                })
                .collect(),
            public: services()
                .flat_map(|s| s.public)
                .map(|rule| PublicRule { method: rule.method.map(Into::into), prefix: rule.prefix.into() })
                .collect(),
            upload_prefixes: services().flat_map(|s| s.uploads.iter().map(|p| (*p).to_owned())).collect(),
            cors_origins: strings(&[
                "https://mebelplace.com.kz",
                "https://www.mebelplace.com.kz",
                "http://localhost:3000",
            ]),
            rate_limits: RateLimits::default(),
            body_limit_bytes: 10 * 1024 * 1024,
            upload_body_limit_bytes: 1024 * 1024 * 1024,
            connect_timeout_ms: 2_000,
            header_timeout_ms: 10_000,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            read_timeout_ms: 30_000,
            health_check_interval_ms: 2_000,
            ejection_secs: 10,
            search_sources: upstreams()
                .flat_map(|s| {
                    s.search.iter().map(|source| SearchSource {
                        name: source.name.into(),
                        upstream: s.name.into(),
                        path: source.path.into(),
                        authenticated: source.authenticated,
                    })
                })
                .collect(),
            search_deadline_ms: 1_500,
            openapi_documents: upstreams().filter_map(|s| Some((s.name.to_owned(), s.openapi?.to_owned()))).collect(),
            docs_dir: "var/docs".into(),
            threads: 2,
            work_stealing: true,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { api_per_minute: 5_000, strict_per_minute: 100, upload_per_minute: 30 }
    }
}
