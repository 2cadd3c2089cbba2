//! The database pool, read when scraped: `db_pool_connections{state}` (`idle`, `in_use`),
//! `db_pool_max_connections` and `db_pool_waiting` (tasks waiting for a connection).

use crate::db::PgPool;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, IntGaugeVec, Opts};

pub(super) struct PoolCollector {
    pool: PgPool,
    connections: IntGaugeVec,
    max: IntGauge,
    waiting: IntGauge,
}

impl PoolCollector {
    pub(super) fn new(pool: PgPool) -> Self {
        let gauge = |name, help| IntGauge::new(name, help).expect("static metric definition");
        Self {
            pool,
            connections: IntGaugeVec::new(
                Opts::new("db_pool_connections", "PostgreSQL connections of the pool by state"),
                &["state"],
            )
            .expect("static metric definition"),
            max: gauge("db_pool_max_connections", "Largest size of the PostgreSQL pool"),
            waiting: gauge("db_pool_waiting", "Tasks waiting for a PostgreSQL connection"),
        }
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        [self.connections.desc(), self.max.desc(), self.waiting.desc()].concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let status = self.pool.status();
        let idle = status.available as i64;
        self.connections.with_label_values(&["idle"]).set(idle);
        self.connections.with_label_values(&["in_use"]).set(status.size as i64 - idle);
        self.max.set(status.max_size as i64);
        self.waiting.set(status.waiting as i64);
        [self.connections.collect(), self.max.collect(), self.waiting.collect()].concat()
    }
}
