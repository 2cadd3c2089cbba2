//! HTTP resources of the chat service: `/api/v2/chats`, `/api/v2/calls`, support tickets and the
//! WebSocket `/api/v2/ws` (`/ws`).

pub mod calls;
pub mod chats;
pub mod messages;
pub mod support;
pub mod ws;

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;

platform::http_api! {
    pub struct ApiDoc {
        info(title = "MebelPlace chat", description = "Chats, messages, read receipts; real-time delivery over a WebSocket (docs/realtime.md); calls with WebRTC tokens and signalling; support tickets.")
    }
    schemas: [crate::realtime::frames::ServerFrame, crate::realtime::frames::ClientFrame]
    routes: [
        self::{openapi_json},
        chats::{list, open, details},
        messages::{history, send, media, edit, delete, read},
        ws::{connect},
        calls::{list, history, active, initiate, initiate_secure, details, answer, decline, cancel, end, webrtc_token, webrtc_signal},
        support::{open, mine, details, reply, reopen, attachment, queue, admin_details, update, admin_reply},
    ]
}

/// This service's OpenAPI document.
#[utoipa::path(get, path = "/api/v2/chat/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    platform::http::openapi::respond(&ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    ApiDoc::routes(cfg);
    // The same WebSocket at the short path the gateway also routes.
    cfg.route("/ws", web::get().to(ws::connect));
}
