use super::schema::videos;
use crate::domain::video::{VideoFields, VideoStatus};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = videos)]
pub struct Video {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub description: String,
    pub hashtags: Vec<String>,
    pub price_minor: Option<i64>,
    pub product_description: Option<String>,
    pub is_ad: bool,
    pub status: String,
    pub failure_reason: Option<String>,
    pub attempts: i32,
    pub original_path: String,
    pub container: String,
    pub size_bytes: i64,
    pub cover_path: Option<String>,
    pub duration_ms: Option<i64>,
    pub codec: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub fps: Option<f64>,
    pub bitrate: Option<i64>,
    pub thumbnails: Vec<String>,
    pub hls_path: Option<String>,
    pub renditions: Vec<String>,
    pub processed_at: Option<DateTime<Utc>>,
    pub views_count: i64,
    pub likes_count: i64,
    pub comments_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Video {
    pub fn status(&self) -> VideoStatus {
        VideoStatus::parse(&self.status).unwrap_or(VideoStatus::Failed)
    }

    pub fn fields(&self) -> VideoFields {
        VideoFields {
            title: self.title.clone(),
            description: self.description.clone(),
            hashtags: self.hashtags.clone(),
            price_minor: self.price_minor,
            product_description: self.product_description.clone(),
            is_ad: self.is_ad,
        }
    }
}

/// What ffprobe says about a file.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset, Insertable)]
#[diesel(table_name = videos)]
pub struct Facts {
    pub duration_ms: Option<i64>,
    pub codec: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub fps: Option<f64>,
    pub bitrate: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = videos)]
pub struct NewVideo {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub description: String,
    pub hashtags: Vec<String>,
    pub price_minor: Option<i64>,
    pub product_description: Option<String>,
    pub is_ad: bool,
    pub original_path: String,
    pub container: String,
    pub size_bytes: i64,
    pub cover_path: Option<String>,
    #[diesel(embed)]
    pub facts: Facts,
}

impl NewVideo {
    pub fn new(id: i64, user_id: i64, fields: VideoFields) -> Self {
        Self {
            id,
            user_id,
            title: fields.title,
            description: fields.description,
            hashtags: fields.hashtags,
            price_minor: fields.price_minor,
            product_description: fields.product_description,
            is_ad: fields.is_ad,
            original_path: String::new(),
            container: String::new(),
            size_bytes: 0,
            cover_path: None,
            facts: Facts::default(),
        }
    }
}

/// The next video id (taken before the row exists, so that its files can be named after it).
pub async fn next_id(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('videos_id_seq')")).get_result(conn).await
}

pub async fn insert(conn: &mut AsyncPgConnection, video: &NewVideo) -> QueryResult<Video> {
    diesel::insert_into(videos::table).values(video).returning(Video::as_returning()).get_result(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Video>> {
    videos::table.find(id).select(Video::as_select()).first(conn).await.optional()
}

/// The owner's video; `None` when it is not theirs or gone.
pub async fn find_own(conn: &mut AsyncPgConnection, id: i64, user_id: i64) -> QueryResult<Option<Video>> {
    videos::table.find(id).filter(videos::user_id.eq(user_id)).select(Video::as_select()).first(conn).await.optional()
}

/// The owner's video, locked for an edit; `None` when it is not theirs or gone.
pub async fn find_own_for_update(conn: &mut AsyncPgConnection, id: i64, user_id: i64) -> QueryResult<Option<Video>> {
    videos::table
        .find(id)
        .filter(videos::user_id.eq(user_id))
        .select(Video::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn update_fields(conn: &mut AsyncPgConnection, id: i64, fields: &VideoFields) -> QueryResult<Video> {
    diesel::update(videos::table.find(id))
        .set((
            videos::title.eq(&fields.title),
            videos::description.eq(&fields.description),
            videos::hashtags.eq(&fields.hashtags),
            videos::price_minor.eq(fields.price_minor),
            videos::product_description.eq(&fields.product_description),
            videos::is_ad.eq(fields.is_ad),
            videos::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Video::as_returning())
        .get_result(conn)
        .await
}

/// Takes the video for processing (again, after a crash or a redelivery): counts the attempt.
/// `None` when it is already ready or failed (nothing to do) or gone.
pub async fn claim(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Video>> {
    diesel::update(videos::table.find(id))
        .filter(videos::status.eq_any([VideoStatus::Uploaded.as_str(), VideoStatus::Processing.as_str()]))
        .set((
            videos::status.eq(VideoStatus::Processing.as_str()),
            videos::attempts.eq(videos::attempts + 1),
            videos::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Video::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// What the worker made of the video.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = videos)]
pub struct Outputs {
    pub thumbnails: Vec<String>,
    pub hls_path: Option<String>,
    pub renditions: Vec<String>,
    #[diesel(embed)]
    pub facts: Facts,
}

/// processing → ready; `false` when the video was not processing (someone else finished it).
pub async fn mark_ready(conn: &mut AsyncPgConnection, id: i64, outputs: &Outputs) -> QueryResult<bool> {
    let changed = diesel::update(videos::table.find(id))
        .filter(videos::status.eq(VideoStatus::Processing.as_str()))
        .set((
            outputs,
            videos::status.eq(VideoStatus::Ready.as_str()),
            videos::failure_reason.eq(None::<String>),
            videos::processed_at.eq(diesel::dsl::now),
            videos::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// uploaded | processing → failed with `reason`; `false` when it was neither.
pub async fn mark_failed(conn: &mut AsyncPgConnection, id: i64, reason: &str) -> QueryResult<bool> {
    let changed = diesel::update(videos::table.find(id))
        .filter(videos::status.eq_any([VideoStatus::Uploaded.as_str(), VideoStatus::Processing.as_str()]))
        .set((
            videos::status.eq(VideoStatus::Failed.as_str()),
            videos::failure_reason.eq(reason),
            videos::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Videos waiting for the worker since before `before` (their job may have been lost).
pub async fn waiting_since(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Video>> {
    videos::table
        .filter(videos::status.eq_any([VideoStatus::Uploaded.as_str(), VideoStatus::Processing.as_str()]))
        .filter(videos::updated_at.lt(before))
        .order(videos::updated_at)
        .limit(limit)
        .select(Video::as_select())
        .load(conn)
        .await
}

/// Marks a waiting video as seen by the sweep (so that it is re-queued once per interval).
pub async fn touch(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(videos::table.find(id)).set(videos::updated_at.eq(diesel::dsl::now)).execute(conn).await.map(drop)
}

pub async fn count_by_status(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    videos::table.group_by(videos::status).select((videos::status, diesel::dsl::count_star())).load(conn).await
}
