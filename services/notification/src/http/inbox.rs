//! The in-app list: `GET /notifications`, unread count, marking read.

use crate::domain::Kind;
use crate::domain::templates::{self, Lang};
use crate::http::language;
use crate::state::AppState;
use crate::store::notifications::{self, Notification};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A notification as its user sees it, in their language.
#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// new_request, new_proposal, order_status, chat_message, like …
    pub kind: String,
    pub title: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl NotificationView {
    pub fn new(notification: Notification, lang: Lang) -> Self {
        let kind = Kind::parse(&notification.kind).unwrap_or(Kind::Other);
        let words = templates::render(kind, &notification.data, lang);
        Self {
            id: notification.id,
            kind: notification.kind,
            title: words.title,
            body: words.text,
            data: notification.data,
            read: notification.read_at.is_some(),
            read_at: notification.read_at,
            created_at: notification.created_at,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
}

#[derive(Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Updated {
    pub updated: usize,
}

/// The caller's notifications, newest first (`Accept-Language: kk` for Kazakh).
#[utoipa::path(get, path = "/api/v2/notifications", tag = "notifications", params(ListFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<NotificationView>), (status = 400)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    filter: web::Query<ListFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let rows = notifications::list(&mut conn, user.id, filter.unread, &page).await?;
    let lang = language(&request);
    let page = Page::from_rows(rows, &page, |n| (n.created_at, n.id)).map(|n| NotificationView::new(n, lang));
    Ok(HttpResponse::Ok().json(page))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/api/v2/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount)))]
pub async fn unread_count(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let unread = notifications::unread_count(&mut conn, user.id).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { unread }))
}

/// Marks every notification of the caller read.
#[utoipa::path(post, path = "/api/v2/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Updated)))]
pub async fn read_all(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let updated = notifications::mark_all_read(&mut conn, user.id).await?;
    Ok(HttpResponse::Ok().json(Updated { updated }))
}

/// Marks one of the caller's notifications read (404 for anyone else's).
#[utoipa::path(post, path = "/api/v2/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationView), (status = 404)))]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let notification = notifications::mark_read(&mut conn, user.id, *id).await.map_err(|e| match e {
        diesel::result::Error::NotFound => ApiError::not_found("no such notification"),
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok().json(NotificationView::new(notification, language(&request))))
}
