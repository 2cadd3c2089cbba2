//! HTTP scaffolding shared by every service: request ids, access logs, metrics, operational
//! endpoints, security headers, body limits and JSON errors for malformed input.

pub mod form;
pub mod json;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod text;

pub use json::Json;

use crate::error::ApiError;
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse};
use actix_web::{HttpRequest, HttpResponse, web};

/// The seed's security headers (the gateway sets them too).
pub fn security_header_pairs(hsts_max_age_secs: u64) -> [(&'static str, String); 6] {
    [
        ("X-Frame-Options", "DENY".to_owned()),
        ("X-Content-Type-Options", "nosniff".to_owned()),
        ("Strict-Transport-Security", format!("max-age={hsts_max_age_secs}; includeSubDomains")),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'".to_owned()),
        ("Referrer-Policy", "strict-origin-when-cross-origin".to_owned()),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()".to_owned()),
    ]
}

/// Security headers of the seed, on every answer.
pub fn security_headers(hsts_max_age_secs: u64) -> DefaultHeaders {
    security_header_pairs(hsts_max_age_secs).into_iter().fold(DefaultHeaders::new(), |headers, pair| headers.add(pair))
}

/// JSON bodies: limited in size, and every parse failure answered in the spec's error shape.
pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit_bytes).error_handler(|error, _| {
        let api_error = match &error {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
            }
            JsonPayloadError::ContentType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be application/json",
            ),
            JsonPayloadError::Deserialize(cause) => ApiError::bad_request("invalid_json", cause.to_string()),
            other => ApiError::bad_request("invalid_body", other.to_string()),
        };
        api_error.into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|error: QueryPayloadError, _| ApiError::bad_request("invalid_query", error.to_string()).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|error: PathError, _| ApiError::not_found(format!("no such resource: {error}")).into())
}

/// A request no route took: 405 with `Allow` when its path is documented with other methods,
/// else 404, in the error shape.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    let allowed = documented_methods(&request);
    if allowed.is_empty() {
        use actix_web::ResponseError;
        ApiError::not_found(format!("no route for {} {}", request.method(), request.path())).error_response()
    } else {
        method_not_allowed_answer(&request, &allowed)
    }
}

/// A resource that exists answered 405 itself: the same answer, with `Allow`.
pub fn method_not_allowed<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (request, _) = response.into_parts();
    let answer = method_not_allowed_answer(&request, &documented_methods(&request));
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(request, answer).map_into_right_body()))
}

fn documented_methods(request: &HttpRequest) -> Vec<&'static str> {
    request.app_data::<web::Data<openapi::RouteTable>>().map(|table| table.allowed(request.path())).unwrap_or_default()
}

fn method_not_allowed_answer(request: &HttpRequest, allowed: &[&str]) -> HttpResponse {
    use actix_web::ResponseError;
    let mut answer = ApiError::method_not_allowed(request.method().as_str(), request.path(), allowed).error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        answer.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    answer
}
