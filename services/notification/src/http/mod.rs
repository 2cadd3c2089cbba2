//! HTTP resources of the notification service, under `/api/v2/notifications`.

pub mod admin;
pub mod devices;
pub mod inbox;
pub mod settings;
pub mod unsubscribe;

use crate::domain::templates::Lang;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::OpenApi;

platform::http_api! {
    pub struct ApiDoc {
        info(title = "MebelPlace notifications", description = "In-app notifications, delivery settings, devices, delivery log and dead letters.")
    }
    routes: [
        self::{openapi_json},
        inbox::{list, unread_count, read_all, read},
        settings::{show, update},
        devices::{push_token},
        unsubscribe::{unsubscribe},
        admin::{dead_letters, requeue, deliveries, recorded},
    ]
}

/// The language of the answer: Kazakh when the client asks for it, else Russian.
pub fn language(request: &HttpRequest) -> Lang {
    let accept = request.headers().get(actix_web::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::of(accept.unwrap_or("ru").trim())
}

/// This service's OpenAPI document.
#[utoipa::path(get, path = "/api/v2/notifications/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    platform::http::openapi::respond(&ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    ApiDoc::routes(cfg);
}
