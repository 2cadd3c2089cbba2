//! The image's build and run steps outside a container (no container engine runs here): the
//! Dockerfile's build script collects every program of the catalogue, the runtime stage installs
//! what the programs run, and every program (its migrations first) runs as an unprivileged user
//! in a read-only working directory with the image's environment, answering the image's
//! `HEALTHCHECK` (`mebelplace healthcheck`).

use crate::helpers::{Dockerfile, env_example, root};
use e2e::System;
use e2e::system::{AsInImage, Options};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `nobody`: the programs must not need root, nor write where they were started.
const UNPRIVILEGED: u32 = 65534;

/// The image's writable volumes are mounted below this folder (compose and the chart do it).
const VOLUMES: &str = "/var/lib/mebelplace/";

#[test]
fn the_dockerfile_builds_with_the_script_and_runs_unprivileged_with_a_healthcheck() {
    let dockerfile = Dockerfile::read();
    for needed in [
        "deploy/docker/build-binaries release /out",
        "COPY --from=builder /out/ /usr/local/bin/",
        // The dependency layer is cooked with the build's flags, or the build compiles them again.
        r#"cargo chef cook --release --locked --workspace --features "$MEBELPLACE_FEATURES""#,
        "USER 10001:10001",
        r#"HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["mebelplace", "healthcheck"]"#,
        "MEBELPLACE_COMMIT=\"$GIT_SHA\"",
    ] {
        assert!(dockerfile.text.contains(needed), "the Dockerfile has {needed:?}");
    }
    let script = std::fs::read_to_string(root().join("deploy/docker/build-binaries")).expect("build-binaries");
    for needed in ["args=(--locked --workspace)", r#"cargo build "${args[@]}" --profile "$profile" --bins"#] {
        assert!(script.contains(needed), "build-binaries has {needed:?}");
    }

    // The builder's toolchain is one the workspace supports.
    let version = |text: &str| -> (u32, u32) {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().expect("a version number"));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let required = manifest
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("the workspace's rust-version");
    let image = dockerfile.arg("RUST_VERSION").expect("ARG RUST_VERSION");
    assert!(version(&image) >= version(&required), "RUST_VERSION {image} is older than rust-version {required}");
}

/// The Debian packages that installed `programs` on this machine (`dpkg -S`), by program.
fn packages_of(programs: &[&str]) -> Vec<(String, String)> {
    let paths: Vec<String> = programs
        .iter()
        .map(|program| {
            let found = Command::new("sh").args(["-c", &format!("command -v {program}")]).output();
            found
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_else(|| panic!("{program} is not installed here (scripts/infra-up installs it)"))
        })
        .collect();
    let output = Command::new("dpkg").arg("-S").args(&paths).output().expect("dpkg runs");
    assert!(output.status.success(), "dpkg -S {paths:?}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    programs
        .iter()
        .zip(&paths)
        .map(|(program, path)| {
            let line = text.lines().find(|l| l.ends_with(&format!(": {path}"))).unwrap_or_default();
            let package = line.split(": ").next().and_then(|p| p.split(':').next()).unwrap_or_default();
            ((*program).to_owned(), package.to_owned())
        })
        .collect()
}

#[test]
fn the_runtime_stage_installs_what_the_programs_run_from_packages_of_its_debian_release() {
    let dockerfile = Dockerfile::read();
    let stages = dockerfile.apt_packages();
    let runtime: Vec<&String> =
        stages.iter().filter(|(stage, _)| *stage == dockerfile.runtime_stage()).flat_map(|(_, p)| p).collect();

    // Media probes and transcodes uploads with these (its FFMPEG_PATH / FFPROBE_PATH defaults).
    let media = media::config::MediaSettings::default();
    for (program, package) in packages_of(&[&media.ffmpeg, &media.ffprobe]) {
        assert!(runtime.contains(&&package), "the runtime stage installs {package:?} (media's {program}): {runtime:?}");
    }

    // Every package the stages install exists in the image's Debian release (when this machine
    // runs that release): a misspelled or removed package fails here, not in `docker build`.
    let release = dockerfile.arg("DEBIAN").expect("ARG DEBIAN");
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let here = os.lines().find_map(|line| line.strip_prefix("VERSION_CODENAME=")).unwrap_or_default();
    if here != release {
        eprintln!("this machine runs Debian {here:?}, the image {release:?}: package names not checked");
        return;
    }
    let known = |packages: &[String]| {
        let mut command = Command::new("apt-cache");
        command.args(["show", "--no-all-versions"]).args(packages).stdout(Stdio::null()).stderr(Stdio::null());
        command.status().is_ok_and(|s| s.success())
    };
    for (stage, packages) in &stages {
        if !known(packages) {
            let unknown: Vec<&String> = packages.iter().filter(|p| !known(std::slice::from_ref(*p))).collect();
            panic!("stage {stage} installs {unknown:?}, which Debian {release} does not have");
        }
    }
}

/// Copies the binaries the way the image build does. The script's cargo step resolves the
/// image's packages and features without compiling; the binaries are the ones
/// `cargo nextest run --workspace` has just built (without the feature that links OpenSSL).
fn collect_binaries(out: &Path) -> Vec<String> {
    let status = Command::new(root().join("deploy/docker/build-binaries"))
        .args(["dev", &out.display().to_string()])
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

fn folder(path: PathBuf, mode: u32) -> PathBuf {
    std::fs::create_dir_all(&path).expect("a folder");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("permissions");
    path
}

/// The runtime stage's `ENV` with its folders made below `image_root`: a folder under the
/// image's volumes belongs to the unprivileged user (as the volume compose and the chart mount
/// there does), any other is read-only.
fn image_environment(dockerfile: &Dockerfile, image_root: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (name, value) in dockerfile.runtime_env() {
        if !value.starts_with('/') {
            env.push((name, value));
            continue;
        }
        let path = image_root.join(value.trim_start_matches('/'));
        let writable = value.starts_with(VOLUMES);
        folder(path.clone(), if writable { 0o755 } else { 0o555 });
        // SAFETY: reads the effective user id; only root may give a folder away.
        if writable && unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(&path, Some(UNPRIVILEGED), Some(UNPRIVILEGED)).expect("chown");
        }
        env.push((name, path.display().to_string()));
    }
    env
}

/// The object-storage settings compose gives every program (.env.example), at the S3 server
/// `scripts/infra-up` runs on loopback.
fn storage_environment() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        env_example().into_iter().filter(|(name, _)| name == "STORAGE_BACKEND" || name.starts_with("S3_")).collect();
    env.retain(|(name, _)| name != "S3_ENDPOINT");
    env.push(("S3_ENDPOINT".to_owned(), "http://127.0.0.1:9000".to_owned()));
    env
}

/// The image's `HEALTHCHECK` for the program on `port`, or for `url`.
fn healthcheck(image: &AsInImage, port: u16, url: Option<&str>) -> bool {
    let mut command = image.command("mebelplace");
    command.env("PORT", port.to_string()).arg("healthcheck").args(url).stdout(Stdio::null()).stderr(Stdio::null());
    command.status().is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_program_runs_unprivileged_in_a_read_only_directory_with_the_image_environment() {
    e2e::system::ensure_built();
    let base = folder(std::env::temp_dir().join(format!("mebelplace-image-{}", testkit::unique_prefix())), 0o755);
    let image = AsInImage {
        binaries: folder(base.join("bin"), 0o755),
        uid: UNPRIVILEGED,
        // The working directory of the image (/app): nothing may be written there.
        workdir: folder(base.join("app"), 0o555),
    };
    let names = collect_binaries(&image.binaries);
    let mut expected: Vec<String> = e2e::system::programs().iter().map(|s| s.name.to_owned()).collect();
    expected.push("mebelplace".to_owned());
    expected.sort();
    assert_eq!(names, expected, "the image ships `mebelplace` and every program of the checkout");

    let keys = testkit::keys::keys_dir(&[testkit::keys::KEY_1]);
    for path in [keys.clone(), keys.join(format!("{}.pem", testkit::keys::KEY_1.0))] {
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("readable keys");
    }
    let mut environment = image_environment(&Dockerfile::read(), &base.join("root"));
    environment.extend(storage_environment());
    let mut options = Options { as_in_image: Some(image.clone()), ..Options::default() };
    for program in e2e::system::programs() {
        let mut env = environment.clone();
        if program.name == "auth" {
            // The chart mounts the signing keys from a Secret.
            env.push(("JWT_KEYS_DIR".to_owned(), keys.display().to_string()));
        }
        options.env.insert(program.name, env);
    }

    // Migrations, then every program, until the gateway routes to all of them.
    let system = System::start_with(options).await;
    for process in &system.processes {
        assert!(healthcheck(&image, process.port, None), "{} passes the healthcheck as nobody", process.spec.name);
    }
    let nowhere = format!("http://127.0.0.1:{}/ready", testkit::free_port());
    assert!(!healthcheck(&image, 0, Some(&nowhere)), "the healthcheck fails when nothing answers");
    assert!(
        std::fs::read_dir(&image.workdir).expect("the working directory").next().is_none(),
        "nothing was written to the working directory"
    );
    drop(system);
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&keys);
}
