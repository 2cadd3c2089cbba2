//! Local run: infrastructure, build, migrate, start, wait until ready, stop on Ctrl-C.

use crate::services::{self, Service};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

impl Profile {
    pub fn from_env() -> Self {
        if std::env::var("MEBELPLACE_RELEASE").is_ok_and(|v| v == "1") { Profile::Release } else { Profile::Debug }
    }

    fn folder(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn binary(service: &Service, profile: Profile) -> PathBuf {
    let target =
        std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace_root().join("target"));
    target.join(profile.folder()).join(service.name)
}

fn check(status: std::io::Result<std::process::ExitStatus>, what: &str) -> anyhow::Result<()> {
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => anyhow::bail!("{what} failed ({status})"),
        Err(error) => anyhow::bail!("{what} could not start: {error}"),
    }
}

pub fn infra_up() -> anyhow::Result<()> {
    check(Command::new(workspace_root().join("scripts/infra-up")).status(), "scripts/infra-up")
}

pub fn build(profile: Profile) -> anyhow::Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(workspace_root()).arg("build");
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    for service in services::all() {
        cargo.args(["--bin", service.name]);
    }
    check(cargo.status(), "cargo build")
}

/// `cargo bench` of the platform (when `with_platform`) and of each service that has a
/// benchmark (`services/<name>/benches/<name>.rs`), one after the other so they do not share cores.
pub fn bench(services: &[&Service], with_platform: bool) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut packages: Vec<(&str, PathBuf)> = Vec::new();
    if with_platform {
        packages.push(("platform", workspace_root().join("crates/platform/benches/platform.rs")));
    }
    for service in services {
        let file =
            workspace_root().join("services").join(service.name).join("benches").join(format!("{}.rs", service.name));
        packages.push((service.name, file));
    }
    for (package, _) in packages.into_iter().filter(|(_, file)| file.exists()) {
        let status = Command::new(&cargo)
            .current_dir(workspace_root())
            .args(["bench", "-p", package, "--bench", package])
            .status();
        check(status, &format!("cargo bench -p {package}"))?;
    }
    Ok(())
}

/// Services run from the workspace root, so their `var/` (keys, storage) lands there.
fn environment(command: &mut Command, service: &Service) {
    command.current_dir(workspace_root()).env("PORT", service.port.to_string());
    if let Some(schema) = service.schema {
        command.env("DATABASE_SCHEMA", schema);
    }
    // The local tansu broker forgets idempotent-producer state on restart, and its memory
    // storage skips the rest of a record batch a consumer resumes inside (decision 0002).
    command.env("KAFKA_IDEMPOTENT_PRODUCER", "false");
    command.env("KAFKA_BATCH_MESSAGES", "1");
    if service.name == "chat" && std::env::var_os("TURN_SECRET").is_none() {
        // The coturn scripts/infra-up runs on loopback, with its development secret.
        let secret = std::env::var("MEBELPLACE_TURN_SECRET").unwrap_or_else(|_| "mebelplace-dev-turn-secret".into());
        command.env("TURN_SECRET", secret);
    }
}

pub fn migrate(service: &Service, profile: Profile) -> anyhow::Result<()> {
    if service.schema.is_none() {
        return Ok(());
    }
    run_command(service, profile, &["migrate"])
}

/// Runs one of the service binary's own commands (`migrate`, `create-admin` …) to completion.
pub fn run_command(service: &Service, profile: Profile, args: &[&str]) -> anyhow::Result<()> {
    let mut command = Command::new(binary(service, profile));
    environment(&mut command, service);
    check(command.args(args).status(), &format!("{} {}", service.name, args.join(" ")))
}

async fn wait_ready(service: &Service) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{}/ready", service.port);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{} is not ready at {url} after 60 s", service.name);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until a request through the gateway reaches every service: for each, its OpenAPI
/// document (public, always there), else the first public GET of its catalogue entry (the
/// gateway may still be probing replicas that just started). A public prefix such as
/// `/api/v2/videos` is not itself an endpoint, so the document comes first.
async fn wait_routable(gateway: &Service) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let probes = services::all().into_iter().filter(|s| s.schema.is_some()).filter_map(|service| {
        let path = service.openapi.or_else(|| {
            let route =
                service.public.iter().find(|r| r.method.is_none_or(|m| m == "GET") && !r.prefix.contains('{'))?;
            Some(route.prefix)
        })?;
        Some((service.name, format!("http://127.0.0.1:{}{path}", gateway.port)))
    });
    for (name, url) in probes {
        loop {
            let answer = client.get(&url).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "the gateway does not reach {name} ({url}) after 60 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

fn terminate(children: &mut [(&Service, Child)]) {
    for (_, child) in children.iter() {
        // SAFETY: signalling our own child processes.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    for (service, child) in children.iter_mut() {
        match child.wait() {
            Ok(status) => println!("{} stopped ({status})", service.name),
            Err(error) => eprintln!("{}: {error}", service.name),
        }
    }
}

pub async fn run(release: bool) -> anyhow::Result<()> {
    let profile = if release { Profile::Release } else { Profile::from_env() };
    infra_up()?;
    build(profile)?;
    let mut children = Vec::new();
    for service in services::all() {
        migrate(service, profile)?;
        let mut command = Command::new(binary(service, profile));
        environment(&mut command, service);
        children.push((service, command.spawn()?));
    }
    for (service, _) in &children {
        if let Err(error) = wait_ready(service).await {
            terminate(&mut children);
            return Err(error);
        }
    }
    let gateway = children.iter().map(|(service, _)| *service).find(|s| s.schema.is_none());
    if let Some(gateway) = gateway
        && let Err(error) = wait_routable(gateway).await
    {
        terminate(&mut children);
        return Err(error);
    }
    println!("\nMebelPlace is running (Ctrl-C stops everything):");
    for service in services::all() {
        println!("  {:<14} http://127.0.0.1:{}", service.name, service.port);
    }
    println!("  infrastructure: PostgreSQL :5432, Redis :6379, NATS :4222, Kafka :9092");
    // Ctrl-C, or a SIGTERM (a supervisor, `kill`): either way the services stop with it.
    let mut terminated = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted?,
        _ = terminated.recv() => {}
    }
    println!("\nstopping…");
    terminate(&mut children);
    Ok(())
}
