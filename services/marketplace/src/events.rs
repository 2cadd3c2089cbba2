//! Publishing this service's events through the outbox, in the caller's transaction.

use crate::config::SERVICE;
use contracts::Envelope;
use contracts::events::envelope::Payload;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::outbox::{self, Destination};

/// Queues `payload` on `topic`, keyed by `aggregate_id`.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    topic: &str,
    aggregate_id: i64,
    payload: impl Into<Payload>,
) -> QueryResult<()> {
    outbox::enqueue(conn, Envelope::new(SERVICE, aggregate_id, payload), &Destination::kafka(topic)).await
}
