//! `/api/v2/requests`: buyers' requests and masters' feed of open ones.

use crate::deals::{self, RequestEdit, RequestInput};
use crate::domain::request::RequestStatus;
use crate::state::AppState;
use crate::store::requests::{OpenFilter, Request};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::error::FieldProblems;
use platform::money::Tenge;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub buyer_id: i64,
    pub title: String,
    pub description: String,
    /// Region code (see `/regions`).
    pub region: String,
    /// Category codes (see `/categories`).
    pub categories: Vec<String>,
    pub budget: Option<Tenge>,
    /// The budget in tiyn.
    pub budget_minor: Option<i64>,
    pub images: Vec<String>,
    pub status: RequestStatus,
    pub views: i64,
    pub proposal_count: i32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Request> for RequestView {
    fn from(request: Request) -> Self {
        Self {
            status: request.status(),
            id: request.id,
            buyer_id: request.buyer_id,
            title: request.title,
            description: request.description,
            region: request.region_code,
            categories: request.categories,
            budget: request.budget.map(Tenge::from_tiyn),
            budget_minor: request.budget,
            images: request.images,
            views: request.views,
            proposal_count: request.proposal_count,
            expires_at: request.expires_at,
            created_at: request.created_at,
            updated_at: request.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestFilter {
    /// Region code or name (masters' feed).
    pub region: Option<String>,
    /// Category code or name; its subcategories match too.
    pub category: Option<String>,
    /// Tenge, up to two decimals.
    pub budget_min: Option<f64>,
    /// Tenge, up to two decimals.
    pub budget_max: Option<f64>,
    /// Words to find in the title or description (Russian morphology).
    pub q: Option<String>,
}

impl RequestFilter {
    fn parse(&self, state: &AppState) -> Result<OpenFilter, ApiError> {
        let mut problems = FieldProblems::new();
        let (region_code, categories) =
            super::place_filter(&state.reference, self.region.as_deref(), self.category.as_deref(), &mut problems);
        let mut tiyn = |field, tenge: Option<f64>| {
            tenge.and_then(|t| problems.check(field, Tenge::from_number(t))).map(Tenge::tiyn)
        };
        let (budget_min, budget_max) = (tiyn("budget_min", self.budget_min), tiyn("budget_max", self.budget_max));
        if let (Some(min), Some(max)) = (budget_min, budget_max)
            && min > max
        {
            problems.add("budget_max", "must not be below budget_min");
        }
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        if text.as_ref().is_some_and(|q| q.chars().count() > 200) {
            problems.add("q", "must be at most 200 characters");
        }
        problems.finish()?;
        Ok(OpenFilter { region_code, categories, budget_min, budget_max, text })
    }
}

fn page_of(requests: Vec<Request>, page: &platform::pagination::PageRequest) -> Page<RequestView> {
    Page::from_rows(requests, page, |r| (r.created_at, r.id)).map(RequestView::from)
}

/// Buyers: their own requests. Masters: open requests, filterable.
#[utoipa::path(get, path = "/api/v2/requests", tag = "requests", params(RequestFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<RequestView>), (status = 400, body = platform::error::ErrorBody),
        (status = 401, body = platform::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<RequestFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.parse(&state)?;
    let page = page.parse()?;
    let requests = deals::list_requests(&state, &user, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(page_of(requests, &page)))
}

/// Buyers post a request; `request.created` tells masters of its region and categories.
#[utoipa::path(post, path = "/api/v2/requests", tag = "requests", request_body = RequestInput,
    security(("bearer" = [])),
    responses((status = 201, body = RequestView), (status = 400, body = platform::error::ErrorBody),
        (status = 403, body = platform::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<RequestInput>,
) -> Result<HttpResponse, ApiError> {
    let request = deals::create_request(&state, &user, &body).await?;
    Ok(HttpResponse::Created().json(RequestView::from(request)))
}

/// A request's details; counts one view per viewer per hour.
#[utoipa::path(get, path = "/api/v2/requests/{id}", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 404, body = platform::error::ErrorBody)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let request = deals::view_request(&state, &user, *id).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}

/// The owner edits an open request.
#[utoipa::path(patch, path = "/api/v2/requests/{id}", tag = "requests", request_body = RequestEdit,
    security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 400, body = platform::error::ErrorBody),
        (status = 403, body = platform::error::ErrorBody), (status = 404, body = platform::error::ErrorBody),
        (status = 409, body = platform::error::ErrorBody)))]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: web::Json<RequestEdit>,
) -> Result<HttpResponse, ApiError> {
    let request = deals::edit_request(&state, &user, *id, &body).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}

/// The owner closes an open request (it becomes cancelled).
#[utoipa::path(post, path = "/api/v2/requests/{id}/close", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403, body = platform::error::ErrorBody),
        (status = 404, body = platform::error::ErrorBody), (status = 409, body = platform::error::ErrorBody)))]
pub async fn close(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let request = deals::close_request(&state, &user, *id).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}

/// The owner reopens a cancelled or expired request for another period.
#[utoipa::path(post, path = "/api/v2/requests/{id}/reopen", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403, body = platform::error::ErrorBody),
        (status = 404, body = platform::error::ErrorBody), (status = 409, body = platform::error::ErrorBody)))]
pub async fn reopen(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let request = deals::reopen_request(&state, &user, *id).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}
