//! Stories: an image, a video or a voice note with a caption, shown for 24 hours to the
//! author's followers (pinned ones stay on the profile); `story.created`, `story.expired`.

use crate::domain::container::{sniff, sniff_image};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use contracts::events::{StoryCreated, StoryExpired};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use object_store::path::Path as ObjectPath;
use platform::ApiError;
use platform::outbox;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const LIFETIME_HOURS: i64 = 24;
pub const MAX_STORY_BYTES: u64 = 50 * 1024 * 1024;

/// What a story's file is, by its bytes: its kind and extension.
pub fn kind_of(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if let Some((extension, _)) = sniff_image(head) {
        return Some(("image", extension));
    }
    if head.starts_with(b"OggS") {
        return Some(("voice", "ogg"));
    }
    if head.starts_with(b"ID3") || head.starts_with(&[0xFF, 0xFB]) {
        return Some(("voice", "mp3"));
    }
    if head.get(4..12) == Some(b"ftypM4A ".as_slice()) {
        return Some(("voice", "m4a"));
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
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoryView {
    #[serde(flatten)]
    pub story: Story,
    pub media_url: String,
}

impl From<Story> for StoryView {
    fn from(story: Story) -> Self {
        let media_url = crate::http::files::url(&story.media_path);
        Self { story, media_url }
    }
}

const COLUMNS: &str = "id, user_id, kind, media_path, caption, background_color, music, hashtags, location, is_pinned, expired, expires_at, created_at";

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

/// Active stories of the people `viewer` follows and the viewer's own, newest first.
pub async fn active(state: &AppState, viewer: i64) -> Result<Vec<StoryView>, ApiError> {
    let mut conn = state.db.get().await?;
    let stories: Vec<Story> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM stories
         WHERE NOT expired AND (user_id = $1 OR user_id IN (SELECT followee_id FROM follows WHERE follower_id = $1))
           AND user_id NOT IN (SELECT blocker_id FROM blocks WHERE blocked_id = $1)
         ORDER BY created_at DESC, id DESC LIMIT 500"
    ))
    .bind::<BigInt, _>(viewer)
    .load(&mut conn)
    .await?;
    Ok(stories.into_iter().map(StoryView::from).collect())
}

/// A story: active ones to anyone, expired ones only when pinned (on the profile) or to the author.
pub async fn find(state: &AppState, viewer: Option<i64>, id: i64) -> Result<StoryView, ApiError> {
    let mut conn = state.db.get().await?;
    let story: Vec<Story> = diesel::sql_query(format!("SELECT {COLUMNS} FROM stories WHERE id = $1"))
        .bind::<BigInt, _>(id)
        .load(&mut conn)
        .await?;
    let story = story.into_iter().next().ok_or_else(|| ApiError::not_found("no such story"))?;
    if story.expired && !story.is_pinned && viewer != Some(story.user_id) {
        return Err(ApiError::not_found("no such story"));
    }
    Ok(story.into())
}

/// Expires stories past their time, every `interval` (`story.expired` for each).
pub async fn expire(state: Arc<AppState>, interval: Duration, stop: CancellationToken) {
    loop {
        if let Err(error) = expire_once(&state).await {
            tracing::warn!(error = %format!("{error:#}"), "cannot expire stories yet");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return,
        }
    }
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
