//! Per-aggregate order with two relays on one outbox: interleaved updates of a few masters'
//! stats while the broker is killed and restarted twice. A consumer that overwrites the stats
//! with each event (as auth's `master-stats` does) applies every master's events in order and
//! ends with the stats of the last one.

use crate::helpers::*;
use contracts::Envelope;
use contracts::events::MasterStatsChanged;
use contracts::events::envelope::Payload;
use diesel::sql_types::{BigInt, Integer};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use platform::consumer::{ConsumerRunner, EventHandler};
use platform::metrics::OutboxMetrics;
use platform::outbox::{Destination, OutboxRelay};
use std::time::Duration;
use testkit::broker::KafkaBroker;
use testkit::{TestSchema, eventually, unique_prefix};
use tokio_util::sync::CancellationToken;

const TOPIC: &str = contracts::topics::MARKETPLACE_MASTERS;
const MASTERS: i64 = 5;
/// Updates per master; the n-th update says the master completed n orders.
const UPDATES: i32 = 120;

/// Overwrites the master's completed orders with the event's (the last one applied wins) and
/// logs each update it applies, in the order it applies them.
struct ApplyStats;

impl EventHandler for ApplyStats {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        let Some(Payload::MasterStatsChanged(stats)) = &event.payload else {
            anyhow::bail!("unexpected event {}", event.r#type)
        };
        diesel::sql_query(
            "INSERT INTO stats (master_id, completed_orders) VALUES ($1, $2)
             ON CONFLICT (master_id) DO UPDATE SET completed_orders = excluded.completed_orders",
        )
        .bind::<BigInt, _>(stats.master_id)
        .bind::<Integer, _>(stats.completed_orders)
        .execute(conn)
        .await?;
        diesel::sql_query("INSERT INTO applied (master_id, completed_orders) VALUES ($1, $2)")
            .bind::<BigInt, _>(stats.master_id)
            .bind::<Integer, _>(stats.completed_orders)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Writes updates `updates` of every master, one transaction per update round, the masters in
/// a different order each round, with a pause between rounds so that the relays work meanwhile.
async fn write_updates(schema: &TestSchema, updates: std::ops::RangeInclusive<i32>) {
    let mut conn = schema.connect().await;
    for update in updates {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            for i in 0..MASTERS {
                let master_id = (i + i64::from(update)) % MASTERS + 1;
                let stats = MasterStatsChanged { master_id, completed_orders: update, ..Default::default() };
                platform::outbox::enqueue(conn, Envelope::new("test", master_id, stats), &Destination::kafka(TOPIC))
                    .await?;
            }
            Ok(())
        })
        .await
        .expect("the update round commits");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[derive(diesel::QueryableByName)]
struct Applied {
    #[diesel(sql_type = BigInt)]
    master_id: i64,
    #[diesel(sql_type = Integer)]
    completed_orders: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_through_broker_failures_deliver_each_aggregate_in_order() {
    testkit::init_logs();
    let mut broker = KafkaBroker::start().await;
    let schema = TestSchema::create(&[]).await;
    schema
        .connect()
        .await
        .batch_execute(
            "CREATE TABLE stats (master_id BIGINT PRIMARY KEY, completed_orders INT NOT NULL);
             CREATE TABLE applied (seq BIGSERIAL PRIMARY KEY, master_id BIGINT NOT NULL, completed_orders INT NOT NULL);",
        )
        .await
        .expect("test tables");
    let mut settings = testkit::settings(&schema, &unique_prefix());
    settings.kafka.brokers = broker.brokers();
    settings.kafka.message_timeout_ms = 1_000;
    // Small batches: the relays take turns often and a batch holds several updates of a master.
    settings.outbox.batch_size = 20;
    platform::kafka::ensure_topics(&settings.kafka, &[TOPIC]).await.unwrap();

    let pool = platform::db::pool(&settings.database).unwrap();
    let stop = CancellationToken::new();
    let replicas = [OutboxMetrics::new(), OutboxMetrics::new()];
    let relays = replicas.clone().map(|metrics| {
        let relay = OutboxRelay::new(pool.clone(), &settings.database, settings.outbox.clone())
            .with_kafka(platform::kafka::producer(&settings.kafka).unwrap())
            .with_metrics(metrics);
        tokio::spawn(relay.run(stop.clone()))
    });
    // Updates go on throughout; twice the broker is killed, and restarted a while later.
    let fifth = UPDATES / 5;
    write_updates(&schema, 1..=fifth).await;
    for outage in [1, 3] {
        broker.kill();
        write_updates(&schema, outage * fifth + 1..=(outage + 1) * fifth).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        broker.restart().await;
        write_updates(&schema, (outage + 1) * fifth + 1..=(outage + 2) * fifth).await;
    }
    // The consumer reads the topic from its start (a consumer group whose members died with the
    // broker would wait for their session to expire first, decision 0002).
    let consumer = ConsumerRunner::new("stats", &[TOPIC], pool, settings.kafka.clone(), ApplyStats);
    let consumer = tokio::spawn(consumer.run(stop.clone()));

    let total = MASTERS * i64::from(UPDATES);
    eventually("every update applied", Duration::from_secs(180), || async {
        count(&mut schema.connect().await, "SELECT count(*) AS n FROM applied").await >= total
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    for relay in relays {
        relay.await.unwrap();
    }
    consumer.await.unwrap().unwrap();
    let published = replicas.each_ref().map(|metrics| metrics.published.with_label_values(&[TOPIC]).get());
    let failures = replicas.each_ref().map(|metrics| metrics.failures.get());
    eprintln!("published {published:?}, failed passes {failures:?}");
    assert!(published.iter().all(|&n| n > 0), "both replicas relayed");
    assert!(failures.iter().sum::<u64>() > 0, "the broker failed under the relays");

    let mut conn = schema.connect().await;
    let applied: Vec<Applied> = diesel::sql_query("SELECT master_id, completed_orders FROM applied ORDER BY seq")
        .load(&mut conn)
        .await
        .unwrap();
    for master_id in 1..=MASTERS {
        let updates: Vec<i32> =
            applied.iter().filter(|a| a.master_id == master_id).map(|a| a.completed_orders).collect();
        let overtaken = updates.windows(2).find(|pair| pair[0] > pair[1]);
        assert_eq!(overtaken, None, "master {master_id}'s updates applied out of order: {updates:?}");
        let mut distinct = updates.clone();
        distinct.dedup();
        assert_eq!(distinct, (1..=UPDATES).collect::<Vec<_>>(), "master {master_id}: no update lost");
    }
    let last = count(&mut conn, &format!("SELECT count(*) AS n FROM stats WHERE completed_orders = {UPDATES}")).await;
    assert_eq!(last, MASTERS, "every master's stats are those of its last update");
    assert_eq!(platform::outbox::pending(&mut conn).await.unwrap(), 0, "the outbox is drained");
}
