//! `/api/v2/regions`, `/api/v2/categories`: reference data, public.

use crate::domain::reference::{Category, Region};
use crate::state::AppState;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};

fn cached(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .json(body)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Regions {
    pub items: Vec<Region>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Categories {
    pub items: Vec<Category>,
}

/// Kazakhstan's cities of republican significance and oblasts.
#[utoipa::path(get, path = "/api/v2/regions", tag = "reference", responses((status = 200, body = Regions)))]
pub async fn regions(state: web::Data<AppState>) -> HttpResponse {
    cached(&Regions { items: state.reference.regions.clone() })
}

/// The furniture category tree (`parent_code` links a subcategory to its parent).
#[utoipa::path(get, path = "/api/v2/categories", tag = "reference", responses((status = 200, body = Categories)))]
pub async fn categories(state: web::Data<AppState>) -> HttpResponse {
    cached(&Categories { items: state.reference.categories.clone() })
}
