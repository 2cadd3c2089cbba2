//! The observability middleware: request id, request span (with `user_id` filled in by the
//! auth extractor), incoming `traceparent`, access log line and Prometheus metrics.

use crate::metrics::Metrics;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// An incoming request id is kept when it is short and printable; otherwise a new one is made.
fn request_id(request: &ServiceRequest) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// Probes and scrapes arrive every few seconds (the gateway checks `/ready` every 2 s); their
/// successes are logged at debug so that they do not drown the requests.
const QUIET_ENDPOINTS: &[&str] = &["/live", "/ready", "/health", "/metrics"];

pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request_id(&request);
    let method = request.method().to_string();
    let endpoint = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let span = tracing::info_span!(
        "http_request",
        request_id = %request_id,
        method = %method,
        endpoint = %endpoint,
        user_id = tracing::field::Empty,
    );
    crate::telemetry::set_parent(&span, traceparent.as_deref());
    let metrics = request.app_data::<Data<Metrics>>().cloned();
    let outcome =
        crate::telemetry::with_incoming_traceparent(traceparent, next.call(request)).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    if let Some(metrics) = metrics {
        metrics.http_requests_total.with_label_values(&[&method, &endpoint, status.as_str()]).inc();
        metrics.http_request_duration_seconds.with_label_values(&[&method, &endpoint]).observe(elapsed.as_secs_f64());
    }
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if QUIET_ENDPOINTS.contains(&endpoint.as_str()) && status.is_success() {
            tracing::debug!(status = status.as_u16(), duration_ms, "request");
        } else {
            tracing::info!(status = status.as_u16(), duration_ms, "request");
        }
    });
    outcome.map(|mut response| {
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
        response
    })
}
