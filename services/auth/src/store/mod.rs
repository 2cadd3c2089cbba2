//! Queries of the `auth` schema. Functions take a connection, so callers can compose them in
//! one transaction.

pub mod codes;
pub mod refresh_tokens;
pub mod schema;
pub mod users;
