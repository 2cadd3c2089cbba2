//! `make bench` for the marketplace, measured side by side in one run. With 100,000 requests
//! and 100,000 masters loaded (ten specialities, so that a word matches a tenth of them):
//! 1. the masters' feed of open requests filtered by region + category, through HTTP;
//! 2. `GET /search/masters` (text + region), through HTTP;
//!
//! each against the same SQL run by `pgbench` with the same concurrency: throughput, p99 and
//! the ratio (what the service costs over its database), plus the query plans.

use contracts::Role;
use diesel_async::SimpleAsyncConnection;
use marketplace::config::{Config, MarketplaceSettings};
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::KEY_1;
use testkit::load;
use testkit::pgbench;
use testkit::{TestApp, TestSchema, unique_prefix};

const CONCURRENCY: usize = 16;
const RUN: Duration = Duration::from_secs(5);

const LOAD: &str = "
INSERT INTO users (id, username, role, first_name, last_name, region_code, served_regions, served_categories,
                   about, rating_sum, review_count, completed_orders)
SELECT g, 'master' || g, 'master', 'Мастер' || g, 'Фамилия' || g, r.c[1 + g % 20], ARRAY[r.c[1 + (g / 20) % 20]],
       ARRAY[k.c[1 + g % 20], k.c[1 + (g * 7) % 20]],
       (ARRAY['Изготавливаю кухни на заказ', 'Шкафы-купе и гардеробные', 'Перетяжка и ремонт диванов',
              'Детская мебель', 'Офисные столы и кресла', 'Кровати из массива', 'Реставрация антиквариата',
              'Прихожие и тумбы', 'Мебель для ванной', 'Стеллажи и полки'])[1 + g % 10]
       || ' ' || (ARRAY['быстро', 'качественно', 'недорого', 'с гарантией', 'по эскизу'])[1 + (g / 10) % 5],
       (g % 5 + 1) * (g % 10), g % 10, g % 30
FROM generate_series(1, 100000) g,
     (SELECT array_agg(code ORDER BY sort) c FROM regions) r,
     (SELECT array_agg(code ORDER BY sort) c FROM categories) k;

INSERT INTO requests (buyer_id, title, description, region_code, categories, budget, status, expires_at, created_at)
SELECT 200000 + g % 5000, 'Заявка ' || g,
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
  AND service_area @> ARRAY['almaty']
  AND (search_document @@ to_tsquery('russian', 'кухни:*') OR 'кухни' <% search_text)
ORDER BY relevance DESC, (CASE WHEN review_count = 0 THEN 0 ELSE rating_sum::float8 / review_count END) DESC, id
LIMIT 21 OFFSET 0;";

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
    println!("100,000 requests, 100,000 masters; {CONCURRENCY} concurrent clients, {} s each", RUN.as_secs());

    let feed = app.url("/api/v2/requests?region=almaty&category=kitchens");
    load::get(&feed, Some(&token), CONCURRENCY, Duration::from_secs(1)).await; // warm-up
    let service = load::wrk(&feed, Some(&token), CONCURRENCY, RUN);
    let database = pgbench::run(&schema, "feed", FEED_SQL, CONCURRENCY, RUN);
    pgbench::report("masters' feed: GET /requests?region=almaty&category=kitchens", service, database);
    print!("  plan:\n{}", pgbench::explain(&schema, FEED_SQL));

    let search = app.url("/api/v2/search/masters?q=%D0%BA%D1%83%D1%85%D0%BD%D0%B8&region=almaty");
    load::get(&search, None, CONCURRENCY, Duration::from_secs(1)).await;
    let service = load::wrk(&search, None, CONCURRENCY, RUN);
    let database = pgbench::run(&schema, "search", SEARCH_SQL, CONCURRENCY, RUN);
    pgbench::report("GET /search/masters?q=кухни&region=almaty", service, database);
    print!("  plan:\n{}", pgbench::explain(&schema, SEARCH_SQL));
}
