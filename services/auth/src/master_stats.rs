//! Masters' rating, review count and completed orders, as the marketplace publishes them
//! (`master.stats_changed`): stored on the user and shown on the public profile.

use crate::state::AppState;
use crate::store::schema::users;
use contracts::Envelope;
use contracts::events::envelope::Payload;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::consumer::EventHandler;

/// The consumer's name; its group is `auth.master-stats`.
pub const CONSUMER: &str = "master-stats";

pub struct MasterStatsHandler {
    pub state: AppState,
}

impl EventHandler for MasterStatsHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        let Some(Payload::MasterStatsChanged(stats)) = &event.payload else { return Ok(()) };
        // The values are absolute, so applying an older message again is harmless.
        diesel::update(users::table.find(stats.master_id))
            .set((
                users::rating.eq(stats.rating),
                users::review_count.eq(stats.review_count),
                users::completed_orders.eq(stats.completed_orders),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn after_commit(&self, event: &Envelope) {
        if let Some(Payload::MasterStatsChanged(stats)) = &event.payload {
            crate::profiles::forget(&self.state, &[stats.master_id]).await;
        }
    }
}
