//! The API gateway on Cloudflare's Pingora: the only door for clients. Routing to healthy
//! replicas, JWT at the edge, rate limits shared through Redis, CORS/CSRF and security
//! headers, streaming bodies and WebSockets through, universal search, merged API docs.

pub mod browser;
pub mod config;
pub mod docs;
pub mod guard;
pub mod metrics;
pub mod proxy;
pub mod rate_limit;
pub mod routing;
pub mod search;
pub mod upstreams;

use crate::config::Config;
use crate::proxy::{Gateway, Quotas};
use crate::rate_limit::{Quota, RateLimiter};
use http::{HeaderName, HeaderValue};
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::server::Server;
use pingora::server::configuration::{Opt, ServerConf};
use platform::auth::{KeySource, TokenVerifier};
use std::sync::Arc;
use std::time::Duration;

/// Answers with a known length are sent when complete (streamed ones at every chunk): with a
/// buffer this size a typical JSON answer leaves in one write, its headers included, where
/// Pingora's default (one MSS) sent headers and body apart.
const RESPONSE_WRITE_BUFFER: usize = 16 * 1024;

/// Builds the Pingora server: the proxy on the configured port and the health checks.
pub fn server(config: &Config) -> anyhow::Result<Server> {
    let settings = &config.gateway;
    let platform = &config.platform;
    let conf = ServerConf {
        threads: settings.threads.max(1),
        work_stealing: settings.work_stealing,
        // After SIGTERM: one second before the listeners close (Pingora's window for a new
        // process to take them over, which we do not use), then in-flight requests may finish.
        grace_period_seconds: Some(1),
        graceful_shutdown_timeout_seconds: Some(platform.http.shutdown_timeout_secs),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(Opt::default(), conf);
    server.bootstrap();
    let (upstreams, health_checks) = upstreams::Upstreams::build(settings)?;
    let redis = platform::redis::pool(&platform.redis)?;
    let metrics = Arc::new(metrics::Metrics::new(settings.upstreams.keys())?);
    let gateway = Gateway {
        router: routing::Router::new(settings),
        upstreams: Arc::new(upstreams),
        verifier: TokenVerifier::new(
            KeySource::jwks(platform.jwt.jwks_url.clone()),
            &platform.jwt,
            Some(redis.clone()),
        ),
        limiter: Arc::new(RateLimiter::new(redis, metrics.rate_limit_fallbacks.clone())),
        quotas: Quotas {
            api: Quota::per_minute(settings.rate_limits.api_per_minute),
            strict: Quota::per_minute(settings.rate_limits.strict_per_minute),
            upload: Quota::per_minute(settings.rate_limits.upload_per_minute),
        },
        origins: browser::Origins::new(&settings.cors_origins),
        metrics,
        search: search::Search::new(
            settings.search_sources.clone(),
            Duration::from_millis(settings.search_deadline_ms),
        ),
        docs: docs::Docs::new(settings.openapi_documents.clone(), &settings.docs_dir),
        security_headers: platform::http::security_header_pairs(platform.http.hsts_max_age_secs)
            .into_iter()
            .map(|(name, value)| Ok((HeaderName::from_bytes(name.as_bytes())?, HeaderValue::try_from(value)?)))
            .collect::<anyhow::Result<_>>()?,
        limits: proxy::RequestLimits { uri_bytes: settings.max_uri_bytes, header_bytes: settings.max_header_bytes },
        connect_timeout: Duration::from_millis(settings.connect_timeout_ms),
        read_timeout: Duration::from_millis(settings.read_timeout_ms),
        traced: platform.telemetry.otlp_endpoint.is_some(),
    };
    let proxy = pingora::proxy::http_proxy(&server.configuration, gateway);
    let guarded =
        guard::Guarded { app: Arc::new(proxy), header_timeout: Duration::from_millis(settings.header_timeout_ms) };
    let mut proxy = pingora::services::listening::Service::new("gateway".to_owned(), guarded);
    let address = format!("{}:{}", platform.http.host, platform.http.port);
    proxy
        .add_listener(ListenerConfig::tcp(address).l4_buffer(L4BufferSettings::default().write(RESPONSE_WRITE_BUFFER)));
    server.add_service(proxy);
    for check in health_checks {
        server.add_service(check);
    }
    Ok(server)
}
