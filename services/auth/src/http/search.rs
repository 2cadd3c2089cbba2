//! `/api/v2/search/users`: people by username or name, typo-tolerant, Cyrillic included.

use crate::state::AppState;
use crate::store::profiles;
use actix_web::{HttpResponse, web};
use contracts::Role;
use platform::ApiError;
use platform::pagination::{Page, PageQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest query, spaces included.
const MAX_QUERY_CHARS: usize = 100;
/// Shorter queries (spaces around not counted) find nobody.
const MIN_QUERY_CHARS: usize = 2;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// What to look for; fewer than 2 characters (spaces around not counted) find nobody.
    #[param(max_length = 100)]
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
    responses((status = 200, body = Page<UserHit>), (status = 400)))]
pub async fn users(
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    if query.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::validation([("q", format!("must be at most {MAX_QUERY_CHARS} characters"))]));
    }
    let text = query.q.trim();
    let page = page.parse()?;
    let hits = if text.chars().count() < MIN_QUERY_CHARS {
        Vec::new()
    } else {
        let mut conn = state.db.get().await?;
        profiles::search(&mut conn, text, page.fetch(), page.offset()).await?
    };
    let page = Page::ranked(hits, &page).map(|hit| UserHit {
        role: hit.role,
        id: hit.id,
        username: hit.username,
        first_name: hit.first_name,
        last_name: hit.last_name,
        avatar_url: hit.avatar_url,
        score: hit.score,
    });
    Ok(HttpResponse::Ok().json(page))
}
