//! Contracts shared by every MebelPlace service: the protobuf event types generated from
//! `proto/`, Kafka topic and NATS subject names, the JWT claims and the service catalogue.
//! Nothing here does I/O.

pub mod claims;
pub mod events;
pub mod rpc;
pub mod services;
pub mod subjects;
pub mod topics;

pub use claims::{Claims, Role, revoked_before_key, revoked_jti_key};
pub use events::{Envelope, EventPayload, Payload};
