//! Security across the running system: JWT attacks refused by the gateway and by every service
//! behind it, a ban ending a user's tokens everywhere within seconds, and no secret (password,
//! token, key, verification code) in any log.

use contracts::Role;
use e2e::System;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::keys::{self, KEY_1, KEY_2};
use testkit::{ApiClient, error_code};

const PASSWORD: &str = "Sekret-Shkaf-2024";

/// A GET that needs a token, from each service's own API document: the first bearer-secured
/// GET without path parameters that any signed-in user may call. New services join by being in
/// the catalogue.
async fn secured_paths(system: &System) -> Vec<(String, String)> {
    let client = reqwest::Client::new();
    let mut found = Vec::new();
    for process in system.processes.iter().filter(|p| p.spec.schema.is_some()) {
        let Some(document) = process.spec.openapi else { continue };
        let doc: Value = client.get(process.url(document)).send().await.unwrap().json().await.unwrap();
        let path = doc["paths"].as_object().into_iter().flatten().find_map(|(path, operations)| {
            let get = operations.get("get")?;
            let secured = get["security"].as_array().is_some_and(|s| !s.is_empty());
            (secured && !path.contains('{') && !path.contains("/admin/")).then(|| path.clone())
        });
        if let Some(path) = path {
            found.push((process.spec.name.to_owned(), path));
        }
    }
    assert!(found.len() >= 2, "authenticated endpoints of several services: {found:?}");
    found
}

/// `(status, body)` of GET `path` with `token`, at the gateway and at the service itself.
async fn everywhere(system: &System, service: &str, path: &str, token: &str) -> [(String, u16, Value); 2] {
    let direct = ApiClient::new(format!("http://{}", system.process(service).address()));
    let (gateway_status, gateway_body) = system.api.get(path, token).await;
    let (direct_status, direct_body) = direct.get(path, token).await;
    [
        (format!("gateway {path}"), gateway_status, gateway_body),
        (format!("{service} {path}"), direct_status, direct_body),
    ]
}

async fn register(api: &ApiClient, email: &str, username: &str) -> Value {
    let body = json!({ "email_or_phone": email, "password": PASSWORD, "username": username, "role": "buyer" });
    let (status, session) = api.post("/api/v2/auth/register", body).await;
    assert_eq!(status, 201, "{session}");
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_attacks_are_refused_by_the_gateway_and_every_service() {
    let system = System::start().await;
    let session = register(&system.api, "victim@mail.kz", "victim").await;
    let user_id = session["user"]["id"].as_i64().unwrap();
    let valid = session["access_token"].as_str().unwrap().to_owned();
    let claims = keys::claims(user_id, Role::Admin);
    let mut expired = claims.clone();
    (expired.iat, expired.exp) = (expired.iat - 7200, expired.exp - 7200);
    let mut wrong_issuer = claims.clone();
    wrong_issuer.iss = "someone-else".into();
    let mut wrong_audience = claims.clone();
    wrong_audience.aud = "another-app".into();
    let not_yet = {
        let mut value = serde_json::to_value(&claims).unwrap();
        value["nbf"] = (claims.iat + 3600).into();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(KEY_1.0.to_owned());
        jsonwebtoken::encode(&header, &value, &keys::encoding_key(KEY_1)).unwrap()
    };
    let attacks = [
        ("alg none", keys::unsigned_token(&claims), "invalid_token"),
        ("HS256 with the public key", keys::hs256_with_public_key(&claims), "invalid_token"),
        ("a key the system never had (foreign kid)", keys::sign(&claims, KEY_2), "invalid_token"),
        ("expired", keys::sign(&expired, KEY_1), "token_expired"),
        ("not valid yet", not_yet, "invalid_token"),
        ("wrong issuer", keys::sign(&wrong_issuer, KEY_1), "invalid_token"),
        ("wrong audience", keys::sign(&wrong_audience, KEY_1), "invalid_token"),
        ("tampered", format!("{}x", &valid[..valid.len() - 1]), "invalid_token"),
    ];
    for (service, path) in secured_paths(&system).await {
        for (place, status, body) in everywhere(&system, &service, &path, &valid).await {
            assert!(status < 400, "{place}: the real token works: {status} {body}");
        }
        for (attack, token, code) in &attacks {
            for (place, status, body) in everywhere(&system, &service, &path, token).await {
                assert_eq!((status, error_code(&body)), (401, *code), "{place}: {attack}: {body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_users_tokens_stop_working_everywhere_within_seconds() {
    let system = System::start().await;
    let admin_token = e2e::world::admin(&system, "root").await.token;
    let session = register(&system.api, "banned@mail.kz", "banned").await;
    let user_id = session["user"]["id"].as_i64().unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let bystander = register(&system.api, "bystander@mail.kz", "bystander").await;
    let bystander_token = bystander["access_token"].as_str().unwrap().to_owned();
    let paths = secured_paths(&system).await;
    for (service, path) in &paths {
        for (place, status, body) in everywhere(&system, service, path, &token).await {
            assert!(status < 400, "{place} before the ban: {status} {body}");
        }
    }

    let (status, body) = system
        .api
        .post_as(&format!("/api/v2/admin/users/{user_id}/ban"), &admin_token, json!({ "reason": "fraud" }))
        .await;
    assert_eq!(status, 200, "{body}");
    for (service, path) in &paths {
        let (service, path, token) = (service.clone(), path.clone(), token.clone());
        let system = &system;
        testkit::eventually(&format!("{service} refuses the banned user's token"), Duration::from_secs(5), || {
            let (service, path, token) = (service.clone(), path.clone(), token.clone());
            async move {
                everywhere(system, &service, &path, &token)
                    .await
                    .iter()
                    .all(|(_, status, body)| *status == 401 && error_code(body) == "token_revoked")
            }
        })
        .await;
        for (place, status, body) in everywhere(system, &service, &path, &bystander_token).await {
            assert!(status < 400, "{place}: other users are untouched: {status} {body}");
        }
    }
    let refresh = session["refresh_token"].as_str().unwrap();
    let (status, body) = system.api.post("/api/v2/auth/refresh", json!({ "refresh_token": refresh })).await;
    assert_eq!(status, 401, "no new tokens either: {body}");
    let (status, body) = system
        .api
        .post("/api/v2/auth/login", json!({ "email_or_phone": "banned@mail.kz", "password": PASSWORD }))
        .await;
    assert_eq!((status, error_code(&body)), (403, "account_banned"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_code_or_key_reaches_any_log() {
    let mut options = e2e::system::Options::default();
    for program in e2e::system::programs() {
        options.env.insert(program.name, vec![("LOG_LEVEL".into(), "debug".into())]);
    }
    let system = System::start_with(options).await;
    let session = register(&system.api, "+7 700 123 45 67", "secretive").await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = system.api.post("/api/v2/auth/refresh", json!({ "refresh_token": refresh })).await;
    assert_eq!(status, 200, "{rotated}");
    let (status, _) = system
        .api
        .post("/api/v2/auth/login", json!({ "email_or_phone": "+77001234567", "password": "Wrong-Sekret-1" }))
        .await;
    assert_eq!(status, 401);
    let (status, _) = system.api.get("/api/v2/users/me", &access).await;
    assert_eq!(status, 200);
    let bad =
        system.api.client.get(system.api.url("/api/v2/users/me")).header("cookie", format!("access_token={access}x"));
    assert_eq!(system.api.send(bad).await.0, 401);
    let logout = system
        .api
        .client
        .post(system.api.url("/api/v2/auth/logout"))
        .bearer_auth(rotated["access_token"].as_str().unwrap())
        .json(&json!({ "refresh_token": rotated["refresh_token"] }));
    assert_eq!(system.api.send(logout).await.0, 204);
    // Let the relays and consumers log what they do with the events of all this.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let code = recorded_sms_code(&system, "77001234567").await;
    let logs = system.all_logs();
    assert!(logs.lines().count() > 20, "the services logged something: {logs}");
    let key_body: String =
        String::from_utf8_lossy(KEY_1.1).lines().filter(|l| !l.starts_with("-----")).take(1).collect();
    let secrets = [
        ("a password", PASSWORD.to_owned()),
        ("a wrong password", "Wrong-Sekret-1".to_owned()),
        ("an access token", access.clone()),
        ("an access token's signature", access.rsplit('.').next().unwrap().to_owned()),
        ("a refresh token", refresh),
        ("a rotated refresh token", rotated["refresh_token"].as_str().unwrap().to_owned()),
        ("the signing key", key_body),
        ("a verification code", code),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(&secret), "{what} is in the logs:\n{}", lines_with(&logs, &secret));
    }
}

/// The verification code sent by SMS to `phone` (notification records messages in this mode).
async fn recorded_sms_code(system: &System, phone: &str) -> String {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = Text)]
        body: String,
    }
    let (_, schema) = system.schemas().find(|(name, _)| *name == "notification").expect("notification's schema");
    let mut conn = schema.connect().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let recorded: Vec<Recorded> = diesel::sql_query(
            "SELECT body FROM recorded_messages WHERE channel = 'sms' AND destination LIKE '%' || $1",
        )
        .bind::<Text, _>(phone)
        .load(&mut conn)
        .await
        .expect("recorded messages");
        let code = recorded.iter().find_map(|r| r.body.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6));
        if let Some(code) = code {
            return code.to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "no SMS with a code to {phone}: {:?}", recorded.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn lines_with(logs: &str, needle: &str) -> String {
    logs.lines().filter(|l| l.contains(needle)).take(5).collect::<Vec<_>>().join("\n")
}
