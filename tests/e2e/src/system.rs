//! Starting and stopping the system; killing and restarting one of its processes.

use crate::database::activity;
use contracts::services::{CATALOGUE, ServiceSpec};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use testkit::{ApiClient, TestSchema};

/// Lines of each program's log a failing test prints.
const LOG_TAIL_LINES: usize = 40;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace_root().join("target"))
}

/// The catalogue's programs whose crate this checkout has, in start-up order (gateway last).
pub fn programs() -> Vec<&'static ServiceSpec> {
    CATALOGUE.iter().filter(|s| workspace_root().join("services").join(s.name).join("Cargo.toml").exists()).collect()
}

/// `MEBELPLACE_BIN_DIR`: run the binaries found there instead of building (a checkout that
/// shares its target directory with others copies its binaries aside and points here).
fn binaries() -> Option<PathBuf> {
    std::env::var_os("MEBELPLACE_BIN_DIR").map(PathBuf::from)
}

/// Builds the programs' binaries (called only when one is missing). `cargo nextest run
/// --workspace` (CI) builds them before any test starts; a cargo started from inside a test sees
/// another environment and rebuilds dependencies for minutes, so after changing a service build
/// the workspace before `cargo nextest run -p e2e`. It asks for what the workspace build makes
/// (its tests, whose packages' binaries come with them): a plain `cargo build` would resolve
/// features without the dev-dependencies and build every binary again.
fn build() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["test", "--no-run", "--workspace", "--quiet"])
        .stdout(Stdio::null())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the workspace builds");
}

/// Builds the programs when one of their binaries is missing from the target directory (and
/// `MEBELPLACE_BIN_DIR` is not set); otherwise does nothing.
pub fn ensure_built() {
    if binaries().is_none() && !programs().iter().all(|p| target_dir().join("debug").join(p.name).exists()) {
        build();
    }
}

/// One running program: its address, environment and log file; restartable.
pub struct Process {
    pub spec: &'static ServiceSpec,
    pub port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
    image: Option<Arc<AsInImage>>,
}

/// Programs run as in the image: these binaries, as an unprivileged user (when the test runs as
/// root), in a working directory they cannot write, with only the environment they are given.
#[derive(Debug, Clone)]
pub struct AsInImage {
    pub binaries: PathBuf,
    pub uid: u32,
    pub workdir: PathBuf,
}

impl AsInImage {
    /// A command starting `program` (one of the image's binaries) this way.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.binaries.join(program));
        command.current_dir(&self.workdir).env_clear().env("PATH", "/usr/bin:/bin");
        // SAFETY: reads the effective user id; only root may switch users.
        if unsafe { libc::geteuid() } == 0 {
            use std::os::unix::process::CommandExt;
            command.uid(self.uid).gid(self.uid);
        }
        command
    }
}

impl Process {
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn binary(&self) -> PathBuf {
        binaries().unwrap_or_else(|| target_dir().join("debug")).join(self.spec.name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = match &self.image {
            Some(image) => image.command(self.spec.name),
            None => {
                let mut command = Command::new(self.binary());
                command.current_dir(workspace_root());
                command
            }
        };
        command.args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    fn log_file(&self) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_or_else(|_| Stdio::null(), Stdio::from)
    }

    /// Runs one of the program's commands (e.g. `auth create-admin`) to completion, within a
    /// minute.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) {
        let mut child = self
            .command(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(self.log_file())
            .stderr(self.log_file())
            .spawn()
            .expect("the command starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let status = loop {
            match child.try_wait().expect("the command's status") {
                Some(status) => break status,
                None if std::time::Instant::now() > deadline => {
                    let _ = child.kill();
                    panic!("{} {args:?} still runs after 60 s:\n{}", self.spec.name, self.log_tail());
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        assert!(status.success(), "{} {args:?} fails:\n{}", self.spec.name, self.log_tail());
    }

    /// Runs the program's migrations on `schema`, within a minute (a stuck one fails the test
    /// with what the database is busy with).
    async fn migrate(&self, schema: &TestSchema) {
        let mut command = tokio::process::Command::from(self.command(&["migrate"]));
        let mut child = command.stdout(self.log_file()).stderr(self.log_file()).spawn().expect("migrate starts");
        match tokio::time::timeout(Duration::from_secs(60), child.wait()).await {
            Ok(status) => {
                assert!(status.is_ok_and(|s| s.success()), "{} migrates:\n{}", self.spec.name, self.log_tail())
            }
            Err(_) => {
                let threads = child.id().map(threads).unwrap_or_default();
                let _ = child.kill().await;
                panic!(
                    "{} migrate still runs after 60 s; its threads:\n{threads}\nthe database:\n{}",
                    self.spec.name,
                    activity(schema).await
                );
            }
        }
    }

    /// The process's resident memory now and at its peak (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let field = |name: &str| -> Option<u64> {
            let kib = status.lines().find_map(|line| line.strip_prefix(name))?;
            Some(kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok()? * 1024)
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Starts (or starts again) the process.
    pub fn start(&mut self) {
        let child =
            self.command(&[]).stdout(self.log_file()).stderr(self.log_file()).spawn().expect("the service starts");
        self.child = Some(child);
    }

    /// SIGKILL: no draining, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait: the graceful shutdown a rolling update does.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        child.wait().ok()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of [`Self::logs`], for a failure message.
    pub fn log_tail(&self) -> String {
        let logs = self.logs();
        let lines: Vec<&str> = logs.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    pub async fn wait_ready(&self, timeout: Duration) {
        let client = reqwest::Client::new();
        let url = self.url(if self.spec.schema.is_some() { "/ready" } else { "/live" });
        testkit::eventually(&format!("{} is ready", self.spec.name), timeout, || {
            let request = client.get(&url).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
    }
}

/// Each thread of a process with what the kernel says it waits in (`/proc/<pid>/task/*/wchan`).
fn threads(pid: u32) -> String {
    let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default().trim().to_owned();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    tasks
        .map(|task| format!("{} in {}", read(task.path().join("comm")), read(task.path().join("wchan"))))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Drop for Process {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// What a test may change before the system starts.
#[derive(Default)]
pub struct Options {
    /// Extra environment per program name (e.g. a provider's URL for notification).
    pub env: BTreeMap<&'static str, Vec<(String, String)>>,
    /// Extra keys of the gateway's `gateway` configuration section.
    pub gateway: Value,
    /// Run the programs as the image does (the deployment tests).
    pub as_in_image: Option<AsInImage>,
    /// Extra environment of every program, after everything else (e.g. dependencies reached
    /// through a [`testkit::proxy::TcpProxy`]).
    pub env_everywhere: Vec<(String, String)>,
    /// How many replicas of a service run behind the gateway (1 when not named).
    pub replicas: BTreeMap<&'static str, usize>,
}

/// Every program of the checkout, running.
pub struct System {
    pub prefix: String,
    pub processes: Vec<Process>,
    /// A client of the gateway (what mobile clients see).
    pub api: ApiClient,
    pub logs: PathBuf,
    schemas: Vec<(&'static str, TestSchema)>,
}

impl System {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        testkit::init_logs();
        ensure_built();
        let programs = programs();
        let prefix = testkit::unique_prefix();
        let logs = std::env::temp_dir().join(format!("mebelplace-system-{}", prefix.trim_end_matches('.')));
        std::fs::create_dir_all(&logs).expect("a log folder");
        let replicas = |name: &str| options.replicas.get(name).copied().unwrap_or(1).max(1);
        let ports: BTreeMap<&str, Vec<u16>> =
            programs.iter().map(|p| (p.name, (0..replicas(p.name)).map(|_| testkit::free_port()).collect())).collect();
        let auth_port = ports.get("auth").map(|ports| ports[0]);
        let keys = testkit::keys::keys_dir(&[testkit::keys::KEY_1]);
        let image = options.as_in_image.map(Arc::new);
        let mut schemas = Vec::new();
        let mut processes = Vec::new();
        for program in &programs {
            let mut env = Vec::new();
            if program.schema.is_some() {
                let schema = TestSchema::create(&[]).await;
                env.push(("DATABASE_URL".into(), schema.url.clone()));
                env.push(("DATABASE_SCHEMA".into(), schema.name.clone()));
                env.push(("STORAGE_PATH".into(), logs.join(format!("storage-{}", program.name)).display().to_string()));
                schemas.push((program.name, schema));
            }
            env.extend(program_env(program.name, &keys));
            if program.name == "gateway" {
                let config = gateway_config(&programs, &ports, &prefix, &options.gateway);
                let file = logs.join("gateway.json");
                std::fs::write(&file, config.to_string()).expect("the gateway's configuration");
                env.push(("CONFIG_FILE".into(), file.display().to_string()));
            }
            env.extend(options.env.get(program.name).cloned().unwrap_or_default());
            env.extend(options.env_everywhere.iter().cloned());
            for (replica, &port) in ports[program.name].iter().enumerate() {
                let name = match replica {
                    0 => program.name.to_owned(),
                    n => format!("{}-{}", program.name, n + 1),
                };
                // A later entry of a name wins (the extra environment over the common one).
                let env = [common_env(&prefix, port, auth_port), env.clone()].concat();
                let log = logs.join(format!("{name}.log"));
                processes.push(Process { spec: program, port, env, log, child: None, image: image.clone() });
            }
        }
        for process in processes.iter_mut() {
            let first_replica = process.port == ports[process.spec.name][0];
            if let Some((_, schema)) = schemas.iter().find(|(name, _)| *name == process.spec.name)
                && first_replica
            {
                process.migrate(schema).await;
            }
            process.start();
        }
        for process in &processes {
            process.wait_ready(Duration::from_secs(60)).await;
        }
        let gateway = processes.iter().find(|p| p.spec.name == "gateway").expect("the gateway is in the catalogue");
        let api = ApiClient::new(format!("http://{}", gateway.address()));
        let system = Self { prefix, processes, api, logs, schemas };
        system.wait_routable().await;
        system
    }

    /// Until the gateway has found every service healthy (its probes run every 200 ms here).
    async fn wait_routable(&self) {
        testkit::eventually("the gateway routes to every service", Duration::from_secs(30), || async {
            let (status, body) = self.api.get_public("/health").await;
            status == 200
                && body["upstreams"]
                    .as_array()
                    .is_some_and(|replicas| replicas.iter().all(|r| r["healthy"].as_bool() == Some(true)))
        })
        .await;
    }

    pub fn process(&self, name: &str) -> &Process {
        self.processes.iter().find(|p| p.spec.name == name).unwrap_or_else(|| panic!("no {name} in this system"))
    }

    pub fn process_mut(&mut self, name: &str) -> &mut Process {
        self.processes.iter_mut().find(|p| p.spec.name == name).unwrap_or_else(|| panic!("no {name} in this system"))
    }

    /// The replicas of a service, in start-up order ([`Options::replicas`]).
    pub fn replicas_mut(&mut self, name: &str) -> Vec<&mut Process> {
        self.processes.iter_mut().filter(|p| p.spec.name == name).collect()
    }

    /// Each program's database schema (name of the program, schema).
    pub fn schemas(&self) -> impl Iterator<Item = (&'static str, &TestSchema)> {
        self.schemas.iter().map(|(name, schema)| (*name, schema))
    }

    /// Every process's log, for a test that reads what the system printed.
    pub fn all_logs(&self) -> String {
        self.processes.iter().map(|p| format!("--- {} ---\n{}", p.spec.name, p.logs())).collect()
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        // The gateway first, then the services (the reverse of start-up).
        while let Some(mut process) = self.processes.pop() {
            process.terminate();
            if failed {
                // CI keeps only what the test printed: the end of every program's log.
                eprintln!("--- {} (last {LOG_TAIL_LINES} lines) ---\n{}", process.spec.name, process.log_tail());
            }
        }
        if failed {
            eprintln!("--- system logs in {} ---", self.logs.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.logs);
        }
    }
}

fn common_env(prefix: &str, port: u16, auth_port: Option<u16>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("APP_ENV", "test".to_owned()),
        ("LOG_LEVEL", "info".to_owned()),
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("KAFKA_BROKERS", testkit::kafka_brokers()),
        ("KAFKA_IDEMPOTENT_PRODUCER", "false".to_owned()),
        ("KAFKA_BATCH_MESSAGES", "1".to_owned()),
        ("NATS_URL", testkit::nats_url()),
        ("MEBELPLACE__KAFKA__TOPIC_PREFIX", prefix.to_owned()),
        ("MEBELPLACE__KAFKA__PARTITIONS", "1".to_owned()),
        ("MEBELPLACE__NATS__SUBJECT_PREFIX", prefix.to_owned()),
        ("MEBELPLACE__REDIS__KEY_PREFIX", prefix.to_owned()),
        ("MEBELPLACE__OUTBOX__POLL_INTERVAL_MS", "200".to_owned()),
        ("MEBELPLACE__HTTP__WORKERS", "1".to_owned()),
        // Several systems and in-process suites share one PostgreSQL (100 connections) in CI.
        ("DATABASE_MAX_CONNECTIONS", "5".to_owned()),
        ("MEBELPLACE__HTTP__SHUTDOWN_TIMEOUT_SECS", "5".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(auth_port) = auth_port {
        env.push(("JWT_JWKS_URL".into(), format!("http://127.0.0.1:{auth_port}/.well-known/jwks.json")));
    }
    env
}

/// What a program needs besides the common settings to run under test.
fn program_env(name: &str, keys: &Path) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match name {
        "auth" => vec![
            ("JWT_KEYS_DIR", keys.display().to_string()),
            ("MEBELPLACE__AUTH__ARGON2_MEMORY_KIB", "1024".into()),
            ("MEBELPLACE__AUTH__ARGON2_ITERATIONS", "1".into()),
            ("MEBELPLACE__AUTH__SECURE_COOKIES", "false".into()),
        ],
        "chat" => vec![("TURN_SECRET", testkit::turn::secret())],
        // Their periodic jobs at test pace, so that the system is quiet soon after it is left alone.
        "media" => vec![("MEBELPLACE__MEDIA__VIEWS_FLUSH_INTERVAL_MS", "200".into())],
        "notification" => vec![
            ("MEBELPLACE__NOTIFICATION__POLL_INTERVAL_MS", "200".into()),
            ("MEBELPLACE__NOTIFICATION__RETRY_BASE_MS", "100".into()),
            ("MEBELPLACE__NOTIFICATION__RETRY_CAP_MS", "1000".into()),
        ],
        _ => vec![],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn gateway_config(
    programs: &[&ServiceSpec],
    ports: &BTreeMap<&str, Vec<u16>>,
    prefix: &str,
    overrides: &Value,
) -> Value {
    let upstreams: serde_json::Map<String, Value> = programs
        .iter()
        .filter(|p| p.schema.is_some())
        .map(|p| (p.name.to_owned(), ports[p.name].iter().map(|port| format!("127.0.0.1:{port}")).collect()))
        .collect();
    let mut gateway = json!({
        "upstreams": upstreams,
        "health_check_interval_ms": 200,
        "docs_dir": workspace_root().join("var/docs").display().to_string(),
        "rate_limits": { "api_per_minute": 100000, "strict_per_minute": 100000, "upload_per_minute": 100000 },
    });
    if let (Some(target), Some(extra)) = (gateway.as_object_mut(), overrides.as_object()) {
        target.extend(extra.clone());
    }
    json!({
        "app": { "log_level": "info" },
        "redis": { "key_prefix": prefix },
        "jwt": { "jwks_url": format!("http://127.0.0.1:{}/.well-known/jwks.json", ports.get("auth").map_or(0, |p| p[0])) },
        "gateway": gateway,
    })
}
