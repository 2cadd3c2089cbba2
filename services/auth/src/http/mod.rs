//! HTTP resources of the auth service, all under `/api/v2` except the JWKS.

pub mod admin;
pub mod auth;
pub mod jwks;
pub mod search;
pub mod subscriptions;
pub mod users;

use actix_web::{HttpResponse, web};
use platform::http::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "MebelPlace auth", description = "Accounts, verification codes, tokens, profiles."),
    paths(
        auth::register, auth::login, auth::verify_sms, auth::verify_email, auth::send_code,
        auth::refresh, auth::logout, users::me, users::update_me, users::upload_avatar, users::public_profile,
        users::block, users::unblock, users::my_blocks, subscriptions::follow, subscriptions::unfollow,
        subscriptions::mine, admin::list, admin::ban, admin::unban, admin::suspend, admin::change_role, admin::audit,
        search::users, jwks::jwks, openapi_json,
    ),
    components(schemas(
        auth::RegisterRequest, auth::LoginRequest, auth::VerifyRequest, auth::SendCodeRequest,
        auth::RefreshRequest, auth::TokenResponse, users::OwnProfile, users::UpdateProfile, users::AvatarResponse,
        users::RelatedUser, crate::profiles::PublicProfile, crate::profiles::MasterStats, subscriptions::Follows,
        admin::AdminUser, admin::ReasonRequest, admin::SuspendRequest, admin::RoleRequest,
        crate::store::admin::AuditRecord, search::UserHit, platform::error::ErrorBody,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

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
            .route("/users/me", web::get().to(users::me))
            .route("/users/me", web::put().to(users::update_me))
            .route("/users/me/avatar", web::post().to(users::upload_avatar))
            .route("/users/me/blocks", web::get().to(users::my_blocks))
            .route("/users/{id}", web::get().to(users::public_profile))
            .route("/users/{id}/block", web::post().to(users::block))
            .route("/users/{id}/block", web::delete().to(users::unblock))
            .route("/subscriptions/my", web::get().to(subscriptions::mine))
            .route("/subscriptions/{user_id}", web::post().to(subscriptions::follow))
            .route("/subscriptions/{user_id}", web::delete().to(subscriptions::unfollow))
            .route("/admin/users", web::get().to(admin::list))
            .route("/admin/users/{id}/ban", web::post().to(admin::ban))
            .route("/admin/users/{id}/unban", web::post().to(admin::unban))
            .route("/admin/users/{id}/suspend", web::post().to(admin::suspend))
            .route("/admin/users/{id}/role", web::put().to(admin::change_role))
            .route("/admin/users/{id}/audit", web::get().to(admin::audit))
            .route("/search/users", web::get().to(search::users)),
    );
}
