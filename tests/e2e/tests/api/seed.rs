//! The seed's own example requests (`seed/mebelplace-backend-analysis.ru.md`, "API Endpoints"),
//! sent as written through the gateway. Its ids (`123`, `456`) stand for things that exist, so
//! they are replaced by real ones; everything else is the seed's text. One example is refused
//! on purpose: `password123` is a common password, which SPEC.md's password rule turns away
//! (the same form with a stronger password is accepted).

use e2e::System;
use e2e::world::User;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Who sends an example.
#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    Buyer,
    Master,
}

/// A JSON example of the seed: the body as the document writes it, and what must come back.
struct Example {
    what: &'static str,
    who: Who,
    path: &'static str,
    body: &'static str,
    status: u16,
    /// `(JSON pointer, expected value)` in the answer.
    answer: &'static [(&'static str, &'static str)],
}

const REGISTER: &str = r#"{
  "email_or_phone": "user@example.com",
  "password": "password123",
  "username": "username",
  "role": "buyer"
}"#;

const EXAMPLES: &[Example] = &[
    Example {
        what: "registration, as written (password123 is a common password: SPEC.md's rule)",
        who: Who::Anonymous,
        path: "/api/v2/auth/register",
        body: REGISTER,
        status: 400,
        answer: &[("/error/code", r#""validation_failed""#), ("/error/details/fields/password", r#""is too common""#)],
    },
    Example {
        what: "registration with a stronger password",
        who: Who::Anonymous,
        path: "/api/v2/auth/register",
        body: r#"{
  "email_or_phone": "user@example.com",
  "password": "Password-2024",
  "username": "username",
  "role": "buyer"
}"#,
        status: 201,
        answer: &[
            ("/user/username", r#""username""#),
            ("/user/email", r#""user@example.com""#),
            ("/user/role", r#""buyer""#),
            ("/expires_in", "900"),
        ],
    },
    Example {
        what: "the request",
        who: Who::Buyer,
        path: "/api/v2/requests",
        body: r#"{
  "title": "Нужен шкаф-купе",
  "description": "Описание требований",
  "region": "Алматы",
  "categories": ["мебель", "шкафы"]
}"#,
        status: 201,
        answer: &[("/title", r#""Нужен шкаф-купе""#), ("/status", r#""pending""#)],
    },
    Example {
        what: "the master's proposal (150 000 ₸)",
        who: Who::Master,
        path: "/api/v2/requests/{request}/proposals",
        body: r#"{
  "price": 150000,
  "deadline_days": 14,
  "message": "Могу выполнить заказ"
}"#,
        status: 201,
        answer: &[("/price", "150000"), ("/price_minor", "15000000"), ("/deadline_days", "14")],
    },
    Example {
        what: "the chat",
        who: Who::Buyer,
        path: "/api/v2/chats",
        body: r#"{
  "request_id": 123,
  "recipient_id": 456,
  "initial_message": "Привет!"
}"#,
        status: 201,
        answer: &[("/last_message/text", r#""Привет!""#)],
    },
    Example {
        what: "the text message",
        who: Who::Buyer,
        path: "/api/v2/chats/{chat}/messages",
        body: r#"{
  "content": "Текст сообщения",
  "type": "text"
}"#,
        status: 201,
        answer: &[("/kind", r#""text""#), ("/text", r#""Текст сообщения""#)],
    },
    Example {
        what: "the AI analysis",
        who: Who::Master,
        path: "/api/v2/videos/{video}/analyze",
        body: r#"{
  "analysis_type": "furniture",
  "options": {
    "confidence_threshold": 0.8
  }
}"#,
        status: 202,
        answer: &[("/analysis_type", r#""furniture""#), ("/confidence_threshold", "0.8")],
    },
];

/// What the examples refer to: `{request}` in paths and `123` in bodies (the request),
/// `456` (the master), `{chat}`, `{video}`.
#[derive(Default)]
struct Made {
    request: i64,
    master: i64,
    chat: i64,
    video: i64,
}

impl Made {
    fn path(&self, path: &str) -> String {
        path.replace("{request}", &self.request.to_string())
            .replace("{chat}", &self.chat.to_string())
            .replace("{video}", &self.video.to_string())
    }

    fn body(&self, body: &str) -> Value {
        let body =
            body.replace(": 123,", &format!(": {},", self.request)).replace(": 456,", &format!(": {},", self.master));
        serde_json::from_str(&body).expect("the seed's example is JSON")
    }
}

async fn master(system: &System) -> User {
    let body = json!({ "email_or_phone": "master@example.com", "password": "Master-2024", "username": "master",
                       "role": "master" });
    let (status, body) = system.api.post("/api/v2/auth/register", body).await;
    assert_eq!(status, 201, "a master registers: {body}");
    let token = body["access_token"].as_str().expect("a token").to_owned();
    User { id: body["user"]["id"].as_i64().expect("an id"), token, login: "master@example.com".to_owned() }
}

/// The seed's video upload form: every field it lists, the price in tenge.
async fn upload_video(system: &System, master: &User) -> Value {
    let clip = std::fs::read(e2e::media::small_video(&system.logs)).expect("the clip");
    let form = Form::new()
        .part("video", Part::bytes(clip).file_name("shkaf.mp4"))
        .text("title", "Шкаф-купе из дуба")
        .text("description", "Сделан на заказ за две недели")
        .text("hashtags", "#мебель #шкаф")
        .text("price", "150000.50")
        .text("product_description", "Дуб, зеркальные двери, 2,4 м")
        .text("is_ad", "false");
    let request = system.api.client.post(system.api.url("/api/v2/videos/upload")).bearer_auth(&master.token);
    let (status, video) = system.api.send(request.multipart(form)).await;
    assert_eq!(status, 201, "the seed's upload form: {video}");
    video
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_examples_are_answered_as_documented_through_the_gateway() {
    let system = System::start().await;
    let master = master(&system).await;
    let mut made = Made { master: master.id, ..Made::default() };
    let mut buyer_token = String::new();

    // The seed's upload form, before the examples that need a processed video.
    let video = upload_video(&system, &master).await;
    assert_eq!((video["price"].as_f64(), video["price_minor"].as_i64()), (Some(150000.5), Some(15_000_050)), "{video}");
    assert_eq!(video["hashtags"], json!(["мебель", "шкаф"]), "{video}");
    made.video = video["id"].as_i64().expect("a video id");
    e2e::media::processed(&system, &master, made.video).await;

    for example in EXAMPLES {
        let (path, body) = (made.path(example.path), made.body(example.body));
        let (status, answer) = match example.who {
            Who::Anonymous => system.api.post(&path, body).await,
            Who::Buyer => system.api.post_as(&path, &buyer_token, body).await,
            Who::Master => system.api.post_as(&path, &master.token, body).await,
        };
        assert_eq!(status, example.status, "{}: {answer}", example.what);
        for (pointer, expected) in example.answer {
            let expected: Value = serde_json::from_str(expected).expect("an expected JSON value");
            let got = answer.pointer(pointer);
            // Numbers compare by value (150000 is 150000.0).
            let same = match (got.and_then(Value::as_f64), expected.as_f64()) {
                (Some(got), Some(expected)) => got == expected,
                _ => got == Some(&expected),
            };
            assert!(same, "{}: {pointer} is {expected} in {answer}", example.what);
        }
        match example.path {
            "/api/v2/auth/register" if status == 201 => {
                buyer_token = answer["access_token"].as_str().expect("an access token").to_owned();
                assert!(answer["refresh_token"].is_string(), "{answer}");
            }
            "/api/v2/requests" => made.request = answer["id"].as_i64().expect("a request id"),
            "/api/v2/chats" => made.chat = answer["id"].as_i64().expect("a chat id"),
            _ => {}
        }
    }
    // The seed's `client` role is the buyer.
    let client = json!({ "email_or_phone": "client@example.com", "password": "Client-2024", "username": "client",
                         "role": "client" });
    let (status, answer) = system.api.post("/api/v2/auth/register", client).await;
    assert_eq!((status, &answer["user"]["role"]), (201, &json!("buyer")), "{answer}");

    // The seed's media message: a file and its type.
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 64]].concat();
    let form = Form::new().part("file", Part::bytes(png).file_name("эскиз.png")).text("type", "image");
    let url = system.api.url(&format!("/api/v2/chats/{}/messages", made.chat));
    let (status, message) =
        system.api.send(system.api.client.post(url).bearer_auth(&buyer_token).multipart(form)).await;
    assert_eq!(
        (status, &message["kind"], &message["media_type"]),
        (201, &json!("image"), &json!("image/png")),
        "{message}"
    );
}
