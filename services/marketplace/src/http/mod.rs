//! HTTP resources of the marketplace service, all under `/api/v2`.

pub mod gamification;
pub mod masters;
pub mod orders;
pub mod proposals;
pub mod reference;
pub mod requests;

use crate::domain::reference::Reference;
use actix_web::{HttpResponse, web};
use platform::error::FieldProblems;
use platform::http::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "MebelPlace marketplace", description = "Requests, proposals, orders, reviews, masters, gamification."),
    paths(
        reference::regions, reference::categories, requests::list, requests::create, requests::details,
        requests::edit, requests::close, requests::reopen, proposals::create, proposals::list, proposals::accept,
        orders::list, orders::details, orders::act, orders::review, orders::reviews, masters::search,
        masters::details, masters::set_services, gamification::level, gamification::levels,
        gamification::my_achievements, gamification::user_achievements, gamification::leaderboard,
        gamification::advanced_leaderboard, gamification::award_points, gamification::rebuild_leaderboards,
        openapi_json,
    ),
    components(schemas(
        reference::Regions, reference::Categories, requests::RequestView, crate::deals::RequestInput,
        crate::deals::RequestEdit, crate::store::proposals::Proposal, proposals::Proposals, crate::deals::ProposalInput,
        orders::OrderView, crate::store::orders::Order, crate::domain::order::OrderStatus, crate::store::reviews::Review, orders::ActionBody, orders::ReviewBody, masters::MasterView,
        masters::ServicesBody, gamification::Achievements, gamification::AchievementView, gamification::Levels,
        gamification::LevelStep, gamification::Leaderboard, gamification::AwardBody, gamification::AwardResult,
        platform::error::ErrorBody,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Resolves a query's `region` and `category` filters (a category brings its subcategories),
/// noting what is wrong in `problems`.
fn place_filter(
    reference: &Reference,
    region: Option<&str>,
    category: Option<&str>,
    problems: &mut FieldProblems,
) -> (Option<String>, Option<Vec<String>>) {
    let region = problems.check("region", region.map(|name| reference.region_code(name)).transpose());
    let categories = problems.check("category", category.map(|name| reference.category_filter(name)).transpose());
    (region.flatten(), categories.flatten())
}

/// This service's OpenAPI document.
#[utoipa::path(get, path = "/api/v2/marketplace/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v2")
            .route("/marketplace/openapi.json", web::get().to(openapi_json))
            .route("/regions", web::get().to(reference::regions))
            .route("/categories", web::get().to(reference::categories))
            .service(web::resource("/requests").get(requests::list).post(requests::create))
            .service(web::resource("/requests/{id}").get(requests::details).patch(requests::edit))
            .route("/requests/{id}/close", web::post().to(requests::close))
            .route("/requests/{id}/reopen", web::post().to(requests::reopen))
            .service(web::resource("/requests/{id}/proposals").get(proposals::list).post(proposals::create))
            .route("/requests/{id}/proposals/{proposal_id}/accept", web::post().to(proposals::accept))
            .route("/orders", web::get().to(orders::list))
            .route("/orders/{id}", web::get().to(orders::details))
            .route("/orders/{id}/review", web::post().to(orders::review))
            .route("/orders/{id}/{action}", web::post().to(orders::act))
            .route("/reviews", web::get().to(orders::reviews))
            .route("/search/masters", web::get().to(masters::search))
            .route("/masters/me", web::put().to(masters::set_services))
            .route("/masters/{id}", web::get().to(masters::details))
            .route("/gamification/level", web::get().to(gamification::level))
            .route("/gamification/levels", web::get().to(gamification::levels))
            .route("/gamification/achievements", web::get().to(gamification::my_achievements))
            .route("/gamification/achievements/user/{id}", web::get().to(gamification::user_achievements))
            .route("/gamification/leaderboard", web::get().to(gamification::leaderboard))
            .route("/gamification/leaderboard/advanced", web::get().to(gamification::advanced_leaderboard))
            .route("/gamification/leaderboard/rebuild", web::post().to(gamification::rebuild_leaderboards))
            .route("/gamification/award-points", web::post().to(gamification::award_points)),
    );
}
