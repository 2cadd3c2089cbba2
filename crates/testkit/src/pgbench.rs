//! The same SQL as a service runs, through `pgbench`: the database's own throughput and
//! latency, the baseline a list endpoint is measured against; and its query plan.

use crate::TestSchema;
use crate::load::Throughput;
use std::process::Command;
use std::time::Duration;

fn pg_env(schema: &TestSchema) -> Vec<(&'static str, String)> {
    vec![("PGOPTIONS", format!("-c search_path={},public", schema.name))]
}

/// Runs `sql` with pgbench (`concurrency` clients for `duration`); throughput and p99 from its log.
pub fn run(schema: &TestSchema, name: &str, sql: &str, concurrency: usize, duration: Duration) -> Throughput {
    let dir = std::env::temp_dir().join(format!("mebelplace-pgbench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join(format!("{name}.sql"));
    std::fs::write(&script, sql.replace('\n', " ")).unwrap();
    let output = Command::new("pgbench")
        .envs(pg_env(schema))
        .args(["-n", "-h", "127.0.0.1", "-U", "postgres", "-M", "prepared", "-l", "--log-prefix"])
        .arg(dir.join("log"))
        .args(["-c", &concurrency.to_string(), "-j", "2", "-T", &duration.as_secs().to_string(), "-f"])
        .arg(&script)
        .arg("mebelplace_test")
        .output()
        .expect("pgbench runs (Debian package postgresql-contrib / postgresql-client)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "pgbench failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let per_second = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .expect("pgbench prints tps");
    let mut latencies_us: Vec<u64> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("log"))
        .flat_map(|entry| {
            std::fs::read_to_string(entry.path()).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .filter_map(|line| line.split_whitespace().nth(2).and_then(|latency| latency.parse().ok()))
        .collect();
    latencies_us.sort_unstable();
    std::fs::remove_dir_all(&dir).ok();
    let p99 = Duration::from_micros(latencies_us[latencies_us.len() * 99 / 100]);
    Throughput { per_second, p99 }
}

pub fn explain(schema: &TestSchema, sql: &str) -> String {
    let output = Command::new("psql")
        .envs(pg_env(schema))
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "mebelplace_test", "-X", "-A", "-t", "-c"])
        .arg(format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}"))
        .output()
        .expect("psql runs");
    String::from_utf8_lossy(&output.stdout).lines().map(|line| format!("    {line}\n")).collect()
}

pub fn report(what: &str, service: Throughput, database: Throughput) {
    println!("{what}");
    println!("  through HTTP: {:>8.0} req/s, p99 {:>6.2} ms", service.per_second, service.p99_ms());
    println!("  pgbench:      {:>8.0} tx/s,  p99 {:>6.2} ms", database.per_second, database.p99_ms());
    println!(
        "  service / database throughput: {:.2}; p99 added: {:.2} ms",
        service.per_second / database.per_second,
        service.p99_ms() - database.p99_ms()
    );
}
