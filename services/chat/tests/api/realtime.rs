//! WebSockets across two replicas: delivery both ways, typing, read receipts, presence,
//! several devices, resume after reconnecting elsewhere.

use crate::helpers::{Ended, World, Ws, seqs};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_typing_and_read_marks_flow_between_replicas() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let mut a_ws = world.connect(0, &a, "").await;
    let mut b_ws = world.connect(1, &b, "").await;

    a_ws.send(json!({ "type": "send", "chat_id": chat, "text": "Привет с реплики A", "client_message_id": "a-1" }))
        .await;
    let sent = a_ws.expect("sent").await;
    assert_eq!((sent["client_message_id"].as_str(), sent["message"]["seq"].as_i64()), (Some("a-1"), Some(1)));
    let received = b_ws.expect("message").await;
    assert_eq!((received["chat_id"].as_i64(), received["seq"].as_i64()), (Some(chat), Some(1)));
    assert_eq!(received["message"]["text"], "Привет с реплики A");
    assert_eq!(received["message"]["sender_id"], a.id);

    let echo = a_ws.expect("message").await;
    assert_eq!(echo["seq"], 1, "the sender's connections get the message too (its other devices)");
    world.send(1, &b, chat, "И вам привет с B").await;
    let reply = a_ws.expect("message").await;
    assert_eq!((reply["seq"].as_i64(), &reply["message"]["text"]), (Some(2), &json!("И вам привет с B")));

    b_ws.send(json!({ "type": "typing", "chat_id": chat, "typing": true })).await;
    let typing = a_ws.expect("typing").await;
    assert_eq!(typing, json!({ "type": "typing", "chat_id": chat, "user_id": b.id, "typing": true }));

    b_ws.send(json!({ "type": "read", "chat_id": chat, "seq": 1 })).await;
    let read = a_ws.expect("read").await;
    assert_eq!(read, json!({ "type": "read", "chat_id": chat, "user_id": b.id, "seq": 1 }));

    b_ws.send(json!({ "type": "dance" })).await;
    assert_eq!(b_ws.expect("error").await["code"], "bad_frame");
    b_ws.send(json!({ "type": "send", "chat_id": chat, "text": "" })).await;
    assert_eq!(b_ws.expect("error").await["code"], "validation_failed", "the connection stays open");
    b_ws.send(json!({ "type": "send", "chat_id": chat, "text": "ещё тут" })).await;
    assert_eq!(a_ws.expect("message").await["seq"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_to_the_other_replica_gets_exactly_what_it_missed() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let mut b_ws = world.connect(0, &b, "").await;
    world.send(0, &a, chat, "до отключения").await;
    assert_eq!(b_ws.expect("message").await["seq"], 1);
    b_ws.close().await;

    for i in 1..=50 {
        world.send(i % 2, &a, chat, &format!("пропущено {i}")).await;
    }
    let mut b_ws = world.connect(1, &b, &format!("{chat}:1")).await;
    let replayed = b_ws.messages(50).await;
    assert_eq!(seqs(&replayed), (2..=51).collect::<Vec<_>>(), "exactly those 50, in order");
    assert_eq!(replayed[49]["message"]["text"], "пропущено 50");
    let resumed = b_ws.next().await;
    assert_eq!(resumed, json!({ "type": "resumed", "chats": { chat.to_string(): 51 } }));
    world.send(0, &a, chat, "вживую").await;
    assert_eq!(b_ws.expect("message").await["seq"], 52);
    b_ws.no_more_messages().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_messages_during_a_replay_are_neither_lost_nor_repeated() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    for i in 1..=40 {
        world.send(0, &a, chat, &format!("раньше {i}")).await;
    }
    let sender = {
        let (api0, api1, token) = (world.api(0).clone(), world.api(1).clone(), a.token.clone());
        tokio::spawn(async move {
            for i in 41..=100 {
                let api = if i % 2 == 0 { &api0 } else { &api1 };
                let path = format!("/api/v2/chats/{chat}/messages");
                let (status, _) = api.post_as(&path, &token, json!({ "text": format!("во время {i}") })).await;
                assert_eq!(status, 201);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut b_ws = world.connect(1, &b, &format!("{chat}:0")).await;
    let all = b_ws.messages(100).await;
    sender.await.unwrap();
    assert_eq!(seqs(&all), (1..=100).collect::<Vec<_>>(), "every message once, in order");
    b_ws.no_more_messages().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_device_of_a_user_gets_every_frame_and_presence_counts_them_once() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let mut a_ws = world.connect(0, &a, "").await;
    let mut phone = world.connect(0, &b, "").await;
    assert_eq!(
        a_ws.expect("presence").await,
        json!({ "type": "presence", "user_id": b.id, "online": true, "last_seen": null })
    );
    let mut laptop = world.connect(1, &b, "").await;
    world.send(0, &a, chat, "всем устройствам").await;
    assert_eq!(phone.expect("message").await["seq"], 1);
    assert_eq!(laptop.expect("message").await["seq"], 1);
    phone.send(json!({ "type": "send", "chat_id": chat, "text": "с телефона" })).await;
    assert_eq!(laptop.expect("message").await["message"]["text"], "с телефона", "the sender's other devices too");

    phone.close().await;
    let (_, view) = world.api(1).get(&format!("/api/v2/chats/{chat}"), &a.token).await;
    assert_eq!(view["partner"]["online"], true, "still on the laptop");
    laptop.close().await;
    let offline = a_ws.expect("presence").await;
    assert_eq!((offline["user_id"].as_i64(), &offline["online"]), (Some(b.id), &json!(false)));
    assert!(offline["last_seen"].is_string());
    let (_, view) = world.api(0).get(&format!("/api/v2/chats/{chat}"), &a.token).await;
    assert_eq!(view["partner"]["online"], false);
    assert!(view["partner"]["last_seen"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_cut_off_while_the_others_keep_receiving() {
    // The replica runs as a process of its own (in-process, it shared the test's two threads),
    // with a short queue. Messages of 8 KB fill the slow client's socket buffers (a few MB on
    // loopback) and then its queue; typing frames were too small to ever fill them.
    let settings = chat::config::ChatSettings { send_queue: 16, ..Default::default() };
    let mut world = World::empty(settings).await;
    world.add_process().await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let mut fast = world.connect(0, &b, "").await;
    let mut slow = Ws::connect_slow(&world.ws_url(0, ""), &b.token).await;
    let (burst, overflowed) = (1000, 700);
    let (past, overflow) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(async move {
        let mut received = fast.messages(overflowed).await;
        let _ = past.send(());
        received.extend(fast.messages(burst - overflowed).await);
        received
    });
    // About 530 messages fill the slow client's socket (at most 4 MB on loopback) and its
    // queue. It reads again from the 700th on: soon enough for the close frame, which the
    // server lets wait 10 s behind the unsent frames.
    let cut = tokio::spawn(async move {
        let _ = overflow.await;
        slow.ended().await
    });
    let text = "ш".repeat(4000);
    for _ in 0..burst / 20 {
        futures_util::future::join_all((0..20).map(|_| world.send(0, &a, chat, &text))).await;
    }
    let received = reader.await.unwrap();
    assert_eq!(seqs(&received), (1..=burst as i64).collect::<Vec<_>>(), "the fast client got every message in order");
    assert_eq!(cut.await.unwrap(), Ended::Closed(4008), "the slow client is told why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_wants_a_token_and_bounded_frames() {
    let world = World::start(1).await;
    let a = world.user();
    assert_eq!(Ws::try_connect(&world.ws_url(0, ""), None).await.err(), Some(401));
    assert_eq!(Ws::try_connect(&world.ws_url(0, ""), Some("forged")).await.err(), Some(401));
    assert_eq!(Ws::try_connect(&world.ws_url(0, "x:1"), Some(&a.token)).await.err(), Some(400));
    let short = format!("{}/ws", world.api(0).base.replacen("http://", "ws://", 1));
    let mut ws = Ws::connect(&short, Some(&a.token)).await;
    ws.send(json!({ "type": "typing", "chat_id": 1, "typing": true, "padding": "x".repeat(20_000) })).await;
    assert_eq!(ws.ended().await, Ended::Closed(1009));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_websockets_with_1012_and_they_resume_elsewhere() {
    let mut world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let mut b_ws = world.connect(0, &b, "").await;
    world.send(1, &a, chat, "1").await;
    assert_eq!(b_ws.expect("message").await["seq"], 1);
    world.kill(0).await;
    assert_eq!(b_ws.ended().await, Ended::Closed(1012));
    world.send(1, &a, chat, "2").await;
    let mut b_ws = world.connect(1, &b, &format!("{chat}:1")).await;
    assert_eq!(b_ws.expect("message").await["seq"], 2);
}
