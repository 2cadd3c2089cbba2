//! Auth service through HTTP against real PostgreSQL, Redis, NATS and Kafka.

mod admin;
mod flows;
mod helpers;
mod keys;
mod profiles;
mod rpc;
mod sessions;
mod social;
mod validation;
