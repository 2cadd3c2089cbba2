//! What every MebelPlace service shares at run time: configuration, telemetry, the HTTP
//! scaffolding and error shape, token verification, pools, Kafka/NATS, the transactional
//! outbox and idempotent consumers, object storage.
//!
//! A service declares itself ([`service::Declaration`]) and builds its app on a
//! [`service::Kit`]; its `main` is one call to [`service::main`]:
//! config → telemetry → migrate, or pools → HTTP app + consumers + outbox relay → run until SIGTERM.

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod connections;
pub mod consumer;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod id;
pub mod kafka;
pub mod metrics;
pub mod money;
pub mod nats;
pub mod outbox;
pub mod pagination;
pub mod redis;
pub mod search;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod text_enum;
mod tls;

pub use app::{Application, ShutdownHandle};
pub use auth::{AuthUser, TokenVerifier};
pub use config::Settings;
pub use connections::Connections;
pub use error::ApiError;
pub use http::Json;
pub use service::{Declaration, Kit};

#[doc(hidden)]
pub use diesel as __diesel;
#[doc(hidden)]
pub use paste::paste as __paste;
