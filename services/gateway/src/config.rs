//! The gateway's configuration: the platform sections it uses (http port, redis, jwt,
//! telemetry) plus `gateway`: upstreams, routes, limits, browser rules.

use platform::config::ServiceDefaults;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const SERVICE: &str = "gateway";
pub const DEFAULTS: ServiceDefaults = ServiceDefaults { schema: "gateway", port: 8080 };
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
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The routing table of the spec: path prefixes under `/api/v2` → service.
const ROUTES: &[(&str, &str)] = &[
    ("/api/v2/auth", "auth"),
    ("/api/v2/users", "auth"),
    ("/api/v2/subscriptions", "auth"),
    ("/api/v2/admin/users", "auth"),
    ("/api/v2/search/users", "auth"),
    ("/.well-known/jwks.json", "auth"),
    ("/api/v2/videos", "media"),
    ("/api/v2/stories", "media"),
    ("/api/v2/uploads", "media"),
    ("/api/v2/media", "media"),
    ("/api/v2/search/videos", "media"),
    ("/api/v2/requests", "marketplace"),
    ("/api/v2/orders", "marketplace"),
    ("/api/v2/reviews", "marketplace"),
    ("/api/v2/regions", "marketplace"),
    ("/api/v2/categories", "marketplace"),
    ("/api/v2/gamification", "marketplace"),
    ("/api/v2/masters", "marketplace"),
    ("/api/v2/search/masters", "marketplace"),
    ("/api/v2/marketplace", "marketplace"),
    ("/api/v2/chats", "chat"),
    ("/api/v2/calls", "chat"),
    ("/api/v2/support", "chat"),
    ("/api/v2/admin/support", "chat"),
    ("/api/v2/ws", "chat"),
    ("/ws", "chat"),
    ("/api/v2/notifications", "notification"),
];

/// What passes without a token: sign-up and sign-in, keys, reference data, public reads.
const PUBLIC: &[(Option<&str>, &str)] = &[
    (Some("POST"), "/api/v2/auth/register"),
    (Some("POST"), "/api/v2/auth/login"),
    (Some("POST"), "/api/v2/auth/verify-sms"),
    (Some("POST"), "/api/v2/auth/verify-email"),
    (Some("POST"), "/api/v2/auth/send-code"),
    (Some("POST"), "/api/v2/auth/refresh"),
    (None, "/.well-known/jwks.json"),
    (Some("GET"), "/api/v2/users/{id}"),
    (Some("GET"), "/api/v2/search"),
    (Some("GET"), "/api/v2/videos"),
    (Some("GET"), "/api/v2/stories"),
    (Some("GET"), "/api/v2/regions"),
    (Some("GET"), "/api/v2/categories"),
    (Some("GET"), "/api/v2/masters/{id}"),
    (Some("GET"), "/api/v2/reviews"),
    (Some("GET"), "/api/v2/gamification/leaderboard"),
    (Some("GET"), "/api/v2/gamification/levels"),
    (Some("GET"), "/api/v2/gamification/achievements/user/{id}"),
    (Some("GET"), "/api/v2/openapi.json"),
    (Some("GET"), "/api/v2/auth/openapi.json"),
    (Some("GET"), "/api/v2/marketplace/openapi.json"),
];

impl Default for GatewaySettings {
    fn default() -> Self {
        let local = |port: u16| vec![format!("127.0.0.1:{port}")];
        Self {
            upstreams: BTreeMap::from([
                ("auth".to_owned(), local(8081)),
                ("media".to_owned(), local(8082)),
                ("marketplace".to_owned(), local(8083)),
                ("chat".to_owned(), local(8084)),
                ("notification".to_owned(), local(8085)),
            ]),
            routes: ROUTES
                .iter()
                .map(|(prefix, upstream)| RouteRule { prefix: (*prefix).into(), upstream: (*upstream).into() })
                .collect(),
            public: PUBLIC
                .iter()
                .map(|(method, prefix)| PublicRule { method: method.map(Into::into), prefix: (*prefix).into() })
                .collect(),
            upload_prefixes: strings(&["/api/v2/uploads", "/api/v2/media/upload", "/api/v2/users/me/avatar"]),
            cors_origins: strings(&[
                "https://mebelplace.com.kz",
                "https://www.mebelplace.com.kz",
                "http://localhost:3000",
            ]),
            rate_limits: RateLimits::default(),
            body_limit_bytes: 10 * 1024 * 1024,
            upload_body_limit_bytes: 1024 * 1024 * 1024,
            connect_timeout_ms: 2_000,
            read_timeout_ms: 30_000,
            health_check_interval_ms: 2_000,
            ejection_secs: 10,
            search_sources: vec![
                SearchSource {
                    name: "users".into(),
                    upstream: "auth".into(),
                    path: "/api/v2/search/users".into(),
                    authenticated: false,
                },
                SearchSource {
                    name: "masters".into(),
                    upstream: "marketplace".into(),
                    path: "/api/v2/search/masters".into(),
                    authenticated: false,
                },
                SearchSource {
                    name: "videos".into(),
                    upstream: "media".into(),
                    path: "/api/v2/search/videos".into(),
                    authenticated: false,
                },
                SearchSource {
                    name: "requests".into(),
                    upstream: "marketplace".into(),
                    path: "/api/v2/requests".into(),
                    authenticated: true,
                },
            ],
            search_deadline_ms: 1_500,
            openapi_documents: BTreeMap::from([
                ("auth".to_owned(), "/api/v2/auth/openapi.json".to_owned()),
                ("marketplace".to_owned(), "/api/v2/marketplace/openapi.json".to_owned()),
            ]),
            docs_dir: "var/docs".into(),
            threads: 2,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { api_per_minute: 5_000, strict_per_minute: 100, upload_per_minute: 30 }
    }
}
