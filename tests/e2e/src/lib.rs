//! The whole system on loopback for black-box suites: every service of the catalogue that this
//! checkout builds, started as its own process the way `mebelplace up` starts it (its binary,
//! its `migrate`, environment configuration), each on a schema of its own, all sharing one
//! unique Kafka/NATS/Redis prefix, and the gateway in front. Tests talk to the gateway only.

pub mod database;
pub mod media;
pub mod system;
pub mod world;

pub use system::{Process, System};

/// Runs one phase of a suite: it must end within `limit` (a test stuck in it fails with the
/// phase's name and the programs' logs instead of being killed silently by the runner), and
/// how long it took is printed.
pub async fn within<T>(phase: &str, limit: std::time::Duration, work: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let done = tokio::time::timeout(limit, work).await.unwrap_or_else(|_| panic!("{phase}: not done in {limit:?}"));
    println!("{phase}: {:.1} s", started.elapsed().as_secs_f64());
    done
}
