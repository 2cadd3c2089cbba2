//! WebRTC credentials for a call participant, from the configured provider: TURN REST
//! credentials for our own coturn, an Agora AccessToken2, or a Twilio Access Token. Pure:
//! the caller passes the clock, nothing here does I/O.

mod agora;
mod turn;
mod twilio;

pub use agora::AgoraSettings;
pub use turn::TurnSettings;
pub use twilio::TwilioSettings;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who carries the call's media.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Plain WebRTC through our coturn.
    #[default]
    Turn,
    Agora,
    Twilio,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    pub provider: Provider,
    /// Credentials are good for this long after they are issued.
    pub ttl_secs: u64,
    pub turn: TurnSettings,
    pub agora: AgoraSettings,
    pub twilio: TwilioSettings,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            provider: Provider::default(),
            ttl_secs: 3600,
            turn: TurnSettings::default(),
            agora: AgoraSettings::default(),
            twilio: TwilioSettings::default(),
        }
    }
}

/// An ICE server as `RTCPeerConnection`'s `iceServers` takes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

/// What a participant needs to join the call's media session.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebRtcToken {
    pub provider: Provider,
    /// The Agora or Twilio token; null for TURN, whose credentials are in `ice_servers`.
    pub token: Option<String>,
    /// The provider's channel (Agora) or room (Twilio): `call-{call_id}`.
    pub channel: String,
    /// The participant's id in the channel: the user's id.
    pub uid: i64,
    /// Unix seconds after which the provider refuses these credentials.
    pub expires_at: i64,
    /// STUN and TURN servers for plain WebRTC; empty for Agora and Twilio, whose SDKs bring
    /// their own.
    pub ice_servers: Vec<IceServer>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The selected provider's secret or id is empty.
    #[error("calls are not configured: {0} is empty")]
    NotConfigured(&'static str),
    #[error("calls are misconfigured: {0} is malformed")]
    Malformed(&'static str),
    /// A value the provider's token cannot carry (Agora: 32-bit uids and timestamps).
    #[error("{what} {value} is out of the provider's range")]
    OutOfRange { what: &'static str, value: i64 },
    #[error("cannot sign the Twilio access token")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Credentials for `user_id` on call `call_id`, valid from `now_unix` for `ttl_secs`.
pub fn issue(settings: &TokenSettings, call_id: i64, user_id: i64, now_unix: i64) -> Result<WebRtcToken, TokenError> {
    let ttl = i64::try_from(settings.ttl_secs).unwrap_or(i64::MAX);
    let channel = format!("call-{call_id}");
    let expires_at = now_unix.saturating_add(ttl);
    let (token, ice_servers) = match settings.provider {
        Provider::Turn => (None, turn::ice_servers(&settings.turn, user_id, expires_at)?),
        Provider::Agora => {
            let token =
                agora::rtc_token(&settings.agora, &channel, user_id, now_unix, ttl, fastrand::u32(1..=99_999_999))?;
            (Some(token), Vec::new())
        }
        Provider::Twilio => {
            (Some(twilio::access_token(&settings.twilio, &channel, user_id, now_unix, expires_at)?), Vec::new())
        }
    };
    Ok(WebRtcToken { provider: settings.provider, token, channel, uid: user_id, expires_at, ice_servers })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn default_provider_is_turn_and_needs_its_secret() {
        let settings = TokenSettings::default();
        assert_eq!(settings.provider, Provider::Turn);
        assert!(matches!(issue(&settings, 7, 42, NOW), Err(TokenError::NotConfigured("turn.secret"))));
    }

    #[test]
    fn turn_credentials_expire_with_the_ttl() {
        let mut settings = TokenSettings { ttl_secs: 600, ..Default::default() };
        settings.turn.secret = "s3cret".into();
        let token = issue(&settings, 7, 42, NOW).unwrap();
        assert_eq!(
            (token.provider, token.token, token.channel.as_str(), token.uid),
            (Provider::Turn, None, "call-7", 42)
        );
        assert_eq!(token.expires_at, NOW + 600);
        let turn = token.ice_servers.iter().find(|server| server.username.is_some()).unwrap();
        assert_eq!(turn.username.as_deref(), Some("1700000600:42"));
    }

    #[test]
    fn each_provider_names_what_it_misses() {
        for (provider, missing) in [(Provider::Agora, "agora.app_id"), (Provider::Twilio, "twilio.account_sid")] {
            let settings = TokenSettings { provider, ..Default::default() };
            match issue(&settings, 7, 42, NOW) {
                Err(TokenError::NotConfigured(what)) => assert_eq!(what, missing),
                other => panic!("{provider:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn agora_and_twilio_tokens_carry_the_channel() {
        let mut settings = TokenSettings { provider: Provider::Agora, ..Default::default() };
        settings.agora.app_id = "970CA35de60c44645bbae8a215061b33".into();
        settings.agora.app_certificate = "5CFd2fd1755d40ecb72977518be15d3b".into();
        settings.twilio.account_sid = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into();
        settings.twilio.api_key_sid = "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into();
        settings.twilio.api_key_secret = "twilio-secret".into();
        let agora = issue(&settings, 7, 42, NOW).unwrap();
        assert!(agora.token.unwrap().starts_with("007"));
        settings.provider = Provider::Twilio;
        let twilio = issue(&settings, 7, 42, NOW).unwrap();
        assert_eq!(twilio.token.unwrap().split('.').count(), 3);
        for token in [&agora.channel, &twilio.channel] {
            assert_eq!(token, "call-7");
        }
        assert!(agora.ice_servers.is_empty() && twilio.ice_servers.is_empty());
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        let mut settings = TokenSettings::default();
        settings.turn.secret = "turn-hunter2".into();
        settings.agora.app_certificate = "agora-hunter2".into();
        settings.twilio.api_key_secret = "twilio-hunter2".into();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn provider_is_read_in_lowercase() {
        let settings: TokenSettings = serde_json::from_str(r#"{"provider":"agora","turn":{"secret":"x"}}"#).unwrap();
        assert_eq!(settings.provider, Provider::Agora);
        assert_eq!(settings.ttl_secs, 3600);
        assert_eq!(serde_json::to_string(&Provider::Twilio).unwrap(), r#""twilio""#);
    }
}
