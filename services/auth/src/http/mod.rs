//! HTTP resources of the auth service, all under `/api/v2` except the JWKS.

pub mod admin;
pub mod auth;
pub mod jwks;
pub mod search;
pub mod subscriptions;
pub mod users;

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;

platform::http_api! {
    pub struct ApiDoc {
        info(title = "MebelPlace auth", description = "Accounts, verification codes, tokens, profiles.")
    }
    schemas: [subscriptions::Direction]
    routes: [
        jwks::{jwks},
        self::{openapi_json},
        auth::{register, login, verify_sms, verify_email, send_code, refresh, logout},
        users::{me, update_me, upload_avatar, my_blocks, public_profile, block, unblock},
        subscriptions::{mine, follow, unfollow},
        admin::{list, ban, unban, suspend, change_role, audit},
        search::{users},
    ]
}

/// This service's OpenAPI document.
#[utoipa::path(get, path = "/api/v2/auth/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    platform::http::openapi::respond(&ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    ApiDoc::routes(cfg);
}
