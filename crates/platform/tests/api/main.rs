//! Platform integration tests against the real PostgreSQL, Redis, NATS and Kafka-protocol
//! broker: one binary, one module per concern, each test with its own schema and prefixes.

mod cache;
mod events;
mod exactly_once;
mod helpers;
mod http;
mod jwt;
mod kit;
mod ordering;
mod readiness;
mod recovery;
mod shutdown;
mod tls;
