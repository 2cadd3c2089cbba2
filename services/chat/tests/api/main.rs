//! The chat service through HTTP and WebSockets, with real PostgreSQL, Redis, NATS and Kafka;
//! two replicas where delivery across replicas matters.

mod calls;
mod chats;
mod deal;
mod helpers;
mod media;
mod messages;
mod realtime;
mod resilience;
mod support;
mod turn;
