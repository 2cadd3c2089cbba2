//! Diesel schema and queries. Functions take a connection (or a transaction's), so callers
//! compose them in one transaction.

pub mod blocks;
pub mod calls;
pub mod chats;
pub mod messages;
pub mod schema;
pub mod tickets;
