//! A user's delivery settings: time zone, quiet hours, digest, and choices per kind × channel.

use super::schema::{deliveries, preferences, settings};
use crate::domain::quiet::{DEFAULT_TIME_ZONE, QuietHours};
use crate::domain::{Channel, Kind};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Everything a user chose (defaults where nothing was chosen).
#[derive(Debug, Clone, PartialEq)]
pub struct UserSettings {
    pub time_zone: String,
    pub quiet_hours: Option<QuietHours>,
    pub digest: bool,
    /// Only what the user changed from the defaults.
    pub choices: Vec<(Kind, Channel, bool)>,
}

impl Default for UserSettings {
    fn default() -> Self {
        Self { time_zone: DEFAULT_TIME_ZONE.into(), quiet_hours: None, digest: false, choices: Vec::new() }
    }
}

impl UserSettings {
    /// The user's choice for `kind` on `channel`, if any.
    pub fn choice(&self, kind: Kind, channel: Channel) -> Option<bool> {
        self.choices.iter().find(|(k, c, _)| *k == kind && *c == channel).map(|(_, _, on)| *on)
    }
}

pub async fn load(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<UserSettings> {
    let row: Option<(String, Option<i16>, Option<i16>, bool)> = settings::table
        .find(user_id)
        .select((settings::time_zone, settings::quiet_start, settings::quiet_end, settings::digest))
        .first(conn)
        .await
        .optional()?;
    let choices: Vec<(String, String, bool)> = preferences::table
        .filter(preferences::user_id.eq(user_id))
        .select((preferences::kind, preferences::channel, preferences::enabled))
        .load(conn)
        .await?;
    let choices = choices
        .into_iter()
        .filter_map(|(kind, channel, on)| Some((Kind::parse(&kind)?, Channel::parse(&channel)?, on)))
        .collect();
    let mut loaded = UserSettings { choices, ..Default::default() };
    if let Some((time_zone, start, end, digest)) = row {
        loaded.time_zone = time_zone;
        loaded.digest = digest;
        loaded.quiet_hours = start.zip(end).map(|(start, end)| QuietHours { start: start as u16, end: end as u16 });
    }
    Ok(loaded)
}

/// Stores time zone, quiet hours and digest.
pub async fn save(conn: &mut AsyncPgConnection, user_id: i64, user: &UserSettings) -> QueryResult<()> {
    let (start, end) = match user.quiet_hours {
        Some(quiet) => (Some(quiet.start as i16), Some(quiet.end as i16)),
        None => (None, None),
    };
    diesel::insert_into(settings::table)
        .values((
            settings::user_id.eq(user_id),
            settings::time_zone.eq(&user.time_zone),
            settings::quiet_start.eq(start),
            settings::quiet_end.eq(end),
            settings::digest.eq(user.digest),
        ))
        .on_conflict(settings::user_id)
        .do_update()
        .set((
            settings::time_zone.eq(excluded(settings::time_zone)),
            settings::quiet_start.eq(excluded(settings::quiet_start)),
            settings::quiet_end.eq(excluded(settings::quiet_end)),
            settings::digest.eq(excluded(settings::digest)),
            settings::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores choices per kind × channel.
pub async fn choose(conn: &mut AsyncPgConnection, user_id: i64, choices: &[(Kind, Channel, bool)]) -> QueryResult<()> {
    let rows: Vec<_> = choices
        .iter()
        .map(|(kind, channel, on)| {
            (
                preferences::user_id.eq(user_id),
                preferences::kind.eq(kind.as_str()),
                preferences::channel.eq(channel.as_str()),
                preferences::enabled.eq(*on),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(preferences::table)
        .values(rows)
        .on_conflict((preferences::user_id, preferences::kind, preferences::channel))
        .do_update()
        .set(preferences::enabled.eq(excluded(preferences::enabled)))
        .execute(conn)
        .await
        .map(drop)
}

/// Held deliveries of the user become due now; the sender holds them again if the (new) quiet
/// hours still cover this moment.
pub async fn release_held(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<usize> {
    diesel::update(deliveries::table.filter(deliveries::user_id.eq(user_id)).filter(deliveries::status.eq("held")))
        .set(deliveries::next_attempt_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
}
