//! The feed and the video search: pages of ready videos, cached without their counters,
//! which are read fresh for every answer together with what the viewer may see.

use crate::domain::feed::FeedFilter;
use crate::http::view::VideoView;
use crate::state::AppState;
use crate::store::feed;
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
    let page = cache
        .get_or_load(&filter.page_key(request), async {
            let rows = feed::page(&mut *state.db.get().await?, filter, request).await?;
            Ok::<_, ApiError>(Page::from_rows(rows, request, |v| (v.created_at, v.id)).map(|v| VideoView::of(&v)))
        })
        .await?;
    freshen(state, viewer, page).await
}

/// Videos matching `text`, best first.
pub async fn search(
    state: &AppState,
    viewer: Option<i64>,
    text: &str,
    request: &PageRequest,
) -> Result<Page<VideoView>, ApiError> {
    let words = platform::search::prefix_query(text);
    let rows = feed::search(&mut *state.db.get().await?, text.trim(), words.as_deref(), request).await?;
    freshen(state, viewer, Page::ranked(rows, request).map(|v| VideoView::of(&v))).await
}

/// Sets the counters to their current values and drops the videos that are gone (deleted)
/// or that the viewer may not see (a block between them and the author).
pub async fn freshen(
    state: &AppState,
    viewer: Option<i64>,
    mut page: Page<VideoView>,
) -> Result<Page<VideoView>, ApiError> {
    if page.items.is_empty() {
        return Ok(page);
    }
    let ids: Vec<i64> = page.items.iter().map(|v| v.id).collect();
    let counters: HashMap<i64, feed::Counters> =
        feed::visible_counters(&mut *state.db.get().await?, &ids, viewer.unwrap_or(0))
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
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
