//! Twilio Access Tokens for Programmable Video: an HS256 JWT signed with an API key's secret,
//! its header marked `cty: twilio-fpa;v=1`, granting the identity one room
//! (https://www.twilio.com/docs/iam/access-tokens).

use super::TokenError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TwilioSettings {
    /// The account, `AC…`.
    pub account_sid: String,
    /// The API key that signs, `SK…`.
    pub api_key_sid: String,
    pub api_key_secret: SecretString,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    jti: String,
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
    grants: Grants,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Grants {
    identity: String,
    video: VideoGrant,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct VideoGrant {
    room: String,
}

/// A token letting user `user_id` (the identity) into room `room` until `expires_at`.
pub(super) fn access_token(
    settings: &TwilioSettings,
    room: &str,
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<String, TokenError> {
    let secret = settings.api_key_secret.expose_secret();
    for (value, name) in [
        (settings.account_sid.as_str(), "twilio.account_sid"),
        (settings.api_key_sid.as_str(), "twilio.api_key_sid"),
        (secret, "twilio.api_key_secret"),
    ] {
        if value.is_empty() {
            return Err(TokenError::NotConfigured(name));
        }
    }
    let claims = Claims {
        jti: format!("{}-{now}", settings.api_key_sid),
        iss: settings.api_key_sid.clone(),
        sub: settings.account_sid.clone(),
        iat: now,
        exp: expires_at,
        grants: Grants { identity: user_id.to_string(), video: VideoGrant { room: room.to_owned() } },
    };
    let mut header = Header::new(Algorithm::HS256);
    header.cty = Some("twilio-fpa;v=1".to_owned());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).map_err(TokenError::Signing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const KEY: &str = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const NOW: i64 = 1_700_000_000;

    fn settings() -> TwilioSettings {
        TwilioSettings { account_sid: ACCOUNT.into(), api_key_sid: KEY.into(), api_key_secret: "key-secret".into() }
    }

    fn validation() -> Validation {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // the token was made for a fixed moment in the past
        validation.set_issuer(&[KEY]);
        validation.sub = Some(ACCOUNT.to_owned());
        validation
    }

    #[test]
    fn token_is_signed_with_the_key_secret_and_grants_the_room() {
        let token = access_token(&settings(), "call-7", 42, NOW, NOW + 3600).unwrap();
        let decoded =
            jsonwebtoken::decode::<Claims>(&token, &DecodingKey::from_secret(b"key-secret"), &validation()).unwrap();
        assert_eq!(decoded.header.alg, Algorithm::HS256);
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
        assert_eq!(decoded.header.cty.as_deref(), Some("twilio-fpa;v=1"));
        let expected = Claims {
            jti: format!("{KEY}-{NOW}"),
            iss: KEY.into(),
            sub: ACCOUNT.into(),
            iat: NOW,
            exp: NOW + 3600,
            grants: Grants { identity: "42".into(), video: VideoGrant { room: "call-7".into() } },
        };
        assert_eq!(decoded.claims, expected);
    }

    #[test]
    fn another_secret_does_not_verify_it() {
        let token = access_token(&settings(), "call-7", 42, NOW, NOW + 3600).unwrap();
        let result = jsonwebtoken::decode::<Claims>(&token, &DecodingKey::from_secret(b"other"), &validation());
        assert!(matches!(result.unwrap_err().kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature));
    }

    #[test]
    fn every_setting_is_needed() {
        let cases = [
            (TwilioSettings { account_sid: String::new(), ..settings() }, "twilio.account_sid"),
            (TwilioSettings { api_key_sid: String::new(), ..settings() }, "twilio.api_key_sid"),
            (TwilioSettings { api_key_secret: "".into(), ..settings() }, "twilio.api_key_secret"),
        ];
        for (settings, missing) in cases {
            let result = access_token(&settings, "call-7", 42, NOW, NOW + 3600);
            assert!(matches!(result, Err(TokenError::NotConfigured(name)) if name == missing), "{missing}");
        }
    }
}
