//! Stored files: ranges, revalidation, types; the OpenAPI document.

use crate::helpers::{VideoSpec, World, error_code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn originals_are_served_with_ranges_and_revalidation() {
    let world = World::start_with(|config| config.media.worker = false).await;
    let master = world.user();
    let file = world.video(VideoSpec::default());
    let bytes = std::fs::read(&file).unwrap();
    let (status, video) = world.upload(&master, &file, &[("title", "Шкаф")]).await;
    assert_eq!(status, 201, "{video}");
    let url = world.api.url(video["video_url"].as_str().unwrap());
    let client = &world.api.client;

    let whole = client.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert!(whole.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    let modified = whole.headers()["last-modified"].to_str().unwrap().to_owned();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let part = client.get(&url).header("Range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"].to_str().unwrap(), format!("bytes 100-199/{}", bytes.len()));
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[100..200]);
    let tail = client.get(&url).header("Range", "bytes=-10").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[bytes.len() - 10..]);

    let outside = client.get(&url).header("Range", format!("bytes={}-", bytes.len())).send().await.unwrap();
    assert_eq!(outside.status(), 416);
    assert_eq!(outside.headers()["content-range"].to_str().unwrap(), format!("bytes */{}", bytes.len()));
    let body: serde_json::Value = outside.json().await.unwrap();
    assert_eq!(error_code(&body), "range_not_satisfiable");

    assert_eq!(client.get(&url).header("If-None-Match", &etag).send().await.unwrap().status(), 304);
    assert_eq!(client.get(&url).header("If-Modified-Since", &modified).send().await.unwrap().status(), 304);
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(
        (head.status().as_u16(), head.headers()["content-length"].to_str().unwrap()),
        (200, bytes.len().to_string().as_str())
    );

    let missing = client.get(world.api.url("/api/v2/media/files/videos/999999/original.mp4")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let staged = client.get(world.api.url("/api/v2/media/files/staging/x.part")).send().await.unwrap();
    assert_eq!(staged.status(), 404, "staged uploads are not served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_is_documented_without_dangling_references() {
    let world = World::start_with(|config| config.media.worker = false).await;
    let (status, document) = world.api.get_public("/api/v2/media/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(platform::http::openapi::unresolved_references(&document), Vec::<String>::new());
    for path in
        ["/api/v2/videos/upload", "/api/v2/uploads/{id}/chunks", "/api/v2/media/tus/{id}", "/api/v2/media/files/{path}"]
    {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    let response = world.api.client.put(world.api.url("/api/v2/videos/upload")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    // The limits the settings decide, and the headers tus requests carry.
    let file_size = &document["components"]["schemas"]["StartChunks"]["properties"]["file_size"];
    assert_eq!(file_size["maximum"], world.config.media.max_upload_bytes);
    let tus_headers: Vec<&str> = document["paths"]["/api/v2/media/tus/{id}"]["patch"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header" && p["required"] == true)
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(tus_headers, ["Tus-Resumable", "Upload-Offset"]);

    let metrics = world.api.client.get(world.api.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for name in
        ["media_upload_bytes_total", "media_active_uploads", "media_job_queue_depth", "media_job_duration_seconds"]
    {
        assert!(metrics.contains(name), "{name} in /metrics");
    }
}
