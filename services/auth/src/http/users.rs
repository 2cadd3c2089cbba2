//! `/api/v2/users/*`: own profile, public profiles, avatar, blocks.

use crate::profiles::{self, MAX_AVATAR_BYTES, PublicProfile};
use crate::relations as relation_rules;
use crate::state::AppState;
use crate::store::profiles::ProfileChanges;
use crate::store::relations::{self, Related};
use crate::store::users::{self, User};
use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use contracts::Role;
use futures_util::StreamExt;
use platform::http::form;
use platform::http::openapi::double_option;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The caller's own profile, with contact details.
#[derive(Serialize, ToSchema)]
pub struct OwnProfile {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub region: Option<String>,
    pub experience_years: i32,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for OwnProfile {
    fn from(user: User) -> Self {
        Self {
            role: user.role,
            id: user.id,
            username: user.username,
            email: user.email,
            phone: user.phone,
            first_name: user.first_name,
            last_name: user.last_name,
            nickname: user.nickname,
            description: user.description,
            avatar_url: user.avatar_url,
            region: user.region,
            experience_years: user.experience_years,
            email_verified: user.email_verified_at.is_some(),
            phone_verified: user.phone_verified_at.is_some(),
            created_at: user.created_at,
        }
    }
}

/// Partial update: a missing field stays as it is, `null` clears it. Texts are trimmed; one that
/// is empty then clears the field too.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 32)]
    pub nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub region: Option<Option<String>>,
    /// Masters' years of experience, 0 to 80.
    #[schema(minimum = 0, maximum = 80)]
    pub experience_years: Option<i32>,
    /// Only `null` (remove the avatar); new avatars go through `POST /users/me/avatar`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = only_null)]
    pub avatar_url: Option<Option<String>>,
}

const MAX_EXPERIENCE_YEARS: i32 = 80;

fn only_null() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null).build()
}

impl UpdateProfile {
    fn into_changes(self) -> Result<ProfileChanges, ApiError> {
        let mut problems = Vec::new();
        // Spaces count towards the documented `maxLength`, though they are trimmed off.
        let mut check = |name: &'static str, value: Option<Option<String>>, max: usize| {
            if let Some(Some(text)) = &value
                && text.chars().count() > max
            {
                problems.push((name, format!("must be at most {max} characters")));
            }
            value.map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
        };
        let changes = ProfileChanges {
            first_name: check("first_name", self.first_name, 64),
            last_name: check("last_name", self.last_name, 64),
            nickname: check("nickname", self.nickname, 32),
            description: check("description", self.description, 1000),
            region: check("region", self.region, 64),
            avatar_url: None,
            experience_years: self.experience_years,
        };
        if self.experience_years.is_some_and(|years| !(0..=MAX_EXPERIENCE_YEARS).contains(&years)) {
            problems.push(("experience_years", format!("must be between 0 and {MAX_EXPERIENCE_YEARS}")));
        }
        if matches!(self.avatar_url, Some(Some(_))) {
            problems.push(("avatar_url", "upload avatars with POST /api/v2/users/me/avatar; only null clears".into()));
        }
        if problems.is_empty() {
            Ok(ProfileChanges { avatar_url: self.avatar_url.map(|_| None), ..changes })
        } else {
            Err(ApiError::validation(problems))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AvatarResponse {
    pub avatar_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct RelatedUser {
    pub id: i64,
    pub username: String,
    pub avatar_url: Option<String>,
    pub since: DateTime<Utc>,
}

impl From<Related> for RelatedUser {
    fn from(r: Related) -> Self {
        Self { id: r.id, username: r.username, avatar_url: r.avatar_url, since: r.since }
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v2/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = OwnProfile), (status = 401)))]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let profile = users::find(&mut conn, user.id).await?;
    Ok(HttpResponse::Ok().json(OwnProfile::from(profile)))
}

/// Changes the caller's profile.
#[utoipa::path(put, path = "/api/v2/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateProfile,
    responses((status = 200, body = OwnProfile), (status = 400),
        (status = 401)))]
pub async fn update_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<UpdateProfile>,
) -> Result<HttpResponse, ApiError> {
    let changes = body.into_inner().into_changes()?;
    let updated = profiles::update(&state, user.id, changes).await?;
    Ok(HttpResponse::Ok().json(OwnProfile::from(updated)))
}

/// The avatar form (multipart/form-data), without other fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AvatarForm {
    /// The image: JPEG, PNG, GIF or WebP, recognised by its content; at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    avatar: Vec<u8>,
}

/// Uploads a new avatar (multipart field `avatar`; JPEG, PNG, GIF or WebP; at most 5 MB).
#[utoipa::path(post, path = "/api/v2/users/me/avatar", tag = "users", security(("bearer" = [])),
    request_body(content((AvatarForm = "multipart/form-data",
        encoding(("avatar" = (content_type = "image/jpeg, image/png, image/gif, image/webp")))))),
    responses((status = 200, body = AvatarResponse), (status = 400),
        (status = 413), (status = 415)))]
pub async fn upload_avatar(
    state: web::Data<AppState>,
    user: AuthUser,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let Some(field) = form.next().await else {
        return Err(ApiError::validation([("avatar", "a multipart field named avatar is required".to_owned())]));
    };
    let unexpected = |name: Option<&str>| {
        let problem = format!("the form has one field, avatar; `{}` is not expected", name.unwrap_or_default());
        ApiError::validation([("form", problem)])
    };
    let mut field = field.map_err(form::error)?;
    if field.name() != Some("avatar") {
        return Err(unexpected(field.name()));
    }
    let image = form::read_field(&mut field, MAX_AVATAR_BYTES)
        .await?
        .ok_or_else(|| ApiError::payload_too_large("the avatar may be at most 5 MB"))?;
    // The form yields its next field only once this one is gone.
    drop(field);
    if let Some(extra) = form.next().await {
        return Err(unexpected(extra.map_err(form::error)?.name()));
    }
    let avatar_url = profiles::set_avatar(&state, user.id, image).await?;
    Ok(HttpResponse::Ok().json(AvatarResponse { avatar_url }))
}

/// A user's public profile: no e-mail or phone; masters show their statistics.
#[utoipa::path(get, path = "/api/v2/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = PublicProfile), (status = 404)))]
pub async fn public_profile(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(profiles::public_profile(&state, id.into_inner()).await?))
}

/// Blocks a user: no chats, calls or comments from them; follows between you end.
#[utoipa::path(post, path = "/api/v2/users/{id}/block", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404), (status = 422)))]
pub async fn block(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    relation_rules::block(&state, user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts a block.
#[utoipa::path(delete, path = "/api/v2/users/{id}/block", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn unblock(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    relation_rules::unblock(&state, user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whom the caller has blocked, newest first.
#[utoipa::path(get, path = "/api/v2/users/me/blocks", tag = "users", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<RelatedUser>)))]
pub async fn my_blocks(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let mut conn = state.db.get().await?;
    let rows = relations::blocked_by(&mut conn, user.id, &page).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |r| (r.since, r.id)).map(RelatedUser::from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documented(field: &str, bound: &str) -> i64 {
        let schema = serde_json::to_value(<UpdateProfile as utoipa::PartialSchema>::schema()).unwrap();
        schema["properties"][field][bound].as_i64().unwrap_or_else(|| panic!("{field} has no {bound}"))
    }

    fn changes(body: serde_json::Value) -> Result<ProfileChanges, ApiError> {
        serde_json::from_value::<UpdateProfile>(body).unwrap().into_changes()
    }

    #[test]
    fn texts_are_accepted_up_to_their_documented_length_spaces_included() {
        for field in ["first_name", "last_name", "nickname", "description", "region"] {
            let max = documented(field, "maxLength") as usize;
            assert!(changes(serde_json::json!({ field: "я".repeat(max) })).is_ok(), "{field}");
            assert!(changes(serde_json::json!({ field: format!(" {}", "я".repeat(max)) })).is_err(), "{field}");
        }
    }

    #[test]
    fn experience_is_accepted_within_its_documented_range() {
        let (min, max) = (documented("experience_years", "minimum"), documented("experience_years", "maximum"));
        for (years, ok) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            assert_eq!(changes(serde_json::json!({ "experience_years": years })).is_ok(), ok, "{years}");
        }
        assert!(changes(serde_json::json!({ "avatar_url": null })).is_ok());
        assert!(changes(serde_json::json!({ "avatar_url": "https://x.kz/a.png" })).is_err());
    }
}
