//! A video's details (cached; counters fresh) and its owner's edits.

use crate::domain::video::{VideoEdit, VideoStatus};
use crate::http::view::VideoView;
use crate::state::AppState;
use crate::store::videos::{self, Video};
use diesel_async::AsyncConnection;
use platform::ApiError;
use platform::cache::JsonCache;
use platform::error::FieldProblems;
use platform::pagination::Page;

fn cache(state: &AppState) -> JsonCache {
    JsonCache::new(state.redis.clone(), "media:video", state.settings.video_cache_secs)
}

/// Why a video's details are not cached.
enum Uncached {
    NotReady(Box<Video>),
    Failed(ApiError),
}

/// A video as `viewer` may see it: its owner in every status, others once it is ready and
/// when no block stands between them.
pub async fn details(state: &AppState, viewer: Option<i64>, id: i64) -> Result<VideoView, ApiError> {
    let found = cache(state)
        .get_or_load(&id.to_string(), async {
            let mut conn = state.db.get().await.map_err(|e| Uncached::Failed(e.into()))?;
            match videos::find(&mut conn, id).await.map_err(|e| Uncached::Failed(e.into()))? {
                Some(video) if video.status() == VideoStatus::Ready => Ok(VideoView::of(&video)),
                Some(video) => Err(Uncached::NotReady(Box::new(video))),
                None => Err(Uncached::Failed(ApiError::not_found("no such video"))),
            }
        })
        .await;
    match found {
        Ok(view) => {
            let page = crate::feed::freshen(state, viewer, Page { items: vec![view], next_cursor: None }).await?;
            page.items.into_iter().next().ok_or_else(|| ApiError::not_found("no such video"))
        }
        Err(Uncached::NotReady(video)) if viewer == Some(video.user_id) => Ok(VideoView::of(&video)),
        Err(Uncached::NotReady(_)) => Err(ApiError::not_found("no such video")),
        Err(Uncached::Failed(error)) => Err(error),
    }
}

/// Applies the owner's `edit`; another user's video is 404 and stays as it was.
pub async fn edit(state: &AppState, user_id: i64, id: i64, edit: &VideoEdit) -> Result<VideoView, ApiError> {
    let mut conn = state.db.get().await?;
    let video = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let video = videos::find_own_for_update(conn, id, user_id)
                .await?
                .ok_or_else(|| ApiError::not_found("no such video"))?;
            let mut problems = FieldProblems::new();
            let fields = video.fields().edited(edit, &mut problems);
            problems.finish()?;
            match fields {
                Some(fields) if fields != video.fields() => Ok(videos::update_fields(conn, id, &fields).await?),
                _ => Ok(video),
            }
        })
        .await?;
    cache(state).forget([id]).await;
    Ok(VideoView::of(&video))
}
