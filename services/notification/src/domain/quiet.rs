//! Quiet hours: a daily window in the user's time zone during which push, SMS and e-mail wait.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

pub const DEFAULT_TIME_ZONE: &str = "Asia/Almaty";

/// A daily window, in minutes after local midnight; it may wrap past midnight (22:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u16,
    pub end: u16,
}

impl QuietHours {
    /// From `"HH:MM"` strings; start and end must differ.
    pub fn parse(start: &str, end: &str) -> Result<Self, String> {
        let (start, end) = (minutes(start)?, minutes(end)?);
        if start == end {
            return Err("start and end must differ".into());
        }
        Ok(Self { start, end })
    }

    pub fn format(minutes: u16) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    fn contains(self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// When the window that holds `now` ends, or `None` when `now` is outside it.
    pub fn release_at(self, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&zone);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        if !self.contains(minute) {
            return None;
        }
        let end = NaiveTime::from_hms_opt(u32::from(self.end / 60), u32::from(self.end % 60), 0)?;
        let mut day = local.date_naive();
        if minute >= self.end {
            day = day.succ_opt()?;
        }
        // A window ending in a DST gap ends an hour later.
        let release = zone
            .from_local_datetime(&day.and_time(end))
            .earliest()
            .unwrap_or_else(|| zone.from_utc_datetime(&(day.and_time(end) + Duration::hours(1))));
        Some(release.with_timezone(&Utc))
    }
}

/// Exactly `HH:MM` (as the document's pattern says; chrono alone would take `9:5`).
fn minutes(text: &str) -> Result<u16, String> {
    let not_a_time = || format!("{text:?} is not a time HH:MM");
    let shaped =
        text.len() == 5 && text.bytes().enumerate().all(|(i, b)| if i == 2 { b == b':' } else { b.is_ascii_digit() });
    let time = NaiveTime::parse_from_str(text, "%H:%M").ok().filter(|_| shaped).ok_or_else(not_a_time)?;
    Ok((time.hour() * 60 + time.minute()) as u16)
}

/// A time zone by its IANA name (`Asia/Almaty`).
pub fn time_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| format!("{name:?} is not a known time zone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn overnight_window_holds_until_morning_in_almaty() {
        let quiet = QuietHours::parse("22:00", "08:00").unwrap();
        let almaty = time_zone(DEFAULT_TIME_ZONE).unwrap();
        // 23:30 in Almaty (UTC+5) is 18:30 UTC: released at 08:00 local the next day.
        assert_eq!(quiet.release_at(almaty, at("2026-11-27T18:30:00Z")), Some(at("2026-11-28T03:00:00Z")));
        // 06:00 local: released at 08:00 the same day.
        assert_eq!(quiet.release_at(almaty, at("2026-11-27T01:00:00Z")), Some(at("2026-11-27T03:00:00Z")));
        // Noon local is outside.
        assert_eq!(quiet.release_at(almaty, at("2026-11-27T07:00:00Z")), None);
        // The end itself is outside.
        assert_eq!(quiet.release_at(almaty, at("2026-11-27T03:00:00Z")), None);
    }

    #[test]
    fn daytime_window_and_other_zones() {
        let quiet = QuietHours::parse("13:00", "14:30").unwrap();
        let berlin = time_zone("Europe/Berlin").unwrap();
        assert_eq!(quiet.release_at(berlin, at("2026-11-27T12:10:00Z")), Some(at("2026-11-27T13:30:00Z")));
        assert_eq!(quiet.release_at(berlin, at("2026-11-27T11:59:00Z")), None);
    }

    #[test]
    fn bad_input_is_named() {
        assert!(QuietHours::parse("22:00", "22:00").is_err());
        assert!(QuietHours::parse("25:00", "08:00").is_err());
        for loose in ["9:00", "09:0", " 09:00", "09.00", "09:00:00", "¬ºr"] {
            assert!(QuietHours::parse(loose, "08:00").is_err(), "{loose:?} is not HH:MM");
        }
        assert!(QuietHours::parse("00:00", "23:59").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
        assert_eq!(QuietHours::format(8 * 60 + 5), "08:05");
    }
}
