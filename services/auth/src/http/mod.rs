//! HTTP resources of the auth service, all under `/api/v2` except the JWKS.

pub mod auth;
pub mod jwks;
pub mod users;

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "MebelPlace auth", description = "Accounts, verification codes, tokens, profiles."),
    paths(
        auth::register, auth::login, auth::verify_sms, auth::verify_email, auth::send_code,
        auth::refresh, auth::logout, users::me, jwks::jwks, openapi_json,
    ),
    components(schemas(
        auth::RegisterRequest, auth::LoginRequest, auth::VerifyRequest, auth::SendCodeRequest,
        auth::RefreshRequest, auth::TokenResponse, users::OwnProfile, platform::error::ErrorBody,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// This service's OpenAPI document.
#[utoipa::path(get, path = "/api/v2/auth/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/jwks.json", web::get().to(jwks::jwks)).service(
        web::scope("/api/v2")
            .route("/auth/openapi.json", web::get().to(openapi_json))
            .route("/auth/register", web::post().to(auth::register))
            .route("/auth/login", web::post().to(auth::login))
            .route("/auth/verify-sms", web::post().to(auth::verify_sms))
            .route("/auth/verify-email", web::post().to(auth::verify_email))
            .route("/auth/send-code", web::post().to(auth::send_code))
            .route("/auth/refresh", web::post().to(auth::refresh))
            .route("/auth/logout", web::post().to(auth::logout))
            .route("/users/me", web::get().to(users::me)),
    );
}
