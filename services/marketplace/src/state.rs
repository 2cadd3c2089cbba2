//! What the handlers share.

use crate::config::MarketplaceSettings;
use crate::domain::gamification::AchievementRule;
use crate::domain::reference::Reference;
use crate::gamification::Leaderboards;
use platform::db::PgPool;
use platform::redis::RedisPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub redis: RedisPool,
    pub settings: MarketplaceSettings,
    /// Regions and categories (seeded by migration, loaded at start).
    pub reference: Arc<Reference>,
    pub leaderboards: Leaderboards,
    /// The achievements (seeded by migration), loaded at start.
    pub achievements: Arc<Vec<AchievementRule>>,
}
