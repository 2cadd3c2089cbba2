//! The gateway as a real process in front of real HTTP upstreams, with the real Redis.

mod browser;
mod edge;
mod hardening;
mod helpers;
mod routing;
mod streaming;
