//! The system suites, through the gateway with every service running as a process.

mod access;
mod authorization;
mod contract;
mod faults;
mod fuzzing;
mod journey;
mod security;
mod seed;
mod storm;
