//! `GET/POST /notifications/settings`: channels per kind, quiet hours, time zone, digest.

use crate::domain::kind::channels_for;
use crate::domain::quiet::{QuietHours, time_zone};
use crate::domain::{Channel, Kind};
use crate::state::AppState;
use crate::store::settings::{self, UserSettings};
use actix_web::{HttpResponse, web};
use diesel_async::AsyncConnection;
use platform::error::FieldProblems;
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Whether each channel is on, for one kind of notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSwitches {
    pub push: bool,
    pub sms: bool,
    pub email: bool,
    pub in_app: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursBody {
    /// Local time `HH:MM` when push, SMS and e-mail start to wait.
    #[schema(example = "22:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start: String,
    /// Local time `HH:MM` when they are released.
    #[schema(example = "08:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end: String,
}

/// An IANA time zone name: the document lists every one the service knows.
fn time_zone_schema() -> utoipa::openapi::schema::Object {
    time_zones(false)
}

/// A change of time zone: a name, or `null` (or left out) for no change.
fn time_zone_change_schema() -> utoipa::openapi::schema::Object {
    time_zones(true)
}

fn time_zones(nullable: bool) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let names = chrono_tz::TZ_VARIANTS.iter().map(|zone| serde_json::Value::from(zone.name()));
    let (kind, values): (SchemaType, Vec<serde_json::Value>) = if nullable {
        (SchemaType::from_iter([Type::String, Type::Null]), names.chain([serde_json::Value::Null]).collect())
    } else {
        (SchemaType::Type(Type::String), names.collect())
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .enum_values(Some(values))
        .description(Some("IANA name; Asia/Almaty unless chosen."))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    #[schema(schema_with = time_zone_schema)]
    pub time_zone: String,
    pub quiet_hours: Option<QuietHoursBody>,
    /// Likes and new followers gathered into a periodic digest instead of one message each.
    pub digest: bool,
    /// Per kind of notification (verification codes are always sent and not listed).
    pub channels: BTreeMap<String, ChannelSwitches>,
}

impl SettingsView {
    fn new(user: &UserSettings) -> Self {
        let channels = Kind::configurable()
            .map(|kind| {
                let on = channels_for(kind, &[], |c| user.choice(kind, c));
                let switches = ChannelSwitches {
                    push: on.contains(&Channel::Push),
                    sms: on.contains(&Channel::Sms),
                    email: on.contains(&Channel::Email),
                    in_app: on.contains(&Channel::InApp),
                };
                (kind.as_str().to_owned(), switches)
            })
            .collect();
        Self {
            time_zone: user.time_zone.clone(),
            quiet_hours: user
                .quiet_hours
                .map(|q| QuietHoursBody { start: QuietHours::format(q.start), end: QuietHours::format(q.end) }),
            digest: user.digest,
            channels,
        }
    }
}

/// A partial update: fields left out stay as they are; `"quiet_hours": null` turns them off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    #[schema(schema_with = time_zone_change_schema)]
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "platform::http::openapi::double_option")]
    #[schema(value_type = Option<QuietHoursBody>)]
    pub quiet_hours: Option<Option<QuietHoursBody>>,
    pub digest: Option<bool>,
    /// `{"like": {"push": false}}`: kinds and channels to switch.
    #[schema(value_type = Option<Object>)]
    pub channels: Option<BTreeMap<String, BTreeMap<String, bool>>>,
}

/// Checks an update and applies it to `user`; the channel choices it makes.
fn apply(update: &SettingsUpdate, user: &mut UserSettings) -> Result<Vec<(Kind, Channel, bool)>, ApiError> {
    let mut problems = FieldProblems::new();
    if let Some(zone) = &update.time_zone
        && problems.check("time_zone", time_zone(zone)).is_some()
    {
        user.time_zone = zone.clone();
    }
    match &update.quiet_hours {
        Some(Some(body)) => {
            user.quiet_hours = problems.check("quiet_hours", QuietHours::parse(&body.start, &body.end));
        }
        Some(None) => user.quiet_hours = None,
        None => {}
    }
    if let Some(digest) = update.digest {
        user.digest = digest;
    }
    let mut choices = Vec::new();
    for (kind_name, switches) in update.channels.iter().flatten() {
        let kind = match Kind::parse(kind_name) {
            Some(kind) if kind.is_security() => {
                problems.add("channels", format!("{kind_name}: security messages are always sent"));
                continue;
            }
            Some(kind) => kind,
            None => {
                problems.add("channels", format!("{kind_name:?} is not a kind of notification"));
                continue;
            }
        };
        for (channel_name, &on) in switches {
            match Channel::parse(channel_name) {
                Some(channel) => choices.push((kind, channel, on)),
                None => {
                    problems.add("channels", format!("{channel_name:?} is not a channel (push, sms, email, in_app)"))
                }
            }
        }
    }
    problems.finish()?;
    Ok(choices)
}

/// The caller's delivery settings.
#[utoipa::path(get, path = "/api/v2/notifications/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SettingsView)))]
pub async fn show(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let settings = settings::load(&mut conn, user.id).await?;
    Ok(HttpResponse::Ok().json(SettingsView::new(&settings)))
}

/// Changes the caller's settings; held messages are looked at again at once (released if
/// the new quiet hours no longer cover this moment).
#[utoipa::path(post, path = "/api/v2/notifications/settings", tag = "settings", request_body = SettingsUpdate,
    security(("bearer" = [])),
    responses((status = 200, body = SettingsView), (status = 400)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<SettingsUpdate>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.get().await?;
    let mut current = settings::load(&mut conn, user.id).await?;
    let choices = apply(&body, &mut current)?;
    let saved = conn
        .transaction::<_, ApiError, _>(async |conn| {
            settings::save(conn, user.id, &current).await?;
            settings::choose(conn, user.id, &choices).await?;
            settings::release_held(conn, user.id).await?;
            Ok(settings::load(conn, user.id).await?)
        })
        .await?;
    state.wake.notify_one();
    Ok(HttpResponse::Ok().json(SettingsView::new(&saved)))
}
