//! `GET /videos/feed` and `GET /search/videos`.

use super::view::VideoView;
use crate::domain::feed::{FeedFilter, FilterError};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// One hashtag (letters, digits and `_`, up to 50), with or without `#`; empty: none.
    #[param(pattern = r"^(#?\w{1,50})?$")]
    pub hashtag: Option<String>,
    /// Only this author's videos.
    #[param(minimum = 1)]
    pub user_id: Option<i64>,
    /// Only authors I follow (signed in).
    pub following: Option<bool>,
    /// Only videos with a price.
    pub products: Option<bool>,
}

/// Ready videos, newest first: pages are cached for a few minutes, counters are current, and
/// videos of people who blocked me or whom I blocked are never shown (a page may then hold
/// fewer items than the limit; `next_cursor` says whether more follow).
#[utoipa::path(get, path = "/api/v2/videos/feed", tag = "videos", params(FeedQuery, PageQuery),
    responses((status = 200, body = Page<VideoView>), (status = 401),
              (status = 400)))]
pub async fn feed(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    query: web::Query<FeedQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.map(|u| u.id);
    let filter = FeedFilter::parse(
        query.hashtag.as_deref(),
        query.user_id,
        query.following.unwrap_or(false),
        query.products.unwrap_or(false),
        viewer,
    )
    .map_err(|error| match error {
        FilterError::Field(field, problem) => ApiError::validation([(field, problem)]),
        FilterError::SignInRequired => {
            ApiError::unauthorized("unauthorized", "sign in to see the videos of people you follow")
        }
    })?;
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(crate::feed::page(&state, viewer, &filter, &page).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words of the title, description or hashtags (Russian and Kazakh; typos tolerated).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// Searches ready videos, best match first (newest first without words).
#[utoipa::path(get, path = "/api/v2/search/videos", tag = "videos", params(SearchQuery, PageQuery),
    responses((status = 200, body = Page<VideoView>), (status = 400)))]
pub async fn search(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    query: web::Query<SearchQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let text = query.q.as_deref().unwrap_or_default();
    if text.chars().count() > 200 {
        return Err(ApiError::validation([("q", "at most 200 characters".to_owned())]));
    }
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(crate::feed::search(&state, user.map(|u| u.id), text, &page).await?))
}
