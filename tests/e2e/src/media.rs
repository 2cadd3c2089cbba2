//! What the media service holds for a black-box suite: a master's video (processed by the
//! worker), its stored file, a story, and a chunked and a tus upload left open.

use crate::System;
use crate::world::User;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct MediaWorld {
    /// Ready (processed), by the master.
    pub video: i64,
    /// A stored file of `video`, as the `{path}` of `/api/v2/media/files/{path}`.
    pub file: String,
    pub story: i64,
    /// The master's chunked upload, started and not finished.
    pub upload: String,
    /// The master's tus upload, created and not finished.
    pub tus_upload: String,
}

impl MediaWorld {
    pub async fn create(system: &System, master: &User) -> Self {
        let clip = small_video(&system.logs);
        let video =
            upload(system, master, "/api/v2/videos/upload", "video", &clip).await["id"].as_i64().expect("a video id");
        let ready = processed(system, master, video).await;
        let file = ready["video_url"]
            .as_str()
            .and_then(|url| url.split_once("/api/v2/media/files/"))
            .map(|(_, path)| path.to_owned())
            .expect("the video's URL is one of the media files");
        let story = upload(system, master, "/api/v2/stories", "media", &clip).await["id"].as_i64().expect("a story id");
        let start = json!({ "file_name": "шкаф.mp4", "file_size": 3 * 1024 * 1024, "title": "Шкаф-купе" });
        let (status, body) = system.api.post_as("/api/v2/uploads", &master.token, start).await;
        assert_eq!(status, 201, "a chunked upload starts: {body}");
        let upload = body["upload_id"].as_str().or(body["id"].as_str()).expect("an upload id").to_owned();
        let tus_upload = tus_create(system, master).await;
        Self { video, file, story, upload, tus_upload }
    }
}

/// One second of ffmpeg's test picture, small enough for the worker to process at once.
pub fn small_video(dir: &Path) -> PathBuf {
    let file = dir.join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=1"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        .arg(&file)
        .status()
        .expect("ffmpeg runs (scripts/infra-up installs it)");
    assert!(status.success(), "ffmpeg made {}", file.display());
    file
}

pub async fn upload(system: &System, user: &User, path: &str, field: &str, file: &Path) -> Value {
    let bytes = std::fs::read(file).expect("the clip");
    let part = reqwest::multipart::Part::bytes(bytes).file_name("clip.mp4").mime_str("video/mp4").expect("a type");
    // A video has a title; a story's form has no such field.
    let form = match field {
        "video" => reqwest::multipart::Form::new().text("title", "Шкаф-купе #мебель"),
        _ => reqwest::multipart::Form::new(),
    };
    let form = form.part(field.to_owned(), part);
    let request = system.api.client.post(system.api.url(path)).bearer_auth(&user.token).multipart(form);
    let (status, body) = system.api.send(request).await;
    assert_eq!(status, 201, "{path} takes the clip: {body}");
    body
}

pub async fn processed(system: &System, user: &User, video: i64) -> Value {
    for _ in 0..600 {
        let (status, body) = system.api.get(&format!("/api/v2/videos/{video}"), &user.token).await;
        assert_eq!(status, 200, "the video is there: {body}");
        match body["status"].as_str() {
            Some("ready") => return body,
            Some("failed") => panic!("the worker failed the clip: {body}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("video {video} is not processed within 120 s");
}

/// "Шкаф-купе", as tus metadata carries values.
const TITLE_BASE64: &str = "0KjQutCw0YQt0LrRg9C/0LU=";

async fn tus_create(system: &System, user: &User) -> String {
    let request = system
        .api
        .client
        .post(system.api.url("/api/v2/media/tus"))
        .bearer_auth(&user.token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1048576")
        .header("Upload-Metadata", format!("filename c2hrYWYubXA0,title {}", TITLE_BASE64));
    let response = request.send().await.expect("the gateway answers");
    let (status, location) = (response.status().as_u16(), response.headers().get("location").cloned());
    assert_eq!(status, 201, "a tus upload is created: {}", response.text().await.unwrap_or_default());
    let location = location.expect("a Location").to_str().expect("a Location").to_owned();
    location.rsplit('/').next().expect("the upload's id").to_owned()
}
