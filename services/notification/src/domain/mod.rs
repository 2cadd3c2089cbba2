//! Pure rules: what kinds of notification exist and where they go by default, quiet hours,
//! retry timing, and which events tell whom what. No I/O; unit-tested here.

pub mod kind;
pub mod plan;
pub mod quiet;
pub mod retry;
pub mod templates;

pub use kind::{Channel, Kind};
