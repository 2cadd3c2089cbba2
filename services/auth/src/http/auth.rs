//! `/api/v2/auth/*`: register, sign in, verify, send a code, refresh, sign out.

use crate::accounts::{self, Registration, Session};
use crate::http::users::OwnProfile;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const REFRESH_COOKIE: &str = "refresh_token";
const REFRESH_COOKIE_PATH: &str = "/api/v2/auth";

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// An e-mail address, or a phone number (normalised to `+7` and 10 digits, e.g. `+77001234567`).
    #[schema(example = "87785421871")]
    pub email_or_phone: String,
    pub password: String,
    #[schema(example = "мастер_алматы")]
    pub username: String,
    /// `buyer` (or `client`) or `master`.
    #[schema(example = "master")]
    pub role: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email_or_phone: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub email_or_phone: String,
    #[schema(example = "123456")]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SendCodeRequest {
    pub email_or_phone: String,
}

#[derive(Deserialize, Default, ToSchema)]
pub struct RefreshRequest {
    /// Optional when the `refresh_token` cookie is sent.
    pub refresh_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub token_type: &'static str,
    pub user: OwnProfile,
}

fn cookie(state: &AppState, name: &'static str, value: String, path: &'static str, max_age: i64) -> Cookie<'static> {
    Cookie::build(name, value)
        .http_only(true)
        .secure(state.settings.secure_cookies)
        .same_site(SameSite::Strict)
        .path(path)
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

/// Tokens in the body and in HttpOnly cookies.
fn session_response(state: &AppState, session: Session, mut response: actix_web::HttpResponseBuilder) -> HttpResponse {
    let refresh_age = state.settings.refresh_ttl_days * 86_400;
    response
        .cookie(cookie(
            state,
            platform::auth::ACCESS_TOKEN_COOKIE,
            session.access_token.clone(),
            "/",
            session.expires_in,
        ))
        .cookie(cookie(state, REFRESH_COOKIE, session.refresh_token.clone(), REFRESH_COOKIE_PATH, refresh_age))
        .json(TokenResponse {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_in: session.expires_in,
            token_type: "Bearer",
            user: OwnProfile::from(session.user),
        })
}

/// Creates an account and sends a 6-digit code by SMS or e-mail.
#[utoipa::path(post, path = "/api/v2/auth/register", tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, body = TokenResponse), (status = 400, body = platform::error::ErrorBody),
    (status = 403, description = "admin role requested", body = platform::error::ErrorBody),
    (status = 409, description = "e-mail, phone or username taken", body = platform::error::ErrorBody),
    (status = 429, description = "codes sent too often", body = platform::error::ErrorBody)))]
pub async fn register(state: web::Data<AppState>, body: web::Json<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let registration = Registration {
        email_or_phone: body.email_or_phone,
        password: body.password,
        username: body.username,
        role: body.role,
    };
    let session = accounts::register(&state, registration).await?;
    Ok(session_response(&state, session, HttpResponse::Created()))
}

fn client_ip(request: &HttpRequest) -> String {
    request.connection_info().realip_remote_addr().unwrap_or("unknown").to_owned()
}

/// Signs in with e-mail or phone and password.
#[utoipa::path(post, path = "/api/v2/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse), (status = 400, body = platform::error::ErrorBody),
    (status = 401, description = "wrong login or password", body = platform::error::ErrorBody),
    (status = 403, description = "banned or suspended", body = platform::error::ErrorBody),
    (status = 429, description = "too many failed attempts", body = platform::error::ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let session = accounts::login(&state, &body.email_or_phone, &body.password, &client_ip(&request)).await?;
    Ok(session_response(&state, session, HttpResponse::Ok()))
}

/// Confirms the phone number with the code sent by SMS.
#[utoipa::path(post, path = "/api/v2/auth/verify-sms", tag = "auth", request_body = VerifyRequest, responses(
    (status = 204), (status = 400, body = platform::error::ErrorBody), (status = 422, body = platform::error::ErrorBody)))]
pub async fn verify_sms(state: web::Data<AppState>, body: web::Json<VerifyRequest>) -> Result<HttpResponse, ApiError> {
    accounts::verify(&state, "sms", &body.email_or_phone, &body.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirms the e-mail address with the code sent by e-mail.
#[utoipa::path(post, path = "/api/v2/auth/verify-email", tag = "auth", request_body = VerifyRequest, responses(
    (status = 204), (status = 400, body = platform::error::ErrorBody), (status = 422, body = platform::error::ErrorBody)))]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    accounts::verify(&state, "email", &body.email_or_phone, &body.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a new verification code (at most one a minute and five an hour per destination).
#[utoipa::path(post, path = "/api/v2/auth/send-code", tag = "auth", request_body = SendCodeRequest, responses(
    (status = 202), (status = 400, body = platform::error::ErrorBody), (status = 429, body = platform::error::ErrorBody)))]
pub async fn send_code(state: web::Data<AppState>, body: web::Json<SendCodeRequest>) -> Result<HttpResponse, ApiError> {
    accounts::send_code(&state, &body.email_or_phone).await?;
    Ok(HttpResponse::Accepted().finish())
}

fn refresh_token_of(request: &HttpRequest, body: Option<web::Json<RefreshRequest>>) -> Option<String> {
    body.and_then(|b| b.into_inner().refresh_token)
        .or_else(|| request.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty())
}

/// Exchanges a refresh token (body or cookie) for a new pair; the old one stops working.
#[utoipa::path(post, path = "/api/v2/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "invalid, expired or reused refresh token", body = platform::error::ErrorBody),
    (status = 403, body = platform::error::ErrorBody)))]
pub async fn refresh(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: Option<web::Json<RefreshRequest>>,
) -> Result<HttpResponse, ApiError> {
    let token = refresh_token_of(&request, body)
        .ok_or_else(|| ApiError::unauthorized("missing_refresh_token", "no refresh token in the body or cookie"))?;
    let session = accounts::refresh(&state, &token).await?;
    Ok(session_response(&state, session, HttpResponse::Ok()))
}

/// Signs out: revokes the refresh token and the access token.
#[utoipa::path(post, path = "/api/v2/auth/logout", tag = "auth", request_body = RefreshRequest,
    security(("bearer" = [])), responses((status = 204), (status = 401, body = platform::error::ErrorBody)))]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    body: Option<web::Json<RefreshRequest>>,
) -> Result<HttpResponse, ApiError> {
    accounts::logout(&state, &user, refresh_token_of(&request, body).as_deref()).await?;
    let expired = |name: &'static str, path: &'static str| {
        let mut cookie = cookie(&state, name, String::new(), path, 0);
        cookie.make_removal();
        cookie
    };
    Ok(HttpResponse::NoContent()
        .cookie(expired(platform::auth::ACCESS_TOKEN_COOKIE, "/"))
        .cookie(expired(REFRESH_COOKIE, REFRESH_COOKIE_PATH))
        .finish())
}
