//! The feed and the video search: pages of ready videos, cached without their counters,
//! which are read fresh for every answer together with what the viewer may see.

use crate::domain::feed::FeedFilter;
use crate::http::view::VideoView;
use crate::state::AppState;
use crate::store::feed;
use diesel_async::AsyncPgConnection;
use platform::ApiError;
use platform::cache::JsonCache;
use platform::pagination::{Page, PageRequest};
use std::collections::HashMap;

/// A feed page for `viewer` (anonymous: `None`).
pub async fn page(
    state: &AppState,
    viewer: Option<i64>,
    filter: &FeedFilter,
    request: &PageRequest,
) -> Result<Page<VideoView>, ApiError> {
    let cache = JsonCache::new(state.redis.clone(), "media:feed", state.settings.feed_cache_secs);
    let mut conn = state.db.get().await?;
    let page = cache
        .get_or_load(&filter.page_key(request), async {
            let rows = feed::page(&mut conn, filter, request).await?;
            Ok::<_, ApiError>(Page::from_rows(rows, request, |v| (v.created_at, v.id)).map(|v| VideoView::of(&v)))
        })
        .await?;
    freshen_on(&mut conn, viewer, page).await
}

/// Videos matching `text`, best first.
pub async fn search(
    state: &AppState,
    viewer: Option<i64>,
    text: &str,
    request: &PageRequest,
) -> Result<Page<VideoView>, ApiError> {
    let words = platform::search::prefix_query(text);
    let mut conn = state.db.get().await?;
    let rows = feed::search(&mut conn, text.trim(), words.as_deref(), request).await?;
    freshen_on(&mut conn, viewer, Page::ranked(rows, request).map(|v| VideoView::of(&v))).await
}

/// Sets the counters to their current values and drops the videos that are gone (deleted)
/// or that the viewer may not see (a block between them and the author).
pub async fn freshen(
    state: &AppState,
    viewer: Option<i64>,
    page: Page<VideoView>,
) -> Result<Page<VideoView>, ApiError> {
    freshen_on(&mut *state.db.get().await?, viewer, page).await
}

async fn freshen_on(
    conn: &mut AsyncPgConnection,
    viewer: Option<i64>,
    mut page: Page<VideoView>,
) -> Result<Page<VideoView>, ApiError> {
    if page.items.is_empty() {
        return Ok(page);
    }
    let ids: Vec<i64> = page.items.iter().map(|v| v.id).collect();
    let counters: HashMap<i64, feed::Counters> =
        feed::visible_counters(conn, &ids, viewer.unwrap_or(0)).await?.into_iter().map(|c| (c.id, c)).collect();
    page.items.retain_mut(|video| match counters.get(&video.id) {
        Some(current) => {
            video.views_count = current.views_count;
            video.likes_count = current.likes_count;
            video.comments_count = current.comments_count;
            true
        }
        None => false,
    });
    Ok(page)
}
