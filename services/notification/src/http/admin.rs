//! Admins: dead letters (list, requeue), the delivery log, and development-mode recordings.

use crate::state::AppState;
use crate::store::deliveries::{self, Attempt, Delivery};
use crate::store::recorded::{self, RecordedMessage};
use actix_web::{HttpResponse, web};
use contracts::Role;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Deliveries that ran out of attempts or were refused, most recent first.
#[utoipa::path(get, path = "/api/v2/notifications/admin/dead-letters", tag = "admin", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Delivery>), (status = 400),
        (status = 403)))]
pub async fn dead_letters(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_role(&[Role::Admin])?;
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let rows = deliveries::dead_letters(&mut conn, &page).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |d| (d.updated_at, d.id))))
}

/// Puts a dead letter back in the queue with a fresh count of attempts (409 if it is not dead).
#[utoipa::path(post, path = "/api/v2/notifications/admin/dead-letters/{id}/requeue", tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, body = Delivery), (status = 403),
        (status = 404), (status = 409)))]
pub async fn requeue(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    user.require_role(&[Role::Admin])?;
    let mut conn = state.db.get().await?;
    match deliveries::requeue(&mut conn, *id).await? {
        Some(delivery) => {
            state.wake.notify_one();
            Ok(HttpResponse::Ok().json(delivery))
        }
        None if deliveries::exists(&mut conn, *id).await? => {
            Err(ApiError::conflict("not_dead", "only dead letters can be requeued"))
        }
        None => Err(ApiError::not_found("no such delivery")),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogFilter {
    pub user_id: Option<i64>,
    pub notification_id: Option<i64>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedDelivery {
    #[serde(flatten)]
    pub delivery: Delivery,
    /// Every attempt: outcome, provider id, error, latency.
    pub history: Vec<Attempt>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryLog {
    pub items: Vec<LoggedDelivery>,
}

/// The delivery log of a user or of a notification, newest first.
#[utoipa::path(get, path = "/api/v2/notifications/admin/deliveries", tag = "admin", params(LogFilter),
    security(("bearer" = [])),
    responses((status = 200, body = DeliveryLog), (status = 400),
        (status = 403)))]
pub async fn deliveries(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<LogFilter>,
) -> Result<HttpResponse, ApiError> {
    user.require_role(&[Role::Admin])?;
    let limit = filter.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation([("limit", "must be between 1 and 100".to_owned())]));
    }
    if filter.user_id.is_none() && filter.notification_id.is_none() {
        return Err(ApiError::validation([("user_id", "give user_id or notification_id".to_owned())]));
    }
    let mut conn = state.db.get().await?;
    let log = deliveries::log(&mut conn, filter.user_id, filter.notification_id, limit).await?;
    let items = log.into_iter().map(|(delivery, attempts)| LoggedDelivery { delivery, history: attempts }).collect();
    Ok(HttpResponse::Ok().json(DeliveryLog { items }))
}

/// Development mode: the messages recorded instead of sent, newest first.
#[utoipa::path(get, path = "/api/v2/notifications/admin/recorded", tag = "admin", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<RecordedMessage>), (status = 400),
        (status = 403)))]
pub async fn recorded(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_role(&[Role::Admin])?;
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let rows = recorded::list(&mut conn, &page).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |m| (m.created_at, m.id))))
}
