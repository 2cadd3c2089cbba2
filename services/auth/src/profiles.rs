//! Public profiles (cached in Redis for 10 minutes, dropped from the cache on every change),
//! profile edits and avatars.

use crate::accounts::profile_event;
use crate::state::AppState;
use crate::store::profiles::{self, ProfileChanges};
use crate::store::users::{self, User};
use contracts::Role;
use contracts::events::UserUpdated;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::ApiError;
use platform::outbox;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MAX_AVATAR_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MasterStats {
    pub experience_years: i32,
    pub rating: f64,
    pub review_count: i32,
    pub completed_orders: i32,
}

/// What anybody may see of a user: never the e-mail address or phone number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicProfile {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub region: Option<String>,
    pub followers_count: i64,
    pub following_count: i64,
    /// Present for masters.
    pub master: Option<MasterStats>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn cache(state: &AppState) -> platform::cache::JsonCache {
    platform::cache::JsonCache::new(state.redis.clone(), "auth:profile", state.settings.profile_cache_secs)
}

pub async fn forget(state: &AppState, ids: &[i64]) {
    cache(state).forget(ids).await;
}

async fn load(conn: &mut AsyncPgConnection, id: i64) -> Result<PublicProfile, ApiError> {
    let user = users::find(conn, id).await.map_err(|e| match e {
        diesel::result::Error::NotFound => ApiError::not_found("no such user"),
        other => other.into(),
    })?;
    let (followers_count, following_count) = profiles::follow_counts(conn, id).await?;
    let role = user.role;
    Ok(PublicProfile {
        master: (role == Role::Master).then_some(MasterStats {
            experience_years: user.experience_years,
            rating: user.rating,
            review_count: user.review_count,
            completed_orders: user.completed_orders,
        }),
        id: user.id,
        username: user.username,
        role,
        first_name: user.first_name,
        last_name: user.last_name,
        nickname: user.nickname,
        description: user.description,
        avatar_url: user.avatar_url,
        region: user.region,
        followers_count,
        following_count,
        created_at: user.created_at,
    })
}

/// A public profile, from the cache when it is there. A cache outage only costs speed.
pub async fn public_profile(state: &AppState, id: i64) -> Result<PublicProfile, ApiError> {
    cache(state).get_or_load(&id.to_string(), async { load(&mut *state.db.get().await?, id).await }).await
}

/// Applies `changes` and publishes `user.updated` in the same transaction.
#[tracing::instrument(skip(state, changes))]
pub async fn update(state: &AppState, id: i64, changes: ProfileChanges) -> Result<User, ApiError> {
    let mut conn = state.db.get().await?;
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let user = profiles::update(conn, id, &changes).await?;
            let changed_fields = changes.changed_fields();
            if !changed_fields.is_empty() {
                let event = UserUpdated { user: Some(profile_event(&user)), changed_fields };
                outbox::publish(conn, event).await?;
            }
            Ok(user)
        })
        .await?;
    forget(state, &[id]).await;
    Ok(user)
}

/// The image kinds accepted as avatars, recognised by their first bytes.
pub fn image_extension(bytes: &[u8]) -> Option<&'static str> {
    let gif = || matches!(bytes, [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..]).then_some("gif");
    platform::storage::sniff_image(bytes).map(|(extension, _)| extension).or_else(gif)
}

/// Stores an avatar image and points the profile at it.
#[tracing::instrument(skip(state, image), fields(bytes = image.len()))]
pub async fn set_avatar(state: &AppState, id: i64, image: bytes::Bytes) -> Result<String, ApiError> {
    let extension = image_extension(&image).ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the avatar must be a JPEG, PNG, GIF or WebP image",
        )
    })?;
    let path = object_store::path::Path::from(format!("avatars/{id}/{}.{extension}", uuid::Uuid::now_v7()));
    object_store::ObjectStoreExt::put(state.storage.as_ref(), &path, image.into()).await.map_err(ApiError::internal)?;
    let url = platform::storage::public_url(&state.storage_settings, &path);
    update(state, id, ProfileChanges { avatar_url: Some(Some(url.clone())), ..Default::default() }).await?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::image_extension;

    #[test]
    fn images_are_recognised_by_content() {
        assert_eq!(image_extension(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("jpg"));
        assert_eq!(image_extension(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(image_extension(b"GIF89a...."), Some("gif"));
        assert_eq!(image_extension(b"RIFF\x10\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(image_extension(b"<svg xmlns=..."), None);
        assert_eq!(image_extension(b"MZ\x90\0 pretending.png"), None);
        assert_eq!(image_extension(b""), None);
    }
}
