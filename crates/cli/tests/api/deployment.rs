//! docker-compose.yml, the compose gateway and Prometheus configuration, and the Helm chart's
//! values agree with the service catalogue: every program present, on its port, nothing extra.

use crate::helpers::{strings, yaml};
use contracts::services::{self, CATALOGUE, GATEWAY};
use serde_yaml::Value;
use std::collections::BTreeMap;

fn catalogue_ports() -> BTreeMap<String, u16> {
    CATALOGUE.iter().map(|s| (s.name.to_owned(), s.port)).collect()
}

fn compose_services() -> serde_yaml::Mapping {
    yaml("docker-compose.yml")["services"].as_mapping().expect("services").clone()
}

/// The compose services that run a MebelPlace program (their command is the program's name).
fn compose_programs() -> BTreeMap<String, Value> {
    compose_services()
        .into_iter()
        .filter(|(name, service)| strings(&service["command"]).first() == name.as_str().map(str::to_owned).as_ref())
        .map(|(name, service)| (name.as_str().unwrap_or_default().to_owned(), service))
        .collect()
}

fn port_of(service: &Value) -> Option<u16> {
    service["environment"]["PORT"].as_str()?.parse().ok()
}

#[test]
fn compose_runs_every_program_of_the_catalogue_on_its_port() {
    let programs = compose_programs();
    let ports: BTreeMap<String, u16> =
        programs.iter().map(|(name, service)| (name.clone(), port_of(service).unwrap_or(0))).collect();
    assert_eq!(ports, catalogue_ports(), "compose programs and their PORT against the catalogue");
    for (name, service) in &programs {
        assert_eq!(strings(&service["profiles"]), ["app"], "{name} starts with the app profile only");
        assert_eq!(strings(&service["healthcheck"]["test"]), ["CMD", "mebelplace", "healthcheck"], "{name}");
        assert_eq!(service["read_only"].as_bool(), Some(true), "{name} has a read-only root");
        assert_eq!(service["user"].as_str(), Some("10001:10001"), "{name} runs unprivileged");
        assert!(service["image"].as_str().is_some_and(|i| i.contains("MEBELPLACE_IMAGE")), "{name} uses the one image");
    }
}

#[test]
fn compose_starts_services_after_migrations_and_the_gateway_after_every_service() {
    let programs = compose_programs();
    for spec in services::upstreams() {
        let depends = &programs[spec.name]["depends_on"];
        assert_eq!(depends["migrate"]["condition"].as_str(), Some("service_completed_successfully"), "{}", spec.name);
        for infrastructure in ["postgres", "redis", "nats", "kafka"] {
            assert_eq!(depends[infrastructure]["condition"].as_str(), Some("service_healthy"), "{}", spec.name);
        }
        assert_eq!(
            programs[GATEWAY.name]["depends_on"][spec.name]["condition"].as_str(),
            Some("service_healthy"),
            "the gateway waits for {}",
            spec.name
        );
    }
    let migrate = &compose_services()["migrate"];
    let script = strings(&migrate["command"]).join(" ");
    let migrated: Vec<&str> = script
        .split("for program in ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .map(|list| list.split_whitespace().collect())
        .unwrap_or_default();
    let with_schema: Vec<&str> = services::upstreams().map(|s| s.name).collect();
    assert_eq!(migrated, with_schema, "the migrate job runs `<service> migrate` for every schema");
}

#[test]
fn the_infrastructure_profile_starts_no_program() {
    for (name, service) in compose_services() {
        let name = name.as_str().unwrap_or_default();
        let profiles = strings(&service["profiles"]);
        if services::find(name).is_some() || name == "migrate" {
            assert!(!profiles.contains(&"infra".to_owned()), "{name} is not infrastructure");
        } else {
            assert_eq!(profiles, ["infra", "app"], "{name} is infrastructure: in both profiles");
        }
    }
}

#[test]
fn compose_gateway_and_prometheus_reach_every_program_at_its_port() {
    let upstreams = yaml("deploy/compose/gateway.yml")["gateway"]["upstreams"].clone();
    let configured: BTreeMap<String, Vec<String>> = upstreams
        .as_mapping()
        .expect("gateway.upstreams")
        .iter()
        .map(|(name, addresses)| (name.as_str().unwrap_or_default().to_owned(), strings(addresses)))
        .collect();
    let expected: BTreeMap<String, Vec<String>> =
        services::upstreams().map(|s| (s.name.to_owned(), vec![format!("{}:{}", s.name, s.port)])).collect();
    assert_eq!(configured, expected, "deploy/compose/gateway.yml");

    let prometheus = yaml("deploy/observability/prometheus/prometheus.yml");
    let scraped: BTreeMap<String, Vec<String>> = prometheus["scrape_configs"][0]["static_configs"]
        .as_sequence()
        .expect("static_configs")
        .iter()
        .map(|target| {
            (target["labels"]["service"].as_str().unwrap_or_default().to_owned(), strings(&target["targets"]))
        })
        .collect();
    let expected: BTreeMap<String, Vec<String>> =
        CATALOGUE.iter().map(|s| (s.name.to_owned(), vec![format!("{}:{}", s.name, s.port)])).collect();
    assert_eq!(scraped, expected, "Prometheus scrapes every program, labelled with its name");
}

#[test]
fn chart_values_list_every_program_of_the_catalogue_on_its_port() {
    for file in ["values.yaml", "values-production.yaml"] {
        let values = yaml(&format!("deploy/helm/mebelplace/{file}"));
        let listed: BTreeMap<String, u16> = values["services"]
            .as_sequence()
            .expect("services")
            .iter()
            .map(|s| (s["name"].as_str().unwrap_or_default().to_owned(), s["port"].as_u64().unwrap_or(0) as u16))
            .collect();
        assert_eq!(listed, catalogue_ports(), "{file}: services against the catalogue");
        let gateways: Vec<&str> = values["services"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter(|s| s["gateway"].as_bool() == Some(true))
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert_eq!(gateways, [GATEWAY.name], "{file}: only the gateway is exposed");
    }
}

#[test]
fn every_variable_the_programs_read_is_in_env_example() {
    let example = std::fs::read_to_string(crate::helpers::root().join(".env.example")).expect(".env.example");
    let defined: Vec<&str> = example.lines().filter_map(|line| line.split_once('=').map(|(name, _)| name)).collect();
    for required in
        ["DATABASE_URL", "REDIS_URL", "NATS_URL", "KAFKA_BROKERS", "JWT_JWKS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"]
    {
        assert!(defined.contains(&required), "{required} in .env.example");
    }
    let known: Vec<&str> =
        platform::config::PLATFORM_ENV_ALIASES.iter().chain(chat::config::ENV_ALIASES).map(|(name, _)| *name).collect();
    for name in defined.iter().filter(|n| !n.starts_with("MEBELPLACE_") && !is_compose_only(n)) {
        assert!(
            known.contains(name) || ["JWT_KEYS_DIR", "CORS_ALLOWED_ORIGINS"].contains(name),
            "{name} in .env.example is read by no program"
        );
    }
}

/// Variables only docker-compose.yml interpolates.
fn is_compose_only(name: &str) -> bool {
    ["GIT_SHA", "POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "GRAFANA_ADMIN_PASSWORD"].contains(&name)
}
