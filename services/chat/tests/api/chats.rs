//! Opening and listing chats; who may see them.

use crate::helpers::{World, error_code};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_opens_once_per_pair_and_request_with_its_first_message() {
    let world = World::start(1).await;
    let (buyer, master) = (world.user(), world.user());
    let api = world.api(0);
    let open = json!({ "recipient_id": master.id, "request_id": 77, "initial_message": "Здравствуйте!" });
    let (status, first) = api.post_as("/api/v2/chats", &buyer.token, open.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["partner"]["id"], master.id);
    assert_eq!(first["request_id"], 77);
    assert_eq!(first["last_message"]["text"], "Здравствуйте!");
    assert_eq!(first["last_message"]["seq"], 1);
    assert_eq!(first["unread_count"], 0, "the sender's own message is not unread");

    let (status, again) = api.post_as("/api/v2/chats", &buyer.token, open).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["last_seq"], 1, "the initial message goes only to a new chat");
    let reverse = json!({ "recipient_id": buyer.id, "request_id": 77 });
    let (status, from_master) = api.post_as("/api/v2/chats", &master.token, reverse).await;
    assert_eq!((status, &from_master["id"]), (200, &first["id"]), "one chat per pair, whoever opens it");

    let (status, other) = api.post_as("/api/v2/chats", &buyer.token, json!({ "recipient_id": master.id })).await;
    assert_eq!(status, 201, "{other}");
    assert_ne!(other["id"], first["id"], "another request (or none) is another chat");

    let (status, chats) = api.get("/api/v2/chats", &master.token).await;
    assert_eq!(status, 200, "{chats}");
    let items = chats["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let about_request = items.iter().find(|c| c["id"] == first["id"]).unwrap();
    assert_eq!(about_request["unread_count"], 1);
    assert_eq!(about_request["partner"]["id"], buyer.id);
    assert_eq!(about_request["partner"]["online"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_chats_page_most_recent_first_with_cursors() {
    let world = World::start(1).await;
    let me = world.user();
    let mut chats = Vec::new();
    for _ in 0..5 {
        chats.push(world.chat(&me, &world.user()).await);
    }
    world.send(0, &me, chats[1], "поднять наверх").await;
    let api = world.api(0);
    let (status, page) = api.get("/api/v2/chats?limit=2", &me.token).await;
    assert_eq!(status, 200, "{page}");
    let ids = |page: &serde_json::Value| -> Vec<i64> {
        page["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids(&page), vec![chats[1], chats[4]]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, second) = api.get(&format!("/api/v2/chats?limit=2&cursor={cursor}"), &me.token).await;
    assert_eq!(ids(&second), vec![chats[3], chats[2]]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let (_, last) = api.get(&format!("/api/v2/chats?limit=2&cursor={cursor}"), &me.token).await;
    assert_eq!(ids(&last), vec![chats[0]]);
    assert!(last["next_cursor"].is_null());

    let (status, body) = api.get("/api/v2/chats?limit=0", &me.token).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");
    let (status, body) = api.get("/api/v2/chats?cursor=nonsense", &me.token).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_get_404_on_every_chat_route_and_receive_no_frames() {
    let world = World::start(1).await;
    let (a, b, stranger) = (world.user(), world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let message = world.send(0, &a, chat, "только для нас").await;
    let id = message["id"].as_i64().unwrap();
    let api = world.api(0);
    let t = &stranger.token;
    let answers = [
        api.get(&format!("/api/v2/chats/{chat}"), t).await,
        api.get(&format!("/api/v2/chats/{chat}/messages"), t).await,
        api.post_as(&format!("/api/v2/chats/{chat}/messages"), t, json!({ "text": "привет" })).await,
        api.patch(&format!("/api/v2/chats/{chat}/messages/{id}"), t, json!({ "text": "взлом" })).await,
        api.delete(&format!("/api/v2/chats/{chat}/messages/{id}"), t).await,
        api.post_as(&format!("/api/v2/chats/{chat}/read"), t, json!({ "seq": 1 })).await,
        api.get("/api/v2/chats/999999", &a.token).await,
    ];
    for (status, body) in answers {
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    }
    let (_, list) = api.get("/api/v2/chats", t).await;
    assert_eq!(list["items"], json!([]));

    let mut spy = world.connect(0, &stranger, &format!("{chat}:0")).await;
    let resumed = spy.expect("resumed").await;
    assert_eq!(resumed["chats"], json!({}), "no replay of others' chats");
    spy.send(json!({ "type": "typing", "chat_id": chat, "typing": true })).await;
    assert_eq!(spy.expect("error").await["code"], "not_found");
    let mut b_ws = world.connect(0, &b, "").await;
    world.send(0, &a, chat, "секрет").await;
    assert_eq!(b_ws.expect("message").await["message"]["text"], "секрет");
    assert_eq!(spy.next_within(std::time::Duration::from_millis(500)).await, None, "the stranger hears nothing");
    let (_, unchanged) = api.get(&format!("/api/v2/chats/{chat}/messages"), &a.token).await;
    assert_eq!(unchanged["items"][1]["text"], "только для нас", "the stranger changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_users_cannot_open_chats_or_message() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    world.publish(contracts::events::UserBlocked { blocker_id: b.id, blocked_id: a.id }).await;
    let api = world.api(0);
    let path = format!("/api/v2/chats/{chat}/messages");
    testkit::eventually("the block is known", crate::helpers::WAIT, || async {
        api.post_as(&path, &a.token, json!({ "text": "ответь" })).await.0 == 403
    })
    .await;
    let stored = api.get(&path, &b.token).await.1["items"].as_array().unwrap().len();
    let (status, body) = api.post_as(&path, &b.token, json!({ "text": "нет" })).await;
    assert_eq!((status, error_code(&body)), (403, "blocked"), "either direction: {body}");
    let (status, body) = api.post_as("/api/v2/chats", &a.token, json!({ "recipient_id": b.id, "request_id": 5 })).await;
    assert_eq!((status, error_code(&body)), (403, "blocked"), "{body}");
    let mut ws = world.connect(0, &a, "").await;
    ws.send(json!({ "type": "send", "chat_id": chat, "text": "через сокет" })).await;
    assert_eq!(ws.expect("error").await["code"], "blocked");
    let (_, history) = api.get(&path, &b.token).await;
    assert_eq!(history["items"].as_array().unwrap().len(), stored, "nothing was stored once refused");

    world.publish(contracts::events::UserUnblocked { blocker_id: b.id, blocked_id: a.id }).await;
    testkit::eventually("the unblock is known", crate::helpers::WAIT, || async {
        api.post_as(&path, &a.token, json!({ "text": "мир" })).await.0 == 201
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_error_shape_and_changes_nothing() {
    let chat_settings = chat::config::ChatSettings { text_limit: 10, ..Default::default() };
    let world = World::start_with(chat_settings, 1).await;
    let (a, b) = (world.user(), world.user());
    let api = world.api(0);
    let opens = [
        json!({ "recipient_id": a.id }),
        json!({ "recipient_id": b.id, "initial_message": "   " }),
        json!({ "recipient_id": b.id, "initial_message": "слишком длинное сообщение" }),
        json!({ "recipient_id": b.id, "color": "red" }),
        json!({ "recipient_id": "b" }),
        json!({ "recipient_id": b.id, "request_id": 0 }),
    ];
    for body in opens {
        let (status, answer) = api.post_as("/api/v2/chats", &a.token, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    let (_, list) = api.get("/api/v2/chats", &a.token).await;
    assert_eq!(list["items"], json!([]), "no chat was made");

    let chat = world.chat(&a, &b).await;
    let path = format!("/api/v2/chats/{chat}/messages");
    let sends = [
        json!({ "text": "" }),
        json!({ "text": "ш".repeat(11) }),
        json!({ "text": "ok", "client_message_id": "has space" }),
        json!({ "text": "ok", "client_message_id": "" }),
        json!({ "text": 5 }),
        json!({}),
    ];
    for body in sends {
        let (status, answer) = api.post_as(&path, &a.token, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    let not_json = api.client.post(api.url(&path)).bearer_auth(&a.token).body("text").send().await.unwrap();
    assert!(matches!(not_json.status().as_u16(), 400 | 415), "{}", not_json.status());
    let (status, body) = api.get(&format!("{path}?after=-1"), &a.token).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (status, _) = api.get(&format!("{path}?limit=101"), &a.token).await;
    assert_eq!(status, 400);
    let (status, _) = api.get(&format!("{path}?before=-1"), &a.token).await;
    assert_eq!(status, 400);
    let (status, _) = api.post_as(&format!("/api/v2/chats/{chat}/read"), &a.token, json!({ "seq": -1 })).await;
    assert_eq!(status, 400);
    let (status, _) = api.get("/api/v2/chats/abc", &a.token).await;
    assert_eq!(status, 404);
    let (status, body) = api.get("/api/v2/chats", "not-a-token").await;
    assert_eq!((status, error_code(&body)), (401, "invalid_token"));
    let (status, body) = api.get_public("/api/v2/chats").await;
    assert_eq!((status, error_code(&body)), (401, "missing_token"));
    let (status, _) = api.put("/api/v2/chats", &a.token, json!({})).await;
    assert_eq!(status, 405);
    let (_, history) = api.get(&path, &a.token).await;
    assert_eq!(history["items"], json!([]), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_route_without_dangling_references() {
    let world = World::start(1).await;
    let (status, document) = world.api(0).get_public("/api/v2/chat/openapi.json").await;
    assert_eq!(status, 200);
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v2/chats",
        "/api/v2/chats/{id}",
        "/api/v2/chats/{id}/messages",
        "/api/v2/chats/{id}/messages/{message_id}",
        "/api/v2/chats/{id}/read",
        "/api/v2/ws",
    ] {
        assert!(paths.contains_key(path), "{path} documented");
    }
    assert_eq!(platform::http::openapi::unresolved_references(&document), Vec::<String>::new());
}
