//! The proxy itself, on Pingora: every request passes the edge checks (CORS, CSRF, token,
//! rate limit, body size) in `request_filter`, is routed to a healthy replica, streamed both
//! ways, and answered with the security headers; failures become the spec's JSON errors.

use crate::browser::{self, Origins, Preflight};
use crate::docs::{self, Docs};
use crate::guard;
use crate::metrics::Metrics;
use crate::rate_limit::{Decision, Quota, RateLimiter};
use crate::routing::{Destination, Router, Tier};
use crate::search::Search;
use crate::upstreams::Upstreams;
use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::lb::Backend;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, Result};
use platform::ApiError;
use platform::auth::{ACCESS_TOKEN_COOKIE, TokenVerifier};
use platform::error::StatusCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Headers that concern one connection only, never forwarded (RFC 9110 §7.6.1); `Connection`
/// and `Upgrade` stay on WebSocket upgrades.
const HOP_BY_HOP: &[&str] = &["keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer"];

pub struct Quotas {
    pub api: Quota,
    pub strict: Quota,
    pub upload: Quota,
}

/// Sizes a request may not exceed.
pub struct RequestLimits {
    pub uri_bytes: usize,
    pub header_bytes: usize,
}

pub struct Gateway {
    pub router: Router,
    pub upstreams: Arc<Upstreams>,
    pub verifier: TokenVerifier,
    pub limiter: Arc<RateLimiter>,
    pub quotas: Quotas,
    pub origins: Origins,
    pub metrics: Arc<Metrics>,
    pub search: Search,
    pub docs: Docs,
    /// Parsed once: they go on every answer.
    pub security_headers: Vec<(HeaderName, HeaderValue)>,
    pub limits: RequestLimits,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Spans are exported (an OTLP endpoint is configured): each request gets the gateway's
    /// span, and services see it as their parent.
    pub traced: bool,
}

/// What one request carries through the filters.
pub struct RequestContext {
    started: Instant,
    request_id: String,
    client_ip: String,
    destination: Option<Destination>,
    backend: Option<Backend>,
    attempts: usize,
    body_bytes: u64,
    rate: Option<Decision>,
    /// The request's `Origin` when it is allowed (echoed in the CORS headers).
    cors_origin: Option<String>,
    /// A page served by the gateway itself gets its own content policy.
    content_policy: Option<&'static str>,
    /// The request's span, when spans are exported; it ends when the request does.
    span: Option<tracing::Span>,
    /// The answer upgraded the connection to a WebSocket (counted until it closes).
    websocket: bool,
}

fn header<'a>(request: &'a RequestHeader, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(request: &RequestHeader) -> Option<&str> {
    header(request, "authorization").and_then(platform::auth::bearer)
}

fn cookie<'a>(request: &'a RequestHeader, name: &str) -> Option<&'a str> {
    header(request, "cookie")?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn client_ip(session: &Session) -> String {
    session.client_addr().and_then(|a| a.as_inet()).map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Identifiers need to be unique, not secret: drawn from a per-thread generator, because
/// asking the kernel for randomness three times per request showed in the profile.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    fastrand::fill(&mut bytes);
    bytes
}

/// A time-ordered request id (UUIDv7) for requests that come without one.
fn new_request_id() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    uuid::Builder::from_unix_timestamp_millis(millis as u64, &random_bytes()).into_uuid().to_string()
}

/// A W3C traceparent starting a new trace, for requests that come without one.
fn new_traceparent() -> String {
    let trace = u128::from_ne_bytes(random_bytes()).max(1);
    let span = u64::from_ne_bytes(random_bytes()).max(1);
    format!("00-{trace:032x}-{span:016x}-01")
}

/// A request refused for its shape before anything else is looked at: ambiguous framing
/// (smuggling), a target or header section over the limits.
fn malformed(session: &Session, limits: &RequestLimits) -> Option<ApiError> {
    let request = session.req_header();
    if let pingora::protocols::http::ServerSession::H1(h1) = session.as_downstream()
        && let Some(problem) = guard::framing_problem(&h1.get_headers_raw_bytes())
    {
        return Some(ApiError::bad_request("bad_framing", problem));
    }
    let target = request.raw_path().len();
    if target > limits.uri_bytes {
        let message = format!("the request target may be at most {} bytes", limits.uri_bytes);
        return Some(ApiError::new(StatusCode::URI_TOO_LONG, "uri_too_long", message));
    }
    let headers: usize = request.headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if headers > limits.header_bytes {
        let message = format!("the request headers may be at most {} bytes", limits.header_bytes);
        return Some(ApiError::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", message));
    }
    None
}

impl Gateway {
    /// The headers every answer carries, from the gateway or from a service.
    fn decorate(&self, response: &mut ResponseHeader, ctx: &RequestContext) -> Result<()> {
        for (name, value) in &self.security_headers {
            response.insert_header(name, value.clone())?;
        }
        if let Some(policy) = ctx.content_policy {
            response.insert_header("Content-Security-Policy", policy)?;
        }
        response.insert_header("X-Request-Id", ctx.request_id.as_str())?;
        if let Some(origin) = &ctx.cors_origin {
            response.insert_header("Access-Control-Allow-Origin", origin.as_str())?;
            response.insert_header("Access-Control-Allow-Credentials", "true")?;
            response.insert_header("Access-Control-Expose-Headers", browser::EXPOSED_HEADERS)?;
            response.append_header("Vary", "Origin")?;
        }
        if let Some(rate) = ctx.rate {
            response.insert_header("RateLimit-Limit", rate.limit.to_string())?;
            response.insert_header("RateLimit-Remaining", rate.remaining.to_string())?;
            response.insert_header("RateLimit-Reset", rate.reset_secs.to_string())?;
            if !rate.allowed {
                response.insert_header("Retry-After", rate.retry_after_secs.to_string())?;
            }
        }
        Ok(())
    }

    async fn respond(
        &self,
        session: &mut Session,
        ctx: &RequestContext,
        status: u16,
        content_type: &str,
        body: Vec<u8>,
        extra: &[(&'static str, String)],
    ) -> Result<bool> {
        let mut response = ResponseHeader::build(status, Some(4 + extra.len()))?;
        response.insert_header("Content-Type", content_type)?;
        response.insert_header("Content-Length", body.len().to_string())?;
        for (name, value) in extra {
            response.insert_header(*name, value.as_str())?;
        }
        self.decorate(&mut response, ctx)?;
        let end = body.is_empty() || session.req_header().method == "HEAD";
        session.write_response_header(Box::new(response), end).await?;
        if !end {
            session.write_response_body(Some(Bytes::from(body)), true).await?;
        }
        Ok(true)
    }

    async fn respond_json(
        &self,
        session: &mut Session,
        ctx: &RequestContext,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<bool> {
        self.respond(session, ctx, status, "application/json", body.to_string().into_bytes(), &[]).await
    }

    async fn respond_error(&self, session: &mut Session, ctx: &RequestContext, error: ApiError) -> Result<bool> {
        self.respond_error_with(session, ctx, error, &[]).await
    }

    /// The error, with `headers` besides `Retry-After` (when the error has one).
    async fn respond_error_with(
        &self,
        session: &mut Session,
        ctx: &RequestContext,
        error: ApiError,
        headers: &[(&'static str, String)],
    ) -> Result<bool> {
        let body = serde_json::to_string(&error.body()).unwrap_or_default().into_bytes();
        let retry_after = error.retry_after.map(|secs| ("Retry-After", secs.to_string()));
        let headers: Vec<(&'static str, String)> = headers.iter().cloned().chain(retry_after).collect();
        self.respond(session, ctx, error.status.as_u16(), "application/json", body, &headers).await
    }

    /// `/health`, `/live`, `/ready`, `/metrics` of the gateway itself.
    async fn operations(&self, session: &mut Session, ctx: &RequestContext, path: &str) -> Result<Option<bool>> {
        let answered = match path {
            "/live" => self.respond_json(session, ctx, 200, &serde_json::json!({ "status": "alive" })).await?,
            "/ready" | "/health" => {
                let replicas = self.upstreams.health();
                let body = serde_json::json!({
                    "service": crate::config::SERVICE,
                    "version": platform::metrics::build::VERSION,
                    "commit": platform::metrics::build::COMMIT,
                    "status": "ok",
                    "upstreams": replicas,
                });
                self.respond_json(session, ctx, 200, &body).await?
            }
            "/metrics" => {
                for replica in self.upstreams.health() {
                    self.metrics
                        .upstream_healthy
                        .with_label_values(&[replica.upstream.as_str(), replica.address.as_str()])
                        .set(i64::from(replica.healthy));
                }
                let body = self.metrics.render().into_bytes();
                self.respond(session, ctx, 200, "text/plain; version=0.0.4", body, &[]).await?
            }
            _ => return Ok(None),
        };
        Ok(Some(answered))
    }

    async fn documentation(&self, session: &mut Session, ctx: &mut RequestContext, path: &str) -> Result<Option<bool>> {
        if path == "/api/v2/openapi.json" {
            let document = self.docs.openapi(&self.upstreams).await;
            return Ok(Some(self.respond_json(session, ctx, 200, &document).await?));
        }
        let Some(name) = path.strip_prefix("/docs").map(|rest| rest.trim_start_matches('/')) else { return Ok(None) };
        ctx.content_policy = Some(docs::DOCS_CSP);
        Ok(Some(match self.docs.asset(name) {
            Some((content_type, bytes)) => self.respond(session, ctx, 200, content_type, bytes, &[]).await?,
            None => self.respond_error(session, ctx, ApiError::not_found("no such page")).await?,
        }))
    }

    /// The caller's user id from a valid token; `Err` when the route needs one and it is bad.
    async fn authenticate(&self, token: Option<&str>, public: bool) -> Result<Option<i64>, ApiError> {
        match (token, public) {
            (None, true) => Ok(None),
            (None, false) => Err(platform::auth::AuthError::Missing.into()),
            (Some(token), _) => match self.verifier.verify(token).await {
                Ok(claims) => Ok(claims.user_id()),
                Err(_) if public => Ok(None),
                Err(error) => Err(error.into()),
            },
        }
    }

    /// The edge checks, in order: CSRF, token, rate limit, declared body size. The caller's
    /// user id when admitted, the answer to give otherwise.
    async fn admit(
        &self,
        session: &Session,
        ctx: &mut RequestContext,
        destination: &Destination,
        origin: Option<&str>,
    ) -> Result<Option<i64>, ApiError> {
        let request = session.req_header();
        let method = request.method.as_str();
        let (bearer_token, cookie_token) = (bearer(request), cookie(request, ACCESS_TOKEN_COOKIE));
        let referer = header(request, "referer");
        if !self.origins.csrf_ok(method, bearer_token.is_some(), cookie_token.is_some(), origin, referer) {
            let message = "cookie-authenticated writes must come from an allowed origin";
            return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf_rejected", message));
        }
        let user = self.authenticate(bearer_token.or(cookie_token), destination.public).await?;
        let caller = user.map(|id| format!("user:{id}")).unwrap_or_else(|| format!("ip:{}", ctx.client_ip));
        let tier = destination.tier;
        let decision = self.limiter.check(&format!("{}:{caller}", tier.as_str()), self.quota(tier)).await;
        ctx.rate = Some(decision);
        if !decision.allowed {
            self.metrics.rate_limited.with_label_values(&[tier.as_str()]).inc();
            return Err(ApiError::too_many_requests(decision.retry_after_secs));
        }
        let declared_length = header(request, "content-length").and_then(|v| v.parse::<u64>().ok());
        if let (Some(limit), Some(length)) = (destination.body_limit, declared_length)
            && length > limit
        {
            let message = format!("the body may be at most {limit} bytes");
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message));
        }
        Ok(user)
    }

    /// `GET /api/v2/search?q=…`: every source at once (requests only for signed-in callers).
    async fn universal_search(&self, session: &mut Session, ctx: &RequestContext, user: Option<i64>) -> Result<bool> {
        let query = session.req_header().uri.query().unwrap_or_default().to_owned();
        let q = form_urlencoded_value(&query, "q").unwrap_or_default();
        if q.trim().chars().count() < 2 {
            let error = ApiError::validation([("q", "must be at least 2 characters".to_owned())]);
            return self.respond_error(session, ctx, error).await;
        }
        let token = bearer(session.req_header()).map(str::to_owned).filter(|_| user.is_some());
        let answer = self.search.run(&self.upstreams, &q, &query, token.as_deref()).await;
        self.respond_json(session, ctx, 200, &answer).await
    }

    fn quota(&self, tier: Tier) -> Quota {
        match tier {
            Tier::Api => self.quotas.api,
            Tier::Strict => self.quotas.strict,
            Tier::Upload => self.quotas.upload,
        }
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestContext;

    fn new_ctx(&self) -> RequestContext {
        RequestContext {
            started: Instant::now(),
            request_id: String::new(),
            client_ip: String::new(),
            destination: None,
            backend: None,
            attempts: 0,
            body_bytes: 0,
            rate: None,
            cors_origin: None,
            content_policy: None,
            span: None,
            websocket: false,
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestContext) -> Result<bool> {
        let request = session.req_header();
        ctx.request_id = header(request, "x-request-id")
            .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned)
            .unwrap_or_else(new_request_id);
        ctx.client_ip = client_ip(session);
        if let Some(error) = malformed(session, &self.limits) {
            // The body (if any) was not read: the connection cannot carry another request.
            session.set_keepalive(None);
            return self.respond_error(session, ctx, error).await;
        }
        let (method, path) = (request.method.as_str().to_owned(), request.uri.path().to_owned());
        let origin = header(request, "origin").map(str::to_owned);
        ctx.cors_origin = origin.clone().filter(|o| self.origins.allows(o));

        match self.origins.preflight(&method, origin.as_deref(), header(request, "access-control-request-method")) {
            Preflight::Allowed { .. } => {
                let headers = [
                    ("Access-Control-Allow-Methods", browser::ALLOWED_METHODS.to_owned()),
                    ("Access-Control-Allow-Headers", browser::ALLOWED_HEADERS.to_owned()),
                    ("Access-Control-Max-Age", browser::PREFLIGHT_MAX_AGE_SECS.to_string()),
                ];
                return self.respond(session, ctx, 204, "text/plain", Vec::new(), &headers).await;
            }
            Preflight::Denied => {
                let error = ApiError::forbidden("this origin may not call the API")
                    .with_details(serde_json::json!({ "origin": origin }));
                return self.respond_error(session, ctx, error).await;
            }
            Preflight::NotPreflight => {}
        }
        if let Some(answered) = self.operations(session, ctx, &path).await? {
            return Ok(answered);
        }
        // Probes and scrapes (answered above) get no span.
        if self.traced {
            let span = tracing::info_span!(
                "gateway_request",
                request_id = %ctx.request_id,
                method = %method,
                route = tracing::field::Empty,
                upstream = tracing::field::Empty,
                status = tracing::field::Empty,
            );
            platform::telemetry::set_parent(&span, header(session.req_header(), "traceparent"));
            ctx.span = Some(span);
        }
        if let Some(answered) = self.documentation(session, ctx, &path).await? {
            return Ok(answered);
        }
        let search = path == "/api/v2/search";
        if search && method != "GET" && method != "HEAD" {
            let error = ApiError::method_not_allowed(&method, &path, &["GET"]);
            return self.respond_error_with(session, ctx, error, &[("Allow", "GET".to_owned())]).await;
        }
        let destination = if search {
            Destination {
                upstream: "gateway".into(),
                route: path.clone(),
                public: true,
                tier: Tier::Api,
                body_limit: None,
            }
        } else {
            match self.router.route(&method, &path) {
                Some(destination) => destination,
                None => return self.respond_error(session, ctx, ApiError::not_found("no such resource")).await,
            }
        };
        let user = match self.admit(session, ctx, &destination, origin.as_deref()).await {
            Ok(user) => user,
            Err(error) => return self.respond_error(session, ctx, error).await,
        };
        ctx.destination = Some(destination);
        if search {
            return self.universal_search(session, ctx, user).await;
        }
        Ok(false)
    }

    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut RequestContext) -> Result<Box<HttpPeer>> {
        ctx.attempts += 1;
        let upstream = ctx.destination.as_ref().map_or("", |d| d.upstream.as_str());
        let Some(backend) = self.upstreams.select(upstream) else {
            return Err(Error::explain(ErrorType::HTTPStatus(503), format!("no healthy replica of {upstream}")));
        };
        let mut peer = HttpPeer::new(backend.addr.clone(), false, String::new());
        peer.options.connection_timeout = Some(self.connect_timeout);
        peer.options.read_timeout = Some(self.read_timeout);
        peer.options.idle_timeout = Some(Duration::from_secs(60));
        ctx.backend = Some(backend);
        Ok(Box::new(peer))
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut RequestContext,
        mut error: Box<Error>,
    ) -> Box<Error> {
        if let Some(backend) = &ctx.backend {
            self.upstreams.eject(backend);
        }
        // Another replica may take it: nothing reached the failed one.
        if ctx.attempts < 3 {
            error.set_retry(true);
        }
        error
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestContext,
    ) -> Result<()> {
        for name in HOP_BY_HOP {
            upstream.remove_header(*name);
        }
        let forwarded_for = match header(upstream, "x-forwarded-for") {
            Some(previous) => format!("{previous}, {}", ctx.client_ip),
            None => ctx.client_ip.clone(),
        };
        upstream.insert_header("X-Forwarded-For", forwarded_for)?;
        if header(upstream, "x-forwarded-proto").is_none() {
            upstream.insert_header("X-Forwarded-Proto", "http")?;
        }
        if let Some(host) = header(upstream, "host").map(str::to_owned) {
            upstream.insert_header("X-Forwarded-Host", host)?;
        }
        upstream.insert_header("X-Request-Id", ctx.request_id.as_str())?;
        if let Some(traceparent) = ctx.span.as_ref().and_then(platform::telemetry::traceparent_of) {
            upstream.insert_header("traceparent", traceparent)?;
        } else if header(upstream, "traceparent").is_none() {
            upstream.insert_header("traceparent", new_traceparent())?;
        }
        Ok(())
    }

    async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        _end: bool,
        ctx: &mut RequestContext,
    ) -> Result<()> {
        let Some(chunk) = body else { return Ok(()) };
        ctx.body_bytes += chunk.len() as u64;
        match ctx.destination.as_ref().and_then(|d| d.body_limit) {
            Some(limit) if ctx.body_bytes > limit => {
                Err(Error::explain(ErrorType::HTTPStatus(413), format!("the body may be at most {limit} bytes")))
            }
            _ => Ok(()),
        }
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestContext,
    ) -> Result<()> {
        if response.status.as_u16() == 101
            && let Some(destination) = &ctx.destination
        {
            ctx.websocket = true;
            self.metrics.websockets.with_label_values(&[destination.upstream.as_str()]).inc();
        }
        self.decorate(response, ctx)
    }

    async fn fail_to_proxy(&self, session: &mut Session, error: &Error, ctx: &mut RequestContext) -> FailToProxy {
        use ErrorType::*;
        let api_error = match error.etype() {
            HTTPStatus(413) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the body is too large")
            }
            HTTPStatus(503) | ConnectRefused | ConnectNoRoute | ConnectError | ConnectProxyFailure
            | TLSHandshakeFailure => ApiError::unavailable("the service is unavailable"),
            ConnectTimedout | ReadTimedout | WriteTimedout => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "upstream_timeout", "the service did not answer in time")
            }
            _ if matches!(error.esource(), pingora::ErrorSource::Downstream) => {
                return FailToProxy { error_code: 0, can_reuse_downstream: false };
            }
            _ => ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", "the service failed to answer"),
        };
        let status = api_error.status.as_u16();
        // The connection is not reused after a failed proxy: the answer must say so
        // (`Connection: close`), or the client's next request on it meets a closed socket.
        session.set_keepalive(None);
        if session.response_written().is_none()
            && let Err(write_error) = self.respond_error(session, ctx, api_error).await
        {
            tracing::debug!(%write_error, "error answer not written");
        }
        FailToProxy { error_code: status, can_reuse_downstream: false }
    }

    async fn logging(&self, session: &mut Session, error: Option<&Error>, ctx: &mut RequestContext) {
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let (route, upstream) = match &ctx.destination {
            Some(d) => (d.route.as_str(), d.upstream.as_str()),
            None => ("local", "gateway"),
        };
        let method = session.req_header().method.as_str().to_owned();
        if ctx.websocket {
            self.metrics.websockets.with_label_values(&[upstream]).dec();
        }
        if let Some(span) = ctx.span.take() {
            span.record("route", route).record("upstream", upstream).record("status", status);
        }
        self.metrics.requests.with_label_values(&[method.as_str(), route, upstream, &status.to_string()]).inc();
        let elapsed = ctx.started.elapsed();
        self.metrics.latency.with_label_values(&[route, upstream]).observe(elapsed.as_secs_f64());
        tracing::info!(
            request_id = %ctx.request_id,
            method,
            path = %session.req_header().uri.path(),
            route,
            upstream,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            error = error.map(|e| e.to_string()),
            "request"
        );
    }
}

/// The decoded value of `name` in a query string.
fn form_urlencoded_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}
