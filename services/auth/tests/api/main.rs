//! Auth service through HTTP against real PostgreSQL, Redis, NATS and Kafka.

mod flows;
mod helpers;
mod keys;
mod validation;
