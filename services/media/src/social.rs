//! What people do with videos: likes, comments (and their deletion), exactly-counted views,
//! deletion of a video; the follows and blocks projected from auth's events.

use crate::state::AppState;
use chrono::{DateTime, Utc};
use contracts::events::{VideoCommented, VideoDeleted, VideoLiked, VideoUnliked, VideoViewed};
use contracts::{Envelope, Payload};
use deadpool_redis::redis;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::ApiError;
use platform::consumer::EventHandler;
use platform::outbox;
use serde::Serialize;

pub const MAX_COMMENT_CHARS: usize = 1000;

#[derive(QueryableByName)]
struct Author {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
}

/// The author of a ready video, or 404.
async fn ready_author(conn: &mut AsyncPgConnection, video_id: i64) -> Result<i64, ApiError> {
    let author: Option<Author> = diesel::sql_query("SELECT user_id FROM videos WHERE id = $1 AND status = 'ready'")
        .bind::<BigInt, _>(video_id)
        .get_result(conn)
        .await
        .optional_row()?;
    author.map(|a| a.user_id).ok_or_else(|| ApiError::not_found("no such video"))
}

trait OptionalRow<T> {
    fn optional_row(self) -> diesel::QueryResult<Option<T>>;
}

impl<T> OptionalRow<T> for diesel::QueryResult<T> {
    fn optional_row(self) -> diesel::QueryResult<Option<T>> {
        match self {
            Ok(row) => Ok(Some(row)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[derive(QueryableByName)]
struct Counter {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LikeState {
    pub liked: bool,
    pub likes_count: i64,
}

/// Likes a video once (a second like changes nothing); the counter moves with the like.
pub async fn like(state: &AppState, user_id: i64, video_id: i64, liked: bool) -> Result<LikeState, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let author = ready_author(conn, video_id).await?;
        let changed = if liked {
            diesel::sql_query("INSERT INTO video_likes (video_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        } else {
            diesel::sql_query("DELETE FROM video_likes WHERE video_id = $1 AND user_id = $2")
        }
        .bind::<BigInt, _>(video_id)
        .bind::<BigInt, _>(user_id)
        .execute(conn)
        .await?;
        let step = if liked { 1 } else { -1 };
        let count: Counter = diesel::sql_query(
            "UPDATE videos SET likes_count = likes_count + $2 WHERE id = $1 RETURNING likes_count AS n",
        )
        .bind::<BigInt, _>(video_id)
        .bind::<BigInt, _>(if changed == 1 { step } else { 0 })
        .get_result(conn)
        .await?;
        if changed == 1 {
            if liked {
                outbox::publish(conn, VideoLiked { video_id, author_id: author, user_id }).await?;
            } else {
                outbox::publish(conn, VideoUnliked { video_id, author_id: author, user_id }).await?;
            }
        }
        Ok(LikeState { liked, likes_count: count.n })
    })
    .await
}

#[derive(Debug, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct Comment {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub video_id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Text)]
    pub text: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Comments on a ready video; nobody comments on the video of someone who blocked them (or
/// whom they blocked).
pub async fn comment(state: &AppState, user_id: i64, video_id: i64, text: &str) -> Result<Comment, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::validation([("text", format!("1 to {MAX_COMMENT_CHARS} characters"))]));
    }
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let author = ready_author(conn, video_id).await?;
        let blocked: Counter = diesel::sql_query(
            "SELECT count(*) AS n FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)",
        )
        .bind::<BigInt, _>(author)
        .bind::<BigInt, _>(user_id)
        .get_result(conn)
        .await?;
        if blocked.n > 0 {
            return Err(ApiError::forbidden("you cannot comment on this video"));
        }
        let comment: Comment = diesel::sql_query(
            "INSERT INTO comments (video_id, user_id, text) VALUES ($1, $2, $3)
             RETURNING id, video_id, user_id, text, created_at",
        )
        .bind::<BigInt, _>(video_id)
        .bind::<BigInt, _>(user_id)
        .bind::<Text, _>(text)
        .get_result(conn)
        .await?;
        diesel::sql_query("UPDATE videos SET comments_count = comments_count + 1 WHERE id = $1")
            .bind::<BigInt, _>(video_id)
            .execute(conn)
            .await?;
        outbox::publish(conn, VideoCommented { video_id, author_id: author, comment_id: comment.id, commenter_id: user_id })
            .await?;
        Ok(comment)
    })
    .await
}

/// A page of a ready video's comments, newest first, without those of people who blocked the
/// viewer or whom the viewer blocked (viewer 0: anonymous).
pub async fn comments(
    state: &AppState,
    viewer: i64,
    video_id: i64,
    page: &platform::pagination::PageRequest,
) -> Result<platform::pagination::Page<Comment>, ApiError> {
    let mut conn = state.db.get().await?;
    ready_author(&mut conn, video_id).await?;
    let (after, id, offset) = page.keyset();
    let rows: Vec<Comment> = diesel::sql_query(
        "SELECT id, video_id, user_id, text, created_at FROM comments
         WHERE video_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $6 AND b.blocked_id = comments.user_id)
                                                    OR (b.blocker_id = comments.user_id AND b.blocked_id = $6))
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5",
    )
    .bind::<BigInt, _>(video_id)
    .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(after)
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(page.fetch())
    .bind::<BigInt, _>(offset)
    .bind::<BigInt, _>(viewer)
    .load(&mut conn)
    .await?;
    Ok(platform::pagination::Page::from_rows(rows, page, |c| (c.created_at, c.id)))
}

/// Deletes a comment: its author may, and so may the video's owner.
pub async fn delete_comment(state: &AppState, user_id: i64, video_id: i64, comment_id: i64) -> Result<(), ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = BigInt)]
            commenter: i64,
            #[diesel(sql_type = BigInt)]
            owner: i64,
        }
        let found: Option<Found> = diesel::sql_query(
            "SELECT c.user_id AS commenter, v.user_id AS owner FROM comments c JOIN videos v ON v.id = c.video_id
             WHERE c.id = $1 AND c.video_id = $2 FOR UPDATE OF c",
        )
        .bind::<BigInt, _>(comment_id)
        .bind::<BigInt, _>(video_id)
        .get_result(conn)
        .await
        .optional_row()?;
        let found = found.ok_or_else(|| ApiError::not_found("no such comment"))?;
        if user_id != found.commenter && user_id != found.owner {
            return Err(ApiError::forbidden("only its author or the video's owner deletes a comment"));
        }
        diesel::sql_query("DELETE FROM comments WHERE id = $1").bind::<BigInt, _>(comment_id).execute(conn).await?;
        diesel::sql_query("UPDATE videos SET comments_count = comments_count - 1 WHERE id = $1")
            .bind::<BigInt, _>(video_id)
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// Deletes the owner's video; its files are removed by a job once the deletion has committed.
pub async fn delete_video(state: &AppState, user_id: i64, video_id: i64) -> Result<(), ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let deleted = diesel::sql_query("DELETE FROM videos WHERE id = $1 AND user_id = $2")
            .bind::<BigInt, _>(video_id)
            .bind::<BigInt, _>(user_id)
            .execute(conn)
            .await?;
        if deleted == 0 {
            return Err(ApiError::not_found("no such video"));
        }
        diesel::sql_query("INSERT INTO file_deletions (prefix) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind::<Text, _>(format!("videos/{video_id}"))
            .execute(conn)
            .await?;
        outbox::publish(conn, VideoDeleted { video_id, author_id: user_id }).await?;
        Ok(())
    })
    .await
}

#[derive(QueryableByName)]
struct Prefix {
    #[diesel(sql_type = Text)]
    prefix: String,
}

/// Removes the files of deleted videos (their deletion has committed).
pub async fn remove_deleted_once(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.db.get().await?;
    let pending: Vec<Prefix> =
        diesel::sql_query("SELECT prefix FROM file_deletions ORDER BY created_at LIMIT 100").load(&mut conn).await?;
    for Prefix { prefix } in pending {
        state.storage.delete_prefix(&object_store::path::Path::from(prefix.as_str())).await?;
        diesel::sql_query("DELETE FROM file_deletions WHERE prefix = $1")
            .bind::<Text, _>(&prefix)
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// Marks the viewer as having seen the video for an hour and, if they had not, adds the view
/// to the pending counts: one step, so that no view is marked without being counted.
const COUNT_VIEW: &str = "if redis.call('SET', KEYS[1], 1, 'NX', 'EX', 3600) then
  return redis.call('HINCRBY', KEYS[2], ARGV[1], 1) end
return 0";

/// Counts a view of `video_id` by `viewer` (a user id or a client key), once per hour.
pub async fn count_view(state: &AppState, video_id: i64, viewer: &str) -> Result<(), ApiError> {
    let redis = &state.redis;
    let mut conn = redis.get().await?;
    let _: i64 = redis::Script::new(COUNT_VIEW)
        .key(redis.key(&format!("media:viewed:{video_id}:{viewer}")))
        .key(redis.key("media:views:pending"))
        .arg(video_id)
        .invoke_async(&mut conn)
        .await?;
    Ok(())
}

/// Moves the pending counts into a batch of their own (atomically) and lists the batches.
const SEAL: &str = "if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2] .. ARGV[1]); redis.call('SADD', KEYS[3], ARGV[1]) end
return redis.call('SMEMBERS', KEYS[3])";

/// Flushes buffered view counts. A batch is applied with its id in one transaction and
/// forgotten in Redis afterwards, so a flusher that dies anywhere in between neither loses nor
/// doubles a view: the next one applies the batch or skips it.
pub async fn flush_views_once(state: &AppState) -> anyhow::Result<()> {
    for batch in seal_views(state).await? {
        apply_views(state, &batch).await?;
        forget_views(state, &batch).await?;
    }
    Ok(())
}

/// Moves the pending counts into a new batch; answers every batch not yet forgotten (those
/// of flushers that died are among them).
pub async fn seal_views(state: &AppState) -> anyhow::Result<Vec<String>> {
    let redis = &state.redis;
    let batches: Vec<String> = redis::Script::new(SEAL)
        .key(redis.key("media:views:pending"))
        .key(redis.key("media:views:batch:"))
        .key(redis.key("media:views:batches"))
        .arg(uuid::Uuid::now_v7().to_string())
        .invoke_async(&mut redis.get().await?)
        .await?;
    Ok(batches)
}

/// Adds a batch's counts to the videos, once: the batch's id is recorded in the same
/// transaction, and a batch already recorded is skipped.
pub async fn apply_views(state: &AppState, batch: &str) -> anyhow::Result<()> {
    let counts: std::collections::HashMap<i64, i64> = redis::cmd("HGETALL")
        .arg(state.redis.key(&format!("media:views:batch:{batch}")))
        .query_async(&mut state.redis.get().await?)
        .await?;
    let (ids, views): (Vec<i64>, Vec<i64>) = counts.into_iter().unzip();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let fresh = diesel::sql_query("INSERT INTO view_flushes (id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind::<Text, _>(batch)
            .execute(conn)
            .await?;
        if fresh == 0 {
            return Ok(());
        }
        #[derive(QueryableByName)]
        struct Viewed {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = BigInt)]
            user_id: i64,
            #[diesel(sql_type = BigInt)]
            views: i64,
        }
        let viewed: Vec<Viewed> = diesel::sql_query(
            "UPDATE videos v SET views_count = v.views_count + c.views FROM unnest($1, $2) AS c(id, views)
             WHERE v.id = c.id RETURNING v.id, v.user_id, c.views",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<BigInt>, _>(&views)
        .load(conn)
        .await?;
        for video in viewed {
            outbox::publish(conn, VideoViewed { video_id: video.id, author_id: video.user_id, views: video.views })
                .await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Forgets an applied batch.
pub async fn forget_views(state: &AppState, batch: &str) -> anyhow::Result<()> {
    let redis = &state.redis;
    let _: () = redis::pipe()
        .cmd("DEL")
        .arg(redis.key(&format!("media:views:batch:{batch}")))
        .cmd("SREM")
        .arg(redis.key("media:views:batches"))
        .arg(batch)
        .query_async(&mut redis.get().await?)
        .await?;
    Ok(())
}

/// Follows and blocks from auth's events (`media.social`).
pub struct SocialHandler;

pub const SOCIAL_CONSUMER: &str = "social";

impl EventHandler for SocialHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        let (sql, a, b) = match &event.payload {
            Some(Payload::SubscriptionCreated(e)) => (
                "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                e.follower_id,
                e.followee_id,
            ),
            Some(Payload::SubscriptionDeleted(e)) => {
                ("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2", e.follower_id, e.followee_id)
            }
            Some(Payload::UserBlocked(e)) => (
                "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                e.blocker_id,
                e.blocked_id,
            ),
            Some(Payload::UserUnblocked(e)) => {
                ("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2", e.blocker_id, e.blocked_id)
            }
            _ => return Ok(()),
        };
        diesel::sql_query(sql).bind::<BigInt, _>(a).bind::<BigInt, _>(b).execute(conn).await?;
        Ok(())
    }
}
