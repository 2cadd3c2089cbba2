//! The connections every service opens at start: PostgreSQL, Redis, NATS and Kafka, with the
//! health checks and the outbox relay built on them.

use crate::config::Settings;
use crate::db::PgPool;
use crate::health::{Dependency, Health};
use crate::outbox::OutboxRelay;
use crate::redis::RedisPool;

#[derive(Clone)]
pub struct Connections {
    pub db: PgPool,
    pub redis: RedisPool,
    pub nats: async_nats::Client,
    pub producer: crate::kafka::Producer,
}

impl Connections {
    /// Opens the pools; NATS reconnects in the background when it is down at start.
    pub async fn open(service: &'static str, settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            db: crate::db::pool(&settings.database)?,
            redis: crate::redis::pool(&settings.redis)?,
            nats: crate::nats::connect(&settings.nats, service).await?,
            producer: crate::kafka::producer(&settings.kafka)?,
        })
    }

    /// `/health` and `/ready` over all four dependencies.
    pub fn health(&self, service: &'static str, version: &'static str) -> Health {
        Health::new(
            service,
            version,
            vec![
                Dependency::postgres(self.db.clone()),
                Dependency::redis(self.redis.clone()),
                Dependency::nats(self.nats.clone()),
                Dependency::kafka(self.producer.clone()),
            ],
        )
    }

    /// The relay that publishes this service's outbox to Kafka and NATS.
    pub fn outbox_relay(&self, settings: &Settings) -> OutboxRelay {
        OutboxRelay::new(self.db.clone(), &settings.database, settings.outbox.clone())
            .with_kafka(self.producer.clone())
            .with_nats(self.nats.clone(), settings.nats.clone())
    }
}
