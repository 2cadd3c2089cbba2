//! `make bench` for media, measured side by side in one run:
//! 1. tus: a 300 MB video sent in 8 MiB PATCHes over loopback to media and to rustus (the Rust
//!    tus server from crates.io) by the same client onto the same disk: throughput and ratio;
//! 2. the multipart upload of the same bytes against `dd` writing them to the same disk;
//! 3. media's peak RSS (VmHWM) over those uploads (it runs as its own process);
//! 4. the worker's job (probe, thumbnails, HLS ladder) against the same ffmpeg commands run by hand;
//! 5. the feed (uncached, cached) against its SQL through pgbench, and like throughput.

#[path = "support/feed.rs"]
mod feed;

use media::domain::ladder::{self, Source};
use media::transcode;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::fake_http::FakeHttp;
use testkit::keys::KEY_1;
use testkit::{TestSchema, unique_prefix};

const MB: u64 = 1024 * 1024;
const SIZE: u64 = 300 * MB;
const PATCH: usize = 8 * MB as usize;
const RUSTUS_VERSION: &str = "0.5.10";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A 300 MB mp4: a short clip, then a top-level `free` box that fills it up (a valid file that
/// ffprobe reads as the clip).
fn big_video(dir: &Path) -> PathBuf {
    let clip = dir.join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25:duration=2"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        .arg(&clip)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let mut bytes = std::fs::read(&clip).unwrap();
    let free = SIZE - bytes.len() as u64;
    bytes.extend_from_slice(&(free as u32).to_be_bytes());
    bytes.extend_from_slice(b"free");
    let path = dir.join("big.mp4");
    std::fs::write(&path, &bytes).unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.set_len(SIZE).unwrap();
    path
}

fn free_port() -> u16 {
    testkit::free_port()
}

async fn wait_answering(url: &str) {
    let client = reqwest::Client::new();
    testkit::eventually(url, Duration::from_secs(60), || {
        let request = client.get(url).send();
        async move { request.await.is_ok() }
    })
    .await;
}

/// Sends `file` with tus in 8 MiB PATCHes; answers the wall time.
async fn tus_upload(client: &reqwest::Client, endpoint: &str, token: Option<&str>, file: &Path) -> Duration {
    use tokio::io::AsyncReadExt;
    let started = Instant::now();
    let auth = |request: reqwest::RequestBuilder| match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let metadata = format!("filename YmlnLm1wNA==,title {}", base64_title());
    let created = auth(client.post(endpoint))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", SIZE.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap_or_default());
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let url = if location.starts_with("http") { location } else { format!("{}{location}", origin(endpoint)) };
    let mut source = tokio::fs::File::open(file).await.unwrap();
    let mut offset = 0u64;
    let mut buffer = vec![0u8; PATCH];
    while offset < SIZE {
        let mut filled = 0;
        while filled < PATCH {
            let read = source.read(&mut buffer[filled..]).await.unwrap();
            if read == 0 {
                break;
            }
            filled += read;
        }
        let response = auth(client.patch(&url))
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string())
            .body(buffer[..filled].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{}", response.text().await.unwrap_or_default());
        offset += filled as u64;
    }
    started.elapsed()
}

fn base64_title() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode("Бенчмарк")
}

fn origin(endpoint: &str) -> String {
    let rest = endpoint.trim_start_matches("http://");
    format!("http://{}", rest.split('/').next().unwrap())
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn rustus_binary() -> PathBuf {
    let cargo_bin = PathBuf::from(
        std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap())),
    )
    .join("bin/rustus");
    if !cargo_bin.exists() {
        println!("installing rustus {RUSTUS_VERSION} from crates.io (once)");
        let status = Command::new("cargo")
            .args(["install", "rustus", "--version", RUSTUS_VERSION, "--locked"])
            .status()
            .unwrap();
        assert!(status.success(), "cargo install rustus");
    }
    cargo_bin
}

fn ratio(what: &str, ours: Duration, theirs: Duration, their_name: &str) {
    let mb_s = |d: Duration| SIZE as f64 / MB as f64 / d.as_secs_f64();
    println!("{what}");
    println!("  media:   {:>8.1} MB/s ({:.2} s)", mb_s(ours), ours.as_secs_f64());
    println!("  {their_name:<8} {:>8.1} MB/s ({:.2} s)", mb_s(theirs), theirs.as_secs_f64());
    println!("  media / {their_name} throughput: {:.2}", theirs.as_secs_f64() / ours.as_secs_f64());
}

#[tokio::main]
async fn main() {
    // `cargo bench -p media --bench media -- feed` runs the feed part alone.
    if std::env::args().any(|arg| arg == "feed") {
        return feed::run().await;
    }
    let dir = std::env::temp_dir().join(format!("media-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let video = big_video(&dir);
    let schema = TestSchema::create(&[media::MIGRATIONS]).await;
    let jwks = FakeHttp::start().await;
    jwks.respond("/jwks.json", 200, serde_json::to_value(testkit::keys::jwks(&[KEY_1])).unwrap());
    let token = testkit::keys::token(1, contracts::Role::Master);
    let prefix = unique_prefix();
    let storage = dir.join("storage");

    // media as its own process (release build of this package's binary), no worker.
    let port = free_port();
    let database = schema.settings();
    let media = Command::new(env!("CARGO_BIN_EXE_media"))
        .env("DATABASE_URL", secrecy::ExposeSecret::expose_secret(&database.url))
        .env("DATABASE_SCHEMA", &schema.name)
        .env("PORT", port.to_string())
        .env("LOG_LEVEL", "warn")
        .env("JWT_JWKS_URL", format!("{}/jwks.json", jwks.url()))
        .env("STORAGE_PATH", &storage)
        .env("MEDIA_STAGING_DIR", storage.join("staging"))
        .env("MEDIA_WORKER", "false")
        .env("KAFKA_BROKERS", testkit::kafka_brokers())
        .env("MEBELPLACE__KAFKA__TOPIC_PREFIX", &prefix)
        .env("MEBELPLACE__KAFKA__IDEMPOTENT_PRODUCER", "false")
        .env("MEBELPLACE__NATS__SUBJECT_PREFIX", &prefix)
        .env("MEBELPLACE__REDIS__KEY_PREFIX", &prefix)
        .stdout(Stdio::null())
        .spawn()
        .expect("the media binary starts");
    let media = Killed(media);
    let base = format!("http://127.0.0.1:{port}");
    wait_answering(&format!("{base}/live")).await;
    let idle_kib = vm_hwm_kib(media.0.id());

    let rustus_port = free_port();
    let rustus_dir = dir.join("rustus");
    std::fs::create_dir_all(&rustus_dir).unwrap();
    let rustus = Command::new(rustus_binary())
        .args(["--host", "127.0.0.1", "--port", &rustus_port.to_string(), "--data-dir"])
        .arg(&rustus_dir)
        // Its upload records too (by default `./data` of the working directory).
        .arg("--info-dir")
        .arg(&rustus_dir)
        .args(["--url", "/files", "--max-body-size", &(16 * MB).to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rustus starts");
    let _rustus = Killed(rustus);
    wait_answering(&format!("http://127.0.0.1:{rustus_port}/files/")).await;

    let client = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap();
    let media_tus = format!("{base}/api/v2/media/tus");
    let rustus_tus = format!("http://127.0.0.1:{rustus_port}/files/");
    // Warm the page cache with the source, then alternate: rustus, media, rustus, media.
    let _ = std::fs::read(&video).unwrap();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..2 {
        theirs.push(tus_upload(&client, &rustus_tus, None, &video).await);
        ours.push(tus_upload(&client, &media_tus, Some(&token), &video).await);
        let _ = std::fs::remove_dir_all(&rustus_dir).and_then(|_| std::fs::create_dir_all(&rustus_dir));
    }
    ratio(
        "tus, 300 MB in 8 MiB PATCHes (best of 2)",
        *ours.iter().min().unwrap(),
        *theirs.iter().min().unwrap(),
        "rustus",
    );

    // Multipart vs dd onto the same disk.
    // The client holds the file in memory (outside the measured service).
    let bytes = std::fs::read(&video).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("title", "Бенчмарк")
        .part("video", reqwest::multipart::Part::bytes(bytes).file_name("big.mp4"));
    let started = Instant::now();
    let response =
        client.post(format!("{base}/api/v2/videos/upload")).bearer_auth(&token).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
    let multipart = started.elapsed();
    let target = storage.join("dd.bin");
    let started = Instant::now();
    let status = Command::new("dd")
        .arg(format!("if={}", video.display()))
        .arg(format!("of={}", target.display()))
        .args(["bs=1M", "conv=fsync"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let dd = started.elapsed();
    ratio("multipart upload of 300 MB vs dd (bs=1M, fsync) to the same disk", multipart, dd, "dd");
    let peak = vm_hwm_kib(media.0.id());
    println!(
        "media peak RSS (VmHWM): {:.1} MB idle, {:.1} MB after 4 tus + 1 multipart 300 MB uploads (goal ≤ 64 MB)",
        idle_kib as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    drop(media);

    // The worker's job against the same ffmpeg commands by hand.
    let clip = dir.join("job.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=1920x1080:rate=30:duration=10",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=10",
        ])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(status.success());
    let by_hand = {
        let out = dir.join("by-hand");
        std::fs::create_dir_all(out.join("hls")).unwrap();
        let started = Instant::now();
        let probed = media::probe::probe("ffprobe", &clip).await.unwrap();
        let facts = &probed.facts;
        let source = Source {
            width: facts.width.unwrap() as u32,
            height: facts.height.unwrap() as u32,
            fps: facts.fps.unwrap(),
            bitrate: facts.bitrate.map(|b| b as u64),
        };
        transcode::run("ffmpeg", &transcode::thumbnail_args(&clip, &out, 10.0)).await.unwrap();
        let rungs = ladder::ladder(&source);
        transcode::run("ffmpeg", &transcode::hls_args(&clip, &out.join("hls"), &source, &rungs, true, 4))
            .await
            .unwrap();
        started.elapsed()
    };
    let job = {
        let schema = TestSchema::create(&[media::MIGRATIONS]).await;
        let mut config =
            media::config::Config { platform: testkit::settings(&schema, &unique_prefix()), media: Default::default() };
        config.platform.jwt.jwks_url = format!("{}/jwks.json", jwks.url());
        config.platform.app.log_level = "warn".into();
        config.media.staging_dir =
            PathBuf::from(&config.platform.storage.path).join("staging").to_string_lossy().into_owned();
        let app = testkit::TestApp::start(media::build(config).await.unwrap());
        let api = testkit::ApiClient::new(app.address.clone());
        let form = reqwest::multipart::Form::new()
            .text("title", "Работа")
            .part("video", reqwest::multipart::Part::bytes(std::fs::read(&clip).unwrap()).file_name("job.mp4"));
        let (status, body) =
            api.send(api.client.post(api.url("/api/v2/videos/upload")).bearer_auth(&token).multipart(form)).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_i64().unwrap();
        let started = Instant::now();
        loop {
            let (_, video) = api.get(&format!("/api/v2/videos/{id}"), &token).await;
            if video["status"] == "ready" {
                break;
            }
            assert_ne!(video["status"], "failed", "{video}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // From the upload's answer to ready: queueing and storage included.
        started.elapsed()
    };
    println!("worker: 10 s 1080p30 clip → 3 thumbnails + 360p/480p/720p/1080p HLS");
    println!("  job (upload answered → ready): {:.2} s", job.as_secs_f64());
    println!("  same ffprobe + ffmpeg by hand:  {:.2} s", by_hand.as_secs_f64());
    println!("  job / by hand: {:.2} (goal ≤ 1.10)", job.as_secs_f64() / by_hand.as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    feed::run().await;
}
