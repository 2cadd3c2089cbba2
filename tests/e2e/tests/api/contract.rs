//! The contract of events: proto/, the `event_types!` table, docs/events.md and the running
//! services must agree. Every event is in the envelope, documented on its topic with its
//! producer and consumers, produced by the topic's owner, and consumed by exactly the services
//! the catalogue says (their `/health` lists their consumers).

use contracts::events::ALL_EVENT_TYPES;
use contracts::services::{self, CATALOGUE};
use contracts::topics;
use e2e::System;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Events that travel only over NATS, never Kafka (docs/events.md says so).
const NATS_ONLY: &[&str] = &["chat.typing", "video.analysis_requested"];

/// Events whose producer exists but does not make them yet: calls and support tickets are
/// part 2 of the chat service (issue 14).
const NOT_YET_PRODUCED: &[&str] = &[
    "call.initiated",
    "call.answered",
    "call.ended",
    "call.missed",
    "ticket.created",
    "ticket.replied",
    "ticket.status_changed",
];

/// One row of the topic table in docs/events.md.
#[derive(Debug)]
struct DocumentedTopic {
    events: BTreeSet<String>,
    producer: String,
    consumers: BTreeSet<String>,
}

fn documented_topics() -> BTreeMap<String, DocumentedTopic> {
    let catalogue = std::fs::read_to_string(root().join("docs/events.md")).expect("docs/events.md");
    let cells =
        |line: &str| -> Vec<String> { line.trim().trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect() };
    let list = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|item| item.split_whitespace().next().unwrap_or_default().trim_matches('`').to_owned())
            .filter(|item| !item.is_empty())
            .collect()
    };
    catalogue
        .lines()
        .filter(|line| line.starts_with("| `mebelplace."))
        .map(|line| {
            let cells = cells(line);
            let topic = cells[0].split('`').nth(1).unwrap_or_default().to_owned();
            (topic, DocumentedTopic { events: list(&cells[1]), producer: cells[2].clone(), consumers: list(&cells[3]) })
        })
        .collect()
}

fn envelope_payloads() -> BTreeSet<String> {
    let envelope =
        std::fs::read_to_string(root().join("proto/mebelplace/events/v1/envelope.proto")).expect("envelope.proto");
    let oneof = envelope.split("oneof payload").nth(1).expect("a payload oneof");
    oneof
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (message, _field, eq) = (words.next()?, words.next()?, words.next()?);
            (eq == "=").then(|| message.to_owned())
        })
        .collect()
}

/// All Rust sources under `dir`.
fn sources(dir: &Path) -> String {
    let mut text = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return text };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    text
}

#[test]
fn every_event_is_in_the_envelope_and_documented_on_its_topic() {
    let payloads: BTreeSet<String> = ALL_EVENT_TYPES.iter().map(|e| e.payload.to_owned()).collect();
    assert_eq!(payloads, envelope_payloads(), "event_types! and the envelope's oneof list the same payloads");
    let documented = documented_topics();
    assert_eq!(
        documented.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        topics::ALL.iter().copied().collect(),
        "docs/events.md has a row for every topic and no other"
    );
    for topic in topics::ALL {
        let row = &documented[*topic];
        let events: BTreeSet<String> = ALL_EVENT_TYPES
            .iter()
            .filter(|e| e.topic == *topic && !NATS_ONLY.contains(&e.name))
            .map(|e| e.name.to_owned())
            .collect();
        assert_eq!(row.events, events, "the events of {topic} in docs/events.md");
        let owner = services::owner_of(topic).map_or("any service", |s| s.name);
        assert_eq!(row.producer, owner, "the producer of {topic}: the catalogue's owner");
    }
}

#[test]
fn every_event_is_produced_by_the_owner_of_its_topic() {
    let services_dir = root().join("services");
    let everywhere = sources(&root().join("services")) + &sources(&root().join("crates"));
    for event in ALL_EVENT_TYPES {
        let constructed = format!("{} {{", event.payload);
        match services::owner_of(event.topic) {
            Some(owner) if NOT_YET_PRODUCED.contains(&event.name) => {
                println!("{} not checked: {} does not make it yet", event.name, owner.name)
            }
            Some(owner) if services_dir.join(owner.name).exists() => {
                let code = sources(&services_dir.join(owner.name).join("src"));
                assert!(
                    code.contains(&constructed),
                    "{} ({}) is never made by {}",
                    event.name,
                    event.payload,
                    owner.name
                );
            }
            Some(owner) => println!("{} not checked: {} is not in this checkout yet", event.name, owner.name),
            None => assert!(everywhere.contains(&constructed), "{} is never produced", event.name),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_services_consume_what_the_catalogue_says() {
    let system = System::start().await;
    let mut consumed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for process in system.processes.iter().filter(|p| p.spec.schema.is_some()) {
        let health: serde_json::Value =
            reqwest::get(process.url("/health")).await.expect("health answers").json().await.expect("json");
        for consumer in health["consumers"].as_array().into_iter().flatten() {
            let group = consumer["group"].as_str().unwrap_or_default();
            assert!(group.starts_with(&format!("{}.", process.spec.name)), "{group} is named after its service");
            for topic in consumer["topics"].as_array().into_iter().flatten() {
                consumed
                    .entry(topic.as_str().unwrap_or_default().to_owned())
                    .or_default()
                    .insert(process.spec.name.into());
            }
        }
    }
    let running: BTreeSet<&str> = system.processes.iter().map(|p| p.spec.name).collect();
    for (topic, row) in documented_topics() {
        let expected: BTreeSet<String> =
            row.consumers.iter().filter(|c| running.contains(c.as_str())).cloned().collect();
        let actual = consumed.remove(&topic).unwrap_or_default();
        assert_eq!(actual, expected, "consumers of {topic} (running: {running:?})");
        let absent: Vec<&String> = row.consumers.iter().filter(|c| !running.contains(c.as_str())).collect();
        if !absent.is_empty() {
            println!("{topic}: {absent:?} not in this checkout yet");
        }
    }
    assert!(consumed.is_empty(), "consumed but not in docs/events.md: {consumed:?}");
    assert_eq!(CATALOGUE.last().map(|s| s.name), Some("gateway"));
}
