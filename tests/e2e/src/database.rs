//! What the system has stored, as a digest per table: a suite takes one before callers who may
//! not write anything, and one after, and compares.

use crate::System;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Text)]
    digest: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `expression` (an aggregate such as `count(*)`) over the rows of `service`'s `table` for
/// which `condition` holds.
pub async fn aggregate(system: &System, service: &str, table: &str, expression: &str, condition: &str) -> i64 {
    let (_, schema) = system.schemas().find(|(name, _)| *name == service).expect("the service has a schema");
    let mut conn = schema.connect().await;
    let sql = format!("SELECT ({expression})::bigint AS n FROM \"{}\".\"{table}\" WHERE {condition}", schema.name);
    let row: Number = sql_query(sql).get_result(&mut conn).await.expect("an aggregate");
    row.n
}

/// `service.table` → md5 of its rows in a fixed order.
pub type Snapshot = BTreeMap<String, String>;

pub async fn snapshot(system: &System) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for (service, schema) in system.schemas() {
        let mut conn = schema.connect().await;
        let tables: Vec<Name> = sql_query(format!(
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = '{}' AND table_type = 'BASE TABLE'",
            schema.name
        ))
        .load(&mut conn)
        .await
        .expect("the schema's tables");
        for table in tables {
            let sql = format!(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM \"{}\".\"{}\" t",
                schema.name, table.name
            );
            let digest: Digest = sql_query(sql).get_result(&mut conn).await.expect("a table digest");
            snapshot.insert(format!("{service}.{}", table.name), digest.digest);
        }
    }
    snapshot
}

/// A snapshot once the system has stopped writing on its own (consumers caught up, jobs idle):
/// snapshots agree for [`QUIET`] (events cross the broker in hops of up to a second each).
pub async fn settled(system: &System) -> Snapshot {
    let mut last = snapshot(system).await;
    let mut quiet_since = tokio::time::Instant::now();
    let deadline = quiet_since + Duration::from_secs(45);
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = snapshot(system).await;
        if now != last {
            (last, quiet_since) = (now, tokio::time::Instant::now());
        } else if quiet_since.elapsed() >= QUIET {
            return now;
        }
    }
    panic!("the system kept writing for 45 s with nobody calling it");
}

const QUIET: Duration = Duration::from_secs(3);

/// The tables whose digests differ.
pub fn changed(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    after.iter().filter(|(table, digest)| before.get(*table) != Some(digest)).map(|(table, _)| table.clone()).collect()
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every busy session of the database, with what it waits for: printed when a program's
/// migration does not finish.
pub async fn activity(schema: &testkit::TestSchema) -> String {
    let mut conn = schema.connect().await;
    let rows: Vec<Activity> = sql_query(
        "SELECT format('pid %s %s waits %s/%s for %s s, blocked by %s: %s', pid, state, wait_event_type, \
         wait_event, extract(epoch FROM now() - query_start)::int, pg_blocking_pids(pid), left(query, 200)) AS line \
         FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid()",
    )
    .load(&mut conn)
    .await
    .unwrap_or_default();
    rows.into_iter().map(|row| row.line).collect::<Vec<_>>().join("\n")
}
