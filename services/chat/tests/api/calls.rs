//! Calls through HTTP and WebSockets on two replicas: the whole call with a real TURN
//! allocation, missed, busy, blocked, strangers, secure calls, bad input.

use crate::helpers::{User, WAIT, World, error_code};
use contracts::events::Payload;
use contracts::topics;
use serde_json::{Value, json};

const OFFER: &str =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
const CANDIDATE: &str = "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0";

async fn call(world: &World, replica: usize, from: &User, to: &User, kind: &str) -> (u16, Value) {
    world
        .api(replica)
        .post_as("/api/v2/calls/initiate", &from.token, json!({ "recipient_id": to.id, "kind": kind }))
        .await
}

async fn ring(world: &World, from: &User, to: &User) -> i64 {
    let (status, body) = call(world, 0, from, to, "audio").await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

async fn act(world: &World, replica: usize, user: &User, call: i64, action: &str) -> (u16, Value) {
    world.api(replica).post_as(&format!("/api/v2/calls/{call}/{action}"), &user.token, json!({})).await
}

async fn token(world: &World, replica: usize, user: &User, call: i64) -> (u16, Value) {
    world.api(replica).get(&format!("/api/v2/calls/{call}/webrtc-token"), &user.token).await
}

/// The TURN server's address and the credentials a token carries for it.
fn turn_credentials(token: &Value) -> (String, String, String) {
    let server = token["ice_servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|server| server["username"].is_string())
        .unwrap_or_else(|| panic!("a TURN server with credentials: {token}"));
    let url = server["urls"][0].as_str().unwrap();
    let address = url.trim_start_matches("turn:").split('?').next().unwrap().to_owned();
    (address, server["username"].as_str().unwrap().to_owned(), server["credential"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_call_between_two_replicas_with_a_turn_allocation_and_relayed_signals() {
    let world = World::start(2).await;
    let (a, b) = (world.user(), world.user());
    world.chat(&a, &b).await;
    let mut a_ws = world.connect(0, &a, "").await;
    let mut b_ws = world.connect(1, &b, "").await;

    let (status, started) = call(&world, 0, &a, &b, "video").await;
    assert_eq!(status, 201, "{started}");
    let id = started["id"].as_i64().unwrap();
    assert_eq!((started["status"].as_str(), started["kind"].as_str()), (Some("ringing"), Some("video")));
    assert_eq!((started["caller_id"].as_i64(), started["callee_id"].as_i64()), (Some(a.id), Some(b.id)));
    let ringing = b_ws.expect("call").await;
    assert_eq!((ringing["call"]["id"].as_i64(), ringing["call"]["status"].as_str()), (Some(id), Some("ringing")));
    assert_eq!(a_ws.expect("call").await["call"]["status"], "ringing", "the caller's devices hear it too");

    let (status, b_token) = token(&world, 1, &b, id).await;
    assert_eq!(status, 200, "{b_token}");
    assert_eq!(
        (b_token["provider"].as_str(), b_token["channel"].as_str()),
        (Some("turn"), Some(&*format!("call-{id}")))
    );
    assert_eq!(b_token["encryption"], Value::Null, "an ordinary call has no media key");
    let (server, username, credential) = turn_credentials(&b_token);
    assert!(testkit::turn::allocate(&server, &username, &credential).await.unwrap(), "coturn allocates with the token");
    let (status, a_token) = token(&world, 0, &a, id).await;
    assert_eq!(status, 200, "{a_token}");
    let (status, third) = token(&world, 0, &a, id).await;
    assert_eq!((status, error_code(&third)), (409, "token_limit"), "at most two tokens per call");

    let (status, answered) = act(&world, 1, &b, id, "answer").await;
    assert_eq!((status, answered["status"].as_str()), (200, Some("active")), "{answered}");
    assert_eq!(a_ws.expect("call").await["call"]["status"], "active");
    assert_eq!(b_ws.expect("call").await["call"]["status"], "active");

    let path = format!("/api/v2/calls/{id}/webrtc-signal");
    let (status, body) = world.api(0).post_as(&path, &a.token, json!({ "type": "offer", "sdp": OFFER })).await;
    assert_eq!(status, 202, "{body}");
    let offer = b_ws.expect("call_signal").await;
    assert_eq!(
        offer,
        json!({ "type": "call_signal", "call_id": id, "from_user_id": a.id, "signal": { "type": "offer", "sdp": OFFER } })
    );
    b_ws.send(json!({ "type": "call_signal", "call_id": id, "signal": { "type": "answer", "sdp": OFFER } })).await;
    let answer = a_ws.expect("call_signal").await;
    assert_eq!((answer["from_user_id"].as_i64(), &answer["signal"]["type"]), (Some(b.id), &json!("answer")));
    let candidate = json!({ "type": "ice_candidate", "candidate": CANDIDATE, "sdp_mid": "0", "sdp_m_line_index": 0 });
    let (status, _) = world.api(1).post_as(&path, &b.token, candidate.clone()).await;
    assert_eq!(status, 202);
    assert_eq!(a_ws.expect("call_signal").await["signal"], candidate);
    a_ws.send(json!({ "type": "call_signal", "call_id": id, "signal": candidate })).await;
    assert_eq!(b_ws.expect("call_signal").await["signal"]["candidate"], CANDIDATE);

    let (status, ended) = act(&world, 0, &a, id, "end").await;
    assert_eq!((status, ended["status"].as_str(), ended["ended_by"].as_i64()), (200, Some("ended"), Some(a.id)));
    assert_eq!(b_ws.expect("call").await["call"]["status"], "ended");
    let (status, late) = world.api(1).post_as(&path, &b.token, json!({ "type": "offer", "sdp": OFFER })).await;
    assert_eq!((status, error_code(&late)), (409, "invalid_call_state"), "no signals after the end");

    let (_, history) = world.api(1).get("/api/v2/calls/history", &b.token).await;
    assert_eq!(history["items"][0]["id"], id, "{history}");
    let (_, active) = world.api(0).get("/api/v2/calls/active", &a.token).await;
    assert_eq!(active, json!([]));
    let event =
        |pick: fn(&Payload) -> Option<i64>| world.event(topics::CHAT_CALLS, move |e| e.payload.as_ref().and_then(pick));
    assert_eq!(event(|p| matches!(p, Payload::CallInitiated(e) if e.kind == "video").then_some(1)).await, 1);
    let answered = event(|p| if let Payload::CallAnswered(e) = p { Some(e.callee_id) } else { None }).await;
    assert_eq!(answered, b.id);
    let ended_by = event(|p| match p {
        Payload::CallEnded(e) if e.outcome == "ended" => Some(e.ended_by),
        _ => None,
    })
    .await;
    assert_eq!(ended_by, a.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_left_ringing_becomes_missed_and_frees_both_lines() {
    let mut world = World::empty(Default::default()).await;
    world.config.calls.ring_timeout_secs = 1;
    world.add_in_process().await;
    let (a, b) = (world.user(), world.user());
    world.chat(&a, &b).await;
    let mut a_ws = world.connect(0, &a, "").await;
    let id = ring(&world, &a, &b).await;
    assert_eq!(a_ws.expect("call").await["call"]["status"], "ringing");
    let missed = a_ws.expect("call").await;
    assert_eq!((missed["call"]["id"].as_i64(), missed["call"]["status"].as_str()), (Some(id), Some("missed")));
    let (_, details) = world.api(0).get(&format!("/api/v2/calls/{id}"), &b.token).await;
    assert_eq!((details["status"].as_str(), details["ended_by"].as_i64()), (Some("missed"), None));
    let (status, late) = act(&world, 0, &b, id, "answer").await;
    assert_eq!((status, error_code(&late)), (409, "invalid_call_state"), "too late to answer");
    let event = world
        .event(topics::CHAT_CALLS, |e| match &e.payload {
            Some(Payload::CallMissed(missed)) => Some(*missed),
            _ => None,
        })
        .await;
    assert_eq!((event.call_id, event.caller_id, event.callee_id), (id, a.id, b.id));
    let (status, again) = call(&world, 0, &b, &a, "audio").await;
    assert_eq!(status, 201, "nobody is busy any more: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_the_longest_call_limit_is_ended_by_the_clock() {
    let mut world = World::empty(Default::default()).await;
    world.config.calls.max_duration_secs = 1;
    world.add_in_process().await;
    let (a, b) = (world.user(), world.user());
    world.chat(&a, &b).await;
    let mut b_ws = world.connect(0, &b, "").await;
    let id = ring(&world, &a, &b).await;
    assert_eq!(act(&world, 0, &b, id, "answer").await.0, 200);
    let ended = loop {
        let frame = b_ws.expect("call").await;
        if frame["call"]["status"] == "ended" {
            break frame;
        }
    };
    assert_eq!((ended["call"]["id"].as_i64(), &ended["call"]["ended_by"]), (Some(id), &Value::Null));
    let event = world
        .event(topics::CHAT_CALLS, |e| match &e.payload {
            Some(Payload::CallEnded(ended)) if ended.call_id == id => Some(ended.clone()),
            _ => None,
        })
        .await;
    assert_eq!((event.outcome.as_str(), event.ended_by), ("ended", 0));
    assert_eq!(call(&world, 0, &a, &b, "video").await.0, 201, "both lines are free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_blocked_strangers_and_wrong_parties_are_refused() {
    let world = World::start(1).await;
    let (a, b, c, stranger) = (world.user(), world.user(), world.user(), world.user());
    world.chat(&a, &b).await;
    world.chat(&c, &b).await;
    world.chat(&c, &a).await;
    let id = ring(&world, &a, &b).await;

    let (status, body) = call(&world, 0, &c, &b, "audio").await;
    assert_eq!((status, error_code(&body)), (409, "busy"), "the callee is on a call: {body}");
    let (status, body) = call(&world, 0, &b, &c, "audio").await;
    assert_eq!((status, error_code(&body)), (409, "busy"), "so is the caller side: {body}");
    let (status, body) = call(&world, 0, &a, &stranger, "audio").await;
    assert_eq!((status, error_code(&body)), (403, "not_chat_partners"), "{body}");

    for (user, action, expected) in [(&a, "answer", 403), (&a, "decline", 403), (&b, "cancel", 403), (&a, "end", 409)] {
        let (status, body) = act(&world, 0, user, id, action).await;
        assert_eq!(status, expected, "{action} by the wrong side or in the wrong state: {body}");
    }
    let api = world.api(0);
    for path in [format!("/api/v2/calls/{id}"), format!("/api/v2/calls/{id}/webrtc-token")] {
        let (status, body) = api.get(&path, &stranger.token).await;
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{path}: {body}");
    }
    for action in ["answer", "decline", "cancel", "end"] {
        assert_eq!(act(&world, 0, &stranger, id, action).await.0, 404, "a stranger cannot {action}");
    }
    let (status, _) = api
        .post_as(
            &format!("/api/v2/calls/{id}/webrtc-signal"),
            &stranger.token,
            json!({ "type": "offer", "sdp": OFFER }),
        )
        .await;
    assert_eq!(status, 404);
    let (_, listed) = api.get("/api/v2/calls", &stranger.token).await;
    assert_eq!(listed["items"], json!([]), "strangers list nothing");
    let (_, active) = api.get("/api/v2/calls/active", &b.token).await;
    assert_eq!(active[0]["id"], id);

    let (status, cancelled) = act(&world, 0, &a, id, "cancel").await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")));
    let (status, _) = act(&world, 0, &b, id, "answer").await;
    assert_eq!(status, 409, "a cancelled call cannot be answered");
    let declined = ring(&world, &c, &b).await;
    let (status, body) = act(&world, 0, &b, declined, "decline").await;
    assert_eq!((status, body["status"].as_str(), body["ended_by"].as_i64()), (200, Some("declined"), Some(b.id)));
    let outcome = world
        .event(topics::CHAT_CALLS, |e| match &e.payload {
            Some(Payload::CallEnded(ended)) if ended.call_id == declined => Some(ended.outcome.clone()),
            _ => None,
        })
        .await;
    assert_eq!(outcome, "declined");

    world.publish(contracts::events::UserBlocked { blocker_id: b.id, blocked_id: c.id }).await;
    testkit::eventually("the block is known", WAIT, || async { call(&world, 0, &c, &b, "audio").await.0 == 403 }).await;
    let (status, body) = call(&world, 0, &b, &c, "video").await;
    assert_eq!((status, error_code(&body)), (403, "blocked"), "either direction: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secure_call_hands_both_participants_the_same_media_key() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    world.chat(&a, &b).await;
    let (status, started) = world
        .api(0)
        .post_as("/api/v2/calls/initiate-secure", &a.token, json!({ "callee_id": b.id, "type": "video" }))
        .await;
    assert_eq!((status, started["secure"].as_bool()), (201, Some(true)), "{started}");
    let id = started["id"].as_i64().unwrap();
    assert!(started.get("encryption").is_none() && !started.to_string().contains("key"), "no key in the call itself");
    let (_, a_token) = token(&world, 0, &a, id).await;
    let (_, b_token) = token(&world, 0, &b, id).await;
    let key = &a_token["encryption"];
    assert_eq!(key["mode"], "aes-256-gcm");
    assert_eq!(key["key"].as_str().map(str::len), Some(44), "32 bytes in base64: {key}");
    assert_eq!(key, &b_token["encryption"], "both sides hold the same key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfigured_provider_is_unavailable_and_costs_no_token() {
    let mut world = World::empty(Default::default()).await;
    world.config.calls.tokens.provider = chat::calls::tokens::Provider::Agora;
    world.add_in_process().await;
    let (a, b) = (world.user(), world.user());
    world.chat(&a, &b).await;
    let id = ring(&world, &a, &b).await;
    for _ in 0..3 {
        let (status, body) = token(&world, 0, &a, id).await;
        assert_eq!((status, error_code(&body)), (503, "service_unavailable"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_call_input_is_refused_with_the_error_shape_and_changes_nothing() {
    let world = World::start(1).await;
    let (a, b) = (world.user(), world.user());
    world.chat(&a, &b).await;
    let api = world.api(0);
    let starts = [
        json!({ "recipient_id": a.id, "kind": "audio" }),
        json!({ "recipient_id": b.id, "kind": "hologram" }),
        json!({ "recipient_id": b.id }),
        json!({ "recipient_id": "b", "kind": "audio" }),
        json!({ "recipient_id": b.id, "kind": "audio", "volume": 11 }),
    ];
    for body in starts {
        let (status, answer) = api.post_as("/api/v2/calls/initiate", &a.token, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"]["code"].is_string() && answer["error"]["message"].is_string(), "{answer}");
    }
    let (_, listed) = api.get("/api/v2/calls", &a.token).await;
    assert_eq!(listed["items"], json!([]), "no call was made");

    let id = ring(&world, &a, &b).await;
    let path = format!("/api/v2/calls/{id}/webrtc-signal");
    let signals = [
        json!({ "type": "offer", "sdp": "not a session description" }),
        json!({ "type": "offer", "sdp": format!("{OFFER}{}", "a=x\r\n".repeat(5000)) }),
        json!({ "type": "ice_candidate", "candidate": "udp 1 2" }),
        json!({ "type": "bye" }),
        json!({ "sdp": OFFER }),
    ];
    for body in signals {
        let (status, answer) = api.post_as(&path, &a.token, body.clone()).await;
        assert_eq!(status, 400, "{answer}");
    }
    let mut b_ws = world.connect(0, &b, "").await;
    b_ws.send(json!({ "type": "call_signal", "call_id": id, "signal": { "type": "offer", "sdp": "hello" } })).await;
    assert_eq!(b_ws.expect("error").await["code"], "validation_failed");
    for path in ["/api/v2/calls/abc", "/api/v2/calls/abc/answer"] {
        let (status, _) = api.post_as(path, &a.token, json!({})).await;
        assert!(status == 404 || status == 405, "{path}: {status}");
    }
    let (status, _) = api.get("/api/v2/calls?limit=0", &a.token).await;
    assert_eq!(status, 400);
    let (_, details) = api.get(&format!("/api/v2/calls/{id}"), &b.token).await;
    assert_eq!(details["status"], "ringing", "nothing changed the call");
}
