//! Test signing keys (never used outside tests) and access tokens made with them, including
//! the malformed kinds a verifier must reject.

use contracts::{Claims, Role};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

pub const KEY_1: (&str, &[u8]) = ("test-key-1", include_bytes!("../keys/test-key-1.pem"));
pub const KEY_2: (&str, &[u8]) = ("test-key-2", include_bytes!("../keys/test-key-2.pem"));
pub const ISSUER: &str = "mebelplace-auth";
pub const AUDIENCE: &str = "mebelplace";

/// A fresh folder holding the given keys as `<kid>.pem` (the auth service's keys folder).
pub fn keys_dir(keys: &[(&str, &[u8])]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mebelplace-keys-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    for (kid, pem) in keys {
        std::fs::write(dir.join(format!("{kid}.pem")), pem).expect("a key file");
    }
    dir
}

pub fn encoding_key(key: (&str, &[u8])) -> EncodingKey {
    EncodingKey::from_rsa_pem(key.1).expect("test key is a valid RSA PEM")
}

pub fn jwk(key: (&str, &[u8])) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(&encoding_key(key), Algorithm::RS256).expect("RSA key makes a JWK");
    jwk.common.key_id = Some(key.0.to_owned());
    jwk
}

pub fn jwks(keys: &[(&str, &[u8])]) -> JwkSet {
    JwkSet { keys: keys.iter().map(|k| jwk(*k)).collect() }
}

/// Valid claims for `user_id`, expiring in 15 minutes.
pub fn claims(user_id: i64, role: Role) -> Claims {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    Claims {
        sub: user_id.to_string(),
        role,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + 900,
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
    }
}

pub fn sign(claims: &Claims, key: (&str, &[u8])) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.0.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding_key(key)).expect("signing works")
}

pub fn token(user_id: i64, role: Role) -> String {
    sign(&claims(user_id, role), KEY_1)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `alg: none` with no signature.
pub fn unsigned_token(claims: &Claims) -> String {
    let header = serde_json::json!({ "alg": "none", "typ": "JWT", "kid": KEY_1.0 });
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(serde_json::to_string(claims).expect("claims").as_bytes())
    )
}

/// HS256 signed with the RSA public key as the HMAC secret (the key-confusion attack).
pub fn hs256_with_public_key(claims: &Claims) -> String {
    let jwk = jwk(KEY_1);
    let public = serde_json::to_vec(&jwk).expect("jwk json");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KEY_1.0.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&public)).expect("hs256 signing")
}
