//! Views are counted once per viewer and hour, buffered in Redis and flushed in batches: none
//! lost and none counted twice, whenever a flusher dies.

use crate::helpers::World;
use futures_util::StreamExt;
use media::social::{apply_views, forget_views, seal_views};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_views_are_counted_exactly_by_flushers_that_die_mid_flush() {
    let world = World::start_with(|config| config.media.views_flush_interval_ms = 20).await;
    let master = world.user();
    let videos =
        [world.ready_video(&master, "Шкаф", &[], None).await, world.ready_video(&master, "Стол", &[], None).await];

    // Beside the service's own flusher, one that dies at every point in turn: after sealing a
    // batch, after applying it (before forgetting it), or not at all.
    let mut config = world.config.clone();
    config.platform.database.max_connections = 2;
    let state = media::state::AppState::open(&config).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let dying = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut deaths = [0usize; 3];
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) {
                for batch in seal_views(&state).await.unwrap() {
                    let step = round % 3;
                    round += 1;
                    deaths[step] += 1;
                    if step >= 1 {
                        apply_views(&state, &batch).await.unwrap();
                    }
                    if step == 2 {
                        forget_views(&state, &batch).await.unwrap();
                    }
                    if step < 2 {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            deaths
        }
    });

    // 10,000 viewers at once (64 in flight), then 1,000 of them again within the hour.
    let view = |n: usize| {
        let request = world
            .api
            .client
            .get(world.api.url(&format!("/api/v2/videos/{}", videos[n % 2])))
            .header("X-Client-Id", format!("viewer-{n}"));
        world.api.send(request)
    };
    let statuses: Vec<u16> = futures_util::stream::iter((0..10_000).chain(0..1_000))
        .map(view)
        .buffer_unordered(64)
        .map(|r| r.0)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{:?}", statuses.iter().find(|s| **s != 200));
    stop.store(true, Ordering::Relaxed);
    let deaths = dying.await.unwrap();
    assert!(deaths.iter().all(|d| *d > 0), "the flusher died at each point: {deaths:?}");

    let counts = || async {
        #[derive(diesel::QueryableByName)]
        struct Views {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            views_count: i64,
        }
        use diesel_async::RunQueryDsl;
        let rows: Vec<Views> = diesel::sql_query("SELECT views_count FROM videos ORDER BY id")
            .load(&mut world.schema.connect().await)
            .await
            .unwrap();
        rows.into_iter().map(|r| r.views_count).collect::<Vec<_>>()
    };
    testkit::eventually("every view flushed", Duration::from_secs(30), || async { counts().await == [5_000, 5_000] })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(counts().await, [5_000, 5_000], "and none counted again");
}
