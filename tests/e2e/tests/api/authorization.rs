//! The authorization matrix: every operation of the gateway's merged OpenAPI document, called by
//! every persona with the owner's resources in the path. Whoever the table in `access.rs` does
//! not allow gets 401 (anonymous) or 403/404 and changes nothing in any database; whoever it
//! allows is not turned away; nobody ever sees a secret that is not theirs.

use crate::access::{RULES, Rule, concrete_path, rule_for};
use e2e::database;
use e2e::world::{Persona, World};
use e2e::{System, within};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// Operations of the merged document: `(METHOD, path)`.
pub async fn operations(system: &System) -> Vec<(String, String)> {
    let (status, document) = system.api.get_public("/api/v2/openapi.json").await;
    assert_eq!(status, 200, "the gateway serves the merged document: {document}");
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

async fn call(system: &System, world: &World, persona: Persona, rule: &Rule) -> (u16, Value) {
    let method = Method::from_bytes(rule.method.as_bytes()).expect("an HTTP method");
    let mut request = system.api.client.request(method.clone(), system.api.url(&concrete_path(rule.path, world)));
    for (name, value) in rule.headers {
        request = request.header(*name, *value);
    }
    if let Some(token) = world.token(persona) {
        request = request.bearer_auth(token);
    }
    let body = (rule.body)(world);
    if method != Method::GET && method != Method::DELETE && !body.is_null() {
        request = request.json(&body);
    }
    let started = std::time::Instant::now();
    let answer = system.api.send(request).await;
    if started.elapsed() > SLOW_CALL {
        println!("slow: {} {} as {persona:?} took {:?}", rule.method, rule.path, started.elapsed());
    }
    answer
}

/// How often the refused calls are made while events of the world are still being consumed.
const REFUSAL_ATTEMPTS: usize = 3;

/// A call slower than this is printed (a stuck suite then says where it was).
const SLOW_CALL: Duration = Duration::from_secs(2);

/// What one persona must never read: `(secret, who may see it)`.
fn secrets(world: &World) -> Vec<(String, &'static [Persona])> {
    vec![
        (world.proposal_message.clone(), &[Persona::Owner, Persona::Master, Persona::Admin]),
        (world.owner.login.clone(), &[Persona::Owner, Persona::Admin]),
        (world.other_buyer.login.clone(), &[Persona::OtherBuyer, Persona::Admin]),
        (world.master.login.clone(), &[Persona::Master, Persona::Admin]),
        (world.other_master.login.clone(), &[Persona::OtherMaster, Persona::Admin]),
    ]
}

/// Doors that check credentials in the body (sign-in, refresh): a 401 there is an answer, not
/// a refusal of the caller.
fn checks_credentials_itself(path: &str) -> bool {
    path.starts_with("/api/v2/auth/") && !path.ends_with("openapi.json")
}

#[derive(Default)]
struct Report {
    calls: usize,
    findings: Vec<String>,
}

impl Report {
    fn check(&mut self, world: &World, persona: Persona, rule: &Rule, status: u16, body: &Value) {
        self.calls += 1;
        let allowed = rule.may.contains(&persona);
        let what = format!("{} {} as {persona:?} → {status}", rule.method, rule.path);
        if !allowed && persona == Persona::Anonymous && status != 401 {
            self.findings.push(format!("{what}: anonymous callers get 401 here ({body})"));
        } else if !allowed && !matches!(status, 401 | 403 | 404) {
            self.findings.push(format!("{what}: a leak, 401/403/404 was due ({body})"));
        } else if allowed && (matches!(status, 403 | 405) || status == 404 && rule.exists)
            || allowed && status == 401 && !checks_credentials_itself(rule.path)
        {
            self.findings.push(format!("{what}: turned away although allowed ({body})"));
        } else if status >= 500 {
            self.findings.push(format!("{what}: a server error ({body})"));
        }
        let text = body.to_string();
        for (secret, may_see) in secrets(world) {
            if text.contains(&secret) && !may_see.contains(&persona) {
                self.findings.push(format!("{what}: shows {secret:?}, which is not theirs"));
            }
        }
    }
}

#[tokio::test]
async fn every_operation_refuses_everyone_the_table_does_not_allow() {
    let system = within("the system starts", Duration::from_secs(120), System::start()).await;
    let world = within("the world is made", Duration::from_secs(120), World::create(&system)).await;
    let operations = operations(&system).await;

    let missing: Vec<String> = operations
        .iter()
        .filter(|(method, path)| rule_for(method, path).is_none())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "operations nobody decided who may call (add them to access.rs): {missing:#?}");
    let stale: Vec<String> = RULES
        .iter()
        .filter(|rule| !operations.iter().any(|(m, p)| m == rule.method && p == rule.path))
        .map(|rule| format!("{} {}", rule.method, rule.path))
        .collect();
    assert!(stale.is_empty(), "rules for operations the document no longer has: {stale:#?}");

    // A refused call never consumes an event, so a changed `inbox` means the system was still
    // catching up with the world's events (a loaded broker delivers in hops of seconds): the
    // refused calls are made again on a quieter system, up to three times.
    let mut report = Report::default();
    let mut written = Vec::new();
    for attempt in 1..=REFUSAL_ATTEMPTS {
        report = Report::default();
        let before = within("the databases settle", Duration::from_secs(60), database::settled(&system)).await;
        within("refused callers are turned away", Duration::from_secs(180), async {
            for rule in RULES {
                for persona in Persona::ALL.into_iter().filter(|p| !rule.may.contains(p)) {
                    let (status, body) = call(&system, &world, persona, rule).await;
                    report.check(&world, persona, rule, status, &body);
                }
            }
        })
        .await;
        let after = within("the databases settle again", Duration::from_secs(60), database::settled(&system)).await;
        written = database::changed(&before, &after);
        let consuming = written.iter().any(|table| table.ends_with(".inbox"));
        if !consuming || attempt == REFUSAL_ATTEMPTS {
            break;
        }
        println!("events were still being consumed ({written:?}); the refused calls again");
    }
    let refused = report.calls;

    // Reads first, then writes in the table's order (it closes before it reopens, and accepts
    // last), signing out at the very end, so that what one allowed call changes does not hide
    // another's answer.
    let signs_out = |r: &&Rule| r.path == "/api/v2/auth/logout";
    let reads = RULES.iter().filter(|r| r.method == "GET");
    let writes = RULES.iter().filter(|r| r.method != "GET" && !signs_out(r));
    within("allowed callers are served", Duration::from_secs(120), async {
        for rule in reads.chain(writes).chain(RULES.iter().filter(signs_out)) {
            for persona in Persona::ALL.into_iter().filter(|p| rule.may.contains(p)) {
                let (status, body) = call(&system, &world, persona, rule).await;
                report.check(&world, persona, rule, status, &body);
            }
        }
    })
    .await;

    println!(
        "authorization matrix: {} operations × {} personas: {refused} refused calls, {} allowed calls, \
         {} findings, {} tables written by refused callers",
        operations.len(),
        Persona::ALL.len(),
        report.calls - refused,
        report.findings.len(),
        written.len(),
    );
    assert!(written.is_empty(), "callers who were refused changed {written:?}");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}
