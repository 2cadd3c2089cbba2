//! Faults under load (issue 18). A buyer posts requests and writes to a master in their chat,
//! and everyone reads (profiles, the video feed, requests, notifications), steadily, through
//! the gateway, while one thing after another goes away for a while and comes back: PostgreSQL,
//! Redis and NATS cut behind a TCP proxy (every program reaches them through it), the Kafka
//! broker killed (-9) and started again, a replica of auth, marketplace, media, chat and
//! notification killed (-9), and a marketplace replica stopped with SIGTERM (two replicas of
//! each of those run). For each case: the answers during the outage are fast and in the error
//! shape (never a 500, never past the timeouts), readiness follows the required dependencies
//! (and ignores the broker), a SIGTERM fails no request, and once it is over every committed
//! request and chat message reached the master exactly once (notification's `new_request` and
//! `chat_message`, through the outboxes, Kafka and notification's inbox). A table of the cases
//! is printed.

use e2e::System;
use e2e::database::aggregate;
use e2e::system::Options;
use e2e::world::{self, User};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use testkit::broker::KafkaBroker;
use testkit::proxy::TcpProxy;

/// How long each dependency stays away.
const OUTAGE: Duration = Duration::from_secs(10);
/// Load before the fault and after recovery.
const CALM: Duration = Duration::from_secs(2);
/// An answer slower than this hangs: services give up on a dependency within a few seconds
/// and the gateway's read timeout is 30 s.
const PATIENCE: Duration = Duration::from_secs(12);
/// Readiness must notice a required dependency's loss, and its return, within this.
const NOTICE: Duration = Duration::from_secs(8);
/// Callers of the load, each pausing between requests.
const CALLERS: usize = 4;
const PAUSE: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug)]
enum Fault {
    Cut(Dependency),
    KillBroker,
    /// The second replica of a service (two run: [`REPLICATED`]).
    KillReplica(&'static str),
    TerminateReplica(&'static str),
}

/// The services that run two replicas (all but the gateway, the only door of the load).
const REPLICATED: [&str; 5] = ["auth", "marketplace", "media", "chat", "notification"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dependency {
    Postgres,
    Redis,
    Nats,
}

impl Fault {
    const ALL: [Fault; 10] = [
        Fault::Cut(Dependency::Postgres),
        Fault::Cut(Dependency::Redis),
        Fault::Cut(Dependency::Nats),
        Fault::KillBroker,
        Fault::KillReplica("auth"),
        Fault::KillReplica("marketplace"),
        Fault::TerminateReplica("marketplace"),
        Fault::KillReplica("media"),
        Fault::KillReplica("chat"),
        Fault::KillReplica("notification"),
    ];

    fn name(self) -> String {
        match self {
            Fault::Cut(Dependency::Postgres) => "PostgreSQL cut".into(),
            Fault::Cut(Dependency::Redis) => "Redis cut".into(),
            Fault::Cut(Dependency::Nats) => "NATS cut".into(),
            Fault::KillBroker => "Kafka broker kill -9".into(),
            Fault::KillReplica(service) => format!("{service} replica kill -9"),
            Fault::TerminateReplica(service) => format!("{service} replica SIGTERM"),
        }
    }
}

/// One answer of the load.
struct Answer {
    status: u16,
    took: Duration,
    /// An error answer in the API's error shape (`{"error": {"code", "message"}}`).
    shaped: bool,
    retry_after: bool,
}

/// Callers sending a steady mix until stopped: the buyer posts requests, writes to the master
/// and reads their profile and the requests, the master reads notifications, anyone reads the
/// regions and the video feed.
struct Load {
    stop: Arc<AtomicBool>,
    callers: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
}

impl Load {
    fn start(system: &System, buyer: &User, master: &User, chat: i64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder().timeout(PATIENCE * 3).build().expect("a client");
        let callers = (0..CALLERS)
            .map(|caller| {
                let (client, stop) = (client.clone(), stop.clone());
                let url = |path: &str| system.api.url(path);
                let message = json!({ "text": "Когда сможете приехать на замер?" });
                let calls = [
                    (url("/api/v2/requests"), Some(buyer.token.clone()), Some(world::wardrobe_request())),
                    (url(&format!("/api/v2/chats/{chat}/messages")), Some(buyer.token.clone()), Some(message)),
                    (url("/api/v2/requests"), Some(buyer.token.clone()), None),
                    (url("/api/v2/users/me"), Some(buyer.token.clone()), None),
                    (url("/api/v2/notifications"), Some(master.token.clone()), None),
                    (url("/api/v2/videos/feed"), None, None),
                    (url("/api/v2/regions"), None, None),
                ];
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    for n in caller.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let (url, token, body) = &calls[n % calls.len()];
                        let mut request = match body {
                            Some(body) => client.post(url).json(body),
                            None => client.get(url),
                        };
                        if let Some(token) = token {
                            request = request.bearer_auth(token);
                        }
                        let started = Instant::now();
                        let answer = match request.send().await {
                            Ok(response) => {
                                let status = response.status().as_u16();
                                let retry_after = response.headers().contains_key("retry-after");
                                let body: Value = response.json().await.unwrap_or_default();
                                let shaped = body["error"]["code"].is_string() && body["error"]["message"].is_string();
                                Answer { status, took: started.elapsed(), shaped, retry_after }
                            }
                            Err(_) => Answer { status: 0, took: started.elapsed(), shaped: false, retry_after: false },
                        };
                        answers.push(answer);
                        tokio::time::sleep(PAUSE).await;
                    }
                    answers
                })
            })
            .collect();
        Self { stop, callers }
    }

    async fn finish(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::SeqCst);
        let mut answers = Vec::new();
        for caller in self.callers {
            answers.extend(caller.await.expect("a caller of the load"));
        }
        answers
    }
}

/// Whether `url` (a `/ready`) answers 200, every 100 ms, from the fault on: when it first
/// failed and when it was last seen failing.
struct Readiness {
    stop: Arc<AtomicBool>,
    watcher: tokio::task::JoinHandle<(Option<Duration>, Option<Duration>)>,
}

impl Readiness {
    fn watch(url: String, since: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let watcher = tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().expect("a client");
            let (mut first_down, mut last_down) = (None, None);
            while !flag.load(Ordering::SeqCst) {
                let ready = client.get(&url).send().await.is_ok_and(|r| r.status().is_success());
                if !ready {
                    first_down.get_or_insert(since.elapsed());
                    last_down = Some(since.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (first_down, last_down)
        });
        Self { stop, watcher }
    }

    async fn finish(self) -> (Option<Duration>, Option<Duration>) {
        self.stop.store(true, Ordering::SeqCst);
        self.watcher.await.expect("the readiness watcher")
    }
}

/// What a case did, for the table.
struct Outcome {
    fault: Fault,
    answers: usize,
    failed: BTreeMap<u16, usize>,
    slowest: Duration,
    /// Readiness of the first marketplace replica: first seen failing after the fault, and
    /// back (after the dependency returned).
    ready_lost: Option<Duration>,
    ready_back: Option<Duration>,
    requests: Effects,
    messages: Effects,
}

/// Committed changes of one kind, and the master's notifications of them (all, distinct).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Effects {
    committed: i64,
    notified: i64,
    distinct: i64,
}

impl Effects {
    fn exact(self) -> bool {
        self.committed == self.notified && self.notified == self.distinct
    }
}

impl std::fmt::Display for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} → {} ({})", self.committed, self.notified, self.distinct)
    }
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or("—".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
}

struct Dependencies {
    postgres: TcpProxy,
    redis: TcpProxy,
    nats: TcpProxy,
    broker: KafkaBroker,
}

impl Dependencies {
    async fn start() -> Self {
        let nats = testkit::nats_url();
        Self {
            postgres: TcpProxy::start(&testkit::db::server_address()).await,
            redis: TcpProxy::start("127.0.0.1:6379").await,
            nats: TcpProxy::start(nats.trim_start_matches("nats://")).await,
            broker: KafkaBroker::start().await,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", testkit::db::url_via(&self.postgres.address())),
            ("REDIS_URL", format!("redis://{}", self.redis.address())),
            ("NATS_URL", format!("nats://{}", self.nats.address())),
            ("KAFKA_BROKERS", self.broker.brokers()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    fn proxy(&self, dependency: Dependency) -> &TcpProxy {
        match dependency {
            Dependency::Postgres => &self.postgres,
            Dependency::Redis => &self.redis,
            Dependency::Nats => &self.nats,
        }
    }
}

/// Every request the buyer committed and every message they sent in `chat`, and the master's
/// notifications of each.
async fn effects(system: &System, buyer: &User, master: &User, chat: i64) -> (Effects, Effects) {
    let told = async |kind: &str, key: &str, committed: i64| {
        let told = format!("user_id = {} AND kind = '{kind}'", master.id);
        let notified = aggregate(system, "notification", "notifications", "count(*)", &told).await;
        let distinct = format!("count(DISTINCT data->>'{key}')");
        Effects {
            committed,
            notified,
            distinct: aggregate(system, "notification", "notifications", &distinct, &told).await,
        }
    };
    let requests = aggregate(system, "marketplace", "requests", "count(*)", &format!("buyer_id = {}", buyer.id)).await;
    let sent = format!("chat_id = {chat} AND sender_id = {}", buyer.id);
    let messages = aggregate(system, "chat", "messages", "count(*)", &sent).await;
    (told("new_request", "request_id", requests).await, told("chat_message", "message_id", messages).await)
}

async fn run_case(
    system: &mut System,
    dependencies: &mut Dependencies,
    buyer: &User,
    master: &User,
    chat: i64,
    fault: Fault,
) -> Outcome {
    let load = Load::start(system, buyer, master, chat);
    tokio::time::sleep(CALM).await;
    let since = Instant::now();
    let readiness = Readiness::watch(system.process("marketplace").url("/ready"), since);
    match fault {
        Fault::Cut(dependency) => dependencies.proxy(dependency).cut(),
        Fault::KillBroker => dependencies.broker.kill(),
        Fault::KillReplica(service) => system.replicas_mut(service)[1].kill(),
        Fault::TerminateReplica(service) => {
            let mut replicas = system.replicas_mut(service);
            let status = tokio::task::block_in_place(|| replicas[1].terminate());
            assert!(status.is_some_and(|s| s.success()), "a replica stopped by SIGTERM exits with 0");
        }
    }
    tokio::time::sleep(OUTAGE).await;
    let restored = since.elapsed();
    match fault {
        Fault::Cut(dependency) => dependencies.proxy(dependency).restore(),
        Fault::KillBroker => dependencies.broker.restart().await,
        Fault::KillReplica(service) | Fault::TerminateReplica(service) => {
            let mut replicas = system.replicas_mut(service);
            replicas[1].start();
            replicas[1].wait_ready(Duration::from_secs(60)).await;
        }
    }
    system.process("marketplace").wait_ready(Duration::from_secs(60)).await;
    tokio::time::sleep(CALM).await;
    let answers = load.finish().await;
    let (ready_lost, last_down) = readiness.finish().await;
    let ready_back = last_down.filter(|down| *down >= restored).map(|down| down - restored);

    // Once it is over, every committed request and message reaches the master once.
    let mut seen = effects(system, buyer, master, chat).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while !(seen.0.exact() && seen.1.exact()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        seen = effects(system, buyer, master, chat).await;
    }
    let (requests, messages) = seen;
    let mut failed = BTreeMap::new();
    for answer in answers.iter().filter(|a| !(200..300).contains(&a.status)) {
        *failed.entry(answer.status).or_insert(0) += 1;
    }
    let outcome = Outcome {
        fault,
        answers: answers.len(),
        failed,
        slowest: answers.iter().map(|a| a.took).max().unwrap_or_default(),
        ready_lost,
        ready_back,
        requests,
        messages,
    };
    check(&outcome, &answers);
    outcome
}

/// What each case must show.
fn check(outcome: &Outcome, answers: &[Answer]) {
    let case = outcome.fault.name();
    for answer in answers.iter().filter(|a| !(200..300).contains(&a.status)) {
        assert!(
            matches!(answer.status, 502..=504),
            "{case}: an answer during the outage was {} (only 502/503/504 may say a dependency is away)",
            answer.status
        );
        assert!(answer.shaped, "{case}: a {} answer not in the API's error shape", answer.status);
        assert!(answer.status != 503 || answer.retry_after, "{case}: a 503 without Retry-After");
    }
    assert!(outcome.slowest < PATIENCE, "{case}: an answer took {:?}", outcome.slowest);
    for (what, effects) in [("request", outcome.requests), ("chat message", outcome.messages)] {
        assert_eq!(effects.committed, effects.notified, "{case}: committed {what}s vs the master's notifications");
        assert_eq!(effects.notified, effects.distinct, "{case}: a {what} notified twice");
    }
    match outcome.fault {
        Fault::Cut(_) => {
            let lost = outcome.ready_lost.unwrap_or_else(|| panic!("{case}: readiness never noticed"));
            assert!(lost < NOTICE, "{case}: readiness noticed after {lost:?}");
            let back = outcome.ready_back.unwrap_or_default();
            assert!(back < NOTICE, "{case}: readiness came back {back:?} after the dependency");
        }
        Fault::KillBroker => {
            assert_eq!(outcome.ready_lost, None, "{case}: the broker is not required for readiness");
            assert!(outcome.failed.is_empty(), "{case}: writes go to the outbox, yet {:?} failed", outcome.failed);
        }
        Fault::KillReplica(_) => {}
        Fault::TerminateReplica(_) => {
            assert!(outcome.failed.is_empty(), "{case}: a graceful stop failed {:?}", outcome.failed)
        }
    }
}

fn table(outcomes: &[Outcome]) -> String {
    let mut table = String::from(
        "| case | answers | failed (status: n) | slowest | ready lost after | ready back after | requests → master notified (distinct) | chat messages → master notified (distinct) |\n|---|---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let failed: Vec<String> = o.failed.iter().map(|(status, n)| format!("{status}: {n}")).collect();
        let _ = writeln!(
            table,
            "| {} | {} | {} | {:.2} s | {} | {} | {} | {} |",
            o.fault.name(),
            o.answers,
            if failed.is_empty() { "0".to_owned() } else { failed.join(", ") },
            o.slowest.as_secs_f64(),
            seconds(o.ready_lost),
            seconds(o.ready_back),
            o.requests,
            o.messages
        );
    }
    table
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dependency_goes_away_under_load_and_nothing_is_lost() {
    let mut dependencies = Dependencies::start().await;
    let mut options = Options { env_everywhere: dependencies.env(), ..Options::default() };
    // Eleven programs run here beside the other suites: three connections each keep the
    // server's 100 from running out (five each did, under CI).
    options.env_everywhere.push(("DATABASE_MAX_CONNECTIONS".to_owned(), "3".to_owned()));
    options.replicas.extend(REPLICATED.map(|service| (service, 2)));
    let mut system = System::start_with(options).await;
    let buyer = world::register(&system, "faultbuyer", "buyer").await;
    let master = world::register(&system, "faultmaster", "master").await;
    let services = json!({ "regions": ["Алматы"], "categories": ["шкафы-купе"] });
    let (status, body) = system.api.put("/api/v2/masters/me", &master.token, services).await;
    assert_eq!(status, 200, "the master serves Almaty's wardrobes: {body}");
    let (status, body) = system.api.post_as("/api/v2/chats", &buyer.token, json!({ "recipient_id": master.id })).await;
    assert_eq!(status, 201, "the buyer opens a chat with the master: {body}");
    let chat = body["id"].as_i64().expect("a chat id");

    let mut outcomes = Vec::new();
    for fault in Fault::ALL {
        let outcome = e2e::within(&fault.name(), Duration::from_secs(150), async {
            run_case(&mut system, &mut dependencies, &buyer, &master, chat, fault).await
        })
        .await;
        outcomes.push(outcome);
        println!("{}", table(&outcomes));
    }
    println!("faults under load ({} s outages, {CALLERS} callers):\n{}", OUTAGE.as_secs(), table(&outcomes));
}
