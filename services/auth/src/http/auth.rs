//! `/api/v2/auth/*`: register, sign in, verify, send a code, refresh, sign out.

use crate::accounts::{self, Registration, Session};
use crate::domain::identity::Channel;
use crate::domain::{identity, password, username};
use crate::http::users::OwnProfile;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

pub const REFRESH_COOKIE: &str = "refresh_token";
const REFRESH_COOKIE_PATH: &str = "/api/v2/auth";

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(schema_with = email_or_phone)]
    pub email_or_phone: String,
    #[schema(schema_with = new_password)]
    pub password: String,
    #[schema(schema_with = username)]
    pub username: String,
    #[schema(schema_with = role)]
    pub role: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(schema_with = email_or_phone)]
    pub email_or_phone: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct VerifySmsRequest {
    /// The phone number the code was sent to.
    #[schema(schema_with = phone)]
    pub email_or_phone: String,
    #[schema(schema_with = code)]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyEmailRequest {
    /// The e-mail address the code was sent to.
    #[schema(schema_with = email)]
    pub email_or_phone: String,
    #[schema(schema_with = code)]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SendCodeRequest {
    #[schema(schema_with = email_or_phone)]
    pub email_or_phone: String,
}

/// A string field as `Identity::parse`, the password policy and the username rules accept it.
fn text(pattern: &str, description: &str, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([example])
}

fn email_or_phone() -> Object {
    let description = "An e-mail address, or a Kazakhstan phone number: `+7`, `8` or `7` and 10 digits, or the \
        10 digits alone (6XX or 7XX), spaces, dashes and parentheses allowed (`+7 (778) 542-18-71`); phone \
        numbers are normalised to `+77785421871`.";
    text(identity::EMAIL_OR_PHONE_PATTERN, description, "87785421871").max_length(Some(identity::MAX_CHARS)).build()
}

fn phone() -> Object {
    let description = "A Kazakhstan phone number: `+7`, `8` or `7` and 10 digits, or the 10 digits alone.";
    text(identity::PHONE_PATTERN, description, "87785421871").max_length(Some(identity::MAX_CHARS)).build()
}

fn email() -> Object {
    text(identity::EMAIL_PATTERN, "An e-mail address.", "aigerim@mail.kz").max_length(Some(identity::MAX_CHARS)).build()
}

fn new_password() -> Object {
    let description = "8 to 128 characters mixing at least two of: upper-case letters, lower-case letters, \
        digits, other characters; frequent passwords (`Password1`, `qwerty123`, …) are refused.";
    text(password::POLICY_PATTERN, description, "Shkaf2024")
        .min_length(Some(password::MIN_CHARS))
        .max_length(Some(password::MAX_CHARS))
        .build()
}

fn username() -> Object {
    let description = "3 to 32 letters (any script), digits, `_` or `.`, not starting or ending with `.`; \
        unique regardless of case.";
    text(username::PATTERN, description, "мастер_алматы").build()
}

fn role() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["buyer", "client", "master", "admin"]))
        .description(Some("`buyer` (or `client`) or `master`; `admin` is refused (403)."))
        .examples(["master"])
        .build()
}

fn code() -> Object {
    text("^[0-9]{6}$", "The 6-digit code.", "123456").build()
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
    (status = 201, body = TokenResponse), (status = 400),
    (status = 403, description = "admin role requested"),
    (status = 409, description = "e-mail, phone or username taken"),
    (status = 429, description = "codes sent too often")))]
pub async fn register(
    state: web::Data<AppState>,
    body: platform::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
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
    (status = 200, body = TokenResponse), (status = 400),
    (status = 401, description = "wrong login or password"),
    (status = 403, description = "banned or suspended"),
    (status = 429, description = "too many failed attempts")))]
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: platform::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let session = accounts::login(&state, &body.email_or_phone, &body.password, &client_ip(&request)).await?;
    Ok(session_response(&state, session, HttpResponse::Ok()))
}

const WRONG_CODE: &str = "a field is invalid (`validation_failed`), or the code is wrong (`invalid_code`, with \
    `details.attempts_left`)";
const SPENT_CODE: &str = "the code has expired, was used, or has no tries left: ask for a new one";

/// Confirms the phone number with the code sent by SMS.
#[utoipa::path(post, path = "/api/v2/auth/verify-sms", tag = "auth", request_body = VerifySmsRequest, responses(
    (status = 204), (status = 400, description = WRONG_CODE),
    (status = 422, description = SPENT_CODE)))]
pub async fn verify_sms(
    state: web::Data<AppState>,
    body: platform::Json<VerifySmsRequest>,
) -> Result<HttpResponse, ApiError> {
    accounts::verify(&state, Channel::Sms, &body.email_or_phone, &body.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirms the e-mail address with the code sent by e-mail.
#[utoipa::path(post, path = "/api/v2/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest, responses(
    (status = 204), (status = 400, description = WRONG_CODE),
    (status = 422, description = SPENT_CODE)))]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: platform::Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    accounts::verify(&state, Channel::Email, &body.email_or_phone, &body.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a new verification code (at most one a minute and five an hour per destination).
#[utoipa::path(post, path = "/api/v2/auth/send-code", tag = "auth", request_body = SendCodeRequest, responses(
    (status = 202), (status = 400), (status = 429)))]
pub async fn send_code(
    state: web::Data<AppState>,
    body: platform::Json<SendCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    accounts::send_code(&state, &body.email_or_phone).await?;
    Ok(HttpResponse::Accepted().finish())
}

fn refresh_token_of(request: &HttpRequest, body: Option<platform::Json<RefreshRequest>>) -> Option<String> {
    body.and_then(|b| b.into_inner().refresh_token)
        .or_else(|| request.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty())
}

/// Exchanges a refresh token (body or cookie) for a new pair; the old one stops working.
#[utoipa::path(post, path = "/api/v2/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "invalid, expired or reused refresh token"),
    (status = 403)))]
pub async fn refresh(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: Option<platform::Json<RefreshRequest>>,
) -> Result<HttpResponse, ApiError> {
    let token = refresh_token_of(&request, body)
        .ok_or_else(|| ApiError::unauthorized("missing_refresh_token", "no refresh token in the body or cookie"))?;
    let session = accounts::refresh(&state, &token).await?;
    Ok(session_response(&state, session, HttpResponse::Ok()))
}

/// Signs out: revokes the refresh token and the access token.
#[utoipa::path(post, path = "/api/v2/auth/logout", tag = "auth", request_body = RefreshRequest,
    security(("bearer" = [])), responses((status = 204), (status = 401)))]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    body: Option<platform::Json<RefreshRequest>>,
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
