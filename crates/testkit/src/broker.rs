//! A Kafka-protocol broker (tansu) of a test's own, on its own port, that the test may kill
//! and restart. With [`Storage::Sqlite`] (the default) messages, groups and offsets survive a
//! restart; with [`Storage::Memory`] (what `scripts/infra-up` and `make run` use) a restarted
//! broker starts empty, as a cluster that lost its data would.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where the broker keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// A SQLite file in the broker's temporary folder: kept across restarts.
    #[default]
    Sqlite,
    /// Memory: lost on every restart.
    Memory,
}

impl Storage {
    fn engine(self) -> &'static str {
        match self {
            // tansu resolves the SQLite path against its working directory.
            Self::Sqlite => "sqlite://tansu.db",
            Self::Memory => "memory://tansu/",
        }
    }
}

pub struct KafkaBroker {
    port: u16,
    dir: PathBuf,
    storage: Storage,
    child: Option<Child>,
}

/// `tansu` from PATH or from cargo's bin folder (where `scripts/infra-up` installs it).
fn tansu_binary() -> PathBuf {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let installed = home.join("bin/tansu");
    if installed.exists() { installed } else { PathBuf::from("tansu") }
}

impl KafkaBroker {
    /// A broker with SQLite storage.
    pub async fn start() -> Self {
        Self::start_with(Storage::Sqlite).await
    }

    pub async fn start_with(storage: Storage) -> Self {
        let dir = std::env::temp_dir().join(format!("mebelplace-broker-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("broker folder");
        let mut broker = Self { port: crate::free_port(), dir, storage, child: None };
        broker.restart().await;
        broker
    }

    fn log_file(&self) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("tansu.log"))
            .map_or_else(|_| Stdio::null(), Stdio::from)
    }

    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILL: the broker gets no chance to flush or say goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the broker stops answering but keeps every connection open, as a broker behind
    /// a dead network path does. [`KafkaBroker::kill`] (and so drop) ends it still frozen.
    pub fn freeze(&self) {
        if let Some(child) = &self.child {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(child.id() as i32, libc::SIGSTOP) };
        }
    }

    pub async fn restart(&mut self) {
        self.kill();
        let address = format!("tcp://127.0.0.1:{}", self.port);
        let child = Command::new(tansu_binary())
            .args(["broker", "--listener-url", &address, "--advertised-listener-url", &address])
            .args(["--storage-engine", self.storage.engine()])
            .current_dir(&self.dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(self.log_file())
            .spawn()
            .expect("tansu starts (scripts/infra-up installs it)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "tansu did not start listening");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.join("tansu.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of the broker's log ---");
            tail.iter().rev().for_each(|line| eprintln!("{line}"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
