//! The feed's and the search's queries, and the counters merged into cached pages.

use super::schema::{blocks, follows, videos};
use super::videos::Video;
use crate::domain::feed::FeedFilter;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};

/// A page of ready videos matching `filter`, newest first (one more than the limit).
pub async fn page(conn: &mut AsyncPgConnection, filter: &FeedFilter, page: &PageRequest) -> QueryResult<Vec<Video>> {
    let mut query = videos::table.filter(videos::status.eq("ready")).select(Video::as_select()).into_boxed();
    if let Some(tag) = &filter.hashtag {
        query = query.filter(videos::hashtags.contains(vec![tag.clone()]));
    }
    if let Some(user_id) = filter.user_id {
        query = query.filter(videos::user_id.eq(user_id));
    }
    if filter.products {
        query = query.filter(videos::price_minor.is_not_null());
    }
    if let Some(viewer) = filter.following_of {
        let followed = follows::table.filter(follows::follower_id.eq(viewer)).select(follows::followee_id);
        query = query.filter(videos::user_id.eq_any(followed));
    }
    let offset = match page.start {
        Start::After { created_at, id } => {
            // `(created_at, id) < (t, id)`, spelled without SQL text so that the statement is
            // prepared once per connection (diesel never caches statements holding SQL text).
            query = query
                .filter(videos::created_at.le(created_at).and(videos::created_at.lt(created_at).or(videos::id.lt(id))));
            0
        }
        Start::Offset(offset) => offset,
        Start::First => 0,
    };
    query.order((videos::created_at.desc(), videos::id.desc())).limit(page.fetch()).offset(offset).load(conn).await
}

/// Ready videos whose title, description, hashtags or product description match `text`
/// (stems by prefix, or trigrams for typos), best first; newest first without a text.
pub async fn search(
    conn: &mut AsyncPgConnection,
    text: &str,
    words: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<Video>> {
    let mut query = videos::table.filter(videos::status.eq("ready")).select(Video::as_select()).into_boxed();
    if let Some(words) = words {
        query = query
            .filter(
                sql::<Bool>("(search_document @@ to_tsquery('russian', ")
                    .bind::<Text, _>(words.to_owned())
                    .sql(") OR ")
                    .bind::<Text, _>(text.to_owned())
                    .sql(" <% search_text)"),
            )
            .order(
                sql::<Double>("(ts_rank(search_document, to_tsquery('russian', ")
                    .bind::<Text, _>(words.to_owned())
                    .sql(")) + word_similarity(")
                    .bind::<Text, _>(text.to_owned())
                    .sql(", search_text))::float8")
                    .desc(),
            )
            .then_order_by((videos::created_at.desc(), videos::id.desc()));
    } else {
        query = query.order((videos::created_at.desc(), videos::id.desc()));
    }
    query.limit(page.fetch()).offset(page.offset()).load(conn).await
}

#[derive(Debug, Queryable)]
pub struct Counters {
    pub id: i64,
    pub views_count: i64,
    pub likes_count: i64,
    pub comments_count: i64,
}

/// The current counters of those of `ids` that are still ready and that `viewer` may see (no
/// block between the viewer and the author, either way). Viewer 0 is anonymous.
pub async fn visible_counters(conn: &mut AsyncPgConnection, ids: &[i64], viewer: i64) -> QueryResult<Vec<Counters>> {
    let blocked_by_viewer = blocks::table.filter(blocks::blocker_id.eq(viewer)).select(blocks::blocked_id);
    let blocking_viewer = blocks::table.filter(blocks::blocked_id.eq(viewer)).select(blocks::blocker_id);
    videos::table
        .filter(videos::id.eq_any(ids))
        .filter(videos::status.eq("ready"))
        .filter(videos::user_id.ne_all(blocked_by_viewer))
        .filter(videos::user_id.ne_all(blocking_viewer))
        .select((videos::id, videos::views_count, videos::likes_count, videos::comments_count))
        .load(conn)
        .await
}
