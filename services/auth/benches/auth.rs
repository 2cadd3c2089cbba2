//! `make bench` for auth, measured side by side in one run:
//! 1. `GET /users/{id}` with the Redis profile cache vs without it (same service, same data);
//! 2. access-token verifications per second in the platform extractor (with and without the
//!    Redis revocation lookup);
//! 3. argon2id hash time with the production parameters.

use auth::config::{AuthSettings, Config};
use contracts::Role;
use platform::auth::{KeySource, TokenVerifier};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::keys::KEY_1;
use testkit::{TestApp, TestSchema, load, unique_prefix};

const CONCURRENCY: usize = 16;
const RUN: Duration = Duration::from_secs(5);

async fn start(schema: &TestSchema, keys_dir: &std::path::Path, profile_cache_secs: u64) -> TestApp {
    let mut platform = testkit::settings(schema, &unique_prefix());
    platform.http.workers = 2;
    platform.app.log_level = "warn".into();
    let config = Config {
        platform,
        auth: AuthSettings {
            keys_dir: keys_dir.to_string_lossy().into_owned(),
            secure_cookies: false,
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            profile_cache_secs,
            ..AuthSettings::default()
        },
    };
    TestApp::start(auth::build(config).await.expect("auth builds"))
}

async fn verifications_per_second(verifier: Arc<TokenVerifier>) -> f64 {
    let token = testkit::keys::token(42, Role::Master);
    verifier.verify(&token).await.expect("valid token");
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        let batch: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (verifier, token) = (verifier.clone(), token.clone());
                tokio::spawn(async move { verifier.verify(&token).await.expect("valid") })
            })
            .collect();
        for task in batch {
            task.await.expect("verify task");
        }
        count += CONCURRENCY as u64;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let schema = TestSchema::create(&[auth::MIGRATIONS]).await;
    let keys_dir = testkit::keys::keys_dir(&[KEY_1]);
    let cached = start(&schema, &keys_dir, 600).await;
    let uncached = start(&schema, &keys_dir, 0).await;
    let body = serde_json::json!({ "email_or_phone": "bench@mail.kz", "password": "Bench-2024!", "username": "bench_master", "role": "master" });
    let registered: serde_json::Value = reqwest::Client::new()
        .post(cached.url("/api/v2/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = registered["user"]["id"].as_i64().expect("registered");

    let path = format!("/api/v2/users/{id}");
    load::get(&cached.url(&path), None, CONCURRENCY, RUN).await; // warm-up
    let uncached = load::get(&uncached.url(&path), None, CONCURRENCY, RUN).await;
    let cached = load::get(&cached.url(&path), None, CONCURRENCY, RUN).await;
    println!("GET /users/{{id}} uncached: {:>8.0} req/s, p99 {:>6.2} ms", uncached.per_second, uncached.p99_ms());
    println!("GET /users/{{id}} cached:   {:>8.0} req/s, p99 {:>6.2} ms", cached.per_second, cached.p99_ms());
    println!("cached / uncached throughput: {:.2}", cached.per_second / uncached.per_second);

    let settings = testkit::settings(&schema, &unique_prefix());
    let jwks = KeySource::Static(testkit::keys::jwks(&[KEY_1]));
    let redis = platform::redis::pool(&settings.redis).unwrap();
    let with_revocations = Arc::new(TokenVerifier::new(jwks, &settings.jwt, Some(redis)));
    let signature_only =
        Arc::new(TokenVerifier::new(KeySource::Static(testkit::keys::jwks(&[KEY_1])), &settings.jwt, None));
    let full = verifications_per_second(with_revocations).await;
    let bare = verifications_per_second(signature_only).await;
    println!("token verification, signature + Redis revocation check: {full:>8.0} /s");
    println!("token verification, signature only:                     {bare:>8.0} /s");

    let production = AuthSettings::default();
    let hasher =
        auth::domain::password::PasswordHasher::new(production.argon2_memory_kib, production.argon2_iterations)
            .unwrap();
    let memory = &mut auth::domain::password::Memory::default();
    let started = Instant::now();
    for _ in 0..10 {
        hasher.hash("Shkaf-2024", memory).unwrap();
    }
    println!(
        "argon2id m={} KiB t={} p=1: {:.1} ms per hash",
        production.argon2_memory_kib,
        production.argon2_iterations,
        started.elapsed().as_secs_f64() * 100.0
    );
    std::fs::remove_dir_all(keys_dir).ok();
}
