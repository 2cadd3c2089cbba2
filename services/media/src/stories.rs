//! Stories: an image, a video or a voice note with a caption, shown for 24 hours to the
//! author's followers (pinned ones stay on the profile); `story.created`, `story.expired`.

use crate::domain::container::{sniff, sniff_image};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use contracts::events::{StoryCreated, StoryExpired};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use object_store::path::Path as ObjectPath;
use platform::ApiError;
use platform::outbox;
use serde::Serialize;
use std::path::Path;

pub const LIFETIME_HOURS: i64 = 24;
pub const MAX_STORY_BYTES: u64 = 50 * 1024 * 1024;
/// A caption's characters, spaces included.
pub const MAX_CAPTION_CHARS: usize = 500;
/// The other text fields' characters (background colour, music, location, hashtags).
pub const MAX_TEXT_CHARS: usize = 1000;

/// What a story's file is, by its bytes: its kind and extension.
pub fn kind_of(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if let Some((extension, _)) = sniff_image(head) {
        return Some(("image", extension));
    }
    if let Some((extension, _)) = platform::storage::sniff_audio(head) {
        return Some(("voice", extension));
    }
    sniff(head).ok().map(|container| ("video", container.extension()))
}

#[derive(Debug, Clone, Default)]
pub struct NewStory {
    pub caption: String,
    pub background_color: Option<String>,
    pub music: Option<String>,
    pub hashtags: Vec<String>,
    pub location: Option<String>,
    pub is_pinned: bool,
}

#[derive(Debug, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct Story {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    /// image, video or voice
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    #[serde(skip)]
    pub media_path: String,
    #[diesel(sql_type = Text)]
    pub caption: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub background_color: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub music: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    pub hashtags: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub location: Option<String>,
    #[diesel(sql_type = Bool)]
    pub is_pinned: bool,
    #[diesel(sql_type = Bool)]
    pub expired: bool,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Viewers other than the author, each once.
    #[diesel(sql_type = BigInt)]
    pub views_count: i64,
    #[diesel(sql_type = BigInt)]
    pub likes_count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoryView {
    #[serde(flatten)]
    pub story: Story,
    pub media_url: String,
    /// Whether the caller has viewed it (always true for the author).
    pub seen: bool,
}

impl From<Story> for StoryView {
    fn from(story: Story) -> Self {
        let media_url = crate::http::files::url(&story.media_path);
        Self { story, media_url, seen: false }
    }
}

/// One author's active stories, oldest first (the order they are played in).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoryGroup {
    pub author_id: i64,
    pub has_unseen: bool,
    pub stories: Vec<StoryView>,
}

/// Groups stories by author: the viewer's own first, then authors with unseen stories, then
/// the rest; among equals, the author of the newest story first.
pub fn group(viewer: i64, stories: Vec<StoryView>) -> Vec<StoryGroup> {
    let mut groups: Vec<StoryGroup> = Vec::new();
    for story in stories {
        match groups.iter_mut().find(|g| g.author_id == story.story.user_id) {
            Some(group) => group.stories.push(story),
            None => groups.push(StoryGroup { author_id: story.story.user_id, has_unseen: false, stories: vec![story] }),
        }
    }
    for group in &mut groups {
        group.stories.sort_by_key(|s| (s.story.created_at, s.story.id));
        group.has_unseen = group.stories.iter().any(|s| !s.seen);
    }
    let newest = |g: &StoryGroup| g.stories.last().map(|s| (s.story.created_at, s.story.id));
    groups.sort_by(|a, b| {
        (b.author_id == viewer, b.has_unseen, newest(b)).cmp(&(a.author_id == viewer, a.has_unseen, newest(a)))
    });
    groups
}

const COLUMNS: &str = "id, user_id, kind, media_path, caption, background_color, music, hashtags, location, is_pinned, expired, expires_at, created_at, views_count, likes_count";

/// The stories among `ids` that `viewer` has seen.
async fn seen_by(conn: &mut AsyncPgConnection, viewer: i64, ids: &[i64]) -> diesel::QueryResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Seen {
        #[diesel(sql_type = BigInt)]
        story_id: i64,
    }
    let seen: Vec<Seen> =
        diesel::sql_query("SELECT story_id FROM story_views WHERE viewer_id = $1 AND story_id = ANY($2)")
            .bind::<BigInt, _>(viewer)
            .bind::<Array<BigInt>, _>(ids)
            .load(conn)
            .await?;
    Ok(seen.into_iter().map(|s| s.story_id).collect())
}

/// `stories` as `viewer` sees them (which they have seen).
async fn views_for(conn: &mut AsyncPgConnection, viewer: i64, stories: Vec<Story>) -> Result<Vec<StoryView>, ApiError> {
    let ids: Vec<i64> = stories.iter().map(|s| s.id).collect();
    let seen = seen_by(conn, viewer, &ids).await?;
    Ok(stories
        .into_iter()
        .map(|story| {
            let seen = story.user_id == viewer || seen.contains(&story.id);
            StoryView { seen, ..StoryView::from(story) }
        })
        .collect())
}

/// A block between the viewer (`$1`) and the story's author (`s.user_id`), either way.
const BLOCKED: &str = "EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $1 AND b.blocked_id = s.user_id)
                                          OR (b.blocker_id = s.user_id AND b.blocked_id = $1))";

/// Makes a story of the staged `file` (moved into storage).
pub async fn create(
    state: &AppState,
    user_id: i64,
    file: &Path,
    story: NewStory,
    lifetime: chrono::Duration,
) -> Result<StoryView, ApiError> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    tokio::fs::File::open(file)
        .await
        .map_err(ApiError::internal)?
        .take(64)
        .read_to_end(&mut head)
        .await
        .map_err(ApiError::internal)?;
    let (kind, extension) = kind_of(&head).ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "a story is an image (jpeg, png, webp), a video (mp4, mov, avi, webm) or a voice note (ogg, mp3, m4a)",
        )
    })?;
    let mut conn = state.db.get().await?;
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query("SELECT nextval('stories_id_seq') AS id").get_result(&mut conn).await?;
    let path = ObjectPath::from(format!("stories/{}/media.{extension}", id.id));
    state.storage.commit(file, &path).await.map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let created = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let created: Story = diesel::sql_query(format!(
                "INSERT INTO stories (id, user_id, kind, media_path, caption, background_color, music, hashtags, location,
                                      is_pinned, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
            ))
            .bind::<BigInt, _>(id.id)
            .bind::<BigInt, _>(user_id)
            .bind::<Text, _>(kind)
            .bind::<Text, _>(path.as_ref())
            .bind::<Text, _>(&story.caption)
            .bind::<Nullable<Text>, _>(&story.background_color)
            .bind::<Nullable<Text>, _>(&story.music)
            .bind::<Array<Text>, _>(&story.hashtags)
            .bind::<Nullable<Text>, _>(&story.location)
            .bind::<Bool, _>(story.is_pinned)
            .bind::<Timestamptz, _>(Utc::now() + lifetime)
            .get_result(conn)
            .await?;
            outbox::publish(conn, StoryCreated { story_id: created.id, author_id: user_id, kind: kind.to_owned() }).await?;
            Ok(created)
        })
        .await;
    match created {
        Ok(story) => Ok(story.into()),
        Err(error) => {
            let _ = state.storage.delete_prefix(&ObjectPath::from(format!("stories/{}", id.id))).await;
            Err(error)
        }
    }
}

/// Active stories of the people `viewer` follows and the viewer's own, grouped by author.
pub async fn active(state: &AppState, viewer: i64) -> Result<Vec<StoryGroup>, ApiError> {
    let mut conn = state.db.get().await?;
    let stories: Vec<Story> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM stories s
         WHERE NOT expired AND (user_id = $1 OR user_id IN (SELECT followee_id FROM follows WHERE follower_id = $1))
           AND NOT {BLOCKED}
         ORDER BY created_at DESC, id DESC LIMIT 500"
    ))
    .bind::<BigInt, _>(viewer)
    .load(&mut conn)
    .await?;
    Ok(group(viewer, views_for(&mut conn, viewer, stories).await?))
}

/// A user's stories on their profile: the active ones and the pinned ones, newest first.
pub async fn of_user(state: &AppState, viewer: Option<i64>, user_id: i64) -> Result<Vec<StoryView>, ApiError> {
    let mut conn = state.db.get().await?;
    let viewer = viewer.unwrap_or(0);
    let stories: Vec<Story> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM stories s
         WHERE user_id = $2 AND (NOT expired OR is_pinned) AND NOT {BLOCKED}
         ORDER BY created_at DESC, id DESC LIMIT 200"
    ))
    .bind::<BigInt, _>(viewer)
    .bind::<BigInt, _>(user_id)
    .load(&mut conn)
    .await?;
    views_for(&mut conn, viewer, stories).await
}

/// The story `id` if `viewer` may see it now: active or pinned, no block between them.
async fn visible(conn: &mut AsyncPgConnection, viewer: i64, id: i64) -> Result<Story, ApiError> {
    let story: Vec<Story> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM stories s WHERE id = $2 AND (NOT expired OR is_pinned OR user_id = $1) AND NOT {BLOCKED}"
    ))
    .bind::<BigInt, _>(viewer)
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    story.into_iter().next().ok_or_else(|| ApiError::not_found("no such story"))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Viewed {
    pub views_count: i64,
}

/// Records that `viewer` saw the story; each viewer counts once, the author never.
pub async fn view(state: &AppState, viewer: i64, id: i64) -> Result<Viewed, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let story = visible(conn, viewer, id).await?;
        if story.user_id == viewer {
            return Ok(Viewed { views_count: story.views_count });
        }
        let added =
            diesel::sql_query("INSERT INTO story_views (story_id, viewer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(viewer)
                .execute(conn)
                .await?;
        let count: Count = diesel::sql_query(
            "UPDATE stories SET views_count = views_count + $2 WHERE id = $1 RETURNING views_count AS n",
        )
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(added as i64)
        .get_result(conn)
        .await?;
        Ok(Viewed { views_count: count.n })
    })
    .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct StoryViewer {
    #[diesel(sql_type = BigInt)]
    pub viewer_id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub viewed_at: DateTime<Utc>,
}

/// Who viewed the author's story, latest first; another user's story is 404.
pub async fn viewers(
    state: &AppState,
    author: i64,
    id: i64,
    page: &platform::pagination::PageRequest,
) -> Result<platform::pagination::Page<StoryViewer>, ApiError> {
    use platform::pagination::Page;
    let mut conn = state.db.get().await?;
    let own: Count = diesel::sql_query("SELECT count(*) AS n FROM stories WHERE id = $1 AND user_id = $2")
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(author)
        .get_result(&mut conn)
        .await?;
    if own.n == 0 {
        return Err(ApiError::not_found("no such story"));
    }
    let (after, last, offset) = page.keyset();
    let rows: Vec<StoryViewer> = diesel::sql_query(
        "SELECT viewer_id, viewed_at FROM story_views
         WHERE story_id = $1 AND ($2::timestamptz IS NULL OR (viewed_at, viewer_id) < ($2, $3))
         ORDER BY viewed_at DESC, viewer_id DESC LIMIT $4 OFFSET $5",
    )
    .bind::<BigInt, _>(id)
    .bind::<Nullable<Timestamptz>, _>(after)
    .bind::<BigInt, _>(last)
    .bind::<BigInt, _>(page.fetch())
    .bind::<BigInt, _>(offset)
    .load(&mut conn)
    .await?;
    Ok(Page::from_rows(rows, page, |v| (v.viewed_at, v.viewer_id)))
}

/// Likes (or takes back a like of) a story the user may see; once per user.
pub async fn like(state: &AppState, user_id: i64, id: i64, liked: bool) -> Result<crate::social::LikeState, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        visible(conn, user_id, id).await?;
        let changed = if liked {
            diesel::sql_query("INSERT INTO story_likes (story_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        } else {
            diesel::sql_query("DELETE FROM story_likes WHERE story_id = $1 AND user_id = $2")
        }
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(user_id)
        .execute(conn)
        .await? as i64;
        let count: Count = diesel::sql_query(
            "UPDATE stories SET likes_count = likes_count + $2 WHERE id = $1 RETURNING likes_count AS n",
        )
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(if liked { changed } else { -changed })
        .get_result(conn)
        .await?;
        Ok(crate::social::LikeState { liked, likes_count: count.n })
    })
    .await
}

/// A story: active ones to anyone, expired ones only when pinned (on the profile) or to the
/// author; never across a block.
pub async fn find(state: &AppState, viewer: Option<i64>, id: i64) -> Result<StoryView, ApiError> {
    let mut conn = state.db.get().await?;
    let viewer = viewer.unwrap_or(0);
    let story = visible(&mut conn, viewer, id).await?;
    let views = views_for(&mut conn, viewer, vec![story]).await?;
    views.into_iter().next().ok_or_else(|| ApiError::not_found("no such story"))
}

pub async fn expire_once(state: &AppState) -> anyhow::Result<usize> {
    let mut conn = state.db.get().await?;
    let expired = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            #[derive(QueryableByName)]
            struct Expired {
                #[diesel(sql_type = BigInt)]
                id: i64,
                #[diesel(sql_type = BigInt)]
                user_id: i64,
            }
            let expired: Vec<Expired> = diesel::sql_query(
                "UPDATE stories SET expired = TRUE WHERE id IN (
                    SELECT id FROM stories WHERE NOT expired AND expires_at < now() ORDER BY expires_at LIMIT 500
                    FOR UPDATE SKIP LOCKED) RETURNING id, user_id",
            )
            .load(conn)
            .await?;
            for story in &expired {
                outbox::publish(conn, StoryExpired { story_id: story.id, author_id: story.user_id }).await?;
            }
            Ok(expired.len())
        })
        .await?;
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn story(id: i64, user_id: i64, minute: u32, seen: bool) -> StoryView {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 12, minute, 0).unwrap();
        let story = Story {
            id,
            user_id,
            kind: "image".into(),
            media_path: format!("stories/{id}/media.png"),
            caption: String::new(),
            background_color: None,
            music: None,
            hashtags: vec![],
            location: None,
            is_pinned: false,
            expired: false,
            expires_at: at,
            created_at: at,
            views_count: 0,
            likes_count: 0,
        };
        StoryView { story, media_url: String::new(), seen }
    }

    #[test]
    fn own_stories_first_then_unseen_authors_then_seen_ones_newest_first() {
        let stories = vec![
            story(1, 10, 1, true),
            story(2, 20, 2, false),
            story(3, 30, 5, true),
            story(4, 20, 3, true),
            story(5, 7, 0, true),
            story(6, 40, 4, false),
        ];
        let groups = group(7, stories);
        let order: Vec<i64> = groups.iter().map(|g| g.author_id).collect();
        assert_eq!(order, [7, 40, 20, 30, 10]);
        let twenty = &groups[2];
        assert!(twenty.has_unseen);
        assert_eq!(twenty.stories.iter().map(|s| s.story.id).collect::<Vec<_>>(), [2, 4]);
    }
}
