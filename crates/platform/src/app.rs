//! Running a service: the actix-web server with the platform's middleware and operational
//! routes, background tasks (outbox relay, consumers), and graceful shutdown on SIGTERM/SIGINT:
//! stop accepting, let in-flight requests finish, then stop background tasks (consumers commit
//! their offsets, the relay makes a last pass), then return.

use crate::config::Settings;
use crate::health::Health;
use crate::http;
use crate::http::openapi::RouteTable;
use crate::metrics::Metrics;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Asks a running [`Application`] to shut down gracefully, as SIGTERM does.
#[derive(Clone)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        self.0.cancel();
    }

    /// Resolves once shutdown has been asked for (by SIGTERM, SIGINT or [`Self::shutdown`]),
    /// before in-flight requests drain: long-lived connections (WebSockets) close on it.
    pub async fn requested(&self) {
        self.0.cancelled().await;
    }
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    shutdown_requested: CancellationToken,
    background_stop: CancellationToken,
    background: Vec<(String, JoinHandle<()>)>,
    drain_timeout: Duration,
    metrics: Metrics,
}

impl Application {
    /// Binds the HTTP listener (port 0 picks a free port) and prepares the server.
    /// `routes` registers the service's resources and its app data; `documented` lists its
    /// documented routes, so that a known path called with another method answers 405.
    pub fn build<F>(
        service: &'static str,
        settings: &Settings,
        health: Health,
        documented: RouteTable,
        routes: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        Self::build_with_metrics(service, settings, health, documented, Metrics::new(service), routes)
    }

    /// [`Application::build`] answering `/metrics` from a registry made beforehand (the
    /// [`crate::Kit`]'s, which the pool, relay and consumers report to).
    pub fn build_with_metrics<F>(
        service: &'static str,
        settings: &Settings,
        health: Health,
        documented: RouteTable,
        metrics: Metrics,
        routes: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let mut documented = documented;
        for path in crate::http::ops::PATHS {
            documented.add(path, &["GET"]);
        }
        let documented = web::Data::new(documented);
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))?;
        let port = listener.local_addr()?.port();
        let (metrics_data, health_data) = (web::Data::new(metrics.clone()), web::Data::new(health));
        let json_limit = settings.http.json_limit_bytes;
        let hsts = settings.http.hsts_max_age_secs;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(metrics_data.clone())
                .app_data(health_data.clone())
                .app_data(documented.clone())
                .app_data(http::json_config(json_limit))
                .app_data(http::query_config())
                .app_data(http::path_config())
                .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, http::method_not_allowed))
                .wrap(http::security_headers(hsts))
                .wrap(from_fn(http::middleware::observe))
                .configure(http::ops::configure)
                .configure(routes.clone())
                .default_service(web::to(http::not_found))
        })
        .workers(settings.http.workers.max(1))
        .disable_signals()
        .shutdown_timeout(settings.http.shutdown_timeout_secs)
        .listen(listener)?
        .run();
        tracing::info!(service, port, "listening");
        Ok(Self {
            port,
            server,
            shutdown_requested: CancellationToken::new(),
            background_stop: CancellationToken::new(),
            background: Vec::new(),
            drain_timeout: Duration::from_secs(settings.http.shutdown_timeout_secs),
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown_requested.clone())
    }

    /// Runs `task` beside the server; it must return soon after its token is cancelled,
    /// which happens once in-flight requests have drained.
    pub fn spawn_background<F, Fut>(&mut self, name: impl Into<String>, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.background.push((name.into(), tokio::spawn(task(self.background_stop.clone()))));
    }

    /// Publishes the outbox (creating `topics` first, retrying while Kafka is away).
    pub fn spawn_publishing(
        &mut self,
        kafka: crate::config::KafkaSettings,
        topics: &'static [&'static str],
        relay: crate::outbox::OutboxRelay,
    ) {
        if !topics.is_empty() {
            self.spawn_background("ensure-topics", move |stop| crate::kafka::keep_ensuring_topics(kafka, topics, stop));
        }
        self.spawn_background("outbox-relay", |stop| relay.run(stop));
    }

    /// Runs an idempotent Kafka consumer beside the server until shutdown; the task is named
    /// after its consumer group.
    pub fn spawn_consumer<H: crate::consumer::EventHandler>(&mut self, consumer: crate::consumer::ConsumerRunner<H>) {
        let group = consumer.group.clone();
        self.spawn_background(group.clone(), move |stop| async move {
            if let Err(error) = consumer.run(stop).await {
                tracing::error!(error = %format!("{error:#}"), %group, "consumer stopped");
            }
        });
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let server_exited = tokio::select! {
            _ = wait_for_signal() => { self.shutdown_requested.cancel(); false }
            _ = self.shutdown_requested.cancelled() => false,
            result = &mut server => { result??; true }
        };
        if !server_exited {
            tracing::info!("shutdown: draining in-flight requests");
            handle.stop(true).await;
            server.await??;
        }
        tracing::info!("shutdown: stopping background tasks");
        self.background_stop.cancel();
        // One deadline for all of them, not one each: a stuck task does not hold up the rest.
        let drain = self.drain_timeout;
        let stopping = self.background.into_iter().map(|(name, mut task)| async move {
            if tokio::time::timeout(drain, &mut task).await.is_err() {
                tracing::warn!(task = %name, "background task did not stop in time");
                task.abort();
            }
        });
        futures_util::future::join_all(stopping).await;
        tracing::info!("shutdown complete");
        Ok(())
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => terminate.recv().await,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; only SIGINT stops the service");
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        _ = terminate => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

/// Whether the process was started as `<service> migrate` (run migrations, then exit), the
/// release step that keeps replicas from racing on migrations at start-up.
pub fn migrate_requested() -> bool {
    std::env::args().nth(1).as_deref() == Some("migrate")
}
