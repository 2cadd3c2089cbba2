//! The media service running in-process with its own schema, prefixes and directories; tokens
//! signed with the test keys (served as JWKS by a fake auth); test videos made by ffmpeg.

use contracts::Role;
use media::config::{Config, MediaSettings};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::{KEY_1, jwks};
use testkit::{ApiClient, TestApp, TestSchema, unique_prefix};

pub use testkit::error_code;

pub struct World {
    pub api: ApiClient,
    pub config: Config,
    pub schema: TestSchema,
    /// Where test videos are made.
    pub scratch: PathBuf,
    _app: TestApp,
    _auth: FakeHttp,
}

/// A signed-in user.
pub struct User {
    pub id: i64,
    pub token: String,
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the service with settings changed by `adjust` (after the test defaults).
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        testkit::init_logs();
        let auth = FakeHttp::start().await;
        auth.respond("/.well-known/jwks.json", 200, serde_json::to_value(jwks(&[KEY_1])).unwrap());
        let schema = TestSchema::create(&[media::MIGRATIONS]).await;
        let mut platform = testkit::settings(&schema, &unique_prefix());
        platform.jwt.jwks_url = format!("{}/.well-known/jwks.json", auth.url());
        let staging = PathBuf::from(&platform.storage.path).join("staging");
        let media = MediaSettings {
            staging_dir: staging.to_string_lossy().into_owned(),
            job_ack_wait_secs: 10,
            expiry_interval_secs: 1,
            ..Default::default()
        };
        let mut config = Config { platform, media };
        adjust(&mut config);
        let app = TestApp::start(media::build(config.clone()).await.expect("media builds"));
        let scratch = std::env::temp_dir().join(format!("media-test-{}", schema.name));
        std::fs::create_dir_all(&scratch).unwrap();
        Self { api: ApiClient::new(app.address.clone()), config, schema, scratch, _app: app, _auth: auth }
    }

    /// A new user (ids never repeat within the run).
    pub fn user(&self) -> User {
        static NEXT: AtomicI64 = AtomicI64::new(1000);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        User { id, token: testkit::keys::token(id, Role::Master) }
    }

    pub fn staging(&self) -> PathBuf {
        PathBuf::from(&self.config.media.staging_dir)
    }

    pub fn storage(&self) -> PathBuf {
        PathBuf::from(&self.config.platform.storage.path)
    }

    /// Uploads' files left in the staging directory (nothing, after an upload ends either
    /// way); the worker's scratch folders (`*.work`) are not uploads.
    pub fn staged_files(&self) -> Vec<String> {
        std::fs::read_dir(self.staging())
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| !name.ends_with(".work"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Files stored under `videos/`.
    pub fn stored_videos(&self) -> usize {
        fn files(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum())
                .unwrap_or(0)
        }
        files(&self.storage().join("videos"))
    }

    pub async fn count(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel_async::RunQueryDsl;
        let mut conn = self.schema.connect().await;
        let count: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(&mut conn).await.unwrap();
        count.n
    }

    pub async fn sql(&self, statement: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.schema.connect().await;
        conn.batch_execute(statement).await.unwrap();
    }

    /// A ready video written straight into the database (no file behind it): for lists, where
    /// processing each video through ffmpeg would only cost time.
    pub async fn ready_video(&self, user: &User, title: &str, hashtags: &[&str], price_minor: Option<i64>) -> i64 {
        use diesel::sql_types::{Array, BigInt, Nullable, Text};
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        let mut conn = self.schema.connect().await;
        let id: Id = diesel::sql_query(
            "INSERT INTO videos (user_id, title, hashtags, price_minor, status, original_path, container, size_bytes)
             VALUES ($1, $2, $3, $4, 'ready', 'videos/none/original.mp4', 'mp4', 1) RETURNING id",
        )
        .bind::<BigInt, _>(user.id)
        .bind::<Text, _>(title)
        .bind::<Array<Text>, _>(hashtags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
        .bind::<Nullable<BigInt>, _>(price_minor)
        .get_result(&mut conn)
        .await
        .unwrap();
        id.id
    }

    /// Publishes an event of another service (auth's follows and blocks) on its topic.
    pub async fn publish(&self, envelope: contracts::Envelope) {
        let topic = envelope.payload.as_ref().map(|p| p.topic()).expect("an event with a payload");
        testkit::events::publish(&self.config.platform.kafka, topic, &envelope).await;
    }

    /// The ids of a feed page (`query` after `?`) as `user` sees it.
    pub async fn feed_ids(&self, user: Option<&User>, query: &str) -> Vec<i64> {
        let path = format!("/api/v2/videos/feed?{query}");
        let (status, page) = match user {
            Some(user) => self.api.get(&path, &user.token).await,
            None => self.api.get_public(&path).await,
        };
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().iter().map(|v| v["id"].as_i64().unwrap()).collect()
    }

    /// A test video made by ffmpeg (see [`VideoSpec`]).
    pub fn video(&self, spec: VideoSpec) -> PathBuf {
        make_video(&self.scratch, spec)
    }

    pub async fn upload(&self, user: &User, file: &Path, fields: &[(&str, &str)]) -> (u16, Value) {
        let bytes = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut form = reqwest::multipart::Form::new();
        for (key, value) in fields {
            form = form.text(key.to_string(), value.to_string());
        }
        form =
            form.part("video", reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str("video/mp4").unwrap());
        let request =
            self.api.client.post(self.api.url("/api/v2/videos/upload")).bearer_auth(&user.token).multipart(form);
        self.api.send(request).await
    }

    pub async fn video_of(&self, user: &User, id: i64) -> Value {
        let (status, body) = self.api.get(&format!("/api/v2/videos/{id}"), &user.token).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until the video leaves `uploaded`/`processing`; answers it.
    pub async fn processed(&self, user: &User, id: i64) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let video = self.video_of(user, id).await;
            if matches!(video["status"].as_str(), Some("ready" | "failed")) {
                return video;
            }
            assert!(tokio::time::Instant::now() < deadline, "video {id} still {}", video["status"]);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// GETs a stored file by its URL path.
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        self.api.client.get(self.api.url(path)).send().await.unwrap()
    }
}

/// What ffmpeg makes: `testsrc` with a tone, `seconds` long, `width`×`height`.
#[derive(Debug, Clone, Copy)]
pub struct VideoSpec {
    pub width: u32,
    pub height: u32,
    pub seconds: u32,
    pub audio: bool,
    /// A black first second (the thumbnail must not be taken from it).
    pub black_start: bool,
    pub container: &'static str,
    /// Noisy pictures, losslessly coded: large files.
    pub noise: bool,
}

impl Default for VideoSpec {
    fn default() -> Self {
        Self { width: 640, height: 360, seconds: 2, audio: true, black_start: false, container: "mp4", noise: false }
    }
}

pub fn make_video(dir: &Path, spec: VideoSpec) -> PathBuf {
    let file = dir.join(format!("{}.{}", uuid::Uuid::now_v7(), spec.container));
    let size = format!("{}x{}", spec.width, spec.height);
    let mut command = Command::new("ffmpeg");
    command.args(["-v", "error", "-y"]);
    if spec.black_start {
        command.args(["-f", "lavfi", "-i", &format!("color=c=black:s={size}:r=25:d=1")]);
    }
    command.args(["-f", "lavfi", "-i", &format!("testsrc=size={size}:rate=25:duration={}", spec.seconds)]);
    if spec.audio {
        command.args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={}", spec.seconds + u32::from(spec.black_start)),
        ]);
    }
    let audio_input = if spec.black_start { 2 } else { 1 };
    if spec.black_start {
        command.args(["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]"]);
    } else if spec.noise {
        command.args(["-filter_complex", "[0:v]noise=alls=40:allf=t[v]", "-map", "[v]", "-qp", "0"]);
    } else {
        command.args(["-map", "0:v"]);
    }
    if spec.audio {
        command.args(["-map", &format!("{audio_input}:a")]);
    }
    match spec.container {
        "webm" => command.args(["-c:v", "libvpx", "-b:v", "300k", "-c:a", "libvorbis"]),
        _ => command.args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ]),
    };
    command.arg(&file);
    let status = command.status().expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg made {}", file.display());
    file
}
