//! A closed-loop HTTP load for benchmarks: `concurrency` clients repeat one GET for `run`.

use std::time::{Duration, Instant};

/// What a load run measured.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub per_second: f64,
    pub p99: Duration,
}

impl Throughput {
    pub fn p99_ms(&self) -> f64 {
        self.p99.as_secs_f64() * 1e3
    }
}

/// Requests per second and p99 latency of `GET url` (with `token` as Bearer when given).
pub async fn get(url: &str, token: Option<&str>, concurrency: usize, run: Duration) -> Throughput {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.to_owned(), token.map(str::to_owned));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while started.elapsed() < run {
                    let sent = Instant::now();
                    let mut request = client.get(&url);
                    if let Some(token) = &token {
                        request = request.bearer_auth(token);
                    }
                    let response = request.send().await.expect("request");
                    assert!(response.status().is_success(), "{url}: {}", response.status());
                    response.bytes().await.expect("body");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("load worker"));
    }
    latencies.sort_unstable();
    let p99 = latencies[latencies.len() * 99 / 100];
    Throughput { per_second: latencies.len() as f64 / started.elapsed().as_secs_f64(), p99 }
}

/// The same measurement with `wrk` (a C load generator in its own process, so the measured
/// service does not share its process with the load): `threads` × `connections` for `run`.
pub fn wrk(url: &str, token: Option<&str>, connections: usize, run: Duration) -> Throughput {
    let mut command = std::process::Command::new("wrk");
    command.args(["-t2", "--latency", "-c", &connections.to_string(), "-d", &format!("{}s", run.as_secs())]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let output = command.arg(url).output().expect("wrk runs (Debian package wrk; `make bench` installs it)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && !report.contains("Non-2xx"), "wrk against {url}: {report}");
    let per_second = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("wrk printed no Requests/sec: {report}"));
    let p99 = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .and_then(|value| parse_wrk_duration(value.trim()))
        .unwrap_or_else(|| panic!("wrk printed no 99% latency: {report}"));
    Throughput { per_second, p99 }
}

/// CPU time (user + system) a process and its direct children have used so far, in seconds
/// (nginx's workers are children of its master): with the requests served over the same span,
/// requests per CPU-second, which is less sensitive than throughput to the load generator
/// sharing the cores.
pub fn cpu_seconds(pid: u32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let stat = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
    // The fields after the command (which may hold spaces), from the 3rd: state, ppid, ….
    let fields = |stat: &str| -> Vec<String> {
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
    };
    let ticks = |fields: &[String]| -> u64 {
        fields.get(11..13).map_or(0, |t| t.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
    };
    let pid = pid.to_string();
    let own = stat(&pid).map_or(0, |s| ticks(&fields(&s)));
    let children: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|name| stat(&name))
        .map(|s| fields(&s))
        .filter(|f| f.get(1) == Some(&pid))
        .map(|f| ticks(&f))
        .sum();
    (own + children) as f64 / ticks_per_second
}

/// `812.00us`, `1.23ms`, `2.01s` → a duration.
fn parse_wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_durations_parse() {
        assert_eq!(parse_wrk_duration("812.00us"), Some(Duration::from_micros(812)));
        assert_eq!(parse_wrk_duration("1.50ms"), Some(Duration::from_micros(1500)));
        assert_eq!(parse_wrk_duration("2.00s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_wrk_duration("fast"), None);
    }
}
