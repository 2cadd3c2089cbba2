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
}
