//! `/api/v2/search/masters` and `/api/v2/masters`: the master directory.

use super::Place;
use crate::domain::review::average;
use crate::masters;
use crate::state::AppState;
use crate::store::users::{MasterFilter, MasterOrder, User};
use actix_web::{HttpResponse, web};
use platform::error::FieldProblems;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct MasterView {
    pub id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub region: Option<String>,
    pub served_regions: Vec<String>,
    pub served_categories: Vec<String>,
    pub rating: f64,
    pub review_count: i32,
    pub completed_orders: i32,
    /// Search relevance (0 without a text query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f64>,
}

impl MasterView {
    pub fn new(user: User, relevance: Option<f64>) -> Self {
        Self {
            rating: average(user.rating_sum, user.review_count),
            id: user.id,
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            avatar_url: user.avatar_url,
            region: user.region_code,
            served_regions: user.served_regions,
            served_categories: user.served_categories,
            review_count: user.review_count,
            completed_orders: user.completed_orders,
            relevance,
        }
    }
}

/// A region or category the reference data does not know matches nobody.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MasterQuery {
    /// Words in the name or description; Russian morphology and typos are tolerated.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Region code or name (`/regions`); one that is not known matches nobody.
    pub region: Option<String>,
    /// Category code or name (`/categories`); masters serving a subcategory match too; one that
    /// is not known matches nobody.
    pub category: Option<String>,
    /// 0 to 5.
    #[param(minimum = 0, maximum = 5)]
    pub min_rating: Option<f64>,
    /// `relevance` (default with `q`) or `rating`.
    pub sort: Option<MasterOrder>,
}

const MAX_QUERY_CHARS: usize = 100;

impl MasterQuery {
    /// The filter and order; no filter when it matches nobody.
    fn parse(&self, state: &AppState) -> Result<(Option<MasterFilter>, MasterOrder), ApiError> {
        let mut problems = FieldProblems::new();
        if self.min_rating.is_some_and(|r| !(0.0..=5.0).contains(&r)) {
            problems.add("min_rating", "must be between 0 and 5");
        }
        if self.q.as_ref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            problems.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        problems.finish()?;
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        let order = self.sort.unwrap_or(if text.is_some() { MasterOrder::Relevance } else { MasterOrder::Rating });
        let place = Place::of(&state.reference, self.region.as_deref(), self.category.as_deref());
        let filter = place.map(|place| MasterFilter {
            region_code: place.region_code,
            categories: place.categories,
            min_rating: self.min_rating,
            text,
        });
        Ok((filter, order))
    }
}

/// Masters by region, category, minimum rating and text, by relevance or rating (public).
#[utoipa::path(get, path = "/api/v2/search/masters", tag = "masters", params(MasterQuery, PageQuery),
    responses((status = 200, body = Page<MasterView>), (status = 400)))]
pub async fn search(
    state: web::Data<AppState>,
    query: web::Query<MasterQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, order) = query.parse(&state)?;
    let page = page.parse()?;
    let hits = match filter {
        Some(filter) => masters::search(&state, &filter, order, &page).await?,
        None => Vec::new(),
    };
    Ok(HttpResponse::Ok().json(Page::ranked(hits, &page).map(|hit| MasterView::new(hit.user, Some(hit.relevance)))))
}

/// One master's directory entry (public).
#[utoipa::path(get, path = "/api/v2/masters/{id}", tag = "masters",
    responses((status = 200, body = MasterView), (status = 404)))]
pub async fn details(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let master = masters::find(&state, *id).await?;
    Ok(HttpResponse::Ok().json(MasterView::new(master, None)))
}

/// What a master serves; the document lists the codes and names accepted (`/regions`,
/// `/categories`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicesBody {
    /// Region codes or names the master works in (at most 30).
    pub regions: Vec<String>,
    /// Category codes or names the master makes (at most 30).
    pub categories: Vec<String>,
}

/// A master sets the regions and categories they serve.
#[utoipa::path(put, path = "/api/v2/masters/me", tag = "masters", request_body = ServicesBody,
    security(("bearer" = [])),
    responses((status = 200, body = MasterView), (status = 400),
        (status = 403)))]
pub async fn set_services(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<ServicesBody>,
) -> Result<HttpResponse, ApiError> {
    let master = masters::set_services(&state, &user, &body.regions, &body.categories).await?;
    Ok(HttpResponse::Ok().json(MasterView::new(master, None)))
}
