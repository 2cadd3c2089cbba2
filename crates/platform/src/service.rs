//! A service declares itself; the platform wires it.
//!
//! [`Declaration`] names the service's catalogue entry, migrations, configuration aliases, the
//! function that builds its app and its extra commands. [`main`] runs any declared service:
//! configuration → telemetry → `migrate` or a command or serve until SIGTERM. Inside `build`,
//! a [`Kit`] opens the connections and collects what runs beside the HTTP server (named
//! consumers, NATS request handlers, jobs); [`Kit::serve`] puts it all together with the health
//! checks, the token verifier, and the outbox relay publishing the service's topics.

use crate::app::Application;
use crate::auth::{KeySource, TokenVerifier};
use crate::config::{ServiceDefaults, Settings};
use crate::connections::Connections;
use crate::consumer::{ConsumerRunner, EventHandler};
use crate::db::PgPool;
use crate::health::{ConsumerInfo, Dependency};
use crate::http::openapi::RouteTable;
use crate::metrics::Metrics;
use crate::redis::RedisPool;
use actix_web::web;
use bytes::Bytes;
use contracts::services::ServiceSpec;
use diesel_migrations::EmbeddedMigrations;
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

/// A service's configuration: the platform's sections, flattened in, plus its own.
pub trait ServiceConfig: DeserializeOwned + Clone + Send + 'static {
    fn platform(&self) -> &Settings;
}

impl ServiceConfig for Settings {
    fn platform(&self) -> &Settings {
        self
    }
}

/// A command of the service binary besides serving and `migrate` (`auth create-admin …`).
pub struct Command<C> {
    pub name: &'static str,
    pub usage: &'static str,
    pub run: fn(C, Vec<String>) -> BoxFuture<'static, anyhow::Result<()>>,
}

/// Everything the platform needs to know to run a service.
pub struct Declaration<C: 'static> {
    pub spec: &'static ServiceSpec,
    pub migrations: &'static [EmbeddedMigrations],
    /// The service's own flat environment names (`MOBIZON_API_KEY` → `sms.api_key`).
    pub env_aliases: &'static [(&'static str, &'static str)],
    /// Builds the app from its configuration, for `main` and tests alike.
    pub build: fn(C) -> BoxFuture<'static, anyhow::Result<Application>>,
    pub commands: &'static [Command<C>],
}

impl<C: ServiceConfig> Declaration<C> {
    pub fn defaults(&self) -> ServiceDefaults {
        ServiceDefaults { schema: self.spec.schema.unwrap_or(self.spec.name), port: self.spec.port }
    }

    /// Loads the configuration: defaults from the catalogue, then `config.yml`, then the environment.
    pub fn load_config(&self) -> anyhow::Result<C> {
        Ok(crate::config::load(self.defaults(), self.env_aliases)?)
    }

    pub async fn build(&self, config: C) -> anyhow::Result<Application> {
        (self.build)(config).await
    }

    pub async fn migrate(&self, config: &C) -> anyhow::Result<()> {
        Ok(crate::db::migrate(&config.platform().database, self.migrations).await?)
    }

    fn usage(&self) -> String {
        let mut usage = format!("usage: {} [migrate", self.spec.name);
        for command in self.commands {
            usage.push_str(&format!(" | {}", command.usage));
        }
        usage.push(']');
        usage
    }

    async fn run(&self, args: Vec<String>) -> anyhow::Result<()> {
        let config = self.load_config()?;
        let _telemetry = crate::telemetry::init(self.spec.name, &config.platform().app, &config.platform().telemetry)?;
        let Some((first, rest)) = args.split_first() else {
            return self.build(config).await?.run_until_stopped().await;
        };
        if first == "migrate" && rest.is_empty() {
            return self.migrate(&config).await;
        }
        match self.commands.iter().find(|c| c.name == first) {
            Some(command) => (command.run)(config, rest.to_vec()).await,
            None => anyhow::bail!("{}", self.usage()),
        }
    }
}

/// How long the runtime waits, once the service has stopped, for blocking work still running.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// The whole `main` of a service binary.
pub fn main<C: ServiceConfig>(declaration: &Declaration<C>) -> anyhow::Result<()> {
    let args = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(declaration.run(args));
    // Shutdown has given up on what outlived its deadline (a Kafka client closing against a
    // broker that no longer answers, on a blocking thread); dropping the runtime would wait
    // for it forever. Its offsets stay uncommitted and its outbox rows unsent: the next
    // replica replays them, and the inbox absorbs the replay.
    runtime.shutdown_timeout(EXIT_GRACE);
    outcome
}

type Task = Box<dyn FnOnce(&mut Application) + Send>;

/// How often business gauges ([`Kit::gauge`]) are measured.
pub const GAUGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// The connections of a service being built, and what will run beside its HTTP server.
pub struct Kit {
    pub spec: &'static ServiceSpec,
    pub settings: Settings,
    pub connections: Connections,
    keys: Option<KeySource>,
    dependencies: Vec<Dependency>,
    consumers: Vec<ConsumerInfo>,
    documented: RouteTable,
    metrics: Metrics,
    tasks: Vec<Task>,
}

impl Kit {
    /// Opens PostgreSQL, Redis, NATS and Kafka for the service (none of them needs to be up).
    pub async fn open(spec: &'static ServiceSpec, settings: &Settings) -> anyhow::Result<Self> {
        let connections = Connections::open(spec.name, settings).await?;
        let metrics = Metrics::new(spec.name);
        metrics.watch_pool(connections.db.clone());
        Ok(Self {
            spec,
            settings: settings.clone(),
            connections,
            keys: None,
            dependencies: Vec::new(),
            consumers: Vec::new(),
            documented: RouteTable::default(),
            metrics,
            tasks: Vec::new(),
        })
    }

    /// The service's metrics registry (served at `/metrics`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A business gauge: `query` (one row, a `bigint` column named `value`) run on the service's
    /// database at start and then every [`GAUGE_INTERVAL`], its result exported as `name`.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, query: &'static str) -> anyhow::Result<&mut Self> {
        let gauge = self.metrics.gauge(name, help)?;
        let db = self.db();
        Ok(self.job(name, move |stop| async move {
            loop {
                match crate::db::count(&db, query).await {
                    Ok(value) => gauge.set(value),
                    Err(error) => tracing::debug!(%error, gauge = name, "cannot measure"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(GAUGE_INTERVAL) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }))
    }

    pub fn db(&self) -> PgPool {
        self.connections.db.clone()
    }

    pub fn redis(&self) -> RedisPool {
        self.connections.redis.clone()
    }

    pub fn nats(&self) -> async_nats::Client {
        self.connections.nats.clone()
    }

    /// Verifies tokens with these keys instead of fetching the auth service's JWKS.
    pub fn verify_with(&mut self, keys: KeySource) -> &mut Self {
        self.keys = Some(keys);
        self
    }

    /// The service's OpenAPI document: a documented path called with another method answers
    /// 405 with `Allow` (instead of 404).
    pub fn document(&mut self, openapi: &utoipa::openapi::OpenApi) -> &mut Self {
        self.documented = RouteTable::from_openapi(openapi);
        self
    }

    /// One more component of `/health` and `/ready`.
    pub fn depends_on(&mut self, dependency: Dependency) -> &mut Self {
        self.dependencies.push(dependency);
        self
    }

    /// Consumes `topics` in the group `<service>.<name>` and applies `handler` once per event.
    pub fn consume<H: EventHandler>(&mut self, name: &'static str, topics: &[&str], handler: H) -> &mut Self {
        let group = self.spec.consumer_group(name);
        let runner = ConsumerRunner::new(&group, topics, self.db(), self.settings.kafka.clone(), handler)
            .with_metrics(&self.metrics.consumers);
        self.consumers.push(ConsumerInfo { group, topics: topics.iter().map(|t| (*t).to_owned()).collect() });
        self.tasks.push(Box::new(move |app| app.spawn_consumer(runner)));
        self
    }

    /// Answers NATS requests on `subject` (queue group: the service, so replicas share them).
    pub fn reply<F, Fut>(&mut self, subject: &'static str, handler: F) -> &mut Self
    where
        F: Fn(Bytes) -> Fut + Send + 'static,
        Fut: Future<Output = Bytes> + Send + 'static,
    {
        let (client, settings, queue) = (self.nats(), self.settings.nats.clone(), self.spec.name);
        self.job(subject, move |stop| crate::nats::serve_requests(client, settings, subject, queue, handler, stop))
    }

    /// Runs `task` beside the server until shutdown (it must return soon after `stop` fires).
    pub fn job<F, Fut>(&mut self, name: &'static str, task: F) -> &mut Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(Box::new(move |app| app.spawn_background(name, task)));
        self
    }

    /// Runs `tick` now and then every `interval` until shutdown; a tick that fails is logged
    /// and the next one comes at its time.
    pub fn every<F, Fut>(&mut self, name: &'static str, interval: std::time::Duration, tick: F) -> &mut Self
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.job(name, move |stop| async move {
            loop {
                if let Err(error) = tick().await {
                    tracing::warn!(job = name, error = %format!("{error:#}"), "a periodic job failed; it runs again");
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.cancelled() => return,
                }
            }
        })
    }

    /// Binds the HTTP server with the platform's middleware, `/health` and friends, the token
    /// verifier and `routes`; starts the outbox relay (publishing the catalogue's topics of the
    /// service), the consumers and the jobs.
    pub fn serve<F>(self, routes: F) -> anyhow::Result<Application>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let Self { spec, settings, connections, keys, dependencies, consumers, documented, metrics, tasks } = self;
        let keys = keys.unwrap_or_else(|| KeySource::jwks(settings.jwt.jwks_url.clone()));
        let verifier = web::Data::new(TokenVerifier::new(keys, &settings.jwt, Some(connections.redis.clone())));
        let mut health = connections.health(spec.name, crate::metrics::build::VERSION);
        dependencies.into_iter().for_each(|dependency| health.add(dependency));
        consumers.into_iter().for_each(|consumer| health.add_consumer(consumer));
        let relay = connections.outbox_relay(&settings).with_metrics(metrics.outbox.clone());
        let mut app = Application::build_with_metrics(spec.name, &settings, health, documented, metrics, move |cfg| {
            cfg.app_data(verifier.clone());
            routes(cfg);
        })?;
        app.spawn_publishing(settings.kafka.clone(), spec.publishes, relay);
        for task in tasks {
            task(&mut app);
        }
        Ok(app)
    }
}
