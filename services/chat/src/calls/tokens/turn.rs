//! TURN REST credentials (draft-uberti-behave-turn-rest, coturn's `use-auth-secret`): the
//! username is `{expiry}:{user_id}` and the password base64(HMAC-SHA1(secret, username)), so
//! coturn checks them with the shared secret alone and refuses them after the expiry.

use super::{IceServer, TokenError};
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha1::Sha1;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TurnSettings {
    /// coturn's `static-auth-secret`.
    pub secret: SecretString,
    /// TURN servers, e.g. `turn:turn.example.com:3478?transport=udp`; the credentials go with them.
    pub urls: Vec<String>,
    /// STUN servers, given without credentials.
    pub stun_urls: Vec<String>,
}

impl Default for TurnSettings {
    /// The coturn `scripts/infra-up` starts (its secret still has to be set).
    fn default() -> Self {
        Self {
            secret: SecretString::default(),
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into(), "turn:127.0.0.1:3478?transport=tcp".into()],
            stun_urls: vec!["stun:127.0.0.1:3478".into()],
        }
    }
}

/// The username and password coturn accepts for `user_id` until `expires_at` (unix seconds).
fn credentials(secret: &str, user_id: i64, expires_at: i64) -> (String, String) {
    let username = format!("{expires_at}:{user_id}");
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

/// The STUN servers, then the TURN servers with credentials for `user_id`.
pub(super) fn ice_servers(
    settings: &TurnSettings,
    user_id: i64,
    expires_at: i64,
) -> Result<Vec<IceServer>, TokenError> {
    let secret = settings.secret.expose_secret();
    if secret.is_empty() {
        return Err(TokenError::NotConfigured("turn.secret"));
    }
    if settings.urls.is_empty() {
        return Err(TokenError::NotConfigured("turn.urls"));
    }
    let (username, password) = credentials(secret, user_id, expires_at);
    let mut servers = Vec::with_capacity(2);
    if !settings.stun_urls.is_empty() {
        servers.push(IceServer { urls: settings.stun_urls.clone(), username: None, credential: None });
    }
    servers.push(IceServer { urls: settings.urls.clone(), username: Some(username), credential: Some(password) });
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_match_a_hand_computed_vector() {
        // printf '%s' '1700003600:42' | openssl dgst -sha1 -hmac mebelplace-dev-turn-secret -binary | base64
        let (username, password) = credentials("mebelplace-dev-turn-secret", 42, 1_700_003_600);
        assert_eq!(username, "1700003600:42");
        assert_eq!(password, "MR3RC/Y7VWFTAzukV7wTKzrA+Lc=");
    }

    #[test]
    fn stun_servers_come_without_credentials_and_turn_servers_with_them() {
        let settings = TurnSettings { secret: "s3cret".into(), ..Default::default() };
        let servers = ice_servers(&settings, 42, 1_700_003_600).unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].urls, ["stun:127.0.0.1:3478"]);
        assert!(servers[0].username.is_none() && servers[0].credential.is_none());
        assert_eq!(servers[1].urls.len(), 2);
        let (username, password) = credentials("s3cret", 42, 1_700_003_600);
        assert_eq!(servers[1].username.as_ref(), Some(&username));
        assert_eq!(servers[1].credential.as_ref(), Some(&password));
    }

    #[test]
    fn without_stun_urls_only_turn_is_offered() {
        let settings = TurnSettings { secret: "s3cret".into(), stun_urls: Vec::new(), ..Default::default() };
        assert_eq!(ice_servers(&settings, 42, 1).unwrap().len(), 1);
    }

    #[test]
    fn without_turn_urls_it_is_not_configured() {
        let settings = TurnSettings { secret: "s3cret".into(), urls: Vec::new(), ..Default::default() };
        assert!(matches!(ice_servers(&settings, 42, 1), Err(TokenError::NotConfigured("turn.urls"))));
    }
}
