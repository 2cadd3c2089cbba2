//! Media messages: files sent in the seed's form, checked by their content, stored, served to
//! the chat's participants only, removed with their message; bad forms change nothing.

use crate::helpers::{User, World, error_code};
use contracts::events::envelope::Payload;
use contracts::topics;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

fn png() -> Vec<u8> {
    [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 64]].concat()
}

fn ogg() -> Vec<u8> {
    [b"OggS\0\x02".as_slice(), &[1u8; 40]].concat()
}

fn file(bytes: Vec<u8>, name: &str) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

async fn post_form(world: &World, user: &User, chat: i64, form: Form) -> (u16, Value) {
    let api = world.api(0);
    let url = api.url(&format!("/api/v2/chats/{chat}/messages"));
    api.send(api.client.post(url).bearer_auth(&user.token).multipart(form)).await
}

/// The files stored for `chat`.
fn stored(world: &World, chat: i64) -> usize {
    let dir = std::path::Path::new(&world.config.platform.storage.path).join(format!("chat/{chat}"));
    std::fs::read_dir(dir).map(|files| files.count()).unwrap_or(0)
}

/// `user` fetches `url`: the status, a header and the bytes.
async fn fetch(world: &World, user: &User, url: &str, header: &str) -> (u16, String, Vec<u8>) {
    let api = world.api(0);
    let response = api.client.get(api.url(url)).bearer_auth(&user.token).send().await.unwrap();
    let status = response.status().as_u16();
    let value = response.headers().get(header).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, value, response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_sent_in_the_seeds_form_and_served_to_the_participants_only() {
    let world = World::start(1).await;
    let (a, b, stranger) = (world.user(), world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let mut socket = world.connect(0, &b, "").await;

    // The seed's form: a file and its type, here with a caption and a retry key.
    let image =
        file(png(), "эскиз.png").text("type", "image").text("text", "Вот эскиз").text("client_message_id", "m-1");
    let (status, sent) = post_form(&world, &a, chat, image).await;
    assert_eq!(status, 201, "{sent}");
    let fields = ["kind", "text", "media_type", "media_size", "media_name"].map(|f| sent[f].clone());
    assert_eq!(fields, [json!("image"), json!("Вот эскиз"), json!("image/png"), json!(72), json!("эскиз.png")]);
    let url = sent["media_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("/api/v2/chats/{chat}/media/")), "{url}");
    let frame = socket.expect("message").await;
    assert_eq!(frame["message"]["media_url"], json!(url), "the partner gets it live: {frame}");

    let (status, disposition, bytes) = fetch(&world, &b, &url, "content-disposition").await;
    assert_eq!((status, disposition.as_str(), bytes), (200, "inline", png()), "the partner sees the image");
    assert_eq!(fetch(&world, &a, &url, "content-type").await.1, "image/png");
    assert_eq!(fetch(&world, &stranger, &url, "content-type").await.0, 404, "strangers get nothing");
    let guessed = format!("/api/v2/chats/{chat}/media/..%2F..%2Fsecret.png");
    assert_eq!(fetch(&world, &b, &guessed, "content-type").await.0, 404);

    // A retry answers the first message and stores no second file.
    let again = file(png(), "эскиз.png").text("type", "image").text("client_message_id", "m-1");
    let (status, repeat) = post_form(&world, &a, chat, again).await;
    assert_eq!((status, &repeat["id"]), (200, &sent["id"]), "{repeat}");
    assert_eq!(stored(&world, chat), 1);

    // A voice note; a document without a type (the content decides) is a download by its name.
    let (status, voice) = post_form(&world, &b, chat, file(ogg(), "voice.ogg").text("type", "voice")).await;
    assert_eq!((status, &voice["kind"], &voice["media_type"]), (201, &json!("voice"), &json!("audio/ogg")), "{voice}");
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF".to_vec();
    let (status, document) = post_form(&world, &a, chat, file(pdf.clone(), "Смета.pdf")).await;
    assert_eq!((status, &document["kind"], &document["text"]), (201, &json!("file"), &json!("")), "{document}");
    let (status, disposition, bytes) =
        fetch(&world, &b, document["media_url"].as_str().unwrap(), "content-disposition").await;
    assert_eq!((status, bytes), (200, pdf));
    assert_eq!(disposition, "attachment; filename*=UTF-8''%D0%A1%D0%BC%D0%B5%D1%82%D0%B0.pdf");

    let event = world
        .event(topics::CHAT_MESSAGES, |e| match &e.payload {
            Some(Payload::ChatMessageSent(sent)) if sent.kind == "image" => Some(sent.clone()),
            _ => None,
        })
        .await;
    assert_eq!((event.chat_id, event.preview.as_str()), (chat, "Вот эскиз"));

    // A deleted message takes its file with it.
    let path = format!("/api/v2/chats/{chat}/messages/{}", sent["id"]);
    let (status, tombstone) = world.api(0).delete(&path, &a.token).await;
    assert_eq!((status, &tombstone["media_url"]), (200, &Value::Null), "{tombstone}");
    assert_eq!(fetch(&world, &b, &url, "content-type").await.0, 404);
    assert_eq!(stored(&world, chat), 2, "the voice note and the document stay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_media_forms_are_refused_and_store_nothing() {
    let world = World::start(1).await;
    let (a, b, stranger) = (world.user(), world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let pdf = b"%PDF-1.7\n%%EOF".to_vec();
    let field =
        |body: &Value| body["error"]["details"]["fields"].as_object().map(|f| f.keys().cloned().collect::<Vec<_>>());
    let cases: Vec<(&str, Form, u16, &str)> = vec![
        (
            "a PDF said to be an image",
            file(pdf.clone(), "photo.png").text("type", "image"),
            415,
            "unsupported_media_type",
        ),
        ("an image said to be a voice note", file(png(), "a.ogg").text("type", "voice"), 415, "unsupported_media_type"),
        ("an unknown type", file(png(), "a.png").text("type", "sticker"), 400, "validation_failed"),
        ("an empty file", file(Vec::new(), "a.png"), 400, "validation_failed"),
        ("no file", Form::new().text("type", "image").text("text", "где файл?"), 400, "validation_failed"),
        (
            "two files",
            file(png(), "a.png").part("file", Part::bytes(png()).file_name("b.png")),
            400,
            "invalid_multipart",
        ),
        ("an unknown field", file(png(), "a.png").text("sticker", "1"), 400, "invalid_multipart"),
        ("a caption too long", file(png(), "a.png").text("text", "ш".repeat(4001)), 400, "validation_failed"),
        ("a bad retry key", file(png(), "a.png").text("client_message_id", "с пробелом"), 400, "validation_failed"),
        ("an image over 5 MB", file([png(), vec![0; 5 * 1024 * 1024]].concat(), "big.png"), 413, "payload_too_large"),
        ("a file over 9 MB", file(vec![b'x'; 9 * 1024 * 1024 + 1], "big.bin"), 413, "payload_too_large"),
    ];
    for (case, form, status, code) in cases {
        let (got, body) = post_form(&world, &a, chat, form).await;
        assert_eq!((got, error_code(&body)), (status, code), "{case}: {body}");
        if code == "validation_failed" {
            assert!(field(&body).is_some_and(|f| !f.is_empty()), "{case} names its field: {body}");
        }
    }
    let (status, _) = post_form(&world, &stranger, chat, file(png(), "a.png")).await;
    assert_eq!(status, 404, "strangers cannot write");
    let (status, body) = world
        .api(0)
        .post_as(&format!("/api/v2/chats/{chat}/messages"), &a.token, json!({ "text": "фото", "type": "image" }))
        .await;
    assert_eq!((status, field(&body)), (400, Some(vec!["type".to_owned()])), "a JSON message is a text: {body}");
    let (_, history) = world.api(0).get(&format!("/api/v2/chats/{chat}/messages"), &b.token).await;
    assert_eq!(history["items"], json!([]), "nothing was sent");
    assert_eq!(stored(&world, chat), 0, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_text_message_is_accepted_as_written() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let seed = json!({ "content": "Текст сообщения", "type": "text" });
    let (status, message) = world.api(0).post_as(&format!("/api/v2/chats/{chat}/messages"), &a.token, seed).await;
    assert_eq!(
        (status, &message["kind"], &message["text"]),
        (201, &json!("text"), &json!("Текст сообщения")),
        "{message}"
    );
}
