//! Replicas as processes, killed with SIGKILL: clients reconnect elsewhere and lose nothing;
//! the killed replica's users go offline within the presence TTL.

use crate::helpers::{World, seqs};
use serde_json::json;
use std::time::Duration;

fn quick_presence() -> chat::config::ChatSettings {
    chat::config::ChatSettings { heartbeat_secs: 1, presence_ttl_secs: 3, ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_loses_nothing_for_clients_that_reconnect_elsewhere() {
    let mut world = World::empty(quick_presence()).await;
    let survivor = world.add_in_process().await;
    let doomed = world.add_process().await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    // A client that holds nothing yet resumes from 0: whatever is sent while the socket is being
    // set up comes from the replay.
    let mut b_ws = world.connect(doomed, &b, &format!("{chat}:0")).await;
    let sender = {
        let (api, token) = (world.api(survivor).clone(), a.token.clone());
        tokio::spawn(async move {
            for i in 1..=60 {
                let path = format!("/api/v2/chats/{chat}/messages");
                let (status, _) = api.post_as(&path, &token, json!({ "text": format!("{i}") })).await;
                assert_eq!(status, 201);
            }
        })
    };
    let mut received = b_ws.messages(10).await;
    world.kill(doomed).await;
    while let Some(frame) = b_ws.next_within(Duration::from_secs(2)).await {
        if frame["type"] == "message" {
            received.push(frame);
        }
    }
    let last = received.last().unwrap()["seq"].as_i64().unwrap();
    sender.await.unwrap();
    let mut b_ws = world.connect(survivor, &b, &format!("{chat}:{last}")).await;
    received.extend(b_ws.messages((60 - last) as usize).await);
    assert_eq!(seqs(&received), (1..=60).collect::<Vec<_>>(), "all 60, once, in order");
    b_ws.no_more_messages().await;

    let (_, view) = world.api(survivor).get(&format!("/api/v2/chats/{chat}"), &a.token).await;
    assert_eq!(view["partner"]["online"], true, "B is online again on the survivor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replicas_users_go_offline_within_the_presence_ttl() {
    let mut world = World::empty(quick_presence()).await;
    let survivor = world.add_in_process().await;
    let doomed = world.add_process().await;
    let (a, b) = (world.user(), world.user());
    let chat = world.chat(&a, &b).await;
    let _b_ws = world.connect(doomed, &b, "").await;
    let api = world.api(survivor).clone();
    let online = || {
        let (api, token) = (api.clone(), a.token.clone());
        async move { api.get(&format!("/api/v2/chats/{chat}"), &token).await.1["partner"]["online"].as_bool().unwrap() }
    };
    testkit::eventually("B is online", Duration::from_secs(10), &online).await;
    world.kill(doomed).await;
    testkit::eventually("B is offline once the TTL lapses", Duration::from_secs(15), || async { !online().await })
        .await;
}
