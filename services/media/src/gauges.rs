//! Business gauges for `/metrics`: videos by status, stories shown now.

use crate::state::AppState;
use crate::store::videos;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

/// Counts what the gauges show.
pub async fn refresh(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.db.get().await?;
    let by_status = videos::count_by_status(&mut conn).await?;
    for status in ["uploaded", "processing", "ready", "failed"] {
        let count = by_status.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        state.metrics.videos.with_label_values(&[status]).set(count);
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let active: Count =
        diesel::sql_query("SELECT count(*) AS n FROM stories WHERE NOT expired").get_result(&mut conn).await?;
    state.metrics.active_stories.set(active.n);
    Ok(())
}
