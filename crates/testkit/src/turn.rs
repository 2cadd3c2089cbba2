//! The coturn `scripts/infra-up` starts (TURN REST credentials, `use-auth-secret`), and
//! allocations on it with coturn's own test client, `turnutils_uclient`.

use anyhow::{Context, bail};
use std::time::Duration;
use tokio::process::Command;

/// infra-up's `static-auth-secret` unless `MEBELPLACE_TURN_SECRET` says otherwise.
pub const SECRET: &str = "mebelplace-dev-turn-secret";
/// Where infra-up's coturn listens (UDP and TCP) unless `MEBELPLACE_TURN_PORT` says otherwise.
pub const ADDR: &str = "127.0.0.1:3478";

/// The shared coturn's secret.
pub fn secret() -> String {
    std::env::var("MEBELPLACE_TURN_SECRET").unwrap_or_else(|_| SECRET.to_owned())
}

/// `host:port` of the shared coturn.
pub fn addr() -> String {
    std::env::var("MEBELPLACE_TURN_PORT").map(|port| format!("127.0.0.1:{port}")).unwrap_or_else(|_| ADDR.to_owned())
}

/// A `turn:` URL of the shared coturn over UDP, as clients get it.
pub fn url() -> String {
    format!("turn:{}?transport=udp", addr())
}

/// Makes a TURN allocation on `host_port` over UDP with these credentials and relays a
/// message through it: `true` when the server allocated, `false` when it refused the
/// credentials (401 and its retries), an error when it could not tell (no server, no
/// `turnutils_uclient`, a timeout).
///
/// `turnutils_uclient -y` allocates twice (two clients that talk through each other's
/// relay, so no peer has to run); it exits 0 once both allocated and the message went
/// round, and 255 with "Cannot complete Allocation" after the server kept answering the
/// ALLOCATE with an error.
pub async fn allocate(host_port: &str, username: &str, password: &str) -> anyhow::Result<bool> {
    let (host, port) = host_port.rsplit_once(':').with_context(|| format!("{host_port} is not host:port"))?;
    let mut command = Command::new("turnutils_uclient");
    command
        .args(["-v", "-y", "-c", "-n", "1", "-m", "1", "-l", "32"])
        .args(["-u", username, "-w", password, "-p", port, host])
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .context("turnutils_uclient did not finish in 30 s")?
        .context("cannot run turnutils_uclient (coturn's test client; scripts/infra-up installs it)")?;
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let answered = log.contains("allocate response received");
    match output.status.success() {
        true if answered => Ok(true),
        false if answered && log.contains("Cannot complete Allocation") => Ok(false),
        _ => bail!("turnutils_uclient could not tell ({}):\n{log}", output.status),
    }
}
