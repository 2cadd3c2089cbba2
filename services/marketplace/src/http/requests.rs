//! `/api/v2/requests`: buyers' requests and masters' feed of open ones.

use super::Place;
use crate::domain::ids::RequestId;
use crate::domain::request::RequestStatus;
use crate::requests::{self, RequestEdit, RequestInput};
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
    pub id: RequestId,
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
            status: request.status,
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

/// Filters of the masters' feed (a buyer's own list ignores them). A region or category the
/// reference data does not know, or a `budget_min` above `budget_max`, matches nothing.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestFilter {
    /// Region code or name (`/regions`); one that is not known matches nothing.
    pub region: Option<String>,
    /// Category code or name (`/categories`); its subcategories match too; one that is not known
    /// matches nothing.
    pub category: Option<String>,
    /// Tenge, up to two decimals.
    #[param(minimum = 0.0, maximum = 1e10, multiple_of = 0.01)]
    pub budget_min: Option<f64>,
    /// Tenge, up to two decimals; below `budget_min` it matches nothing.
    #[param(minimum = 0.0, maximum = 1e10, multiple_of = 0.01)]
    pub budget_max: Option<f64>,
    /// Words to find in the title or description (Russian morphology).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

const MAX_QUERY_CHARS: usize = 200;

impl RequestFilter {
    /// The filter, `None` when it matches nothing.
    fn parse(&self, state: &AppState) -> Result<Option<OpenFilter>, ApiError> {
        let mut problems = FieldProblems::new();
        let mut tiyn = |field, tenge: Option<f64>| {
            let amount = tenge.map(Tenge::from_number).transpose().and_then(|amount| match amount {
                Some(amount) if amount.tiyn() < 0 => Err("must not be negative".to_owned()),
                amount => Ok(amount.map(Tenge::tiyn)),
            });
            problems.check(field, amount).flatten()
        };
        let (budget_min, budget_max) = (tiyn("budget_min", self.budget_min), tiyn("budget_max", self.budget_max));
        if self.q.as_ref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            problems.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        problems.finish()?;
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        let place = Place::of(&state.reference, self.region.as_deref(), self.category.as_deref());
        let budgets_meet = budget_min.zip(budget_max).is_none_or(|(min, max)| min <= max);
        Ok(place.filter(|_| budgets_meet).map(|place| OpenFilter {
            region_code: place.region_code,
            categories: place.categories,
            budget_min,
            budget_max,
            text,
        }))
    }
}

fn page_of(requests: Vec<Request>, page: &platform::pagination::PageRequest) -> Page<RequestView> {
    Page::from_rows(requests, page, |r| (r.created_at, r.id.get())).map(RequestView::from)
}

/// Buyers: their own requests. Masters: open requests, filterable.
#[utoipa::path(get, path = "/api/v2/requests", tag = "requests", params(RequestFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<RequestView>), (status = 400),
        (status = 401)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<RequestFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.parse(&state)?;
    let page = page.parse()?;
    let requests = requests::list(&state, &user, filter.as_ref(), &page).await?;
    Ok(HttpResponse::Ok().json(page_of(requests, &page)))
}

/// Buyers post a request; `request.created` tells masters of its region and categories.
#[utoipa::path(post, path = "/api/v2/requests", tag = "requests", request_body = RequestInput,
    security(("bearer" = [])),
    responses((status = 201, body = RequestView), (status = 400),
        (status = 403)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<RequestInput>,
) -> Result<HttpResponse, ApiError> {
    let request = requests::create(&state, &user, &body).await?;
    Ok(HttpResponse::Created().json(RequestView::from(request)))
}

/// A request's details; counts one view per viewer per hour.
#[utoipa::path(get, path = "/api/v2/requests/{id}", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 404)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let request = requests::view(&state, &user, RequestId(*id)).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}

/// The owner edits an open request.
#[utoipa::path(patch, path = "/api/v2/requests/{id}", tag = "requests", request_body = RequestEdit,
    security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<RequestEdit>,
) -> Result<HttpResponse, ApiError> {
    let request = requests::edit(&state, &user, RequestId(*id), &body).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}

/// The owner closes an open request (it becomes cancelled).
#[utoipa::path(post, path = "/api/v2/requests/{id}/close", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403),
        (status = 404), (status = 409)))]
pub async fn close(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let request = requests::close(&state, &user, RequestId(*id)).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}

/// The owner reopens a cancelled or expired request for another period.
#[utoipa::path(post, path = "/api/v2/requests/{id}/reopen", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403),
        (status = 404), (status = 409)))]
pub async fn reopen(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let request = requests::reopen(&state, &user, RequestId(*id)).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(request)))
}
