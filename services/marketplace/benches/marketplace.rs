//! `make bench` for the marketplace, measured side by side in one run. With 100,000 requests
//! and 1,000 masters loaded:
//! 1. the masters' feed of open requests filtered by region + category, through HTTP;
//! 2. `GET /search/masters` (text + region), through HTTP;
//!
//! each against the same SQL run by `pgbench` with the same concurrency: throughput, p99 and
//! the ratio (what the service costs over its database), plus the query plans.

use contracts::Role;
use diesel_async::SimpleAsyncConnection;
use marketplace::config::{Config, MarketplaceSettings};
use std::process::Command;
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::KEY_1;
use testkit::load::{self, Throughput};
use testkit::{TestApp, TestSchema, unique_prefix};

const CONCURRENCY: usize = 16;
const RUN: Duration = Duration::from_secs(5);

const LOAD: &str = "
INSERT INTO users (id, username, role, first_name, last_name, region_code, served_regions, served_categories,
                   about, rating_sum, review_count, completed_orders)
SELECT g, 'master' || g, 'master', 'Мастер' || g, 'Фамилия' || g, r.c[1 + g % 20], ARRAY[r.c[1 + (g / 20) % 20]],
       ARRAY[k.c[1 + g % 20], k.c[1 + (g * 7) % 20]],
       (ARRAY['Изготавливаю кухни на заказ', 'Шкафы-купе и гардеробные', 'Перетяжка и ремонт диванов'])[1 + g % 3],
       (g % 5 + 1) * (g % 10), g % 10, g % 30
FROM generate_series(1, 1000) g,
     (SELECT array_agg(code ORDER BY sort) c FROM regions) r,
     (SELECT array_agg(code ORDER BY sort) c FROM categories) k;

INSERT INTO requests (buyer_id, title, description, region_code, categories, budget, status, expires_at, created_at)
SELECT 100000 + g % 5000, 'Заявка ' || g,
       'Нужна мебель: ' || (ARRAY['кухня', 'шкаф-купе', 'диван', 'кровать', 'стол'])[1 + g % 5],
       CASE WHEN g % 10 < 3 THEN 'almaty' ELSE r.c[1 + g % 20] END,
       ARRAY[k.c[1 + g % 20]] || CASE WHEN g % 2 = 0 THEN ARRAY[k.c[1 + (g / 3) % 20]] ELSE '{}' END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 100 + 1) * 1000000 END,
       CASE WHEN g % 7 = 0 THEN 'completed' ELSE 'pending' END,
       now() + interval '30 days', now() - g * interval '1 second'
FROM generate_series(1, 100000) g,
     (SELECT array_agg(code ORDER BY sort) c FROM regions) r,
     (SELECT array_agg(code ORDER BY sort) c FROM categories) k;
ANALYZE;
";

/// What the service runs for `GET /requests?region=almaty&category=kitchens` (a page of 20).
const FEED_SQL: &str =
    "SELECT id, buyer_id, title, description, region_code, categories, budget, images, status, views,
       proposal_count, expires_at, created_at, updated_at
FROM requests
WHERE status = 'pending' AND region_code = 'almaty' AND categories && ARRAY['kitchens']
ORDER BY created_at DESC, id DESC LIMIT 21;";

/// What the service runs for `GET /search/masters?q=кухни&region=almaty`.
const SEARCH_SQL: &str = "SELECT id, username, role, first_name, last_name, avatar_url, region_code, active,
       served_regions, served_categories, about, rating_sum, review_count, completed_orders, points,
       (CASE WHEN 'кухни' = '' THEN 0 ELSE ts_rank(search_document, to_tsquery('russian', 'кухни:*'))
        + word_similarity('кухни', search_text) END)::float8 AS relevance
FROM users
WHERE role = 'master' AND active AND username IS NOT NULL
  AND (region_code = 'almaty' OR served_regions @> ARRAY['almaty'])
  AND (search_document @@ to_tsquery('russian', 'кухни:*') OR 'кухни' <% search_text)
ORDER BY relevance DESC, (CASE WHEN review_count = 0 THEN 0 ELSE rating_sum::float8 / review_count END) DESC, id
LIMIT 21 OFFSET 0;";

fn pg_env(schema: &TestSchema) -> Vec<(&'static str, String)> {
    vec![("PGOPTIONS", format!("-c search_path={},public", schema.name))]
}

/// Runs `sql` with pgbench (same concurrency and duration); throughput and p99 from its log.
fn pgbench(schema: &TestSchema, name: &str, sql: &str) -> Throughput {
    let dir = std::env::temp_dir().join(format!("mebelplace-pgbench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join(format!("{name}.sql"));
    std::fs::write(&script, sql.replace('\n', " ")).unwrap();
    let output = Command::new("pgbench")
        .envs(pg_env(schema))
        .args(["-n", "-h", "127.0.0.1", "-U", "postgres", "-M", "prepared", "-l", "--log-prefix"])
        .arg(dir.join("log"))
        .args(["-c", &CONCURRENCY.to_string(), "-j", "2", "-T", &RUN.as_secs().to_string(), "-f"])
        .arg(&script)
        .arg("mebelplace_test")
        .output()
        .expect("pgbench runs (Debian package postgresql-contrib / postgresql-client)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "pgbench failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let per_second = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .expect("pgbench prints tps");
    let mut latencies_us: Vec<u64> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("log"))
        .flat_map(|entry| {
            std::fs::read_to_string(entry.path()).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .filter_map(|line| line.split_whitespace().nth(2).and_then(|latency| latency.parse().ok()))
        .collect();
    latencies_us.sort_unstable();
    std::fs::remove_dir_all(&dir).ok();
    let p99 = Duration::from_micros(latencies_us[latencies_us.len() * 99 / 100]);
    Throughput { per_second, p99 }
}

fn explain(schema: &TestSchema, sql: &str) -> String {
    let output = Command::new("psql")
        .envs(pg_env(schema))
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "mebelplace_test", "-X", "-A", "-t", "-c"])
        .arg(format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}"))
        .output()
        .expect("psql runs");
    String::from_utf8_lossy(&output.stdout).lines().map(|line| format!("    {line}\n")).collect()
}

fn report(what: &str, service: Throughput, database: Throughput) {
    println!("{what}");
    println!("  through HTTP: {:>8.0} req/s, p99 {:>6.2} ms", service.per_second, service.p99_ms());
    println!("  pgbench:      {:>8.0} tx/s,  p99 {:>6.2} ms", database.per_second, database.p99_ms());
    println!(
        "  service / database throughput: {:.2}; p99 added: {:.2} ms",
        service.per_second / database.per_second,
        service.p99_ms() - database.p99_ms()
    );
}

#[tokio::main]
async fn main() {
    let schema = TestSchema::create(&[marketplace::MIGRATIONS]).await;
    let mut conn = schema.connect().await;
    conn.batch_execute(LOAD).await.expect("bench data loads");
    let jwks = FakeHttp::start().await;
    jwks.respond("/jwks.json", 200, serde_json::to_value(testkit::keys::jwks(&[KEY_1])).unwrap());
    let mut platform = testkit::settings(&schema, &unique_prefix());
    platform.http.workers = 2;
    platform.app.log_level = "warn".into();
    platform.jwt.jwks_url = format!("{}/jwks.json", jwks.url());
    let app = TestApp::start(
        marketplace::build(Config { platform, marketplace: MarketplaceSettings::default() }).await.unwrap(),
    );
    let token = testkit::keys::token(1, Role::Master);
    println!("100,000 requests, 1,000 masters; {CONCURRENCY} concurrent clients, {} s each", RUN.as_secs());

    let feed = app.url("/api/v2/requests?region=almaty&category=kitchens");
    load::get(&feed, Some(&token), CONCURRENCY, Duration::from_secs(1)).await; // warm-up
    let service = load::wrk(&feed, Some(&token), CONCURRENCY, RUN);
    let database = pgbench(&schema, "feed", FEED_SQL);
    report("masters' feed: GET /requests?region=almaty&category=kitchens", service, database);
    print!("  plan:\n{}", explain(&schema, FEED_SQL));

    let search = app.url("/api/v2/search/masters?q=%D0%BA%D1%83%D1%85%D0%BD%D0%B8&region=almaty");
    load::get(&search, None, CONCURRENCY, Duration::from_secs(1)).await;
    let service = load::wrk(&search, None, CONCURRENCY, RUN);
    let database = pgbench(&schema, "search", SEARCH_SQL);
    report("GET /search/masters?q=кухни&region=almaty", service, database);
    print!("  plan:\n{}", explain(&schema, SEARCH_SQL));
}
