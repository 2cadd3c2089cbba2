//! Every metric named in the dashboards and alert rules of deploy/observability/ is exported by
//! the running services: no panel or alert watches a metric that does not exist.

use crate::helpers::root;
use e2e::System;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// Series Prometheus makes itself rather than scraping them.
const SYNTHETIC: &[&str] = &["up", "scrape_duration_seconds", "scrape_samples_scraped"];

/// PromQL words that are not metric names (aggregations may be followed by `by (...)`
/// rather than their parenthesis).
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
];

/// The metric names of a PromQL expression: identifiers that are not functions (followed by
/// `(`), keywords, label names inside `{...}` or `by (...)`, strings, durations or numbers.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let chars: Vec<char> = expr.chars().collect();
    let (mut i, mut braces, mut grouping) = (0, 0, false);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '{' => braces += 1,
            '}' => braces -= 1,
            '[' => {
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
            }
            ')' => grouping = false,
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                if ["by", "without", "on", "ignoring", "group_left", "group_right"].contains(&word.as_str()) {
                    grouping = next == Some(&'(');
                } else if braces == 0 && !grouping && next != Some(&'(') && !KEYWORDS.contains(&word.as_str()) {
                    names.insert(word);
                }
                continue;
            }
            c if c.is_ascii_digit() => {
                // A number or a duration such as 5m: skip it whole.
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

fn dashboard_expressions() -> Vec<(String, String)> {
    let dir = root().join("deploy/observability/grafana/dashboards");
    let mut expressions = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the dashboards folder").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("a dashboard")).expect("JSON");
        for panel in dashboard["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    expressions.push((format!("{file}: {}", panel["title"]), expr.to_owned()));
                }
            }
        }
    }
    expressions
}

fn rule_expressions() -> Vec<(String, String)> {
    let rules = crate::helpers::yaml("deploy/observability/prometheus/rules.yml");
    rules["groups"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|group| group["rules"].as_sequence().cloned().unwrap_or_default())
        .map(|rule| {
            (format!("rule {}", rule["alert"].as_str().unwrap_or("?")), rule["expr"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

/// The series names of a Prometheus text exposition.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.split(['{', ' ']).next().map(str::to_owned))
        .collect()
}

#[test]
fn metric_names_are_read_from_promql() {
    let names = metric_names(
        r#"sum by (service, le) (rate(http_request_duration_seconds_bucket{service=~"$service",status="5.."}[5m])) / on (service) max(up) > 0.5 and time() - consumer_last_event_timestamp_seconds > 1e3"#,
    );
    let expected = ["consumer_last_event_timestamp_seconds", "http_request_duration_seconds_bucket", "up"];
    assert_eq!(names, expected.iter().map(|s| (*s).to_owned()).collect());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_of_the_dashboards_and_alerts_is_exported_by_the_running_services() {
    let system = System::start().await;
    // Traffic that makes every labelled series appear: a registration through the gateway
    // (HTTP metrics, an event through auth's outbox, consumed by marketplace).
    let username = format!("metrics_{}", &system.prefix[1..9]);
    let (status, body) = system
        .api
        .post(
            "/api/v2/auth/register",
            json!({ "email_or_phone": format!("{username}@mail.kz"), "password": "Shkaf-2024", "username": username, "role": "master" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let client = reqwest::Client::new();
    let scrape = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.expect("/metrics answers").text().await.expect("a body") }
    };
    // The consumer has handled the event when its last-event time is set.
    testkit::eventually("marketplace consumed the registration", Duration::from_secs(60), || {
        let marketplace = scrape(system.process("marketplace").url("/metrics"));
        async move { marketplace.await.contains("consumer_last_event_timestamp_seconds{") }
    })
    .await;
    let mut exported_names = BTreeSet::new();
    for process in &system.processes {
        exported_names.extend(exported(&scrape(process.url("/metrics")).await));
    }

    let mut missing = Vec::new();
    for (place, expr) in dashboard_expressions().into_iter().chain(rule_expressions()) {
        for name in metric_names(&expr) {
            if !exported_names.contains(&name) && !SYNTHETIC.contains(&name.as_str()) {
                missing.push(format!("{name} ({place})"));
            }
        }
    }
    assert!(missing.is_empty(), "metrics used but not exported: {missing:#?}");

    // /health says which build runs.
    let (status, health) = testkit::ApiClient::new(system.process("auth").url("")).get_public("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["commit"], platform::metrics::build::COMMIT, "{health}");
    assert_eq!(health["version"], platform::metrics::build::VERSION, "{health}");
}
