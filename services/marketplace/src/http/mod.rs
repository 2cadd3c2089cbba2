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
use utoipa::OpenApi;

platform::http_api! {
    pub struct ApiDoc {
        info(title = "MebelPlace marketplace", description = "Requests, proposals, orders, reviews, masters, gamification.")
    }
    schemas: [crate::domain::order::OrderAction, crate::store::users::MasterOrder]
    routes: [
        self::{openapi_json},
        reference::{regions, categories},
        requests::{list, create, details, edit, close, reopen},
        proposals::{list, create, accept},
        orders::{list, details, review, act, reviews},
        masters::{search, set_services, details},
        gamification::{
            level, levels, my_achievements, user_achievements, leaderboard, advanced_leaderboard,
            rebuild_leaderboards, award_points,
        },
    ]
}

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
    ApiDoc::routes(cfg);
}
