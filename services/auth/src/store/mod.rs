//! Queries of the `auth` schema. Functions take a connection, so callers can compose them in
//! one transaction.

pub mod admin;
pub mod codes;
pub mod profiles;
pub mod refresh_tokens;
pub mod relations;
pub mod schema;
pub mod users;
