//! Access tokens (RS256 JWT) and opaque refresh tokens (random, stored only as a hash).

use crate::keys::KeyRing;
use base64::Engine;
use contracts::{Claims, Role};
use jsonwebtoken::{Algorithm, Header};
use rsa::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub fn access_token(
    keys: &KeyRing,
    jwt: &platform::config::JwtSettings,
    ttl_secs: i64,
    user_id: i64,
    role: Role,
) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user_id.to_string(),
        role,
        jti: uuid::Uuid::now_v7().to_string(),
        iat: now,
        exp: now + ttl_secs,
        iss: jwt.issuer.clone(),
        aud: jwt.audience.clone(),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(keys.active_kid().to_owned());
    Ok(jsonwebtoken::encode(&header, &claims, keys.signing_key())?)
}

/// A new refresh token and the hash to store.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The successor of a rotated token, sealed so that only a holder of the rotated token can
/// read it: XOR with a one-time pad derived from the rotated token (each pad seals one value).
pub fn seal_successor(rotated: &str, successor: &str) -> Option<Vec<u8>> {
    let successor = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(successor).ok()?;
    let pad = successor_pad(rotated);
    (successor.len() == pad.len()).then(|| successor.iter().zip(pad).map(|(a, b)| a ^ b).collect())
}

pub fn unseal_successor(rotated: &str, sealed: &[u8]) -> Option<String> {
    let pad = successor_pad(rotated);
    (sealed.len() == pad.len()).then(|| {
        let successor: Vec<u8> = sealed.iter().zip(pad).map(|(a, b)| a ^ b).collect();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(successor)
    })
}

fn successor_pad(rotated: &str) -> [u8; 32] {
    Sha256::new().chain_update(b"mebelplace refresh successor\0").chain_update(rotated.as_bytes()).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_refresh_token(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }

    #[test]
    fn a_sealed_successor_opens_only_with_the_rotated_token() {
        let (rotated, _) = new_refresh_token();
        let (successor, _) = new_refresh_token();
        let sealed = seal_successor(&rotated, &successor).unwrap();
        assert_eq!(unseal_successor(&rotated, &sealed).as_deref(), Some(successor.as_str()));
        let (other, _) = new_refresh_token();
        assert_ne!(unseal_successor(&other, &sealed).as_deref(), Some(successor.as_str()));
        assert_eq!(seal_successor(&rotated, "not base64!"), None);
    }
}
