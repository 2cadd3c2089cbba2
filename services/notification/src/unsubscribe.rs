//! One-click unsubscribe links (RFC 8058): a signed token names the user and the kind of mail.

use crate::domain::Kind;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

#[derive(Clone)]
pub struct Unsubscribe {
    secret: SecretString,
    base_url: String,
}

impl Unsubscribe {
    pub fn new(secret: SecretString, base_url: &str) -> Self {
        Self { secret, base_url: base_url.trim_end_matches('/').to_owned() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes()).expect("HMAC takes any key length")
    }

    pub fn token(&self, user_id: i64, kind: Kind) -> String {
        let claim = format!("{user_id}.{}", kind.as_str());
        let mut mac = self.mac();
        mac.update(claim.as_bytes());
        let signature = &mac.finalize().into_bytes()[..16];
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&claim), URL_SAFE_NO_PAD.encode(signature))
    }

    /// The user and kind a genuine token names.
    pub fn verify(&self, token: &str) -> Option<(i64, Kind)> {
        let (claim, signature) = token.split_once('.')?;
        let claim = String::from_utf8(URL_SAFE_NO_PAD.decode(claim).ok()?).ok()?;
        let mut mac = self.mac();
        mac.update(claim.as_bytes());
        mac.verify_truncated_left(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
        let (user, kind) = claim.split_once('.')?;
        Some((user.parse().ok()?, Kind::parse(kind)?))
    }

    pub fn link(&self, user_id: i64, kind: Kind) -> String {
        format!("{}/api/v2/notifications/unsubscribe?token={}", self.base_url, self.token(user_id, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_forgeries_do_not() {
        let links = Unsubscribe::new(SecretString::from("secret"), "https://mebelplace.com.kz/");
        let token = links.token(42, Kind::Like);
        assert_eq!(links.verify(&token), Some((42, Kind::Like)));
        // The documented shape (http/unsubscribe.rs): base64url claim, '.', 22 characters.
        let (claim, signature) = token.split_once('.').unwrap();
        assert_eq!(signature.len(), 22);
        assert!(format!("{claim}{signature}").bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode("43.like"), token.split_once('.').unwrap().1);
        assert_eq!(links.verify(&forged), None);
        assert_eq!(links.verify("garbage"), None);
        let other = Unsubscribe::new(SecretString::from("other"), "x");
        assert_eq!(other.verify(&token), None);
        assert!(
            links.link(42, Kind::Like).starts_with("https://mebelplace.com.kz/api/v2/notifications/unsubscribe?token=")
        );
    }
}
