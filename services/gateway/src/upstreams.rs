//! The replicas of each upstream service: round-robin over the healthy ones. Active health
//! checks (`GET /ready`) run in the background; a replica that refuses a connection is also
//! left out at once for `ejection` (passive ejection), until the checks see it ready again.

use crate::config::GatewaySettings;
use pingora::http::RequestHeader;
use pingora::lb::health_check::HttpHealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, LoadBalancer};
use pingora::services::background::{GenBackgroundService, background_service};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub type Pool = LoadBalancer<RoundRobin>;

pub struct Upstreams {
    pools: HashMap<String, Arc<Pool>>,
    ejected: Mutex<HashMap<SocketAddr, Instant>>,
    ejection: Duration,
}

/// A replica's state, for `/health` and the metrics.
#[derive(Debug, serde::Serialize)]
pub struct ReplicaHealth {
    pub upstream: String,
    pub address: String,
    pub healthy: bool,
}

impl Upstreams {
    /// The pools and the background services that health-check them.
    pub fn build(settings: &GatewaySettings) -> anyhow::Result<(Self, Vec<GenBackgroundService<Pool>>)> {
        let mut pools = HashMap::new();
        let mut checks = Vec::new();
        for (name, replicas) in &settings.upstreams {
            let mut pool = Pool::try_from_iter(replicas.iter().map(String::as_str))
                .map_err(|error| anyhow::anyhow!("upstream {name}: {error}"))?;
            let mut check = HttpHealthCheck::new("localhost", false);
            check.req = RequestHeader::build("GET", b"/ready", None)?;
            check.req.append_header("Host", "localhost")?;
            pool.set_health_check(Box::new(check));
            pool.health_check_frequency = Some(Duration::from_millis(settings.health_check_interval_ms));
            let service = background_service(&format!("health check {name}"), pool);
            pools.insert(name.clone(), service.task());
            checks.push(service);
        }
        let ejection = Duration::from_secs(settings.ejection_secs);
        Ok((Self { pools, ejected: Mutex::new(HashMap::new()), ejection }, checks))
    }

    fn is_ejected(&self, address: &SocketAddr) -> bool {
        let ejected = self.ejected.lock().unwrap_or_else(|p| p.into_inner());
        ejected.get(address).is_some_and(|until| Instant::now() < *until)
    }

    /// The next healthy replica of `upstream`, skipping ejected ones. When no replica passes
    /// its health check, any replica that has not refused a connection is tried ("panic
    /// routing", as Envoy does): the checks may be wrong (a replica still starting up at the
    /// first probe, a slow `/ready`), and a request that fails there fails no worse than a 503.
    pub fn select(&self, upstream: &str) -> Option<Backend> {
        let pool = self.pools.get(upstream)?;
        let not_ejected = |backend: &Backend| backend.addr.as_inet().is_none_or(|address| !self.is_ejected(address));
        pool.select_with(b"", 64, |backend, healthy| healthy && not_ejected(backend))
            .or_else(|| pool.select_with(b"", 64, |backend, _| not_ejected(backend)))
    }

    /// Leaves a replica that failed a connection out for a while.
    pub fn eject(&self, backend: &Backend) {
        if let Some(address) = backend.addr.as_inet() {
            tracing::warn!(%address, "replica ejected after a failed connection");
            self.ejected.lock().unwrap_or_else(|p| p.into_inner()).insert(*address, Instant::now() + self.ejection);
        }
    }

    pub fn health(&self) -> Vec<ReplicaHealth> {
        let mut replicas: Vec<ReplicaHealth> = self
            .pools
            .iter()
            .flat_map(|(name, pool)| {
                pool.backends()
                    .get_backend()
                    .iter()
                    .map(|backend| ReplicaHealth {
                        upstream: name.clone(),
                        address: backend.addr.to_string(),
                        healthy: pool.backends().ready(backend)
                            && backend.addr.as_inet().is_none_or(|address| !self.is_ejected(address)),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        replicas.sort_by(|a, b| (&a.upstream, &a.address).cmp(&(&b.upstream, &b.address)));
        replicas
    }
}
