//! One journey through the gateway only, as the mobile clients make it: two masters and a buyer
//! sign up (the buyer confirms the address with the code that came by e-mail) and in, the masters say where and what they work, one uploads a video that the
//! worker processes, the buyer follows him, likes and comments on it, posts the seed's request,
//! both masters propose in tenge, the buyer accepts one, a chat opens and they talk over
//! WebSockets, the order goes through every state, the buyer reviews, and the master's rating,
//! statistics and points show it; every notification each of them expects arrived once.
//! Each step asserts what the user sees.

use e2e::System;
use e2e::system::Options;
use e2e::world::{PASSWORD, User, opened_chat, register};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::smtp::{SmtpSink, code_in};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

async fn sign_in(system: &System, user: &User) -> String {
    let (status, body) =
        system.api.post("/api/v2/auth/login", json!({ "email_or_phone": user.login, "password": PASSWORD })).await;
    assert_eq!(status, 200, "{} signs in: {body}", user.login);
    body["access_token"].as_str().expect("an access token").to_owned()
}

async fn ok(step: &str, answer: (u16, Value)) -> Value {
    let (status, body) = answer;
    assert!((200..300).contains(&status), "{step}: {status} {body}");
    body
}

/// A client's WebSocket to the gateway (`/api/v2/ws`).
struct Socket(tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>);

impl Socket {
    async fn open(system: &System, token: &str) -> Self {
        let url = system.api.url("/api/v2/ws").replacen("http", "ws", 1);
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().expect("a header"));
        Self(tokio_tungstenite::connect_async(request).await.expect("the gateway upgrades").0)
    }

    async fn send(&mut self, frame: Value) {
        self.0.send(Message::text(frame.to_string())).await.expect("a frame sent");
    }

    /// The next frame of `kind`, within 10 s (others, e.g. presence, are skipped).
    async fn next(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.0.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = frame else {
                assert!(matches!(frame, Ok(Some(Ok(_)))), "no {kind} frame: {frame:?}");
                continue;
            };
            let frame: Value = serde_json::from_str(&text).expect("JSON frames");
            if frame["type"] == kind {
                return frame;
            }
        }
    }
}

/// The verification code in the mail sent to `address`, within 20 s.
async fn code_by_mail(smtp: &SmtpSink, address: &str) -> String {
    for _ in 0..100 {
        let mails = smtp.mails();
        let to_them = mails.iter().filter(|m| m.to.iter().any(|to| to == address));
        if let Some(code) = to_them.filter_map(|m| code_in(&m.text())).next() {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no code reached {address} by e-mail");
}

/// How many notifications of each kind `token`'s user has, once `expected` have all arrived;
/// asked again a second later so that a duplicate shows.
async fn notifications(system: &System, token: &str, expected: &[(&str, usize)]) -> Vec<(String, usize)> {
    let count = || async {
        let (_, page) = system.api.get("/api/v2/notifications?limit=100", token).await;
        let kinds: Vec<String> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["kind"].as_str().map(str::to_owned))
            .collect();
        expected.iter().map(|(kind, _)| ((*kind).to_owned(), kinds.iter().filter(|k| k == kind).count())).collect()
    };
    let wanted: Vec<(String, usize)> = expected.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    for _ in 0..100 {
        if count().await == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    count().await
}

#[tokio::test]
async fn a_buyer_and_two_masters_make_a_deal_end_to_end() {
    // Notification sends for real, to local fakes of its providers.
    let (smtp, onesignal, mobizon) = (SmtpSink::start().await, FakeHttp::start().await, FakeHttp::start().await);
    onesignal.respond("/notifications", 200, json!({ "id": "b98881cc-1e94-4366-bbd9-db8f3429292b", "errors": null }));
    mobizon.respond("/service/message/sendsmsmessage", 200, json!({ "code": 0, "data": { "messageId": "1" } }));
    let mut options = Options::default();
    let providers = [
        ("NOTIFICATION_MODE", "send".to_owned()),
        ("SMTP_HOST", "127.0.0.1".to_owned()),
        ("SMTP_PORT", smtp.port().to_string()),
        ("ONESIGNAL_URL", onesignal.url()),
        ("ONESIGNAL_APP_ID", "mebelplace".to_owned()),
        ("MOBIZON_URL", mobizon.url()),
    ];
    options.env.insert("notification", providers.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
    let system = System::start_with(options).await;
    let api = &system.api;
    let tag = &system.prefix[system.prefix.len().saturating_sub(7)..system.prefix.len() - 1];

    // Sign up and in.
    let buyer = register(&system, &format!("aigul{tag}"), "buyer").await;
    let chosen = register(&system, &format!("serik{tag}"), "master").await;
    let other = register(&system, &format!("marat{tag}"), "master").await;
    // The code of the buyer's address comes by e-mail; it confirms the address.
    let code = code_by_mail(&smtp, &buyer.login).await;
    let verify = json!({ "email_or_phone": buyer.login, "code": code });
    let (status, body) = api.post("/api/v2/auth/verify-email", verify).await;
    assert_eq!(status, 204, "the code from the mail confirms the address: {body}");
    let buyer_token = sign_in(&system, &buyer).await;
    let chosen_token = sign_in(&system, &chosen).await;
    let other_token = sign_in(&system, &other).await;
    let me = ok("the buyer's profile", api.get("/api/v2/users/me", &buyer_token).await).await;
    assert_eq!((&me["id"], &me["email_verified"]), (&json!(buyer.id), &json!(true)), "{me}");

    // Masters say where and what they work; the buyer finds and follows one.
    for token in [&chosen_token, &other_token] {
        let services = json!({ "regions": ["Алматы"], "categories": ["Шкафы", "шкафы-купе"] });
        ok("a master's services", api.put("/api/v2/masters/me", token, services).await).await;
    }
    ok("follow", api.post_as(&format!("/api/v2/subscriptions/{}", chosen.id), &buyer_token, json!({})).await).await;
    let following = ok("my subscriptions", api.get("/api/v2/subscriptions/my", &buyer_token).await).await;
    assert!(following.to_string().contains(&chosen.id.to_string()), "the buyer follows the master: {following}");

    // The master shows his work: a video, processed into a stream; the buyer likes it and asks.
    let clip = e2e::media::small_video(&system.logs);
    let chosen_user = User { token: chosen_token.clone(), ..chosen.clone() };
    let video = e2e::media::upload(&system, &chosen_user, "/api/v2/videos/upload", "video", &clip).await;
    let video_id = video["id"].as_i64().expect("a video id");
    let ready = e2e::media::processed(&system, &chosen_user, video_id).await;
    assert!(ready["thumbnail_url"].is_string(), "a processed video has a thumbnail: {ready}");
    ok("a like", api.post_as(&format!("/api/v2/videos/{video_id}/like"), &buyer_token, json!({})).await).await;
    let question = json!({ "text": "Сколько стоит такой шкаф?" });
    ok("a comment", api.post_as(&format!("/api/v2/videos/{video_id}/comments"), &buyer_token, question).await).await;
    let seen = ok("the video", api.get_public(&format!("/api/v2/videos/{video_id}")).await).await;
    assert_eq!((seen["likes_count"].as_i64(), seen["comments_count"].as_i64()), (Some(1), Some(1)), "{seen}");
    // The follow reaches media (auth's event): the video is in the buyer's following feed, and
    // the universal search finds it by a word of its title.
    testkit::eventually("the video in the buyer's following feed", Duration::from_secs(20), || async {
        let (status, feed) = api.get("/api/v2/videos/feed?following=true", &buyer_token).await;
        status == 200 && feed["items"][0]["id"].as_i64() == Some(video_id)
    })
    .await;
    let found = ok("universal search", api.get_public("/api/v2/search?q=%D1%88%D0%BA%D0%B0%D1%84").await).await;
    let videos = found["results"]["videos"].as_array().cloned().unwrap_or_default();
    assert!(videos.iter().any(|v| v["id"].as_i64() == Some(video_id)), "search for «шкаф» finds the video: {found}");

    // The seed's request, as written.
    let seed_request = json!({
        "title": "Нужен шкаф-купе",
        "description": "Описание требований",
        "region": "Алматы",
        "categories": ["мебель", "шкафы"]
    });
    let request = ok("the seed's request", api.post_as("/api/v2/requests", &buyer_token, seed_request).await).await;
    let request_id = request["id"].as_i64().expect("a request id");

    // Both masters find it in their feed and propose (the seed's proposal: 150 000 ₸).
    for (token, price) in [(&chosen_token, json!(150000)), (&other_token, json!(165000.50))] {
        let feed =
            ok("the masters' feed", api.get("/api/v2/requests?region=almaty&category=wardrobes", token).await).await;
        assert!(feed["items"].as_array().is_some_and(|items| items.iter().any(|r| r["id"] == request_id)), "{feed}");
        let offer = json!({ "price": price, "deadline_days": 14, "message": "Могу выполнить заказ" });
        ok("a proposal", api.post_as(&format!("/api/v2/requests/{request_id}/proposals"), token, offer).await).await;
    }
    let proposals =
        ok("the buyer's proposals", api.get(&format!("/api/v2/requests/{request_id}/proposals"), &buyer_token).await)
            .await;
    let items = proposals["items"].as_array().expect("proposals");
    assert_eq!(items.len(), 2, "{proposals}");
    let chosen_proposal = items.iter().find(|p| p["master_id"] == chosen.id).expect("the chosen master's proposal");
    assert_eq!(
        (chosen_proposal["price"].as_i64(), chosen_proposal["price_minor"].as_i64()),
        (Some(150000), Some(15_000_000))
    );

    // The buyer accepts; the order goes through every state, with a revision round.
    let accept = format!("/api/v2/requests/{request_id}/proposals/{}/accept", chosen_proposal["id"]);
    let order = ok("accept", api.post_as(&accept, &buyer_token, json!({})).await).await;
    let order_id = order["id"].as_i64().expect("an order id");
    assert_eq!((order["status"].as_str(), order["price"].as_i64()), (Some("pending"), Some(150000)));

    // The accepted proposal opens a chat; they talk over WebSockets.
    let buyer_user = User { token: buyer_token.clone(), ..buyer.clone() };
    let chat = opened_chat(&system, &buyer_user).await;
    let (mut buyer_socket, mut master_socket) =
        (Socket::open(&system, &buyer_token).await, Socket::open(&system, &chosen_token).await);
    let hello = json!({ "type": "send", "chat_id": chat, "text": "Когда сможете приехать на замер?", "client_message_id": "b-1" });
    buyer_socket.send(hello).await;
    let received = master_socket.next("message").await;
    assert_eq!((received["chat_id"].as_i64(), &received["message"]["sender_id"]), (Some(chat), &json!(buyer.id)));
    master_socket
        .send(json!({ "type": "send", "chat_id": chat, "text": "Завтра в 10:00", "client_message_id": "m-1" }))
        .await;
    let mut reply = buyer_socket.next("message").await;
    while reply["message"]["sender_id"] != chosen.id {
        reply = buyer_socket.next("message").await;
    }
    assert_eq!(reply["message"]["text"], "Завтра в 10:00");

    // The buyer calls the master to show the room: the master's phone rings, both get TURN
    // credentials that the real coturn accepts, the offer and answer cross over the sockets.
    let started = ok(
        "a video call",
        api.post_as("/api/v2/calls/initiate", &buyer_token, json!({ "recipient_id": chosen.id, "kind": "video" }))
            .await,
    )
    .await;
    let call = started["id"].as_i64().expect("a call id");
    assert_eq!(master_socket.next("call").await["call"]["status"], "ringing");
    let credentials =
        ok("a call token", api.get(&format!("/api/v2/calls/{call}/webrtc-token"), &chosen_token).await).await;
    let turn =
        credentials["ice_servers"].as_array().and_then(|servers| servers.iter().find(|s| s["username"].is_string()));
    let turn = turn.unwrap_or_else(|| panic!("TURN credentials: {credentials}"));
    let (username, password) =
        (turn["username"].as_str().unwrap_or_default(), turn["credential"].as_str().unwrap_or_default());
    assert!(testkit::turn::allocate(&testkit::turn::addr(), username, password).await.expect("coturn answers"));
    ok("answer", api.post_as(&format!("/api/v2/calls/{call}/answer"), &chosen_token, json!({})).await).await;
    let offer = json!({ "type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" });
    buyer_socket.send(json!({ "type": "call_signal", "call_id": call, "signal": offer })).await;
    assert_eq!(master_socket.next("call_signal").await["signal"], offer);
    let ended = ok("hang up", api.post_as(&format!("/api/v2/calls/{call}/end"), &buyer_token, json!({})).await).await;
    assert_eq!(ended["status"], "ended");
    // "Incoming call" is a push only (an in-app entry would outlive the ringing).
    testkit::eventually("the master's phone was told of the call", Duration::from_secs(20), || async {
        onesignal.accepted().iter().any(|push| {
            let body = String::from_utf8_lossy(&push.body);
            body.contains("Входящий звонок") && body.contains(&chosen.id.to_string())
        })
    })
    .await;
    for (token, action, body, status) in [
        (&chosen_token, "accept", json!({}), "accepted"),
        (&chosen_token, "start", json!({}), "in_progress"),
        (&chosen_token, "finish", json!({}), "in_progress"),
        (&buyer_token, "request_revision", json!({ "note": "Зеркало с царапиной" }), "revision"),
        (&chosen_token, "start", json!({}), "in_progress"),
        (&chosen_token, "finish", json!({}), "in_progress"),
        (&buyer_token, "confirm", json!({}), "completed"),
    ] {
        let moved = ok(action, api.post_as(&format!("/api/v2/orders/{order_id}/{action}"), token, body).await).await;
        assert_eq!(moved["status"], status, "{action}: {moved}");
    }
    let rejected = ok(
        "the other master's proposals",
        api.get(&format!("/api/v2/requests/{request_id}/proposals"), &other_token).await,
    )
    .await;
    assert_eq!(rejected["items"][0]["status"], "rejected");

    // The review, and what everyone sees of the master afterwards.
    let review = json!({ "rating": 5, "text": "Шкаф отличный, установили за день" });
    ok("review", api.post_as(&format!("/api/v2/orders/{order_id}/review"), &buyer_token, review).await).await;
    // The directory and the rating follow the events (users.v1, masters.v1) within seconds.
    let path = format!("/api/v2/masters/{}", chosen.id);
    testkit::eventually(
        "everyone sees the master's rating, review and completed order",
        Duration::from_secs(20),
        || {
            let request = api.get_public(&path);
            async move {
                let (status, profile) = request.await;
                status == 200
                    && (
                        profile["rating"].as_f64(),
                        profile["review_count"].as_i64(),
                        profile["completed_orders"].as_i64(),
                    ) == (Some(5.0), Some(1), Some(1))
            }
        },
    )
    .await;
    testkit::eventually("the master earns points for the deal", Duration::from_secs(20), || async {
        let (status, level) = api.get("/api/v2/gamification/level", &chosen_token).await;
        status == 200 && level["points"].as_i64().is_some_and(|p| p > 0)
    })
    .await;

    // Each of them was told what concerns them, once.
    let told = [
        (&buyer_token, vec![("new_proposal", 2)]),
        (&chosen_token, vec![("new_request", 1), ("proposal_accepted", 1), ("like", 1), ("comment", 1), ("review", 1)]),
        (&other_token, vec![("new_request", 1), ("proposal_accepted", 0)]),
    ];
    for (token, expected) in told {
        let got = notifications(&system, token, &expected).await;
        let wanted: Vec<(String, usize)> = expected.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
        assert_eq!(got, wanted, "notifications by kind");
    }
}
