//! `make bench` for the gateway: the same marketplace endpoints loaded by `wrk` directly, through
//! nginx (the peer: what an operator would otherwise put in front of the services; 2 workers,
//! upstream keep-alive, access log off), through a bare Pingora proxy (the framework with
//! nothing of ours) and through a gateway process (JWT, rate limits, security headers and
//! metrics on), side by side in one run. Goal: gateway throughput ≥ 1.0× nginx's, and at light
//! load a p99 no worse than nginx's + 0.2 ms. Three endpoints: `GET /api/v2/regions` (a
//! constant answer: the proxy's cost at its most visible), `GET /search/masters` (a database
//! query, as most requests are) and the masters' feed `GET /requests` (a token checked by the
//! gateway and by the service). Everything shares the machine's cores, wrk too, so the runs
//! alternate, each figure is the median of [`ROUNDS`], and requests per CPU-second of the proxy
//! process (from `/proc`) are printed beside throughput: they hardly depend on who else runs.

#[allow(dead_code)]
#[path = "../tests/api/helpers.rs"]
mod helpers;

use async_trait::async_trait;
use contracts::Role;
use marketplace::config::{Config, MarketplaceSettings};
use pingora::proxy::{ProxyHttp, Session};
use pingora::server::Server;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::upstreams::peer::HttpPeer;
use serde_json::json;
use std::time::Duration;
use testkit::load::{self, Throughput};
use testkit::nginx::Nginx;
use testkit::{TestApp, TestSchema, unique_prefix};

/// Enough to keep every process busy: the throughput ratio.
const SATURATING_CONNECTIONS: usize = 16;
/// One request in flight per wrk thread: the latency a proxy adds, without queueing behind
/// other requests (at saturation a slower path queues less, which hides its latency).
const UNLOADED_CONNECTIONS: usize = 2;
const RUN: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;
/// The gateway's and nginx's worker count: one per core of the CI machine.
const WORKERS: usize = 2;

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
        let conf = ServerConf { threads: WORKERS, ..ServerConf::default() };
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

/// One way to reach the marketplace; `pid` when it runs in a process of its own, whose CPU
/// time is then measured.
struct Peer {
    name: &'static str,
    base: String,
    pid: Option<u32>,
}

#[derive(Clone, Copy)]
struct Measured {
    throughput: Throughput,
    per_cpu_second: Option<f64>,
}

fn measure(peer: &Peer, path: &str, token: Option<&str>, connections: usize, run: Duration) -> Measured {
    let cpu_before = peer.pid.map(load::cpu_seconds);
    let throughput = load::wrk(&format!("{}{path}", peer.base), token, connections, run);
    let per_cpu_second = peer.pid.zip(cpu_before).map(|(pid, before)| {
        let used = (load::cpu_seconds(pid) - before).max(0.01);
        throughput.per_second * run.as_secs_f64() / used
    });
    Measured { throughput, per_cpu_second }
}

/// Every peer in turn, `ROUNDS` times after a warm-up; the median of each.
fn compare(peers: &[Peer], path: &str, token: Option<&str>, connections: usize) -> Vec<Measured> {
    for peer in peers {
        measure(peer, path, token, connections, Duration::from_secs(1));
    }
    let mut runs: Vec<Vec<Measured>> = peers.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for (peer, runs) in peers.iter().zip(&mut runs) {
            runs.push(measure(peer, path, token, connections, RUN));
        }
    }
    runs.into_iter().map(medians).collect()
}

/// The median of each figure over the rounds (they need not come from the same round).
fn medians(mut runs: Vec<Measured>) -> Measured {
    let middle = runs.len() / 2;
    runs.sort_by_key(|run| run.throughput.p99);
    let p99 = runs[middle].throughput.p99;
    let mut per_cpu: Vec<f64> = runs.iter().filter_map(|run| run.per_cpu_second).collect();
    per_cpu.sort_by(f64::total_cmp);
    runs.sort_by(|a, b| a.throughput.per_second.total_cmp(&b.throughput.per_second));
    Measured {
        throughput: Throughput { per_second: runs[middle].throughput.per_second, p99 },
        per_cpu_second: per_cpu.get(per_cpu.len() / 2).copied(),
    }
}

fn print_runs(peers: &[Peer], results: &[Measured]) {
    for (peer, result) in peers.iter().zip(results) {
        let per_cpu = result.per_cpu_second.map_or("".to_owned(), |r| format!(", {r:>8.0} req per CPU-s"));
        println!(
            "    {:<16} {:>8.0} req/s, p99 {:>6.2} ms{per_cpu}",
            peer.name,
            result.throughput.per_second,
            result.throughput.p99_ms()
        );
    }
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
        g["threads"] = json!(WORKERS);
        // Production's probe interval (the tests' helpers probe five times a second).
        g["health_check_interval_ms"] = json!(2000);
    }))
    .await;
    let nginx = Nginx::start(&upstream, WORKERS).await;
    let peers = [
        Peer { name: "direct", base: app.address.clone(), pid: None },
        Peer { name: "nginx", base: nginx.url.clone(), pid: Some(nginx.pid()) },
        Peer { name: "bare Pingora", base: start_bare_proxy(upstream).await, pid: None },
        Peer { name: "gateway", base: gateway.url.clone(), pid: Some(gateway.pid()) },
    ];
    let (nginx_at, gateway_at) = (1, 3);

    let token = testkit::keys::token(1, Role::Master);
    let endpoints = [
        ("/api/v2/regions", None),
        ("/api/v2/search/masters?q=%D0%BA%D1%83%D1%85%D0%BD%D0%B8&region=almaty", None),
        ("/api/v2/requests?region=almaty&category=kitchens", Some(token.as_str())),
    ];
    let mut summary = Vec::new();
    for (path, token) in endpoints {
        let signed = if token.is_some() { " with a token" } else { "" };
        println!("GET {path}{signed} (wrk -t2, {}s runs, median of {ROUNDS})", RUN.as_secs());
        let saturated = compare(&peers, path, token, SATURATING_CONNECTIONS);
        println!("  saturated, {SATURATING_CONNECTIONS} connections:");
        print_runs(&peers, &saturated);
        let (nginx, through) = (saturated[nginx_at], saturated[gateway_at]);
        let throughput = through.throughput.per_second / nginx.throughput.per_second;
        let per_cpu = through.per_cpu_second.zip(nginx.per_cpu_second).map_or(0.0, |(g, n)| g / n);
        println!("    gateway / nginx: throughput {throughput:.2}, requests per CPU-second {per_cpu:.2}");
        let unloaded = compare(&peers, path, token, UNLOADED_CONNECTIONS);
        println!("  unloaded, {UNLOADED_CONNECTIONS} connections (latency without queueing):");
        print_runs(&peers, &unloaded);
        let p99_over_nginx = unloaded[gateway_at].throughput.p99_ms() - unloaded[nginx_at].throughput.p99_ms();
        println!("    gateway p99 − nginx p99: {p99_over_nginx:+.2} ms");
        summary.push((path, throughput, per_cpu, p99_over_nginx));
    }
    println!("gateway / nginx (goals: throughput ≥ 1.00, p99 at light load ≤ nginx's + 0.20 ms):");
    for (path, throughput, per_cpu, p99) in summary {
        println!("  {path}: throughput {throughput:.2}, per CPU-second {per_cpu:.2}, p99 {p99:+.2} ms");
    }
    println!("gateway peak RSS: {:.1} MB", gateway.peak_rss_bytes() as f64 / (1024.0 * 1024.0));
}
