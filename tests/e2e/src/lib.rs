//! The whole system on loopback for black-box suites: every service of the catalogue that this
//! checkout builds, started as its own process the way `mebelplace up` starts it (its binary,
//! its `migrate`, environment configuration), each on a schema of its own, all sharing one
//! unique Kafka/NATS/Redis prefix, and the gateway in front. Tests talk to the gateway only.

pub mod database;
pub mod system;
pub mod world;

pub use system::{Process, System};
