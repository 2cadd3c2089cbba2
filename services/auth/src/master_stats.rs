//! Masters' rating, review count and completed orders, as the marketplace publishes them
//! (`master.stats_changed`): stored on the user and shown on the public profile.

use crate::state::AppState;
use crate::store::schema::users;
use contracts::Envelope;
use contracts::events::envelope::Payload;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use platform::consumer::EventHandler;

pub const CONSUMER_GROUP: &str = "auth.master-stats";

pub struct MasterStatsHandler {
    pub state: AppState,
}

impl EventHandler for MasterStatsHandler {
    fn handle<'a>(&'a self, conn: &'a mut AsyncPgConnection, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
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
        })
    }

    fn after_commit<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Some(Payload::MasterStatsChanged(stats)) = &event.payload {
                crate::profiles::forget(&self.state, &[stats.master_id]).await;
            }
        })
    }
}
