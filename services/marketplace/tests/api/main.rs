//! Marketplace service through HTTP, with the real auth service, PostgreSQL, Redis, NATS and Kafka.

mod deal;
mod gamification;
mod helpers;
mod masters;
mod rules;
mod validation;
