//! TURN credentials from `tokens::issue` against the real coturn of `scripts/infra-up`: coturn
//! allocates with fresh ones and refuses expired, forged and altered ones.

use chat::calls::tokens::{self, Provider, TokenSettings, TurnSettings, WebRtcToken};

const CALL: i64 = 7;
const USER: i64 = 42;

fn settings(secret: &str) -> TokenSettings {
    let turn =
        TurnSettings { secret: secret.to_owned().into(), urls: vec![testkit::turn::url()], stun_urls: Vec::new() };
    TokenSettings { provider: Provider::Turn, ttl_secs: 600, turn, ..Default::default() }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The username and password the token carries for the TURN server.
fn credentials(token: &WebRtcToken) -> (String, String) {
    let server = token.ice_servers.iter().find(|server| server.username.is_some()).expect("a TURN server");
    (server.username.clone().unwrap(), server.credential.clone().unwrap())
}

async fn allocates(username: &str, password: &str) -> bool {
    testkit::turn::allocate(&testkit::turn::addr(), username, password).await.expect("coturn answers")
}

#[tokio::test]
async fn issued_credentials_allocate() {
    let token = tokens::issue(&settings(&testkit::turn::secret()), CALL, USER, now()).unwrap();
    let (username, password) = credentials(&token);
    assert_eq!(username, format!("{}:{USER}", token.expires_at));
    assert!(allocates(&username, &password).await);
}

#[tokio::test]
async fn expired_credentials_are_refused() {
    let issued_long_ago = now() - 3600;
    let token = tokens::issue(&settings(&testkit::turn::secret()), CALL, USER, issued_long_ago).unwrap();
    assert!(token.expires_at < now());
    let (username, password) = credentials(&token);
    assert!(!allocates(&username, &password).await);
}

#[tokio::test]
async fn credentials_signed_with_another_secret_are_refused() {
    let token = tokens::issue(&settings("not-the-server-secret"), CALL, USER, now()).unwrap();
    let (username, password) = credentials(&token);
    assert!(!allocates(&username, &password).await);
}

#[tokio::test]
async fn a_username_changed_after_issue_is_refused() {
    let token = tokens::issue(&settings(&testkit::turn::secret()), CALL, USER, now()).unwrap();
    let (username, password) = credentials(&token);
    let other_user = username.replace(&format!(":{USER}"), ":43");
    assert!(!allocates(&other_user, &password).await, "another user's name");
    let later = format!("{}:{USER}", token.expires_at + 86_400);
    assert!(!allocates(&later, &password).await, "a later expiry");
}
