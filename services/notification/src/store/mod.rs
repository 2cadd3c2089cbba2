//! Storage: diesel queries over the `notification` schema. Every function takes a connection,
//! so callers compose them in one transaction.

pub mod contacts;
pub mod deliveries;
pub mod notifications;
pub mod push_tokens;
pub mod recorded;
pub mod schema;
pub mod settings;
