//! Pure rules of the auth service, unit-tested without I/O.

pub mod code;
pub mod identity;
pub mod password;
pub mod status;
pub mod username;
