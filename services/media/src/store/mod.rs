//! The media schema: diesel tables and the queries on them. Functions take a connection, so
//! that callers can compose them in one transaction.

pub mod feed;
pub mod schema;
pub mod uploads;
pub mod videos;
