//! Marketplace service through HTTP, with the real auth service, PostgreSQL, Redis, NATS and Kafka.

mod deal;
mod directory;
mod gamification;
mod helpers;
mod rules;
mod validation;
