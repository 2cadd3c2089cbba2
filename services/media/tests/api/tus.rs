//! tus 1.0 with a real client (tuspy from PyPI) and by hand for each extension's edge.

use crate::helpers::{User, VideoSpec, World, error_code};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest;
use std::path::Path;
use tokio::io::AsyncWriteExt;

const TUS: &str = "/api/v2/media/tus";

/// Runs tuspy; answers the upload's URL.
fn tuspy(
    world: &World,
    user: &User,
    file: &Path,
    chunk_size: usize,
    metadata: serde_json::Value,
    extra: &[&str],
) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/tus_client.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .arg(world.api.url(&format!("{TUS}/")))
        .arg(&user.token)
        .arg(file)
        .arg(chunk_size.to_string())
        .arg(metadata.to_string())
        .args(extra)
        .output()
        .expect("python3 runs (pip install tuspy)");
    assert!(output.status.success(), "tuspy: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k} {}", STANDARD.encode(v))).collect::<Vec<_>>().join(",")
}

fn tus(request: reqwest::RequestBuilder, user: &User) -> reqwest::RequestBuilder {
    request.bearer_auth(&user.token).header("Tus-Resumable", "1.0.0")
}

async fn head(world: &World, user: &User, location: &str) -> reqwest::Response {
    tus(world.api.client.head(world.api.url(location)), user).send().await.unwrap()
}

fn offset_of(response: &reqwest::Response) -> i64 {
    response.headers()["upload-offset"].to_str().unwrap().parse().unwrap()
}

async fn create(world: &World, user: &User, headers: &[(&str, String)]) -> (u16, String) {
    let mut request = tus(world.api.client.post(world.api.url(TUS)), user);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, location)
}

async fn patch(
    world: &World,
    user: &User,
    location: &str,
    offset: usize,
    bytes: &[u8],
    headers: &[(&str, String)],
) -> reqwest::Response {
    let mut request = tus(world.api.client.patch(world.api.url(location)), user)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string())
        .body(bytes.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_uploads_in_chunks_with_checksums_and_the_upload_becomes_a_video() {
    let world = World::start().await;
    let master = world.user();
    let file = world.video(VideoSpec { width: 1280, height: 720, seconds: 4, ..Default::default() });
    let fields = serde_json::json!({ "filename": "шкаф.mp4", "title": "Шкаф через tus", "hashtags": "#tus #шкаф" });
    let url = tokio::task::block_in_place(|| tuspy(&world, &master, &file, 256 * 1024, fields, &["--checksum"]));
    let location = url.trim_start_matches(&world.api.base).to_owned();
    let response = head(&world, &master, &location).await;
    assert_eq!(response.status(), 200);
    let size = std::fs::metadata(&file).unwrap().len() as i64;
    assert_eq!(offset_of(&response), size);
    let video_id: i64 = response.headers()["video-id"].to_str().unwrap().parse().unwrap();
    let video = world.processed(&master, video_id).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["title"], "Шкаф через tus");
    assert_eq!(video["hashtags"], serde_json::json!(["tus", "шкаф"]));
    let stored = std::fs::read(world.storage().join(format!("videos/{video_id}/original.mp4"))).unwrap();
    assert!(stored == std::fs::read(&file).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_patch_resumes_with_tuspy() {
    let world = World::start().await;
    let master = world.user();
    let file = world.video(VideoSpec { width: 1280, height: 720, seconds: 4, ..Default::default() });
    let bytes = std::fs::read(&file).unwrap();
    let length = bytes.len();
    let (status, location) = create(
        &world,
        &master,
        &[
            ("Upload-Length", length.to_string()),
            // No title: the video is named after the file; the client's own keys are kept as sent.
            ("Upload-Metadata", format!("{},client-id !!!", metadata(&[("filename", "Обрыв у стола.mp4")]))),
        ],
    )
    .await;
    assert_eq!(status, 201);

    // A PATCH that announces every byte, sends half and hangs up.
    let address = world.api.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head_lines = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {length}\r\n\r\n",
        master.token
    );
    socket.write_all(head_lines.as_bytes()).await.unwrap();
    let half = length / 2;
    socket.write_all(&bytes[..half]).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(socket);

    testkit::eventually("the cut PATCH's bytes are kept", std::time::Duration::from_secs(10), || async {
        offset_of(&head(&world, &master, &location).await) == half as i64
    })
    .await;
    assert_eq!(world.count("videos").await, 0, "never a half video");

    let url = world.api.url(&location);
    tokio::task::block_in_place(|| tuspy(&world, &master, &file, 512 * 1024, serde_json::json!({}), &["--url", &url]));
    let response = head(&world, &master, &location).await;
    assert_eq!(offset_of(&response), length as i64);
    let video_id: i64 = response.headers()["video-id"].to_str().unwrap().parse().unwrap();
    let stored = std::fs::read(world.storage().join(format!("videos/{video_id}/original.mp4"))).unwrap();
    assert!(stored == bytes, "the resumed upload is the file");
    assert_eq!(world.video_of(&master, video_id).await["title"], "Обрыв у стола");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_creation_checksum_expiration_and_termination_by_hand() {
    let world = World::start().await;
    let master = world.user();
    let client = &world.api.client;

    let options = client.request(reqwest::Method::OPTIONS, world.api.url(TUS)).send().await.unwrap();
    assert_eq!(options.status(), 204);
    let extensions = options.headers()["tus-extension"].to_str().unwrap();
    for extension in [
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "expiration",
        "checksum",
        "termination",
        "concatenation",
    ] {
        assert!(extensions.split(',').any(|e| e == extension), "{extensions}");
    }
    assert_eq!(options.headers()["tus-checksum-algorithm"], "sha1,sha256");
    assert_eq!(options.headers()["tus-version"], "1.0.0");

    let file = world.video(VideoSpec::default());
    let bytes = std::fs::read(&file).unwrap();
    let with_title = ("Upload-Metadata", metadata(&[("title", "Шкаф"), ("filename", "a.mp4")]));

    // Without Tus-Resumable the request is malformed (400, as documented); another version: 412.
    let response =
        client.post(world.api.url(TUS)).bearer_auth(&master.token).header("Upload-Length", "10").send().await.unwrap();
    assert_eq!(response.status(), 400);
    let response = client
        .post(world.api.url(TUS))
        .bearer_auth(&master.token)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    // Too long: 413; neither length: 400; bad metadata: 400.
    let (status, _) =
        create(&world, &master, &[("Upload-Length", (300 * 1024 * 1024 + 1).to_string()), with_title.clone()]).await;
    assert_eq!(status, 413);
    let (status, _) = create(&world, &master, std::slice::from_ref(&with_title)).await;
    assert_eq!(status, 400);
    let (status, _) = create(&world, &master, &[("Upload-Length", "0".into()), with_title.clone()]).await;
    assert_eq!(status, 400, "an empty file is never a video");
    let (status, _) =
        create(&world, &master, &[("Upload-Length", "10".into()), ("Upload-Metadata", "title ***".into())]).await;
    assert_eq!(status, 400);
    let (status, _) =
        create(&world, &master, &[("Upload-Length", "10".into()), ("Upload-Metadata", metadata(&[("title", " ")]))])
            .await;
    assert_eq!(status, 400, "a title given must not be blank");
    for unreadable in [metadata(&[("заголовок", "Шкаф")]), "title 0KjQutCw0YQ= extra".into()] {
        let (status, _) =
            create(&world, &master, &[("Upload-Length", "10".into()), ("Upload-Metadata", unreadable)]).await;
        assert_eq!(status, 400);
    }

    // Creation with upload, then a wrong offset, then wrong and right checksums.
    let response = tus(client.post(world.api.url(TUS)), &master)
        .header("Upload-Length", bytes.len().to_string())
        .header(with_title.0, with_title.1.clone())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(offset_of(&response), 1000);
    assert!(response.headers().contains_key("upload-expires"));
    let location = response.headers()["location"].to_str().unwrap().to_owned();

    let response = patch(&world, &master, &location, 10, &bytes[10..20], &[]).await;
    assert_eq!(response.status(), 409);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((error_code(&body), body["error"]["details"]["offset"].as_i64()), ("offset_mismatch", Some(1000)));

    let wrong = STANDARD.encode(sha1::Sha1::digest(b"something else"));
    let response =
        patch(&world, &master, &location, 1000, &bytes[1000..5000], &[("Upload-Checksum", format!("sha1 {wrong}"))])
            .await;
    assert_eq!(response.status().as_u16(), 460);
    assert_eq!(offset_of(&head(&world, &master, &location).await), 1000, "the chunk was discarded");
    let response =
        patch(&world, &master, &location, 1000, &bytes[1000..5000], &[("Upload-Checksum", "md5 AAAA".into())]).await;
    assert_eq!(response.status(), 400);

    let right = STANDARD.encode(sha2::Sha256::digest(&bytes[1000..5000]));
    let response =
        patch(&world, &master, &location, 1000, &bytes[1000..5000], &[("Upload-Checksum", format!("sha256 {right}"))])
            .await;
    assert_eq!(response.status(), 204);
    assert_eq!(offset_of(&response), 5000);
    let response = tus(client.patch(world.api.url(&location)), &master)
        .header("Upload-Offset", "5000")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    let other = world.user();
    assert_eq!(head(&world, &other, &location).await.status(), 404, "another user's upload");
    assert_eq!(patch(&world, &other, &location, 5000, &bytes[5000..6000], &[]).await.status(), 404);

    // Termination.
    let response = tus(client.delete(world.api.url(&location)), &master).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(head(&world, &master, &location).await.status(), 404);
    assert!(world.staged_files().is_empty(), "{:?}", world.staged_files());

    // Deferred length: told with the last PATCH.
    let (status, location) = create(&world, &master, &[("Upload-Defer-Length", "1".into()), with_title.clone()]).await;
    assert_eq!(status, 201);
    let response = head(&world, &master, &location).await;
    assert_eq!(response.headers()["upload-defer-length"], "1");
    let half = bytes.len() / 2;
    assert_eq!(patch(&world, &master, &location, 0, &bytes[..half], &[]).await.status(), 204);
    let response =
        patch(&world, &master, &location, half, &bytes[half..], &[("Upload-Length", bytes.len().to_string())]).await;
    assert_eq!(response.status(), 204);
    let video_id: i64 = response.headers()["video-id"].to_str().unwrap().parse().unwrap();
    assert_eq!(world.processed(&master, video_id).await["status"], "ready");

    // A finished upload that is not a video: the last PATCH says why; the upload is gone.
    let text = b"plain text, not a video at all";
    let (_, location) = create(&world, &master, &[("Upload-Length", text.len().to_string()), with_title.clone()]).await;
    let response = patch(&world, &master, &location, 0, text, &[]).await;
    assert_eq!(response.status(), 415);
    assert_eq!(head(&world, &master, &location).await.status(), 410);
    assert_eq!(world.count("videos").await, 1);
    assert!(world.staged_files().is_empty(), "{:?}", world.staged_files());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_uploads_sent_in_parallel_are_concatenated_into_a_video() {
    let world = World::start().await;
    let master = world.user();
    let file = world.video(VideoSpec { seconds: 3, ..Default::default() });
    let bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    let mut parts = Vec::new();
    for piece in [&bytes[..middle], &bytes[middle..]] {
        let (status, location) =
            create(&world, &master, &[("Upload-Length", piece.len().to_string()), ("Upload-Concat", "partial".into())])
                .await;
        assert_eq!(status, 201);
        parts.push((location, piece.to_vec()));
    }
    let sends = parts.iter().map(|(location, piece)| patch(&world, &master, location, 0, piece, &[]));
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(response.status(), 204);
    }
    let urls: Vec<String> = parts.iter().map(|(l, _)| l.clone()).collect();
    let missing = format!("final;{} /api/v2/media/tus/00000000-0000-0000-0000-000000000000", urls[0]);
    let (status, _) =
        create(&world, &master, &[("Upload-Concat", missing), ("Upload-Metadata", metadata(&[("title", "Склеено")]))])
            .await;
    assert_eq!(status, 404, "a part that does not exist");
    let (status, location) = create(
        &world,
        &master,
        &[
            ("Upload-Concat", format!("final;{}", urls.join(" "))),
            ("Upload-Metadata", metadata(&[("title", "Склеено")])),
        ],
    )
    .await;
    assert_eq!(status, 201);
    let response = head(&world, &master, &location).await;
    assert_eq!(offset_of(&response), bytes.len() as i64);
    assert!(response.headers()["upload-concat"].to_str().unwrap().starts_with("final;"));
    let video_id: i64 = response.headers()["video-id"].to_str().unwrap().parse().unwrap();
    let stored = std::fs::read(world.storage().join(format!("videos/{video_id}/original.mp4"))).unwrap();
    assert!(stored == bytes);
    assert_eq!(world.count("uploads").await, 1, "the parts are gone");
    assert!(world.staged_files().is_empty(), "{:?}", world.staged_files());
}
