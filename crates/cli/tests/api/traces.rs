//! One trace end to end: a registration through the gateway, written and published by auth,
//! consumed by marketplace, exported over OTLP to a real collector (rotel, from PyPI) whose
//! debug output the test reads: the three programs' spans share one trace id.

use crate::helpers::tools_bin;
use e2e::System;
use e2e::system::Options;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The rotel collector on loopback, printing every span it receives; stopped on drop.
struct Collector {
    child: Child,
    output: PathBuf,
    http_port: u16,
}

impl Collector {
    fn start(dir: &Path) -> Self {
        let (grpc_port, http_port) = (testkit::free_port(), testkit::free_port());
        let output = dir.join("rotel.out");
        let child = Command::new(tools_bin().join("rotel"))
            .arg("start")
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
            .args(["--exporter", "blackhole", "--debug-log", "traces", "--debug-log-verbosity", "detailed"])
            .args(["--pid-file", &dir.join("rotel.pid").display().to_string()])
            .args(["--log-file", &dir.join("rotel.log").display().to_string()])
            .stdout(Stdio::from(std::fs::File::create(&output).expect("an output file")))
            .stderr(Stdio::null())
            .spawn()
            .expect("rotel starts");
        Self { child, output, http_port }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Spans received so far: (service, trace id, span name).
    fn spans(&self) -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let (mut service, mut trace, mut spans) = (String::new(), String::new(), Vec::new());
        for line in text.lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix("-> service.name: Str(") {
                service = name.trim_end_matches(')').to_owned();
            } else if let Some(id) = line.strip_prefix("Trace ID") {
                trace = id.trim_start_matches([' ', ':']).to_owned();
            } else if let Some(name) = line.strip_prefix("Name") {
                spans.push((service.clone(), trace.clone(), name.trim_start_matches([' ', ':']).to_owned()));
            }
        }
        spans
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_runs_from_the_gateway_through_a_service_to_a_consumer_in_another() {
    let dir = std::env::temp_dir().join(format!("mebelplace-traces-{}", uuid_like()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let collector = Collector::start(&dir);
    let mut options = Options::default();
    for program in contracts::services::CATALOGUE {
        let env = vec![("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), collector.endpoint())];
        options.env.insert(program.name, env);
    }
    let system = System::start_with(options).await;

    let username = format!("trace_{}", &system.prefix[1..9]);
    let (status, body) = system
        .api
        .post(
            "/api/v2/auth/register",
            json!({ "email_or_phone": format!("{username}@mail.kz"), "password": "Shkaf-2024", "username": username, "role": "master" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // The trace of this request: the gateway's span for the registration, then every span under
    // its trace id, by program.
    let mut by_service = BTreeMap::new();
    let complete = |by_service: &BTreeMap<String, BTreeSet<String>>| {
        by_service.get("gateway").is_some_and(|names| names.contains("gateway_request"))
            && by_service.get("auth").is_some_and(|names| names.contains("http_request"))
            && by_service.get("marketplace").is_some_and(|names| names.contains("consume"))
    };
    for _ in 0..300 {
        by_service = trace_of_registration(&collector.spans());
        if complete(&by_service) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        complete(&by_service),
        "spans of the registration's trace by program: {by_service:#?}\nall spans: {:#?}",
        collector.spans()
    );
    drop(system);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The spans sharing a trace id with an auth `http_request` span whose trace also has a
/// marketplace consumer span; grouped by program.
fn trace_of_registration(spans: &[(String, String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let traces: BTreeSet<&str> = spans
        .iter()
        .filter(|(service, _, name)| service == "gateway" && name == "gateway_request")
        .map(|(_, trace, _)| trace.as_str())
        .collect();
    let best = traces.iter().max_by_key(|trace| {
        spans.iter().filter(|(_, t, _)| t == *trace).map(|(s, _, _)| s).collect::<BTreeSet<_>>().len()
    });
    let mut by_service: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (service, trace, name) in spans {
        if Some(&trace.as_str()) == best {
            by_service.entry(service.clone()).or_default().insert(name.clone());
        }
    }
    by_service
}

fn uuid_like() -> String {
    testkit::unique_prefix().trim_end_matches('.').to_owned()
}
