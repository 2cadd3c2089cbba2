//! Support tickets: users open them (with up to three files) and follow the thread; admins
//! work through the queue, assign, answer and move them. Rules in `domain`, operations in
//! `tickets`, files in `attachments`; HTTP in `crate::http::support`.

pub mod attachments;
pub mod domain;
pub mod tickets;
