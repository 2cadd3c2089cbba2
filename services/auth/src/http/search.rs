//! `/api/v2/search/users`: people by username or name, typo-tolerant, Cyrillic included.

use crate::state::AppState;
use crate::store::profiles;
use actix_web::{HttpResponse, web};
use contracts::Role;
use platform::ApiError;
use platform::pagination::{Page, PageQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// What to look for (at least 2 characters).
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserHit {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    /// 0 to 1; higher is closer.
    pub score: f64,
}

/// Users by username or name, best matches first.
#[utoipa::path(get, path = "/api/v2/search/users", tag = "search", params(SearchQuery, PageQuery),
    responses((status = 200, body = Page<UserHit>), (status = 400, body = platform::error::ErrorBody)))]
pub async fn users(
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let text = query.q.trim();
    if text.chars().count() < 2 || text.chars().count() > 100 {
        return Err(ApiError::validation([("q", "must be 2 to 100 characters".to_owned())]));
    }
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let hits = profiles::search(&mut conn, text, page.fetch(), page.offset()).await?;
    let page = Page::ranked(hits, &page).map(|hit| UserHit {
        role: hit.role.parse().unwrap_or(Role::Buyer),
        id: hit.id,
        username: hit.username,
        first_name: hit.first_name,
        last_name: hit.last_name,
        avatar_url: hit.avatar_url,
        score: hit.score,
    });
    Ok(HttpResponse::Ok().json(page))
}
