//! `/api/v2/subscriptions/*`: follow and unfollow masters (or anybody), list follows.

use crate::http::users::RelatedUser;
use crate::relations as relation_rules;
use crate::state::AppState;
use crate::store::{profiles, relations};
use actix_web::{HttpResponse, web};
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Follows a user (idempotent).
#[utoipa::path(post, path = "/api/v2/subscriptions/{user_id}", tag = "subscriptions", security(("bearer" = [])),
    params(("user_id" = i64, Path)), responses((status = 204), (status = 403),
        (status = 404), (status = 422)))]
pub async fn follow(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    relation_rules::follow(&state, user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stops following a user (idempotent).
#[utoipa::path(delete, path = "/api/v2/subscriptions/{user_id}", tag = "subscriptions", security(("bearer" = [])),
    params(("user_id" = i64, Path)), responses((status = 204)))]
pub async fn unfollow(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    relation_rules::unfollow(&state, user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Whom I follow.
    #[default]
    Following,
    /// Who follows me.
    Followers,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    #[serde(default)]
    pub list: Direction,
}

#[derive(Serialize, ToSchema)]
pub struct Follows {
    pub items: Vec<RelatedUser>,
    pub next_cursor: Option<String>,
    pub following_count: i64,
    pub followers_count: i64,
}

/// Whom the caller follows (`?list=following`, default) or who follows them (`?list=followers`).
#[utoipa::path(get, path = "/api/v2/subscriptions/my", tag = "subscriptions", security(("bearer" = [])),
    params(ListQuery, PageQuery), responses((status = 200, body = Follows)))]
pub async fn mine(
    state: web::Data<AppState>,
    user: AuthUser,
    list: web::Query<ListQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let rows = match list.list {
        Direction::Following => relations::following(&mut conn, user.id, &page).await?,
        Direction::Followers => relations::followers(&mut conn, user.id, &page).await?,
    };
    let (followers_count, following_count) = profiles::follow_counts(&mut conn, user.id).await?;
    let page = Page::from_rows(rows, &page, |r| (r.since, r.id)).map(RelatedUser::from);
    Ok(HttpResponse::Ok().json(Follows {
        items: page.items,
        next_cursor: page.next_cursor,
        following_count,
        followers_count,
    }))
}
