//! `make bench` for the gateway: the same marketplace endpoints loaded by `wrk` directly and
//! through a gateway process, side by side in one run; prints both and the ratios (goal:
//! throughput ≥ 0.85 of direct, p99 added ≤ 1 ms). Two endpoints: `GET /api/v2/regions` (a
//! constant answer: the gateway's own cost at its most visible) and `GET /search/masters`
//! (a database query, as most requests are). Everything shares the machine's cores, wrk too.

#[allow(dead_code)]
#[path = "../tests/api/helpers.rs"]
mod helpers;

use marketplace::config::{Config, MarketplaceSettings};
use serde_json::json;
use std::time::Duration;
use testkit::{TestApp, TestSchema, load, unique_prefix};

const CONNECTIONS: usize = 16;
const RUN: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() {
    let schema = TestSchema::create(&[marketplace::MIGRATIONS]).await;
    let services = helpers::Services::start().await;
    let mut platform = testkit::settings(&schema, &unique_prefix());
    platform.http.workers = 2;
    platform.app.log_level = "warn".into();
    platform.jwt.jwks_url = format!("{}/jwks.json", services.jwks.url());
    let app = TestApp::start(
        marketplace::build(Config { platform, marketplace: MarketplaceSettings::default() }).await.unwrap(),
    );
    let upstream = app.address.trim_start_matches("http://").to_owned();
    let gateway = helpers::Gateway::start(services.config(|g| {
        g["upstreams"]["marketplace"] = json!([upstream]);
        g["rate_limits"] = json!({ "api_per_minute": 100_000_000 });
    }))
    .await;

    for path in ["/api/v2/regions", "/api/v2/search/masters?q=%D0%BA%D1%83%D1%85%D0%BD%D0%B8&region=almaty"] {
        let (direct_url, gateway_url) = (app.url(path), gateway.url(path));
        load::wrk(&direct_url, None, CONNECTIONS, Duration::from_secs(1)); // warm-up
        load::wrk(&gateway_url, None, CONNECTIONS, Duration::from_secs(1));
        let direct = load::wrk(&direct_url, None, CONNECTIONS, RUN);
        let through = load::wrk(&gateway_url, None, CONNECTIONS, RUN);
        println!("GET {path}, wrk -t2 -c{CONNECTIONS} -d{}s", RUN.as_secs());
        println!("  direct:          {:>8.0} req/s, p99 {:>6.2} ms", direct.per_second, direct.p99_ms());
        println!("  through gateway: {:>8.0} req/s, p99 {:>6.2} ms", through.per_second, through.p99_ms());
        println!(
            "  gateway / direct throughput: {:.2}; p99 added: {:.2} ms",
            through.per_second / direct.per_second,
            through.p99_ms() - direct.p99_ms()
        );
    }
    println!("gateway peak RSS: {:.1} MB", gateway.peak_rss_bytes() as f64 / (1024.0 * 1024.0));
}
