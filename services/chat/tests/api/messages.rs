//! Messages over HTTP: sequence numbers, retries, history, edits, read marks, events.

use crate::helpers::{World, error_code, seqs};
use contracts::events::envelope::Payload;
use contracts::topics;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_message_id_twice_stores_one_message_even_when_racing() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let path = format!("/api/v2/chats/{chat}/messages");
    let body = json!({ "text": "Когда сможете приехать?", "client_message_id": "c-1" });
    let (status, first) = world.api(0).post_as(&path, &a.token, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = world.api(1).post_as(&path, &a.token, body).await;
    assert_eq!(status, 200, "a retry answers the first message: {again}");
    assert_eq!(again["id"], first["id"]);

    let racing = json!({ "text": "Ответьте!", "client_message_id": "c-2" });
    let sends = (0..6).map(|i| world.api(i % 2).post_as(&path, &a.token, racing.clone()));
    let answers = futures_util::future::join_all(sends).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(answers.iter().all(|(_, m)| m["id"] == answers[0].1["id"]), "{answers:?}");
    let (_, history) = world.api(0).get(&path, &b.token).await;
    assert_eq!(seqs(history["items"].as_array().unwrap()), vec![2, 1], "two messages, gapless");

    let same_id_other_sender = json!({ "text": "и я", "client_message_id": "c-1" });
    let (status, _) = world.api(0).post_as(&path, &b.token, same_id_other_sender).await;
    assert_eq!(status, 201, "client ids are per sender");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_get_gapless_sequence_numbers() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let sends = (0..20).map(|i| {
        let user = if i % 2 == 0 { &a } else { &b };
        world.send(i % 2, user, chat, "параллельно")
    });
    let sent = futures_util::future::join_all(sends).await;
    let mut numbers: Vec<i64> = sent.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_by_sequence_number_both_ways() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    for i in 1..=25 {
        world.send(0, &a, chat, &format!("сообщение {i}")).await;
    }
    let api = world.api(0);
    let path = format!("/api/v2/chats/{chat}/messages");
    let (status, newest) = api.get(&format!("{path}?limit=10"), &b.token).await;
    assert_eq!(status, 200, "{newest}");
    assert_eq!(seqs(newest["items"].as_array().unwrap()), (16..=25).rev().collect::<Vec<_>>());
    assert_eq!(newest["has_more"], true);
    let (_, older) = api.get(&format!("{path}?limit=10&before=16"), &b.token).await;
    assert_eq!(seqs(older["items"].as_array().unwrap()), (6..=15).rev().collect::<Vec<_>>());
    let (_, oldest) = api.get(&format!("{path}?limit=10&before=6"), &b.token).await;
    assert_eq!(seqs(oldest["items"].as_array().unwrap()), (1..=5).rev().collect::<Vec<_>>());
    assert_eq!(oldest["has_more"], false);
    let (_, catch_up) = api.get(&format!("{path}?limit=10&after=20"), &b.token).await;
    assert_eq!(seqs(catch_up["items"].as_array().unwrap()), (21..=25).collect::<Vec<_>>(), "after: oldest first");
    assert_eq!(catch_up["items"][0]["text"], "сообщение 21");
    let (_, between) = api.get(&format!("{path}?after=10&before=14"), &b.token).await;
    assert_eq!(seqs(between["items"].as_array().unwrap()), [11, 12, 13], "both: the window, oldest first");
    assert_eq!(between["has_more"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_marks_only_move_forward_and_unread_counts_are_exact() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    for i in 1..=5 {
        world.send(0, &a, chat, &format!("m{i}")).await;
    }
    world.send(0, &b, chat, "моё").await;
    let api = world.api(0);
    let unread = |user: &crate::helpers::User| {
        let (api, token) = (api.clone(), user.token.clone());
        async move { api.get(&format!("/api/v2/chats/{chat}"), &token).await.1["unread_count"].as_i64().unwrap() }
    };
    assert_eq!(unread(&b).await, 5, "own messages are not unread");
    assert_eq!(unread(&a).await, 1);
    let read = format!("/api/v2/chats/{chat}/read");
    let (status, mark) = api.post_as(&read, &b.token, json!({ "seq": 3 })).await;
    assert_eq!((status, &mark), (200, &json!({ "read_seq": 3 })));
    assert_eq!(unread(&b).await, 2);
    let (_, mark) = api.post_as(&read, &b.token, json!({ "seq": 1 })).await;
    assert_eq!(mark["read_seq"], 3, "never back");
    assert_eq!(unread(&b).await, 2);
    let (_, mark) = api.post_as(&read, &b.token, json!({ "seq": 1000 })).await;
    assert_eq!(mark["read_seq"], 6, "capped at the last message");
    assert_eq!(unread(&b).await, 0);

    let (reader, up_to) = world
        .event(topics::CHAT_MESSAGES, |e| match &e.payload {
            Some(Payload::ChatMessageRead(read)) if read.up_to_seq == 6 => {
                Some((read.reader_id, read.up_to_message_id))
            }
            _ => None,
        })
        .await;
    assert_eq!(reader, b.id);
    let (_, history) = api.get(&format!("/api/v2/chats/{chat}/messages?limit=1"), &a.token).await;
    assert_eq!(history["items"][0]["id"].as_i64(), Some(up_to));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_edit_and_delete_their_messages_and_tombstones_stay_in_history() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let message = world.send(0, &a, chat, "Цена 150 000").await;
    let id = message["id"].as_i64().unwrap();
    let api = world.api(0);
    let path = format!("/api/v2/chats/{chat}/messages/{id}");
    let mut b_ws = world.connect(0, &b, "").await;

    let (status, edited) = api.patch(&path, &a.token, json!({ "text": "Цена 140 000" })).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["text"], "Цена 140 000");
    assert!(edited["edited_at"].is_string());
    let update = b_ws.expect("message_updated").await;
    assert_eq!((update["seq"].as_i64(), &update["message"]["text"]), (Some(1), &json!("Цена 140 000")));

    let (status, body) = api.patch(&path, &b.token, json!({ "text": "чужое" })).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = api.patch(&path, &a.token, json!({ "text": " " })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");

    let (status, deleted) = api.delete(&path, &a.token).await;
    assert_eq!(status, 200, "{deleted}");
    assert!(deleted["deleted_at"].is_string());
    assert_eq!(deleted["text"], "");
    let (_, history) = api.get(&format!("/api/v2/chats/{chat}/messages"), &b.token).await;
    assert_eq!(history["items"][0]["id"], id, "the tombstone keeps its place");
    assert!(history["items"][0]["deleted_at"].is_string());
    let (status, body) = api.patch(&path, &a.token, json!({ "text": "воскрешение" })).await;
    assert_eq!((status, error_code(&body)), (409, "message_deleted"), "{body}");

    let closed = chat::config::ChatSettings { edit_window_secs: 0, ..Default::default() };
    let strict = World::start_with(closed, 1).await;
    let (c, d) = (strict.user(), strict.user());
    let chat = strict.chat(&c, &d).await;
    let message = strict.send(0, &c, chat, "навсегда").await;
    let path = format!("/api/v2/chats/{chat}/messages/{}", message["id"]);
    let (status, body) = strict.api(0).delete(&path, &c.token).await;
    assert_eq!((status, error_code(&body)), (409, "edit_window_passed"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_message_sent_says_which_recipients_were_offline() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let offline = world.send(0, &a, chat, "вы здесь?").await;
    let mut b_ws = world.connect(0, &b, "").await;
    // The upgrade answers before the session has registered b as present; the first answer to
    // a frame comes after it.
    b_ws.send(json!({ "type": "resume", "chats": {} })).await;
    b_ws.expect("resumed").await;
    let online = world.send(0, &a, chat, "вижу, что здесь").await;
    b_ws.expect("message").await;
    for (message, expected) in [(offline, vec![b.id]), (online, vec![])] {
        let id = message["id"].as_i64().unwrap();
        let event = world
            .event(topics::CHAT_MESSAGES, |e| match &e.payload {
                Some(Payload::ChatMessageSent(sent)) if sent.message_id == id => Some(sent.clone()),
                _ => None,
            })
            .await;
        assert_eq!((event.sender_id, event.recipient_ids.clone()), (a.id, vec![b.id]));
        assert_eq!(event.kind, "text");
        assert_eq!(event.offline_recipient_ids, expected, "{event:?}");
    }
}
