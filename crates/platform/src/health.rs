//! Dependency checks behind `/health` (every component with its status) and `/ready`
//! (503 while a required dependency is down).

use crate::db::PgPool;
use crate::redis::RedisPool;
use diesel_async::RunQueryDsl;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Readiness is probed every few seconds by the gateway and Kubernetes: it checks only what is
/// required, each within this deadline, so that a slow optional dependency (a Kafka broker that
/// is down: writes wait in the outbox) never makes the probe itself time out.
const READY_TIMEOUT: Duration = Duration::from_millis(500);

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// One thing the service depends on, and how to tell whether it answers.
#[derive(Clone)]
pub struct Dependency {
    name: &'static str,
    required: bool,
    check: CheckFn,
}

impl Dependency {
    pub fn new<F, Fut>(name: &'static str, required: bool, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self { name, required, check: Arc::new(move || check().boxed()) }
    }

    pub fn postgres(pool: PgPool) -> Self {
        Self::new("postgres", true, move || {
            let pool = pool.clone();
            async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                diesel::sql_query("SELECT 1").execute(&mut conn).await.map(drop).map_err(|e| e.to_string())
            }
        })
    }

    pub fn redis(pool: RedisPool) -> Self {
        Self::new("redis", true, move || {
            let pool = pool.clone();
            async move { crate::redis::ping(&pool).await.map_err(|e| e.to_string()) }
        })
    }

    pub fn nats(client: async_nats::Client) -> Self {
        Self::new("nats", true, move || {
            let connected = crate::nats::is_connected(&client);
            async move { if connected { Ok(()) } else { Err("not connected".to_owned()) } }
        })
    }

    /// Kafka is not required for readiness: writes go to the outbox and wait for the broker.
    pub fn kafka(producer: crate::kafka::Producer) -> Self {
        Self::new("kafka", false, move || {
            let producer = producer.clone();
            async move { producer.ping(CHECK_TIMEOUT).await.map_err(|e| e.to_string()) }
        })
    }

    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComponentReport {
    pub status: &'static str,
    pub required: bool,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    pub status: Status,
    pub service: &'static str,
    pub version: &'static str,
    /// The commit the binary was built from (`unknown` outside a release build).
    pub commit: &'static str,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub components: BTreeMap<&'static str, ComponentReport>,
    /// The service's Kafka consumers: what it listens to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ConsumerInfo>,
}

/// A consumer group of the service and the (logical) topics it consumes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsumerInfo {
    pub group: String,
    pub topics: Vec<String>,
}

#[derive(Clone)]
pub struct Health {
    service: &'static str,
    version: &'static str,
    dependencies: Vec<Dependency>,
    consumers: Vec<ConsumerInfo>,
}

impl Health {
    pub fn new(service: &'static str, version: &'static str, dependencies: Vec<Dependency>) -> Self {
        Self { service, version, dependencies, consumers: Vec::new() }
    }

    pub fn add(&mut self, dependency: Dependency) {
        self.dependencies.push(dependency);
    }

    pub fn add_consumer(&mut self, consumer: ConsumerInfo) {
        self.consumers.push(consumer);
    }

    /// Checks every dependency concurrently, each bounded by a timeout.
    pub async fn report(&self) -> HealthReport {
        self.check(|_| true, CHECK_TIMEOUT).await
    }

    /// Checks only the required dependencies, quickly: what `/ready` answers from.
    pub async fn readiness(&self) -> HealthReport {
        self.check(|dependency| dependency.required, READY_TIMEOUT).await
    }

    async fn check(&self, included: impl Fn(&Dependency) -> bool, timeout: Duration) -> HealthReport {
        let checks = self.dependencies.iter().filter(|d| included(d)).map(|dependency| async move {
            let started = Instant::now();
            let outcome = tokio::time::timeout(timeout, (dependency.check)())
                .await
                .unwrap_or_else(|_| Err("timed out".to_owned()));
            let report = ComponentReport {
                status: if outcome.is_ok() { "up" } else { "down" },
                required: dependency.required,
                latency_ms: started.elapsed().as_millis() as u64,
                error: outcome.err(),
            };
            (dependency.name, report)
        });
        let components: BTreeMap<_, _> = futures_util::future::join_all(checks).await.into_iter().collect();
        let down = |required: bool| components.values().any(|c| c.required == required && c.error.is_some());
        let status = if down(true) {
            Status::Unhealthy
        } else if down(false) {
            Status::Degraded
        } else {
            Status::Healthy
        };
        HealthReport {
            status,
            service: self.service,
            version: self.version,
            commit: crate::metrics::build::COMMIT,
            timestamp: chrono::Utc::now(),
            components,
            consumers: self.consumers.clone(),
        }
    }
}
