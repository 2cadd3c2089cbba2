//! docker-compose.yml, the compose gateway and Prometheus configuration, and the Helm chart's
//! values agree with the service catalogue: every program present, on its port, nothing extra.

use crate::helpers::{Dockerfile, env_example, strings, yaml};
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

/// The flat variable names `program` reads (the platform's and its own); `CONFIG_FILE` and the
/// nested `MEBELPLACE__SECTION__KEY` form are read by every program.
fn variables_read_by(program: &str) -> Vec<&'static str> {
    let own: &[(&str, &str)] = match program {
        "auth" => auth::config::ENV_ALIASES,
        "media" => media::config::ENV_ALIASES,
        "marketplace" => marketplace::config::ENV_ALIASES,
        "chat" => chat::config::ENV_ALIASES,
        "notification" => notification::config::ENV_ALIASES,
        "gateway" => gateway::config::ENV_ALIASES,
        other => panic!("{other}: add the variables it reads to variables_read_by"),
    };
    let mut names: Vec<&str> =
        platform::config::PLATFORM_ENV_ALIASES.iter().chain(own).map(|(name, _)| *name).collect();
    names.push("CONFIG_FILE");
    names
}

fn is_read_by(program: &str, variable: &str) -> bool {
    variable.starts_with("MEBELPLACE__") || variables_read_by(program).contains(&variable)
}

fn is_read_by_some_program(variable: &str) -> bool {
    CATALOGUE.iter().any(|s| is_read_by(s.name, variable))
}

#[test]
fn every_variable_the_programs_read_is_in_env_example() {
    let example = env_example();
    let defined: Vec<&str> = example.iter().map(|(name, _)| name.as_str()).collect();
    for required in
        ["DATABASE_URL", "REDIS_URL", "NATS_URL", "KAFKA_BROKERS", "JWT_JWKS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"]
    {
        assert!(defined.contains(&required), "{required} in .env.example");
    }
    for name in defined.iter().filter(|n| !n.starts_with("MEBELPLACE_") && !is_compose_only(n)) {
        assert!(is_read_by_some_program(name), "{name} in .env.example is read by no program");
    }
}

/// Variables only docker-compose.yml interpolates.
fn is_compose_only(name: &str) -> bool {
    ["GIT_SHA", "POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "GRAFANA_ADMIN_PASSWORD"].contains(&name)
}

#[test]
fn the_variables_compose_the_chart_and_the_image_set_are_read_by_their_program() {
    let mut unread = Vec::new();
    for (name, service) in compose_programs() {
        for variable in service["environment"].as_mapping().into_iter().flatten().filter_map(|(k, _)| k.as_str()) {
            if !is_read_by(&name, variable) {
                unread.push(format!("docker-compose.yml: {name} {variable}"));
            }
        }
    }
    for file in ["values.yaml", "values-production.yaml"] {
        let values = yaml(&format!("deploy/helm/mebelplace/{file}"));
        for service in values["services"].as_sequence().into_iter().flatten() {
            let name = service["name"].as_str().unwrap_or_default();
            for variable in service["env"].as_mapping().into_iter().flatten().filter_map(|(k, _)| k.as_str()) {
                if !is_read_by(name, variable) {
                    unread.push(format!("{file}: {name} {variable}"));
                }
            }
        }
    }
    for (variable, _) in Dockerfile::read().runtime_env() {
        if !is_read_by_some_program(&variable) {
            unread.push(format!("Dockerfile: ENV {variable}"));
        }
    }
    assert!(unread.is_empty(), "set but read by no program of that name: {unread:#?}");
}

/// One service's entry of the chart's `services` list.
fn chart_service(values: &Value, name: &str) -> Value {
    let services = values["services"].as_sequence().cloned().unwrap_or_default();
    services.into_iter().find(|s| s["name"].as_str() == Some(name)).unwrap_or_else(|| panic!("{name} in the chart"))
}

fn mount_paths(service: &Value, key: &str) -> Vec<String> {
    let volumes = service[key].as_sequence().cloned().unwrap_or_default();
    volumes.iter().filter_map(|v| v["mountPath"].as_str().map(str::to_owned)).collect()
}

/// Helm replaces lists whole, so values-production.yaml repeats `services`: what a program
/// talks to, the variables it is given and what it mounts must not drift from values.yaml.
#[test]
fn production_values_give_each_program_what_the_default_values_give_it() {
    let (defaults, production) =
        (yaml("deploy/helm/mebelplace/values.yaml"), yaml("deploy/helm/mebelplace/values-production.yaml"));
    for spec in CATALOGUE {
        let (default, overridden) = (chart_service(&defaults, spec.name), chart_service(&production, spec.name));
        assert_eq!(strings(&overridden["uses"]), strings(&default["uses"]), "{}: uses", spec.name);
        for key in ["volumes", "secretVolumes"] {
            assert_eq!(mount_paths(&overridden, key), mount_paths(&default, key), "{}: {key}", spec.name);
        }
        for variable in default["env"].as_mapping().into_iter().flatten().filter_map(|(k, _)| k.as_str()) {
            assert!(!overridden["env"][variable].is_null(), "{}: env {variable} in production too", spec.name);
        }
    }
}

/// Compose starts a program that keeps objects (the chart lets it reach s3) after the bucket.
#[test]
fn programs_that_use_object_storage_wait_for_the_bucket_in_compose() {
    let values = yaml("deploy/helm/mebelplace/values.yaml");
    for (name, service) in compose_programs() {
        let uses_s3 = strings(&chart_service(&values, &name)["uses"]).contains(&"s3".to_owned());
        let waits =
            service["depends_on"]["minio-bucket"]["condition"].as_str() == Some("service_completed_successfully");
        assert_eq!(waits, uses_s3, "{name}: waits for minio-bucket exactly when the chart says it uses s3");
    }
}

/// A folder the image's environment points into its volumes is mounted, for every program that
/// reads that variable, by compose and by the chart: the root filesystem is read-only.
#[test]
fn the_image_folders_programs_write_are_volumes_in_compose_and_the_chart() {
    let programs = compose_programs();
    let charts = [yaml("deploy/helm/mebelplace/values.yaml"), yaml("deploy/helm/mebelplace/values-production.yaml")];
    let written: Vec<(String, String)> = Dockerfile::read()
        .runtime_env()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/var/lib/mebelplace/"))
        .collect();
    assert!(!written.is_empty(), "the image names its volumes (MEDIA_STAGING_DIR)");
    for (variable, path) in written {
        for spec in CATALOGUE.iter().filter(|s| variables_read_by(s.name).contains(&variable.as_str())) {
            let compose: Vec<String> = strings(&programs[spec.name]["volumes"])
                .iter()
                .filter_map(|v| v.split(':').nth(1).map(str::to_owned))
                .collect();
            assert!(compose.contains(&path), "compose mounts a volume at {path} ({variable}) for {}", spec.name);
            for values in &charts {
                let mounted = mount_paths(&chart_service(values, spec.name), "volumes");
                assert!(mounted.contains(&path), "the chart mounts a volume at {path} ({variable}) for {}", spec.name);
            }
        }
    }
}
