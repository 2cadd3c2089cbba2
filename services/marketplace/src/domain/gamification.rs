//! Points, levels, achievements and leaderboard periods.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use contracts::Role;
use serde::Serialize;

/// What earns points; each happens once per `source` (see `store::gamification`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reward {
    RequestCreated,
    OrderCompleted,
    FiveStarReview,
    LikeReceived,
    NewSubscriber,
    CommentReceived,
}

impl Reward {
    pub fn points(self) -> i32 {
        match self {
            Self::RequestCreated => 10,
            Self::OrderCompleted => 50,
            Self::FiveStarReview => 0,
            Self::LikeReceived => 5,
            Self::NewSubscriber => 10,
            Self::CommentReceived => 3,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::RequestCreated => "request_created",
            Self::OrderCompleted => "order_completed",
            Self::FiveStarReview => "five_star_review",
            Self::LikeReceived => "like_received",
            Self::NewSubscriber => "new_subscriber",
            Self::CommentReceived => "comment_received",
        }
    }

    /// The counter achievements look at.
    pub fn counter(self) -> &'static str {
        match self {
            Self::RequestCreated => "requests_created",
            Self::OrderCompleted => "orders_completed",
            Self::FiveStarReview => "five_star_reviews",
            Self::LikeReceived => "likes_received",
            Self::NewSubscriber => "subscribers",
            Self::CommentReceived => "comments_received",
        }
    }
}

/// Counter of the total points, for point-based achievements.
pub const POINTS_COUNTER: &str = "points";

/// Level = points / 100 + 1.
pub fn level(points: i64) -> i64 {
    points.max(0) / 100 + 1
}

/// Points needed to reach `level`.
pub fn level_threshold(level: i64) -> i64 {
    (level.max(1) - 1) * 100
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelInfo {
    pub level: i64,
    pub points: i64,
    /// Points where the next level starts.
    pub next_level_points: i64,
    pub points_to_next_level: i64,
}

/// The most points an admin gives (or takes back) at once.
pub const MAX_AWARD: i32 = 10_000;
pub const MAX_AWARD_REASON_CHARS: usize = 200;

/// An admin's award: non-zero, at most [`MAX_AWARD`] either way.
pub fn award_points(points: i32) -> Result<i32, String> {
    if points != 0 && points.abs() <= MAX_AWARD {
        Ok(points)
    } else {
        Err(format!("must be non-zero and at most {MAX_AWARD} either way"))
    }
}

/// Why an admin awards points: not blank, at most 200 characters.
pub fn award_reason(raw: &str) -> Result<String, String> {
    super::text(raw, 1, MAX_AWARD_REASON_CHARS)
}

pub fn level_info(points: i64) -> LevelInfo {
    let level = level(points);
    let next_level_points = level_threshold(level + 1);
    LevelInfo { level, points, next_level_points, points_to_next_level: next_level_points - points.max(0) }
}

/// An achievement: unlocked when `counter` reaches `threshold`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AchievementRule {
    pub code: String,
    pub counter: String,
    pub threshold: i64,
}

/// The achievements whose threshold `value` of `counter` has reached.
pub fn reached<'a>(
    rules: &'a [AchievementRule],
    counter: &str,
    value: i64,
) -> impl Iterator<Item = &'a AchievementRule> {
    rules.iter().filter(move |rule| rule.counter == counter && value >= rule.threshold)
}

/// Leaderboard periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    All,
    Month,
    Week,
}

impl Period {
    /// The period's name at `at`: `all`, `month:2026-11`, `week:2026-W48` (ISO weeks).
    pub fn key(self, at: DateTime<Utc>) -> String {
        match self {
            Self::All => "all".into(),
            Self::Month => format!("month:{}", at.format("%Y-%m")),
            Self::Week => {
                let week = at.iso_week();
                format!("week:{}-W{:02}", week.year(), week.week())
            }
        }
    }

    /// When the period containing `at` began (`None` for all time).
    pub fn start(self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let day = at.date_naive();
        let first = match self {
            Self::All => return None,
            Self::Month => day.with_day(1)?,
            Self::Week => day - Duration::days(day.weekday().num_days_from_monday().into()),
        };
        Some(Utc.from_utc_datetime(&first.and_time(NaiveTime::MIN)))
    }

    /// How long a period's board is kept after the period starts.
    pub fn retention(self) -> Option<Duration> {
        match self {
            Self::All => None,
            Self::Month => Some(Duration::days(62)),
            Self::Week => Some(Duration::days(15)),
        }
    }
}

pub const PERIODS: [Period; 3] = [Period::All, Period::Month, Period::Week];

/// The boards one user's points count on: everyone, their region, their role, both.
pub fn scopes(region: Option<&str>, role: Role) -> Vec<String> {
    let mut scopes = vec!["all".to_owned(), format!("role:{role}")];
    if let Some(region) = region {
        scopes.push(format!("region:{region}"));
        scopes.push(format!("region:{region}:role:{role}"));
    }
    scopes
}

/// The board a query asks for.
pub fn scope(region: Option<&str>, role: Option<Role>) -> String {
    match (region, role) {
        (None, None) => "all".into(),
        (None, Some(role)) => format!("role:{role}"),
        (Some(region), None) => format!("region:{region}"),
        (Some(region), Some(role)) => format!("region:{region}:role:{role}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_is_points_over_a_hundred_plus_one() {
        assert_eq!(level(0), 1);
        assert_eq!(level(99), 1);
        assert_eq!(level(100), 2);
        assert_eq!(level(1_050), 11);
        let info = level_info(130);
        assert_eq!((info.level, info.next_level_points, info.points_to_next_level), (2, 200, 70));
    }

    #[test]
    fn achievements_unlock_at_their_threshold() {
        let rules = vec![
            AchievementRule { code: "likes_10".into(), counter: "likes_received".into(), threshold: 10 },
            AchievementRule { code: "likes_100".into(), counter: "likes_received".into(), threshold: 100 },
            AchievementRule { code: "first_order".into(), counter: "orders_completed".into(), threshold: 1 },
        ];
        let codes = |counter, value| reached(&rules, counter, value).map(|r| r.code.as_str()).collect::<Vec<_>>();
        assert!(codes("likes_received", 9).is_empty());
        assert_eq!(codes("likes_received", 10), ["likes_10"]);
        assert_eq!(codes("likes_received", 150), ["likes_10", "likes_100"]);
        assert_eq!(codes("orders_completed", 1), ["first_order"]);
    }

    #[test]
    fn periods_have_names_and_starts() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 18, 0, 0).unwrap();
        assert_eq!(Period::Month.key(at), "month:2026-11");
        assert_eq!(Period::Week.key(at), "week:2026-W48");
        assert_eq!(Period::Month.start(at).unwrap(), Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
        assert_eq!(Period::Week.start(at).unwrap(), Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap());
        assert_eq!(Period::All.start(at), None);
    }

    #[test]
    fn admin_awards_are_bounded_and_explained() {
        assert_eq!(award_points(-MAX_AWARD), Ok(-MAX_AWARD));
        assert!(award_points(0).is_err());
        assert!(award_points(MAX_AWARD + 1).is_err());
        assert_eq!(award_reason("  за помощь ").unwrap(), "за помощь");
        assert!(award_reason("  ").is_err());
        assert!(award_reason(&"я".repeat(201)).is_err());
    }

    #[test]
    fn a_user_counts_on_four_boards_when_the_region_is_known() {
        assert_eq!(scopes(Some("almaty"), Role::Master).len(), 4);
        assert_eq!(scopes(None, Role::Buyer), ["all", "role:buyer"]);
        assert_eq!(scope(Some("almaty"), Some(Role::Master)), "region:almaty:role:master");
    }
}
