//! Points, achievements and leaderboards. Points come from events (each rewarded action once:
//! the ledger's `source` is unique) and from admins; leaderboards are Redis sorted sets kept
//! from the ledger and rebuildable from it.

use crate::domain::gamification::{self as rules, LevelInfo, PERIODS, POINTS_COUNTER, Period, Reward};
use crate::domain::order::OrderStatus;
use crate::error::MarketplaceError;
use crate::state::AppState;
use crate::store::gamification::Achievement;
use crate::store::{gamification as ledger, users};
use chrono::Utc;
use contracts::events::envelope::Payload;
use contracts::events::{AchievementUnlocked, PointsAwarded};
use contracts::{Envelope, Role};
use deadpool_redis::redis::{self, AsyncCommands};
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::consumer::EventHandler;
use platform::db::PgPool;
use platform::error::FieldProblems;
use platform::outbox;
use platform::pagination::PageRequest;
use platform::redis::RedisPool;
use platform::{ApiError, AuthUser};
use std::sync::Arc;

/// The consumer's name; its group is `marketplace.gamification`.
pub const CONSUMER: &str = "gamification";

/// Points for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub user_id: i64,
    pub points: i32,
    pub reason: String,
    /// The counter the action advances (achievements look at it).
    pub counter: Option<&'static str>,
    /// What was rewarded; the same source is never rewarded twice.
    pub source: String,
}

impl Award {
    fn of(user_id: i64, reward: Reward, source: String) -> Self {
        Self {
            user_id,
            points: reward.points(),
            reason: reward.reason().into(),
            counter: Some(reward.counter()),
            source,
        }
    }
}

/// What an event earns, and whom.
pub fn award_for(event: &Envelope) -> Option<Award> {
    match event.payload.as_ref()? {
        Payload::RequestCreated(e) => {
            Some(Award::of(e.buyer_id, Reward::RequestCreated, format!("request:{}", e.request_id)))
        }
        Payload::OrderStatusChanged(e) if e.new_status == OrderStatus::Completed.as_str() => {
            Some(Award::of(e.master_id, Reward::OrderCompleted, format!("order:{}", e.order_id)))
        }
        Payload::ReviewCreated(e) if e.rating == 5 => {
            Some(Award::of(e.master_id, Reward::FiveStarReview, format!("review:{}", e.review_id)))
        }
        Payload::SubscriptionCreated(e) => Some(Award::of(
            e.followee_id,
            Reward::NewSubscriber,
            format!("subscriber:{}:{}", e.follower_id, e.followee_id),
        )),
        Payload::VideoLiked(e) if e.user_id != e.author_id => {
            Some(Award::of(e.author_id, Reward::LikeReceived, format!("like:{}:{}", e.video_id, e.user_id)))
        }
        Payload::VideoCommented(e) if e.commenter_id != e.author_id => {
            Some(Award::of(e.author_id, Reward::CommentReceived, format!("comment:{}", e.comment_id)))
        }
        _ => None,
    }
}

/// Records `award` unless its source was rewarded before, unlocks what it reaches among
/// `achievements` and publishes `points.awarded` / `achievement.unlocked`. True when it was new.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    award: &Award,
    achievements: &[rules::AchievementRule],
) -> QueryResult<bool> {
    if !ledger::record(conn, award.user_id, award.points, &award.reason, &award.source).await? {
        return Ok(false);
    }
    let (total, _, _) = users::add_points(conn, award.user_id, award.points).await?;
    let mut reached: Vec<&rules::AchievementRule> = rules::reached(achievements, POINTS_COUNTER, total).collect();
    if let Some(counter) = award.counter {
        let value = ledger::bump_counter(conn, award.user_id, counter, 1).await?;
        reached.extend(rules::reached(achievements, counter, value));
    }
    for rule in reached {
        if let Some(title) = ledger::unlock(conn, award.user_id, &rule.code).await? {
            let event = AchievementUnlocked { user_id: award.user_id, code: rule.code.clone(), title };
            outbox::publish(conn, event).await?;
        }
    }
    let event = PointsAwarded {
        user_id: award.user_id,
        points: award.points,
        reason: award.reason.clone(),
        total_points: total,
        level: rules::level(total) as i32,
    };
    outbox::publish(conn, event).await?;
    Ok(true)
}

/// A user's points and level.
pub async fn level_of(state: &AppState, user_id: i64) -> Result<LevelInfo, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(rules::level_info(ledger::points_of(&mut conn, user_id).await?))
}

/// A user's achievements, each with its counter's value (progress towards its threshold).
pub async fn achievements_of(state: &AppState, user_id: i64) -> Result<Vec<(Achievement, i64)>, ApiError> {
    let mut conn = state.db.get().await?;
    let achievements = ledger::achievements_of(&mut conn, user_id).await?;
    let counters: std::collections::HashMap<String, i64> =
        ledger::counters_of(&mut conn, user_id).await?.into_iter().collect();
    let points = ledger::points_of(&mut conn, user_id).await?;
    Ok(achievements
        .into_iter()
        .map(|achievement| {
            let progress = if achievement.counter == POINTS_COUNTER {
                points
            } else {
                counters.get(&achievement.counter).copied().unwrap_or_default()
            };
            (achievement, progress)
        })
        .collect())
}

/// One page of a leaderboard, and the region's code. A region (code or name) the reference
/// data does not know ranks nobody.
pub async fn standings(
    state: &AppState,
    period: Period,
    region: Option<&str>,
    role: Option<Role>,
    page: &PageRequest,
) -> Result<(Option<String>, Vec<Standing>), ApiError> {
    let region = match region.map(|name| state.reference.region_code(name)) {
        Some(Ok(code)) => Some(code),
        Some(Err(_)) => return Ok((None, Vec::new())),
        None => None,
    };
    let items = state.leaderboards.standings(period, region.as_deref(), role, page.limit, page.offset()).await?;
    Ok((region, items))
}

/// An admin awards (or takes back) points, recorded in the ledger like every other award;
/// the user's level after it.
#[tracing::instrument(skip(state, admin, reason), fields(admin_id = admin.id))]
pub async fn award_by_admin(
    state: &AppState,
    admin: &AuthUser,
    user_id: i64,
    points: i32,
    reason: &str,
) -> Result<LevelInfo, ApiError> {
    admin.require_role(&[Role::Admin])?;
    let mut checks = FieldProblems::new();
    let points = checks.check("points", rules::award_points(points));
    let reason = checks.check("reason", rules::award_reason(reason));
    let (Some(points), Some(reason)) = (points, reason) else { return Err(checks.into_error()) };
    let award = Award {
        user_id,
        points,
        reason: format!("admin: {reason}"),
        counter: None,
        source: format!("admin:{}:{}", admin.id, uuid::Uuid::now_v7()),
    };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| Ok(apply(conn, &award, &state.achievements).await?)).await?;
    if let Err(error) = state.leaderboards.refresh(user_id).await {
        tracing::warn!(error = %format!("{error:#}"), "leaderboard not refreshed");
    }
    Ok(rules::level_info(ledger::points_of(&mut conn, user_id).await?))
}

/// Rebuilds every current leaderboard from the ledger (admins); how many boards.
#[tracing::instrument(skip_all, fields(admin_id = admin.id))]
pub async fn rebuild(state: &AppState, admin: &AuthUser) -> Result<usize, ApiError> {
    admin.require_role(&[Role::Admin])?;
    state.leaderboards.rebuild().await.map_err(|error| {
        tracing::warn!(error = %format!("{error:#}"), "leaderboard rebuild failed");
        MarketplaceError::LeaderboardsUnavailable.into()
    })
}

/// The leaderboards in Redis.
#[derive(Clone)]
pub struct Leaderboards {
    pub db: PgPool,
    pub redis: RedisPool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub rank: i64,
    pub user_id: i64,
    pub username: Option<String>,
    pub points: i64,
    pub level: i64,
}

impl Leaderboards {
    fn key(&self, period_key: &str, scope: &str) -> String {
        self.redis.key(&format!("marketplace:leaderboard:{period_key}:{scope}"))
    }

    /// Sets `user_id`'s scores from the ledger (absolute values: repeating it is harmless).
    pub async fn refresh(&self, user_id: i64) -> anyhow::Result<()> {
        let now = Utc::now();
        let mut conn = self.db.get().await?;
        let Some(user) = users::find(&mut conn, user_id).await? else { return Ok(()) };
        let region = user.region_code.as_deref().or(user.served_regions.first().map(String::as_str));
        let mut pipe = redis::pipe();
        for period in PERIODS {
            let points = ledger::points_since(&mut conn, user_id, period.start(now)).await?;
            for scope in rules::scopes(region, user.role) {
                let key = self.key(&period.key(now), &scope);
                pipe.zadd(&key, user_id, points).ignore();
                if let Some(retention) = period.retention() {
                    pipe.expire(&key, retention.num_seconds()).ignore();
                }
            }
        }
        let mut redis = self.redis.get().await?;
        pipe.query_async::<()>(&mut redis).await?;
        Ok(())
    }

    /// Rebuilds every current board from the ledger (after a Redis loss, or on demand).
    pub async fn rebuild(&self) -> anyhow::Result<usize> {
        let now = Utc::now();
        let mut conn = self.db.get().await?;
        let mut redis = self.redis.get().await?;
        let mut boards = 0;
        for period in PERIODS {
            let totals = ledger::totals_since(&mut conn, period.start(now)).await?;
            let mut entries: std::collections::HashMap<String, Vec<(i64, i64)>> = Default::default();
            for total in totals {
                for scope in rules::scopes(total.region.as_deref(), total.role) {
                    entries.entry(self.key(&period.key(now), &scope)).or_default().push((total.points, total.user_id));
                }
            }
            for (key, members) in entries {
                let staging = format!("{key}:rebuild");
                let mut pipe = redis::pipe();
                pipe.atomic().del(&staging).ignore();
                for chunk in members.chunks(1_000) {
                    pipe.zadd_multiple(&staging, chunk).ignore();
                }
                pipe.rename(&staging, &key).ignore();
                if let Some(retention) = period.retention() {
                    pipe.expire(&key, retention.num_seconds()).ignore();
                }
                pipe.query_async::<()>(&mut redis).await?;
                boards += 1;
            }
        }
        Ok(boards)
    }

    /// Rebuilds the boards when Redis has lost them (a flushed or new Redis); at start, so that
    /// replicas restarting against a healthy Redis do not all scan the ledger.
    pub async fn rebuild_if_missing(&self) -> anyhow::Result<()> {
        let everyone = self.key(&Period::All.key(Utc::now()), &rules::scope(None, None));
        let present: bool = self.redis.get().await?.exists(&everyone).await?;
        if !present {
            let boards = self.rebuild().await?;
            tracing::info!(boards, "leaderboards rebuilt from the ledger");
        }
        Ok(())
    }

    /// One page of a board, best first.
    pub async fn standings(
        &self,
        period: Period,
        region: Option<&str>,
        role: Option<Role>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Standing>, ApiError> {
        let key = self.key(&period.key(Utc::now()), &rules::scope(region, role));
        let mut redis = self.redis.get().await?;
        let scores: Vec<(i64, i64)> =
            redis.zrevrange_withscores(&key, offset as isize, (offset + limit - 1) as isize).await?;
        let ids: Vec<i64> = scores.iter().map(|(id, _)| *id).collect();
        let mut conn = self.db.get().await?;
        let names: std::collections::HashMap<i64, Option<String>> =
            users::usernames(&mut conn, &ids).await?.into_iter().collect();
        Ok(scores
            .into_iter()
            .enumerate()
            .map(|(index, (user_id, points))| Standing {
                rank: offset + index as i64 + 1,
                user_id,
                username: names.get(&user_id).cloned().flatten(),
                points,
                level: rules::level(points),
            })
            .collect())
    }
}

/// Awards points for the events that earn them, once each.
pub struct GamificationHandler {
    pub boards: Leaderboards,
    /// The achievements (seeded by migration), loaded at start.
    pub achievements: Arc<Vec<rules::AchievementRule>>,
}

impl EventHandler for GamificationHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        if let Some(award) = award_for(event) {
            apply(conn, &award, &self.achievements).await?;
        }
        Ok(())
    }

    async fn after_commit(&self, event: &Envelope) {
        let Some(award) = award_for(event) else { return };
        if let Err(error) = self.boards.refresh(award.user_id).await {
            tracing::warn!(error = %format!("{error:#}"), user_id = award.user_id, "leaderboard not refreshed");
        }
    }
}
