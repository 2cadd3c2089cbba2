//! `make bench` for chat, side by side in one run. Two chat replicas (processes of the `chat`
//! binary), 1,000 WebSocket clients across them (500 pairs, each pair one chat, the two sides on
//! different replicas):
//! 1. memory per idle connection (RSS of a replica before and after 500 connections);
//! 2. senders at a fixed rate: delivered messages/s and p99 send→receive latency, next to a
//!    plain async-nats pub/sub harness with the same fan-out (recipient + sender's own subject)
//!    on the same NATS server;
//! 3. saturation: 100 senders with 4 messages in flight each, delivered messages/s, next to the
//!    raw harness at saturation;
//! 4. a replica killed (SIGKILL) mid-run: its clients reconnect to the other with `after`;
//!    messages recovered, duplicates, out of order.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::TestSchema;
use testkit::fake_http::FakeHttp;
use testkit::keys::KEY_1;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PAIRS: usize = 500;
const SENDERS: usize = 100;
const RATE: u64 = 1_000; // messages per second, all senders together
const RUN: Duration = Duration::from_secs(10);
const IN_FLIGHT: usize = 4;

struct Replica {
    child: tokio::process::Child,
    port: u16,
}

impl Replica {
    async fn start(schema: &TestSchema, prefix: &str, jwks_url: &str) -> Self {
        let port = testkit::free_port();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat"))
            .env("PORT", port.to_string())
            .env("DATABASE_URL", &schema.url)
            .env("DATABASE_SCHEMA", &schema.name)
            .env("DATABASE_MAX_CONNECTIONS", "16")
            .env("KAFKA_BROKERS", testkit::kafka_brokers())
            .env("KAFKA_IDEMPOTENT_PRODUCER", "false")
            .env("NATS_URL", testkit::nats_url())
            .env("JWT_JWKS_URL", jwks_url)
            .env("MEBELPLACE__KAFKA__TOPIC_PREFIX", prefix)
            .env("MEBELPLACE__KAFKA__PARTITIONS", "1")
            .env("MEBELPLACE__REDIS__KEY_PREFIX", prefix)
            .env("MEBELPLACE__NATS__SUBJECT_PREFIX", prefix)
            .env("MEBELPLACE__HTTP__WORKERS", "1")
            .env("CHAT_SEND_QUEUE", "4096")
            .env("LOG_LEVEL", "error")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the chat binary starts");
        let client = reqwest::Client::new();
        testkit::eventually("a replica is ready", Duration::from_secs(60), || {
            let request = client.get(format!("http://127.0.0.1:{port}/ready")).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        Self { child, port }
    }

    fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    }

    fn ws_url(&self, after: &str) -> String {
        format!("ws://127.0.0.1:{}/api/v2/ws?after={after}", self.port)
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, user: i64) -> Socket {
    try_connect(url, user).await.expect("WebSocket connects")
}

async fn try_connect(url: &str, user: i64) -> Option<Socket> {
    let mut request = url.into_client_request().unwrap();
    let token = testkit::keys::token(user, contracts::Role::Buyer);
    request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.ok().map(|(socket, _)| socket)
}

/// What the receivers saw.
#[derive(Default)]
struct Received {
    latencies_us: Vec<u64>,
    /// Per chat: sequence numbers in arrival order.
    seqs: HashMap<i64, Vec<i64>>,
}

fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn micros() -> u64 {
    epoch().elapsed().as_micros() as u64
}

fn p99(latencies: &mut [u64]) -> f64 {
    if latencies.is_empty() {
        return f64::NAN;
    }
    latencies.sort_unstable();
    latencies[latencies.len() * 99 / 100] as f64 / 1e3
}

/// A receiver: reads message frames, records latency (from the text) and sequence numbers;
/// reconnects with `after` to `fallback` when its replica goes away (and stops when that one is
/// gone too, at the end of the run).
fn receive(mut socket: Socket, fallback: String, user: i64, chat: i64, received: Arc<Mutex<Received>>) {
    tokio::spawn(async move {
        let mut last = 0;
        loop {
            while let Some(Ok(frame)) = socket.next().await {
                let WsMessage::Text(text) = frame else { continue };
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] != "message" {
                    continue;
                }
                let seq = frame["seq"].as_i64().unwrap();
                let sent: u64 = frame["message"]["text"].as_str().unwrap_or("0").parse().unwrap_or(0);
                let mut received = received.lock().unwrap();
                received.latencies_us.push(micros().saturating_sub(sent));
                received.seqs.entry(chat).or_default().push(seq);
                last = last.max(seq);
            }
            // Both replicas gone: the run is over.
            let Some(reconnected) = try_connect(&format!("{fallback}{chat}:{last}"), user).await else { return };
            socket = reconnected;
        }
    });
}

/// A sender at `per_second`, or closed-loop with `IN_FLIGHT` messages when `per_second` is 0,
/// until `until`; returns the number of messages the service confirmed.
async fn send(mut socket: Socket, chat: i64, per_second: u64, until: Instant) -> u64 {
    let mut confirmed = 0;
    let mut in_flight = 0;
    let mut ticker = (per_second > 0).then(|| tokio::time::interval(Duration::from_micros(1_000_000 / per_second)));
    loop {
        let now = Instant::now();
        if now >= until && in_flight == 0 {
            return confirmed;
        }
        let may_send = now < until && (ticker.is_some() || in_flight < IN_FLIGHT);
        tokio::select! {
            _ = async { if let Some(t) = ticker.as_mut() { t.tick().await; } }, if may_send => {
                let frame = json!({ "type": "send", "chat_id": chat, "text": micros().to_string() });
                socket.send(WsMessage::text(frame.to_string())).await.expect("send");
                in_flight += 1;
            }
            frame = socket.next() => {
                let Some(Ok(WsMessage::Text(text))) = frame else { continue };
                if text.contains("\"type\":\"sent\"") {
                    confirmed += 1;
                    in_flight -= 1;
                }
            }
            _ = tokio::time::sleep_until((until + Duration::from_secs(5)).into()) => return confirmed,
        }
    }
}

/// Runs the senders of the first `SENDERS` pairs; returns (confirmed, elapsed).
async fn run_senders(senders: Vec<(Socket, i64)>, per_second: u64, run: Duration) -> (u64, Duration) {
    let started = Instant::now();
    let until = started + run;
    let tasks: Vec<_> =
        senders.into_iter().map(|(socket, chat)| tokio::spawn(send(socket, chat, per_second, until))).collect();
    let mut confirmed = 0;
    for task in tasks {
        confirmed += task.await.unwrap();
    }
    (confirmed, started.elapsed())
}

/// The raw harness: 2 × PAIRS subscribers, SENDERS publishers at `per_second` (0: as fast as
/// they can with a flush every `IN_FLIGHT`), each message to the recipient's and the sender's
/// subject, like the chat's fan-out.
async fn raw_nats(per_second: u64, run: Duration) -> (f64, f64) {
    let client = async_nats::connect(testkit::nats_url()).await.unwrap();
    let prefix = testkit::unique_prefix();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let delivered = Arc::new(AtomicU64::new(0));
    for user in 0..2 * PAIRS {
        let mut subscription = client.subscribe(format!("{prefix}rt.user.{user}")).await.unwrap();
        let (latencies, delivered) = (latencies.clone(), delivered.clone());
        let recipient = user >= PAIRS;
        tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                if recipient {
                    let frame: Value = serde_json::from_slice(&message.payload).unwrap();
                    let sent: u64 = frame["message"]["text"].as_str().unwrap().parse().unwrap();
                    latencies.lock().unwrap().push(micros().saturating_sub(sent));
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    client.flush().await.unwrap();
    let started = Instant::now();
    let until = started + run;
    let publishers: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (client, prefix) = (client.clone(), prefix.clone());
            tokio::spawn(async move {
                let mut ticker =
                    (per_second > 0).then(|| tokio::time::interval(Duration::from_micros(1_000_000 / per_second)));
                let mut n = 0u64;
                while Instant::now() < until {
                    match ticker.as_mut() {
                        Some(ticker) => {
                            ticker.tick().await;
                        }
                        None if n.is_multiple_of(IN_FLIGHT as u64) => client.flush().await.unwrap(),
                        None => {}
                    }
                    n += 1;
                    let frame = message_frame(n as i64, micros());
                    for user in [sender, sender + PAIRS] {
                        client.publish(format!("{prefix}rt.user.{user}"), frame.clone()).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    client.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per_second = delivered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let mut latencies = latencies.lock().unwrap().clone();
    (per_second, p99(&mut latencies))
}

/// A frame the size of the chat's `message` frame.
fn message_frame(seq: i64, sent: u64) -> bytes::Bytes {
    let message = json!({ "id": seq, "chat_id": 1, "seq": seq, "sender_id": 1, "kind": "text", "text": sent.to_string(),
        "media_url": null, "media_type": null, "media_size": null, "client_message_id": null,
        "created_at": "2026-11-27T09:30:00.120000Z", "edited_at": null, "deleted_at": null });
    serde_json::to_vec(&json!({ "type": "message", "chat_id": 1, "seq": seq, "message": message })).unwrap().into()
}

#[tokio::main]
async fn main() {
    epoch();
    let schema = TestSchema::create(&[chat::MIGRATIONS]).await;
    let mut conn = schema.connect().await;
    use diesel_async::SimpleAsyncConnection;
    // Pair i: user i (on replica 0) and user PAIRS + i (on replica 1), chat i + 1.
    conn.batch_execute(&format!(
        "INSERT INTO chats (id, user_low, user_high) SELECT g + 1, g, {PAIRS} + g FROM generate_series(1, {PAIRS}) g;
         INSERT INTO chat_members (chat_id, user_id, partner_id)
           SELECT g + 1, g, {PAIRS} + g FROM generate_series(1, {PAIRS}) g
           UNION ALL SELECT g + 1, {PAIRS} + g, g FROM generate_series(1, {PAIRS}) g;
         SELECT setval('chats_id_seq', {PAIRS} + 1);"
    ))
    .await
    .expect("chats load");
    let jwks = FakeHttp::start().await;
    jwks.respond("/jwks.json", 200, serde_json::to_value(testkit::keys::jwks(&[KEY_1])).unwrap());
    let jwks_url = format!("{}/jwks.json", jwks.url());
    let prefix = testkit::unique_prefix();
    let replicas =
        [Replica::start(&schema, &prefix, &jwks_url).await, Replica::start(&schema, &prefix, &jwks_url).await];
    let mut replicas = replicas;
    println!("chat: 2 replicas (release processes), {} WebSocket clients, {SENDERS} senders", 2 * PAIRS);

    // 1. Idle memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = [replicas[0].rss_kib(), replicas[1].rss_kib()];
    let mut senders = Vec::new();
    let mut idle_senders = Vec::new();
    let mut receivers = Vec::new();
    for i in 1..=PAIRS as i64 {
        let socket = connect(&replicas[0].ws_url(""), i).await;
        if (i as usize) <= SENDERS {
            senders.push((socket, i + 1))
        } else {
            idle_senders.push(socket)
        }
        receivers.push((connect(&replicas[1].ws_url(""), PAIRS as i64 + i).await, PAIRS as i64 + i, i + 1));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = [replicas[0].rss_kib(), replicas[1].rss_kib()];
    for (i, (before, after)) in before.iter().zip(after).enumerate() {
        println!(
            "memory, replica {i}: {before} KiB → {after} KiB with {PAIRS} idle connections: {:.1} KiB per connection (goal ≤ 19.5 KiB)",
            (after as f64 - *before as f64) / PAIRS as f64
        );
    }

    // 2. Fixed rate.
    let received = Arc::new(Mutex::new(Received::default()));
    let fallback = replicas[0].ws_url("");
    for (socket, user, chat) in receivers {
        receive(socket, fallback.clone(), user, chat, received.clone());
    }
    let per_sender = RATE / SENDERS as u64;
    let (confirmed, elapsed) = run_senders(senders, per_sender, RUN).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (chat_rate, chat_p99) = {
        let mut received = received.lock().unwrap();
        let delivered = received.latencies_us.len();
        received.seqs.clear();
        let rate = delivered as f64 / elapsed.as_secs_f64();
        let p99 = p99(&mut received.latencies_us);
        received.latencies_us.clear();
        println!("  fixed rate: {confirmed} sent, {delivered} delivered to recipients");
        (rate, p99)
    };
    let (raw_rate, raw_p99) = raw_nats(per_sender, RUN).await;
    println!("fixed rate {RATE} msg/s for {} s:", RUN.as_secs());
    println!("  chat:      {chat_rate:>8.0} delivered/s, p99 {chat_p99:>7.2} ms (goal ≤ 50 ms)");
    println!("  raw NATS:  {raw_rate:>8.0} delivered/s, p99 {raw_p99:>7.2} ms");

    // 3. Saturation (new sender sockets; the old ones were consumed).
    let mut senders = Vec::new();
    for i in 1..=SENDERS as i64 {
        senders.push((connect(&replicas[0].ws_url(""), i).await, i + 1));
    }
    let (confirmed, elapsed) = run_senders(senders, 0, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let chat_max = {
        let mut received = received.lock().unwrap();
        let delivered = received.latencies_us.len() as f64;
        received.latencies_us.clear();
        received.seqs.clear();
        println!("  saturation: {confirmed} sent");
        delivered / elapsed.as_secs_f64()
    };
    let (raw_max, _) = raw_nats(0, Duration::from_secs(5)).await;
    println!("saturation ({SENDERS} senders, {IN_FLIGHT} in flight each):");
    println!("  chat:      {chat_max:>8.0} delivered/s");
    println!("  raw NATS:  {raw_max:>8.0} delivered/s");
    println!("  chat / raw: {:.2} (goal ≥ 0.2)", chat_max / raw_max);

    // 4. A replica killed mid-run: senders on replica 0, receivers on replica 1 reconnect to 0.
    let first_seq: HashMap<i64, i64> = {
        let mut conn = schema.connect().await;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            last_seq: i64,
        }
        use diesel_async::RunQueryDsl;
        let rows: Vec<Row> = diesel::sql_query("SELECT id, last_seq FROM chats").load(&mut conn).await.unwrap();
        rows.into_iter().map(|r| (r.id, r.last_seq)).collect()
    };
    received.lock().unwrap().seqs.clear();
    let mut senders = Vec::new();
    for i in 1..=SENDERS as i64 {
        senders.push((connect(&replicas[0].ws_url(""), i).await, i + 1));
    }
    let run = tokio::spawn(run_senders(senders, 2, Duration::from_secs(6)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    replicas[1].child.kill().await.expect("killed");
    let (confirmed, _) = run.await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = std::mem::take(&mut *received.lock().unwrap());
    let (mut recovered, mut duplicates, mut out_of_order, mut expected) = (0usize, 0usize, 0usize, 0usize);
    let mut conn = schema.connect().await;
    #[derive(diesel::QueryableByName)]
    struct Last {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last_seq: i64,
    }
    use diesel_async::RunQueryDsl;
    let lasts: Vec<Last> = diesel::sql_query("SELECT id, last_seq FROM chats").load(&mut conn).await.unwrap();
    for last in lasts {
        let from = first_seq.get(&last.id).copied().unwrap_or(0);
        expected += (last.last_seq - from) as usize;
        let seqs = received.seqs.get(&last.id).cloned().unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        let mut previous = from;
        for seq in seqs {
            if !seen.insert(seq) {
                duplicates += 1;
                continue;
            }
            if seq != previous + 1 {
                out_of_order += 1;
            }
            previous = seq;
            if seq > from && seq <= last.last_seq {
                recovered += 1;
            }
        }
    }
    println!("replica killed mid-run ({confirmed} messages confirmed to senders):");
    println!(
        "  recovered {recovered}/{expected} ({:.1} %), duplicates {duplicates}, out of order {out_of_order}",
        100.0 * recovered as f64 / expected.max(1) as f64
    );
    drop(idle_senders);
}
