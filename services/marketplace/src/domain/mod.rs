//! Pure rules of the marketplace, without I/O.

pub mod gamification;
pub mod order;
pub mod proposal;
pub mod reference;
pub mod request;
pub mod review;
