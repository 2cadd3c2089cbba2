//! Consumers under a broker that restarts empty (tansu with memory storage loses every topic,
//! message, group and committed offset, as a Kafka cluster restored from nothing would): the
//! relay creates its topics again, the consumer starts over in the new log, and every event
//! produced afterwards has its effect once.

use crate::helpers::*;
use std::time::Duration;
use testkit::broker::{KafkaBroker, Storage};
use testkit::eventually;

/// Events applied before the broker restarts.
const BEFORE: i64 = 300;
/// Events written while the broker is down.
const WHILE_DOWN: i64 = 200;
/// Events written after it is back: together with those written while it was down, more than
/// `BEFORE`, so a consumer that went on from its old position would skip the first of them.
const AFTER: i64 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_recover_when_a_memory_broker_restarts_empty() {
    let mut broker = KafkaBroker::start_with(Storage::Memory).await;
    let pipeline = Pipeline::start(&broker).await;
    pipeline.write(0, BEFORE).await;
    eventually("every effect before the restart", Duration::from_secs(120), || async {
        pipeline.effects().await == BEFORE
    })
    .await;

    broker.kill();
    pipeline.write(BEFORE, WHILE_DOWN).await;
    broker.restart().await;
    pipeline.write(BEFORE + WHILE_DOWN, AFTER).await;

    pipeline.finish(BEFORE + WHILE_DOWN + AFTER, Duration::from_secs(180)).await;
}
