//! `/api/v2/orders`: the deal after acceptance, and its review.

use crate::domain::order::{OrderAction, OrderStatus};
use crate::orders;
use crate::state::AppState;
use crate::store::orders::{Order, StatusChange};
use crate::store::reviews::Review;
use actix_web::{HttpResponse, web};
use platform::money::Tenge;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An order, with its status history in the order details.
#[derive(Serialize, ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: Order,
    pub price: Tenge,
    /// Every status change, oldest first (order details only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<StatusChange>>,
}

impl OrderView {
    pub fn new(order: Order, history: Option<Vec<StatusChange>>) -> Self {
        Self { price: Tenge::from_tiyn(order.price), order, history }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// Required when asking for a revision.
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 5 stars.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i32,
    #[serde(default)]
    pub text: String,
}

/// The caller's orders, as buyer or as master, newest first.
#[utoipa::path(get, path = "/api/v2/orders", tag = "orders", params(OrderFilter, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<OrderView>), (status = 400, body = platform::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<OrderFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let orders = orders::list(&state, &user, filter.status, &page).await?;
    let page = Page::from_rows(orders, &page, |o| (o.created_at, o.id)).map(|o| OrderView::new(o, None));
    Ok(HttpResponse::Ok().json(page))
}

/// An order with its status history (its buyer, its master and admins only).
#[utoipa::path(get, path = "/api/v2/orders/{id}", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = platform::error::ErrorBody)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (order, history) = orders::view(&state, &user, *id).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(order, Some(history))))
}

/// Moves the order: `accept`, `start`, `finish` (master); `confirm`, `request_revision`
/// (with a note), `cancel` (buyer, before work starts). 403 for the wrong side, 409 when the
/// order's status does not allow it.
#[utoipa::path(post, path = "/api/v2/orders/{id}/{action}", tag = "orders", request_body = Option<ActionBody>,
    params(("id" = i64, Path), ("action" = OrderAction, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 400, body = platform::error::ErrorBody),
        (status = 403, body = platform::error::ErrorBody), (status = 404, body = platform::error::ErrorBody),
        (status = 409, body = platform::error::ErrorBody)))]
pub async fn act(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, OrderAction)>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let note = body.map(|b| b.into_inner()).unwrap_or_default().note;
    let order = orders::act(&state, &user, id, action, note).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(order, None)))
}

/// The buyer of a completed order reviews the master, once.
#[utoipa::path(post, path = "/api/v2/orders/{id}/review", tag = "orders", request_body = ReviewBody,
    security(("bearer" = [])),
    responses((status = 201, body = Review), (status = 400, body = platform::error::ErrorBody),
        (status = 403, body = platform::error::ErrorBody), (status = 404, body = platform::error::ErrorBody),
        (status = 409, body = platform::error::ErrorBody)))]
pub async fn review(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let review = orders::review(&state, &user, *id, body.rating, &body.text).await?;
    Ok(HttpResponse::Created().json(review))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewFilter {
    pub master_id: i64,
}

/// A master's reviews, newest first (public).
#[utoipa::path(get, path = "/api/v2/reviews", tag = "orders", params(ReviewFilter, PageQuery),
    responses((status = 200, body = Page<Review>), (status = 400, body = platform::error::ErrorBody)))]
pub async fn reviews(
    state: web::Data<AppState>,
    filter: web::Query<ReviewFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let reviews = orders::reviews_of(&state, filter.master_id, &page).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(reviews, &page, |r| (r.created_at, r.id))))
}
