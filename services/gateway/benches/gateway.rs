//! `make bench` for the gateway: the same marketplace endpoints loaded by `wrk` directly, through
//! a bare Pingora proxy (the framework with nothing of ours: its own cost on this machine) and
//! through a gateway process, side by side in one run; prints all three and the ratios (goal:
//! throughput ≥ 0.85 of direct under saturating load, p99 added ≤ 1 ms at light load). Two
//! endpoints: `GET /api/v2/regions` (a constant answer: the proxy's cost at its most visible)
//! and `GET /search/masters` (a database query, as most requests are). Everything shares the
//! machine's cores, wrk too, so the runs alternate and each figure is the median of [`ROUNDS`].

#[allow(dead_code)]
#[path = "../tests/api/helpers.rs"]
mod helpers;

use async_trait::async_trait;
use marketplace::config::{Config, MarketplaceSettings};
use pingora::proxy::{ProxyHttp, Session};
use pingora::server::Server;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::upstreams::peer::HttpPeer;
use serde_json::json;
use std::time::Duration;
use testkit::load::Throughput;
use testkit::{TestApp, TestSchema, load, unique_prefix};

/// Enough to keep every process busy: the throughput ratio.
const SATURATING_CONNECTIONS: usize = 16;
/// One request in flight per wrk thread: the latency a proxy adds, without queueing behind
/// other requests (at saturation a slower path queues less, which hides its latency).
const UNLOADED_CONNECTIONS: usize = 2;
const RUN: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;

/// Pingora forwarding every request to one address, with no filters of its own.
struct BareProxy(String);

#[async_trait]
impl ProxyHttp for BareProxy {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> pingora::Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.0.as_str(), false, String::new())))
    }
}

/// Starts a bare proxy to `upstream` with the gateway's thread count; its base URL.
async fn start_bare_proxy(upstream: String) -> String {
    let address = format!("127.0.0.1:{}", testkit::free_port());
    let listen = address.clone();
    std::thread::spawn(move || {
        let conf = ServerConf { threads: 2, ..ServerConf::default() };
        let mut server = Server::new_with_opt_and_conf(Opt::default(), conf);
        server.bootstrap();
        let mut proxy = pingora::proxy::http_proxy_service(&server.configuration, BareProxy(upstream));
        proxy.add_tcp(&listen);
        server.add_service(proxy);
        server.run_forever()
    });
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    format!("http://{address}")
}

/// Direct, bare Pingora and gateway runs alternating, `ROUNDS` each after a warm-up.
fn compare(urls: &[String; 3], connections: usize) -> [Throughput; 3] {
    let mut runs: [Vec<Throughput>; 3] = Default::default();
    for url in urls {
        load::wrk(url, None, connections, Duration::from_secs(1));
    }
    for _ in 0..ROUNDS {
        for (url, runs) in urls.iter().zip(&mut runs) {
            runs.push(load::wrk(url, None, connections, RUN));
        }
    }
    runs.map(|mut runs| medians(&mut runs))
}

fn print_runs(direct: Throughput, bare: Throughput, through: Throughput) {
    for (name, result) in [("direct", direct), ("bare Pingora", bare), ("through gateway", through)] {
        println!("    {name:<16} {:>8.0} req/s, p99 {:>6.2} ms", result.per_second, result.p99_ms());
    }
}

/// The median run by throughput, and the median p99, of `ROUNDS` runs each.
fn medians(runs: &mut [Throughput]) -> Throughput {
    runs.sort_by_key(|run| run.p99);
    let p99 = runs[runs.len() / 2].p99;
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    Throughput { per_second: runs[runs.len() / 2].per_second, p99 }
}

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
    let bare = start_bare_proxy(upstream).await;

    for path in ["/api/v2/regions", "/api/v2/search/masters?q=%D0%BA%D1%83%D1%85%D0%BD%D0%B8&region=almaty"] {
        let urls = [app.url(path), format!("{bare}{path}"), gateway.url(path)];
        println!("GET {path} (wrk -t2, {}s runs, median of {ROUNDS})", RUN.as_secs());
        let [direct, bare, through] = compare(&urls, SATURATING_CONNECTIONS);
        println!("  saturated, {SATURATING_CONNECTIONS} connections:");
        print_runs(direct, bare, through);
        println!(
            "    throughput gateway / direct: {:.2}; bare Pingora / direct: {:.2}; gateway / bare Pingora: {:.2}",
            through.per_second / direct.per_second,
            bare.per_second / direct.per_second,
            through.per_second / bare.per_second
        );
        let [direct, bare, through] = compare(&urls, UNLOADED_CONNECTIONS);
        println!("  unloaded, {UNLOADED_CONNECTIONS} connections (latency without queueing):");
        print_runs(direct, bare, through);
        println!(
            "    p99 added by the gateway: {:.2} ms; by bare Pingora: {:.2} ms",
            through.p99_ms() - direct.p99_ms(),
            bare.p99_ms() - direct.p99_ms()
        );
    }
    println!("gateway peak RSS: {:.1} MB", gateway.peak_rss_bytes() as f64 / (1024.0 * 1024.0));
}
