//! The feed's and the search's queries, and the counters merged into cached pages.

use super::schema::{follows, videos};
use super::videos::Video;
use crate::domain::feed::FeedFilter;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Double, Text, Timestamptz};
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
            query = query.filter(
                sql::<Bool>("(videos.created_at, videos.id) < (")
                    .bind::<Timestamptz, _>(created_at)
                    .sql(", ")
                    .bind::<BigInt, _>(id)
                    .sql(")"),
            );
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

#[derive(Debug, QueryableByName)]
pub struct Counters {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub views_count: i64,
    #[diesel(sql_type = BigInt)]
    pub likes_count: i64,
    #[diesel(sql_type = BigInt)]
    pub comments_count: i64,
}

/// The current counters of those of `ids` that are still ready and that `viewer` may see (no
/// block between the viewer and the author, either way). Viewer 0 is anonymous.
pub async fn visible_counters(conn: &mut AsyncPgConnection, ids: &[i64], viewer: i64) -> QueryResult<Vec<Counters>> {
    diesel::sql_query(
        "SELECT id, views_count, likes_count, comments_count FROM videos v
         WHERE id = ANY($1) AND status = 'ready'
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $2 AND b.blocked_id = v.user_id)
                                                    OR (b.blocker_id = v.user_id AND b.blocked_id = $2))",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<BigInt, _>(viewer)
    .load(conn)
    .await
}
