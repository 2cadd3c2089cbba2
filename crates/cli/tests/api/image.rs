//! The image's build and run steps outside a container: the Dockerfile's build script collects
//! every program of the catalogue, and the programs run as an unprivileged user in a read-only
//! working directory, answering the image's `HEALTHCHECK` (`mebelplace healthcheck`).

use crate::helpers::root;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `nobody`: the programs must not need root, nor write where they were started.
const UNPRIVILEGED: u32 = 65534;

fn dockerfile() -> String {
    std::fs::read_to_string(root().join("deploy/docker/Dockerfile")).expect("deploy/docker/Dockerfile")
}

#[test]
fn the_dockerfile_builds_with_the_script_and_runs_unprivileged_with_a_healthcheck() {
    let dockerfile = dockerfile();
    for needed in [
        "deploy/docker/build-binaries release /out",
        "COPY --from=builder /out/ /usr/local/bin/",
        "cargo chef cook --release --locked",
        "USER 10001:10001",
        r#"HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["mebelplace", "healthcheck"]"#,
        "MEBELPLACE_COMMIT=\"$GIT_SHA\"",
    ] {
        assert!(dockerfile.contains(needed), "the Dockerfile has {needed:?}");
    }
    let script = std::fs::read_to_string(root().join("deploy/docker/build-binaries")).expect("build-binaries");
    assert!(script.contains("args=(build --locked --profile \"$profile\" --workspace --bins)"), "{script}");
}

/// Copies the binaries the way the image build does (the cargo step of the script is what
/// `cargo nextest run --workspace` has just built; the feature that links OpenSSL is left out).
fn collect_binaries(out: &Path) -> Vec<String> {
    let status = Command::new(root().join("deploy/docker/build-binaries"))
        .args(["dev", &out.display().to_string()])
        .env("MEBELPLACE_FEATURES", "")
        .env("MEBELPLACE_SKIP_CARGO", "1")
        .stdout(Stdio::null())
        .status()
        .expect("build-binaries runs");
    assert!(status.success(), "deploy/docker/build-binaries dev {}", out.display());
    let mut names: Vec<String> = std::fs::read_dir(out)
        .expect("the output")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn unprivileged<'a>(command: &'a mut Command, workdir: &Path) -> &'a mut Command {
    // SAFETY of the test's assumption: only root may switch users; others already are unprivileged.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
    }
    command.current_dir(workdir).env_clear().env("PATH", "/usr/bin:/bin")
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

fn folder(path: PathBuf, mode: u32) -> PathBuf {
    std::fs::create_dir_all(&path).expect("a folder");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("permissions");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn the_image_programs_run_unprivileged_in_a_read_only_directory_and_pass_the_healthcheck() {
    e2e::system::ensure_built();
    let base = folder(std::env::temp_dir().join(format!("mebelplace-image-{}", testkit::unique_prefix())), 0o755);
    let bin = folder(base.join("bin"), 0o755);
    // The working directory of the image (/app): nothing may be written there.
    let workdir = folder(base.join("app"), 0o555);
    let names = collect_binaries(&bin);
    let mut expected: Vec<String> = e2e::system::programs().iter().map(|s| s.name.to_owned()).collect();
    expected.push("mebelplace".to_owned());
    expected.sort();
    assert_eq!(names, expected, "the image ships `mebelplace` and every program of the checkout");

    let keys = testkit::keys::keys_dir(&[testkit::keys::KEY_1]);
    for path in [keys.clone(), keys.join(format!("{}.pem", testkit::keys::KEY_1.0))] {
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("readable keys");
    }
    let schema = testkit::TestSchema::create(&[]).await;
    let prefix = testkit::unique_prefix();
    let port = testkit::free_port();
    let env = [
        ("APP_ENV", "production".to_owned()),
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("DATABASE_URL", schema.url.clone()),
        ("DATABASE_SCHEMA", schema.name.clone()),
        ("KAFKA_BROKERS", testkit::kafka_brokers()),
        ("KAFKA_IDEMPOTENT_PRODUCER", "false".to_owned()),
        ("NATS_URL", testkit::nats_url()),
        ("MEBELPLACE__KAFKA__TOPIC_PREFIX", prefix.clone()),
        ("MEBELPLACE__NATS__SUBJECT_PREFIX", prefix.clone()),
        ("MEBELPLACE__REDIS__KEY_PREFIX", prefix.clone()),
        ("JWT_KEYS_DIR", keys.display().to_string()),
        // As in the chart: objects in S3 (nothing on local disk); not called by this test.
        ("STORAGE_BACKEND", "s3".to_owned()),
        ("S3_BUCKET", "mebelplace".to_owned()),
        ("S3_ENDPOINT", "http://127.0.0.1:9".to_owned()),
        ("S3_ACCESS_KEY_ID", "test".to_owned()),
        ("S3_SECRET_ACCESS_KEY", "test".to_owned()),
        ("JWT_JWKS_URL", format!("http://127.0.0.1:{port}/.well-known/jwks.json")),
    ];

    // The migrate hook, then the service, as in the chart.
    let migrated =
        unprivileged(&mut Command::new(bin.join("auth")), &workdir).arg("migrate").envs(env.clone()).output();
    let migrated = migrated.expect("auth migrate runs");
    assert!(migrated.status.success(), "auth migrate as nobody: {}", String::from_utf8_lossy(&migrated.stderr));
    let log = base.join("auth.log");
    let auth = unprivileged(&mut Command::new(bin.join("auth")), &workdir)
        .envs(env.clone())
        .stdout(Stdio::from(std::fs::File::create(&log).expect("a log")))
        .stderr(Stdio::null())
        .spawn()
        .expect("auth starts as nobody");
    let _auth = Running(auth);

    // The image's HEALTHCHECK: `mebelplace healthcheck` with the container's PORT.
    let healthcheck = || {
        unprivileged(&mut Command::new(bin.join("mebelplace")), &workdir)
            .arg("healthcheck")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    testkit::eventually("auth passes the healthcheck as nobody", Duration::from_secs(60), || async { healthcheck() })
        .await;
    let failing = unprivileged(&mut Command::new(bin.join("mebelplace")), &workdir)
        .args(["healthcheck", &format!("http://127.0.0.1:{}/ready", testkit::free_port())])
        .stderr(Stdio::null())
        .status()
        .expect("healthcheck runs");
    assert!(!failing.success(), "the healthcheck fails when nothing answers");
    assert!(
        std::fs::read_dir(&workdir).expect("the working directory").next().is_none(),
        "nothing was written to the working directory; log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&base);
}
