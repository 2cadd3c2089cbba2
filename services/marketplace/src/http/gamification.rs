//! `/api/v2/gamification/*`: levels, achievements, leaderboards, admin awards.

use crate::domain::gamification::{self as rules, LevelInfo, Period};
use crate::gamification::{self, Standing};
use crate::state::AppState;
use crate::store::gamification::Achievement;
use actix_web::{HttpResponse, web};
use contracts::Role;
use platform::pagination::PageQuery;
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Levels listed by `GET /levels`.
const LISTED_LEVELS: i64 = 50;

#[derive(Serialize, ToSchema)]
pub struct Achievements {
    pub user_id: i64,
    pub items: Vec<AchievementView>,
}

#[derive(Serialize, ToSchema)]
pub struct AchievementView {
    #[serde(flatten)]
    pub achievement: Achievement,
    /// The counter's current value (progress towards `threshold`).
    pub progress: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Levels {
    pub items: Vec<LevelStep>,
}

#[derive(Serialize, ToSchema)]
pub struct LevelStep {
    pub level: i64,
    pub min_points: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Leaderboard {
    pub period: Period,
    pub region: Option<String>,
    pub role: Option<Role>,
    pub items: Vec<Standing>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// `all` (default), `month` or `week`.
    pub period: Option<Period>,
    /// Region code or name (`/regions`); one the reference data does not know ranks nobody.
    pub region: Option<String>,
    pub role: Option<Role>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardBody {
    pub user_id: i64,
    /// Non-zero, at most 10 000 either way.
    #[schema(minimum = -10000, maximum = 10000)]
    pub points: i32,
    #[schema(schema_with = reason)]
    pub reason: String,
}

fn reason() -> utoipa::openapi::schema::Object {
    super::schema::text(1, rules::MAX_AWARD_REASON_CHARS)
        .description(Some("At most 200 characters, not blank."))
        .build()
}

#[derive(Serialize, ToSchema)]
pub struct AwardResult {
    pub user_id: i64,
    pub level: LevelInfo,
}

async fn achievements_of(state: &AppState, user_id: i64) -> Result<Achievements, ApiError> {
    let items = gamification::achievements_of(state, user_id)
        .await?
        .into_iter()
        .map(|(achievement, progress)| AchievementView { achievement, progress })
        .collect();
    Ok(Achievements { user_id, items })
}

/// The caller's points and level.
#[utoipa::path(get, path = "/api/v2/gamification/level", tag = "gamification", security(("bearer" = [])),
    responses((status = 200, body = LevelInfo), (status = 401)))]
pub async fn level(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(gamification::level_of(&state, user.id).await?))
}

/// Every level and the points it starts at (level = points / 100 + 1).
#[utoipa::path(get, path = "/api/v2/gamification/levels", tag = "gamification", responses((status = 200, body = Levels)))]
pub async fn levels() -> HttpResponse {
    let items =
        (1..=LISTED_LEVELS).map(|level| LevelStep { level, min_points: rules::level_threshold(level) }).collect();
    HttpResponse::Ok().json(Levels { items })
}

/// The caller's achievements: every achievement with progress and when it was unlocked.
#[utoipa::path(get, path = "/api/v2/gamification/achievements", tag = "gamification", security(("bearer" = [])),
    responses((status = 200, body = Achievements), (status = 401)))]
pub async fn my_achievements(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(achievements_of(&state, user.id).await?))
}

/// Another user's achievements.
#[utoipa::path(get, path = "/api/v2/gamification/achievements/user/{id}", tag = "gamification",
    responses((status = 200, body = Achievements)))]
pub async fn user_achievements(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(achievements_of(&state, *id).await?))
}

async fn board(
    state: &AppState,
    period: Period,
    region: Option<&str>,
    role: Option<Role>,
    page: &PageQuery,
) -> Result<Leaderboard, ApiError> {
    let page = page.parse()?;
    let (region, items) = gamification::standings(state, period, region, role, &page).await?;
    Ok(Leaderboard { period, region, role, items })
}

/// The all-time leaderboard.
#[utoipa::path(get, path = "/api/v2/gamification/leaderboard", tag = "gamification", params(PageQuery),
    responses((status = 200, body = Leaderboard), (status = 503)))]
pub async fn leaderboard(state: web::Data<AppState>, page: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(board(&state, Period::All, None, None, &page).await?))
}

/// A leaderboard by period (all time, this month, this week), region and role.
#[utoipa::path(get, path = "/api/v2/gamification/leaderboard/advanced", tag = "gamification",
    params(LeaderboardQuery, PageQuery),
    responses((status = 200, body = Leaderboard), (status = 400)))]
pub async fn advanced_leaderboard(
    state: web::Data<AppState>,
    query: web::Query<LeaderboardQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.period.unwrap_or(Period::All);
    Ok(HttpResponse::Ok().json(board(&state, period, query.region.as_deref(), query.role, &page).await?))
}

/// Admins award (or take back) points; recorded in the ledger like every other award.
#[utoipa::path(post, path = "/api/v2/gamification/award-points", tag = "gamification", request_body = AwardBody,
    security(("bearer" = [])),
    responses((status = 201, body = AwardResult), (status = 400),
        (status = 403)))]
pub async fn award_points(
    state: web::Data<AppState>,
    user: AuthUser,
    body: platform::Json<AwardBody>,
) -> Result<HttpResponse, ApiError> {
    let level = gamification::award_by_admin(&state, &user, body.user_id, body.points, &body.reason).await?;
    Ok(HttpResponse::Created().json(AwardResult { user_id: body.user_id, level }))
}

/// Rebuilds every current leaderboard from the ledger (admins).
#[utoipa::path(post, path = "/api/v2/gamification/leaderboard/rebuild", tag = "gamification",
    security(("bearer" = [])),
    responses((status = 200), (status = 403)))]
pub async fn rebuild_leaderboards(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let boards = gamification::rebuild(&state, &user).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "boards": boards })))
}
