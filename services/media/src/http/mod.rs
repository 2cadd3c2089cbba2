//! HTTP resources of the media service, all under `/api/v2`.

pub mod analysis;
pub mod chunks;
pub mod feed;
pub mod files;
pub mod schema;
pub mod social;
pub mod tus;
pub mod videos;
pub mod view;

use actix_web::{HttpResponse, web};

platform::http_api! {
    pub struct ApiDoc {
        info(title = "MebelPlace media", description = "Videos (uploads by multipart, the seed's chunks or tus 1.0; the feed, search, likes, comments, views), stories, stored files with Range.")
    }
    routes: [
        self::{openapi_json},
        feed::{feed, search},
        videos::{upload, details, edit},
        analysis::{analyze, analyses},
        social::{like, unlike, comment, comments, delete_comment, delete_video, create_story, stories, story, user_stories,
            view_story, story_viewers, like_story, unlike_story},
        chunks::{start, chunk, status, cancel},
        tus::{options, create, head, patch, delete},
        files::{get_file, head_file},
    ]
}

/// This service's OpenAPI document, with the limits of its settings.
#[utoipa::path(get, path = "/api/v2/media/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json(state: web::Data<crate::state::AppState>) -> HttpResponse {
    platform::http::openapi::respond(&schema::document(&state.settings))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // A file's path has several segments; these take it whole (registered first, they win).
    let files = format!("{}{{path:.+}}", files::FILES_PREFIX);
    cfg.route(&files, web::get().to(files::get_file)).route(&files, web::head().to(files::head_file));
    // tus clients are often given the creation URL with a trailing slash.
    let tus_root = format!("{}/", tus::TUS_PATH);
    cfg.route(&tus_root, web::post().to(tus::create))
        .route(&tus_root, web::method(actix_web::http::Method::OPTIONS).to(tus::options));
    ApiDoc::routes(cfg);
}
