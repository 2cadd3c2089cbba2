//! Likes, comments, deletion of a video; stories.

use crate::social::{self, Comment, LikeState};
use crate::state::AppState;
use crate::storage::Scratch;
use crate::stories::{self, NewStory, StoryGroup, StoryView, StoryViewer, Viewed};
use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

/// Likes a video (idempotent).
#[utoipa::path(post, path = "/api/v2/videos/{id}/like", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LikeState)))]
pub async fn like(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(social::like(&state, user.id, *id, true).await?))
}

/// Takes a like back (idempotent).
#[utoipa::path(post, path = "/api/v2/videos/{id}/unlike", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LikeState)))]
pub async fn unlike(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(social::like(&state, user.id, *id, false).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewComment {
    #[schema(schema_with = comment_text)]
    pub text: String,
}

fn comment_text() -> utoipa::openapi::schema::Object {
    super::schema::text(1, social::MAX_COMMENT_CHARS).description(Some("Up to 1 000 characters, not blank.")).build()
}

/// Comments on a video.
#[utoipa::path(post, path = "/api/v2/videos/{id}/comments", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = NewComment, responses((status = 201, body = Comment), (status = 403)))]
pub async fn comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<NewComment>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(social::comment(&state, user.id, *id, &body.text).await?))
}

/// A video's comments, newest first.
#[utoipa::path(get, path = "/api/v2/videos/{id}/comments", tag = "videos", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<Comment>)))]
pub async fn comments(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    let viewer = user.map_or(0, |u| u.id);
    Ok(HttpResponse::Ok().json(social::comments(&state, viewer, *id, &page).await?))
}

/// Deletes a comment: its author, or the video's owner.
#[utoipa::path(delete, path = "/api/v2/videos/{id}/comments/{comment_id}", tag = "videos", security(("bearer" = [])),
    params(("id" = i64, Path), ("comment_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (video_id, comment_id) = path.into_inner();
    social::delete_comment(&state, user.id, video_id, comment_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the caller's video (its files go after the deletion commits).
#[utoipa::path(delete, path = "/api/v2/videos/{id}", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_video(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    social::delete_video(&state, user.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The story form (multipart/form-data), without other fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StoryForm {
    /// An image (jpeg, png, webp), a video (mp4, mov, avi, webm) or a voice note (ogg, mp3, m4a),
    /// recognised by its content; up to 50 MB.
    #[schema(value_type = String, format = Binary)]
    media: Vec<u8>,
    #[schema(schema_with = caption)]
    caption: Option<String>,
    #[schema(schema_with = story_text)]
    background_color: Option<String>,
    #[schema(schema_with = story_text)]
    music: Option<String>,
    #[schema(schema_with = super::schema::form_hashtags)]
    hashtags: Option<String>,
    #[schema(schema_with = story_text)]
    location: Option<String>,
    #[schema(schema_with = super::schema::form_flag)]
    is_pinned: Option<String>,
}

fn caption() -> utoipa::openapi::schema::Object {
    super::schema::text(0, stories::MAX_CAPTION_CHARS).build()
}

fn story_text() -> utoipa::openapi::schema::Object {
    super::schema::text(0, stories::MAX_TEXT_CHARS).build()
}

/// Posts a story (24 hours; pinned ones stay on the profile).
#[utoipa::path(post, path = "/api/v2/stories", tag = "stories", security(("bearer" = [])),
    request_body(content((StoryForm = "multipart/form-data", encoding(("media" = (content_type =
        "image/jpeg, image/png, image/webp, video/mp4, video/quicktime, video/x-msvideo, video/webm, audio/ogg, audio/mpeg, audio/mp4")))))),
    responses((status = 201, body = StoryView), (status = 415)))]
pub async fn create_story(
    state: web::Data<AppState>,
    user: AuthUser,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let mut story = NewStory::default();
    let scratch = Scratch(state.storage.scratch());
    let mut has_media = false;
    let mut problems = platform::error::FieldProblems::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(platform::http::form::error)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "media" {
            let mut out = tokio::fs::File::create(&scratch.0).await.map_err(ApiError::internal)?;
            let mut written = 0u64;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(platform::http::form::error)?;
                written += chunk.len() as u64;
                if written > stories::MAX_STORY_BYTES {
                    return Err(ApiError::new(
                        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "a story is at most 50 MB",
                    ));
                }
                out.write_all(&chunk).await.map_err(ApiError::internal)?;
            }
            out.flush().await.map_err(ApiError::internal)?;
            has_media = written > 0;
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(platform::http::form::error)?;
            // Enough for the longest text in any script (4 bytes a character).
            if bytes.len() + chunk.len() <= stories::MAX_TEXT_CHARS * 4 {
                bytes.extend_from_slice(&chunk);
            } else {
                problems.add("form", format!("{name} is too long"));
            }
        }
        let raw = String::from_utf8_lossy(&bytes);
        if raw.contains('\0') {
            problems.add("form", format!("{name} must not contain U+0000 (NUL)"));
        }
        let limit = if name == "caption" { stories::MAX_CAPTION_CHARS } else { stories::MAX_TEXT_CHARS };
        if raw.chars().count() > limit {
            problems.add("form", format!("{name} has more than {limit} characters"));
        }
        let value = raw.trim().to_owned();
        let optional = || Some(value.clone()).filter(|v| !v.is_empty());
        match name.as_str() {
            "caption" => story.caption = value,
            "background_color" => story.background_color = optional(),
            "music" => story.music = optional(),
            "location" => story.location = optional(),
            "hashtags" => {
                story.hashtags = problems.check("hashtags", crate::domain::video::hashtags(&value)).unwrap_or_default()
            }
            "is_pinned" => {
                story.is_pinned = problems.check("is_pinned", crate::domain::video::flag(&value)).unwrap_or_default()
            }
            _ => problems.add("form", format!("`{name}` is not a field of this form")),
        }
    }
    if !has_media {
        problems.add("media", "a multipart field named media is required");
    }
    problems.finish()?;
    let lifetime = chrono::Duration::seconds(state.settings.story_lifetime_secs as i64);
    let created = stories::create(&state, user.id, &scratch.0, story, lifetime).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Active stories of the people I follow and my own, grouped by author: mine first, then
/// authors with stories I have not seen, then the rest.
#[utoipa::path(get, path = "/api/v2/stories", tag = "stories", security(("bearer" = [])), responses((status = 200, body = [StoryGroup])))]
pub async fn stories(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stories::active(&state, user.id).await?))
}

/// A story.
#[utoipa::path(get, path = "/api/v2/stories/{id}", tag = "stories", params(("id" = i64, Path)),
    responses((status = 200, body = StoryView), (status = 404)))]
pub async fn story(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stories::find(&state, user.map(|u| u.id), *id).await?))
}

/// A user's profile stories: active ones and pinned ones.
#[utoipa::path(get, path = "/api/v2/stories/user/{user_id}", tag = "stories", params(("user_id" = i64, Path)),
    responses((status = 200, body = [StoryView])))]
pub async fn user_stories(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    user_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stories::of_user(&state, user.map(|u| u.id), *user_id).await?))
}

/// Marks a story as viewed by me (each viewer counts once; the author never).
#[utoipa::path(post, path = "/api/v2/stories/{id}/view", tag = "stories", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Viewed), (status = 404)))]
pub async fn view_story(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stories::view(&state, user.id, *id).await?))
}

/// Who viewed my story, latest first.
#[utoipa::path(get, path = "/api/v2/stories/{id}/viewers", tag = "stories", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<StoryViewer>), (status = 404)))]
pub async fn story_viewers(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(stories::viewers(&state, user.id, *id, &page).await?))
}

/// Likes a story (idempotent).
#[utoipa::path(post, path = "/api/v2/stories/{id}/like", tag = "stories", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LikeState), (status = 404)))]
pub async fn like_story(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stories::like(&state, user.id, *id, true).await?))
}

/// Takes back a like of a story (idempotent).
#[utoipa::path(post, path = "/api/v2/stories/{id}/unlike", tag = "stories", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LikeState), (status = 404)))]
pub async fn unlike_story(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stories::like(&state, user.id, *id, false).await?))
}
