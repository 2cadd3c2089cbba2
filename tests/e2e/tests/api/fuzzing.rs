//! Schema fuzzing: schemathesis (installed by `scripts/infra-up`) against the gateway's merged
//! OpenAPI document, signed in as a real master, with every check it has (settings in
//! `tests/e2e/schemathesis.toml`). The document is the
//! contract: any answer it does not describe, any valid request refused, any server error is a
//! failure to fix in the service. The few exemptions, each with its reason, are in the settings
//! file; what the fuzzer cannot make by itself (videos, images, tus bytes) is in
//! `tests/e2e/schemathesis_hooks.py`.

use e2e::System;
use e2e::world::World;
use std::process::Command;

/// Cases per operation and phase: enough to cross every documented bound, small enough for CI.
const EXAMPLES_PER_OPERATION: &str = "12";

#[tokio::test]
async fn schemathesis_finds_nothing_in_the_merged_document() {
    let system = System::start().await;
    let world = World::create(&system).await;
    let base = system.api.base.clone();
    let report = system.logs.join("schemathesis.xml");
    let output = Command::new("schemathesis")
        .current_dir(&system.logs)
        .args(["--config-file", concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml")])
        .args(["run", &format!("{base}/api/v2/openapi.json"), "--url", &base])
        .args(["--max-examples", EXAMPLES_PER_OPERATION, "--seed", "20261127"])
        .args(["--header", &format!("Authorization: Bearer {}", world.master.token)])
        // Signing out would revoke the session the rest of the run is using.
        .args(["--exclude-path", "/api/v2/auth/logout"])
        // A WebSocket handshake, not a request/response operation (tests/e2e journey, chat suites).
        .args(["--exclude-path", "/api/v2/ws"])
        .args(["--workers", "1", "--request-timeout", "10", "--generation-database", "none", "--no-color"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("PYTHONPATH", env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("schemathesis runs (scripts/infra-up installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Vec<&str> = stdout.lines().skip_while(|line| !line.contains("SUMMARY")).collect();
    println!("schemathesis:\n{}", summary.join("\n"));
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
