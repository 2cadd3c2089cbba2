//! `/api/v2/orders`: the deal after acceptance, and its review.

use crate::domain::ids::OrderId;
use crate::domain::order::{OrderAction, OrderStatus};
use crate::domain::review;
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

/// The actions of `POST /orders/{id}/{action}`: those that need no note (`request_revision`
/// has an operation of its own).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimpleOrderAction {
    Accept,
    Start,
    Finish,
    Confirm,
    Cancel,
}

impl From<SimpleOrderAction> for OrderAction {
    fn from(action: SimpleOrderAction) -> Self {
        match action {
            SimpleOrderAction::Accept => OrderAction::Accept,
            SimpleOrderAction::Start => OrderAction::Start,
            SimpleOrderAction::Finish => OrderAction::Finish,
            SimpleOrderAction::Confirm => OrderAction::Confirm,
            SimpleOrderAction::Cancel => OrderAction::Cancel,
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// Kept in the order's history.
    #[schema(schema_with = note)]
    pub note: Option<String>,
}

/// What the buyer wants changed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionBody {
    #[serde(default)]
    #[schema(schema_with = revision_note, required = true)]
    pub note: String,
}

fn note() -> utoipa::openapi::schema::Object {
    super::schema::nullable_text(0, review::MAX_TEXT_CHARS).build()
}

fn revision_note() -> utoipa::openapi::schema::Object {
    super::schema::text(1, review::MAX_TEXT_CHARS).description(Some("What needs to change: not blank.")).build()
}

fn review_text() -> utoipa::openapi::schema::Object {
    super::schema::text(0, review::MAX_TEXT_CHARS).build()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 5 stars.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i32,
    #[serde(default)]
    #[schema(schema_with = review_text)]
    pub text: String,
}

/// The caller's orders, as buyer or as master, newest first.
#[utoipa::path(get, path = "/api/v2/orders", tag = "orders", params(OrderFilter, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<OrderView>), (status = 400)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<OrderFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let orders = orders::list(&state, &user, filter.status, &page).await?;
    let page = Page::from_rows(orders, &page, |o| (o.created_at, o.id.get())).map(|o| OrderView::new(o, None));
    Ok(HttpResponse::Ok().json(page))
}

/// An order with its status history (its buyer, its master and admins only).
#[utoipa::path(get, path = "/api/v2/orders/{id}", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (order, history) = orders::view(&state, &user, OrderId(*id)).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(order, Some(history))))
}

/// Moves the order: `accept`, `start`, `finish` (master); `confirm`, `cancel` (buyer, before
/// work starts). 403 for the wrong side, 409 when the order's status does not allow it.
#[utoipa::path(post, path = "/api/v2/orders/{id}/{action}", tag = "orders", request_body = Option<ActionBody>,
    params(("id" = i64, Path), ("action" = SimpleOrderAction, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn act(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, SimpleOrderAction)>,
    body: super::OptionalJson<ActionBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let note = body.0.unwrap_or_default().note;
    let order = orders::act(&state, &user, OrderId(id), action.into(), note).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(order, None)))
}

/// The buyer asks for changes to finished work, saying what they are (409 unless the work is
/// finished).
#[utoipa::path(post, path = "/api/v2/orders/{id}/request_revision", tag = "orders", request_body = RevisionBody,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn request_revision(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<RevisionBody>,
) -> Result<HttpResponse, ApiError> {
    let note = Some(body.into_inner().note);
    let order = orders::act(&state, &user, OrderId(*id), OrderAction::RequestRevision, note).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(order, None)))
}

/// The buyer of a completed order reviews the master, once.
#[utoipa::path(post, path = "/api/v2/orders/{id}/review", tag = "orders", request_body = ReviewBody,
    security(("bearer" = [])),
    responses((status = 201, body = Review), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn review(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let review = orders::review(&state, &user, OrderId(*id), body.rating, &body.text).await?;
    Ok(HttpResponse::Created().json(review))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewFilter {
    pub master_id: i64,
}

/// A master's reviews, newest first (public).
#[utoipa::path(get, path = "/api/v2/reviews", tag = "orders", params(ReviewFilter, PageQuery),
    responses((status = 200, body = Page<Review>), (status = 400)))]
pub async fn reviews(
    state: web::Data<AppState>,
    filter: web::Query<ReviewFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let reviews = orders::reviews_of(&state, filter.master_id, &page).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(reviews, &page, |r| (r.created_at, r.id))))
}
