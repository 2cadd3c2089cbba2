//! Deployment checks that need Rust: the compose file and the chart against the service
//! catalogue, the dashboards and alert rules against the metrics the running services export,
//! one trace through a real OTLP collector, and the image's build and run steps outside a
//! container. (`scripts/deploy-check` runs helm, kubernetes-validate, docker-compose and
//! promtool themselves.)

mod deployment;
mod helpers;
mod image;
mod observability;
mod traces;
