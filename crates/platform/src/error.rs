//! The JSON error shape of the spec: `{"error": {"code", "message", "details"}}`.
//!
//! Services either return [`ApiError`] directly or keep one error enum that converts into it.
//! Unexpected causes are logged in full and answered with a generic 500.

pub use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code in snake_case, e.g. `validation_failed`.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Value::Object(Default::default()), retry_after: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 400 naming the offending fields: `details.fields.<name> = reason`.
    pub fn validation(fields: impl IntoIterator<Item = (&'static str, String)>) -> Self {
        let fields: serde_json::Map<String, Value> =
            fields.into_iter().map(|(name, reason)| (name.to_owned(), Value::String(reason))).collect();
        Self::bad_request("validation_failed", "the request has invalid fields")
            .with_details(serde_json::json!({ "fields": fields }))
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// `method` is not one `path` answers; `allowed` are (the answer's `Allow` header lists them).
    pub fn method_not_allowed(method: &str, path: &str, allowed: &[&str]) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{method} is not allowed on {path}"))
            .with_details(serde_json::json!({ "allowed": allowed }))
    }

    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests, try again later")
            .with_retry_after(retry_after_secs)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", message).with_retry_after(1)
    }

    /// Logs `cause` with its chain and answers a generic 500.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.json(self.body())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::Error;
        match error {
            Error::NotFound => Self::not_found("no such resource"),
            lost if crate::db::is_connection_lost(&lost) => {
                tracing::warn!(error = %lost, "database connection lost");
                Self::unavailable("the database is unavailable")
            }
            other => Self::internal(other),
        }
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(error: crate::db::PoolError) -> Self {
        tracing::warn!(%error, "database pool unavailable");
        Self::unavailable("the database is unavailable")
    }
}

impl From<deadpool_redis::PoolError> for ApiError {
    fn from(error: deadpool_redis::PoolError) -> Self {
        tracing::warn!(%error, "redis pool unavailable");
        Self::unavailable("the cache is unavailable")
    }
}

impl From<deadpool_redis::redis::RedisError> for ApiError {
    fn from(error: deadpool_redis::redis::RedisError) -> Self {
        tracing::warn!(%error, "redis command failed");
        Self::unavailable("the cache is unavailable")
    }
}

/// What is wrong with an input, field by field, so that one answer names every problem.
#[derive(Debug, Default)]
pub struct FieldProblems(Vec<(&'static str, String)>);

impl FieldProblems {
    pub fn new() -> Self {
        Self::default()
    }

    /// `result`'s value, or `None` with its problem noted against `field`.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        result.map_err(|problem| self.add(field, problem)).ok()
    }

    pub fn add(&mut self, field: &'static str, problem: impl Into<String>) {
        self.0.push((field, problem.into()));
    }

    /// `Ok` when nothing was noted, else the validation error listing every problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(self.into_error()) }
    }

    /// The validation error listing every problem noted: for the branch where a checked value
    /// is `None`, e.g. `let (Some(a), Some(b)) = (a, b) else { return Err(checks.into_error()) };`.
    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    /// A connection that went away mid-request is the database being unavailable (503 with
    /// Retry-After), not a bug (500): found by the faults suite cutting PostgreSQL under load.
    #[test]
    fn a_lost_database_connection_is_unavailable_not_internal() {
        use diesel::result::{DatabaseErrorKind, Error};
        let lost = |kind| Error::DatabaseError(kind, Box::new("connection closed".to_owned()));
        for kind in [DatabaseErrorKind::UnableToSendCommand, DatabaseErrorKind::ClosedConnection] {
            let answer = ApiError::from(lost(kind));
            assert_eq!((answer.status, answer.retry_after), (StatusCode::SERVICE_UNAVAILABLE, Some(1)));
        }
        assert_eq!(ApiError::from(lost(DatabaseErrorKind::UniqueViolation)).status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ApiError::from(Error::NotFound).status, StatusCode::NOT_FOUND);
    }

    #[actix_web::test]
    async fn error_response_has_the_spec_shape() {
        let response = ApiError::validation([("email", "must contain @".to_owned())]).error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"]["fields"]["email"], "must contain @");
    }

    #[actix_web::test]
    async fn rate_limited_carries_retry_after() {
        let response = ApiError::too_many_requests(7).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
    }

    #[test]
    fn field_problems_are_answered_all_at_once() {
        let mut problems = FieldProblems::new();
        assert_eq!(problems.check("title", Ok::<_, String>(3)), Some(3));
        assert_eq!(problems.check::<i32>("title", Err("too long".into())), None);
        problems.add("budget", "must be positive");
        let error = problems.finish().unwrap_err();
        assert_eq!(error.details["fields"], serde_json::json!({ "title": "too long", "budget": "must be positive" }));
        assert!(FieldProblems::new().finish().is_ok());
    }

    #[test]
    fn diesel_not_found_is_404_and_other_errors_hide_their_cause() {
        assert_eq!(ApiError::from(diesel::result::Error::NotFound).status, StatusCode::NOT_FOUND);
        let internal = ApiError::from(diesel::result::Error::BrokenTransactionManager);
        assert_eq!(internal.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.message.contains("Transaction"));
    }
}
