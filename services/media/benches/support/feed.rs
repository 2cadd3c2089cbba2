//! The feed against its database: with 100,000 ready videos loaded, the first page (20 items)
//! through HTTP uncached and cached, and the same SQL (the page and its fresh counters) through
//! pgbench, same concurrency; then like throughput, with the counter checked exact.

use diesel_async::SimpleAsyncConnection;
use futures_util::StreamExt;
use media::config::{Config, MediaSettings};
use std::time::{Duration, Instant};
use testkit::fake_http::FakeHttp;
use testkit::keys::KEY_1;
use testkit::{TestApp, TestSchema, load, pgbench, unique_prefix};

const CONCURRENCY: usize = 16;
const RUN: Duration = Duration::from_secs(5);

const LOAD: &str = "
INSERT INTO videos (user_id, title, description, hashtags, price_minor, status, original_path, container, size_bytes,
                    thumbnails, hls_path, renditions, duration_ms, width, height, codec, created_at)
SELECT 1 + g % 2000, 'Видео ' || g, 'Кухня на заказ, фасады из массива, фурнитура Blum ' || g,
       ARRAY[(ARRAY['шкаф', 'кухня', 'диван', 'стол', 'кровать'])[1 + g % 5], 'мебель'],
       CASE WHEN g % 3 = 0 THEN g * 100 END, 'ready', 'videos/' || g || '/original.mp4', 'mp4', 1000000,
       ARRAY['videos/' || g || '/thumb-small.jpg', 'videos/' || g || '/thumb-medium.jpg', 'videos/' || g || '/thumb-large.jpg'],
       'videos/' || g || '/hls/master.m3u8', ARRAY['360p', '480p', '720p'], 10000, 1280, 720, 'h264',
       now() - g * interval '1 second'
FROM generate_series(1, 100000) g;
ANALYZE videos;";

/// What the service runs for an uncached first page: the page, then its counters.
const FEED_SQL: &str =
    "SELECT id, user_id, title, description, hashtags, price_minor, product_description, is_ad, status,
       failure_reason, attempts, original_path, container, size_bytes, cover_path, duration_ms, codec, width, height,
       fps, bitrate, thumbnails, hls_path, renditions, processed_at, views_count, likes_count, comments_count,
       created_at, updated_at
FROM videos WHERE status = 'ready' ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0;
SELECT id, views_count, likes_count, comments_count FROM videos
WHERE id = ANY('{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20}'::bigint[]) AND status = 'ready'
  AND user_id != ALL(SELECT blocked_id FROM blocks WHERE blocker_id = 0)
  AND user_id != ALL(SELECT blocker_id FROM blocks WHERE blocked_id = 0);";

async fn start(schema: &TestSchema, jwks: &FakeHttp, feed_cache_secs: u64) -> TestApp {
    let mut platform = testkit::settings(schema, &unique_prefix());
    platform.http.workers = 2;
    // As many connections as pgbench has clients.
    platform.database.max_connections = CONCURRENCY;
    platform.app.log_level = "warn".into();
    platform.jwt.jwks_url = format!("{}/jwks.json", jwks.url());
    let staging = std::env::temp_dir().join(format!("media-feed-bench-{}", schema.name));
    let media = MediaSettings {
        staging_dir: staging.to_string_lossy().into_owned(),
        worker: false,
        feed_cache_secs,
        ..Default::default()
    };
    TestApp::start(media::build(Config { platform, media }).await.expect("media builds"))
}

pub async fn run() {
    let schema = TestSchema::create(&[media::MIGRATIONS]).await;
    schema.connect().await.batch_execute(LOAD).await.expect("bench data loads");
    let jwks = FakeHttp::start().await;
    jwks.respond("/jwks.json", 200, serde_json::to_value(testkit::keys::jwks(&[KEY_1])).unwrap());
    println!(
        "feed: first page (20 items) of 100,000 ready videos; {CONCURRENCY} concurrent clients, {} s each",
        RUN.as_secs()
    );

    let uncached = start(&schema, &jwks, 0).await;
    let url = uncached.url("/api/v2/videos/feed?limit=20");
    load::get(&url, None, CONCURRENCY, Duration::from_secs(1)).await; // warm-up
    let service = load::wrk(&url, None, CONCURRENCY, RUN);
    // The same with one item: what a request costs whatever its size.
    let one = load::wrk(&uncached.url("/api/v2/videos/feed?limit=1"), None, CONCURRENCY, RUN);
    // No database at all: what the HTTP stack alone serves.
    let live = load::wrk(&uncached.url("/live"), None, CONCURRENCY, RUN);
    drop(uncached);
    let cached_app = start(&schema, &jwks, 180).await;
    let url = cached_app.url("/api/v2/videos/feed?limit=20");
    load::get(&url, None, CONCURRENCY, Duration::from_secs(1)).await;
    let cached = load::wrk(&url, None, CONCURRENCY, RUN);
    let database = pgbench::run(&schema, "feed", FEED_SQL, CONCURRENCY, RUN);
    pgbench::report("GET /videos/feed uncached (goal: ≥ 0.5 of pgbench)", service, database);
    pgbench::report("GET /videos/feed cached (counters fresh)", cached, database);
    println!("  one item per page, uncached: {:.0} req/s, p99 {:.2} ms", one.per_second, one.p99_ms());
    println!("  /live (no database):          {:.0} req/s, p99 {:.2} ms", live.per_second, live.p99_ms());
    print!("  plan:\n{}", pgbench::explain(&schema, FEED_SQL.split(';').next().unwrap_or_default()));

    // Likes: 5,000 users like one video, 16 at a time; the counter must say 5,000.
    let client = reqwest::Client::new();
    let like_url = cached_app.url("/api/v2/videos/1/like");
    let started = Instant::now();
    let statuses: Vec<u16> = futures_util::stream::iter(1..=5_000i64)
        .map(|user| {
            let request =
                client.post(&like_url).bearer_auth(testkit::keys::token(10_000 + user, contracts::Role::Buyer));
            async move { request.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|s| *s == 200), "every like answered 200");
    let (_, video) = testkit::ApiClient::new(cached_app.address.clone()).get_public("/api/v2/videos/1").await;
    println!(
        "likes: 5,000 users at {CONCURRENCY} at a time: {:.0} likes/s; likes_count = {} (exact: {})",
        5_000.0 / elapsed.as_secs_f64(),
        video["likes_count"],
        video["likes_count"] == 5_000
    );
}
