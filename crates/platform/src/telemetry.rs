//! Logs and traces: JSON log lines (with the request span's `request_id` and `user_id`),
//! OpenTelemetry spans exported over OTLP/HTTP when an endpoint is configured, and W3C
//! `traceparent` propagation helpers for HTTP, Kafka and NATS.

use crate::config::{AppSettings, TelemetrySettings};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes buffered spans when dropped (or on [`TelemetryGuard::shutdown`]).
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("telemetry shutdown: {error}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init(service: &'static str, app: &AppSettings, telemetry: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    let quiet_dependencies = "rdkafka=warn,h2=warn,hyper=warn,reqwest=warn";
    let log_filter = EnvFilter::try_new(format!("{},{quiet_dependencies}", app.log_level))?;
    let logs = if app.pretty_logs {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed()
    };
    let provider = telemetry.otlp_endpoint.as_deref().map(|endpoint| otlp_provider(service, endpoint)).transpose()?;
    // Spans are exported at info level whatever the log level, so traces stay complete.
    let traces = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(service))
            .with_filter(EnvFilter::new(format!("info,{quiet_dependencies}")))
    });
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    tracing_subscriber::registry().with(logs.with_filter(log_filter)).with(traces).try_init()?;
    Ok(TelemetryGuard { provider })
}

fn otlp_provider(service: &'static str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_headers(HashMap::new())
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service).build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

struct Carrier<'a>(&'a mut HashMap<String, String>);

impl Injector for Carrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

tokio::task_local! {
    /// The `traceparent` that came with the request or event being handled; passed on as is
    /// when no OpenTelemetry exporter is configured.
    static INCOMING_TRACEPARENT: Option<String>;
}

/// Runs `future` with `traceparent` as the incoming trace context.
pub async fn with_incoming_traceparent<F: Future>(traceparent: Option<String>, future: F) -> F::Output {
    INCOMING_TRACEPARENT.scope(traceparent, future).await
}

/// The W3C `traceparent` to send on: the current span's when traces are exported, otherwise
/// the incoming one.
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current()).or_else(|| INCOMING_TRACEPARENT.try_with(Clone::clone).ok().flatten())
}

/// The W3C `traceparent` naming `span` (for the headers of an HTTP request, a Kafka or NATS
/// message it sends); `None` when spans are not exported.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let mut fields = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut Carrier(&mut fields));
    fields.remove("traceparent")
}

/// Makes `span` a child of the remote span named by `traceparent` (from HTTP, Kafka or NATS).
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|t| !t.is_empty()) else { return };
    let mut fields = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&Carrier(&mut fields));
    let _ = span.set_parent(context);
}
