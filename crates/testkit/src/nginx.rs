//! nginx as a benchmark peer: what an operator would otherwise put in front of the services.
//! Configured as a production reverse proxy would be (upstream keep-alive, access log off), on
//! loopback, from a directory of its own; stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub struct Nginx {
    pub url: String,
    child: Child,
    dir: PathBuf,
}

/// The nginx binary: `NGINX`, else Debian's `/usr/sbin/nginx` (not on a user's PATH), else PATH.
fn binary() -> String {
    std::env::var("NGINX").ok().unwrap_or_else(|| {
        let debian = "/usr/sbin/nginx";
        if std::path::Path::new(debian).exists() { debian.to_owned() } else { "nginx".to_owned() }
    })
}

fn config(dir: &std::path::Path, listen: &str, upstream: &str, workers: usize) -> String {
    let dir = dir.display();
    format!(
        "worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream service {{ server {upstream}; keepalive 64; }}
    server {{
        listen {listen} reuseport;
        location / {{
            proxy_pass http://service;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"
    )
}

impl Nginx {
    /// nginx with `workers` worker processes proxying everything to `upstream` (`host:port`).
    pub async fn start(upstream: &str, workers: usize) -> Self {
        let dir = std::env::temp_dir().join(format!("mebelplace-nginx-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("nginx directory");
        let listen = format!("127.0.0.1:{}", crate::free_port());
        let file = dir.join("nginx.conf");
        std::fs::write(&file, config(&dir, &listen, upstream, workers)).expect("nginx.conf");
        let child = Command::new(binary())
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&file)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts (Debian package nginx; scripts/infra-up installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(&listen).await.is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {listen}: see {}/error.log", dir.display());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { url: format!("http://{listen}"), child, dir }
    }

    /// The master process; its workers are its children.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SAFETY: signalling our own child process (QUIT: graceful stop of master and workers).
        unsafe { libc::kill(self.child.id() as i32, libc::SIGQUIT) };
        let _ = self.child.wait();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
