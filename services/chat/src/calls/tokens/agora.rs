//! Agora AccessToken2 (version "007") for the RTC service, built as Agora's own builders build
//! it (AgoraIO/Tools, `DynamicKey/AgoraDynamicKey/python3/src/AccessToken2.py` and
//! `go/src/accesstoken2/accesstoken.go`):
//!
//! ```text
//! signing key  = HMAC-SHA256(key: u32 salt, HMAC-SHA256(key: u32 issue_ts, app certificate))
//! signing info = str app_id, u32 issue_ts, u32 expire, u32 salt, u16 service count, services
//! RTC service  = u16 1, u16 privilege count, (u16 privilege, u32 expire)…, str channel, str uid
//! token        = "007" + base64(zlib(str HMAC-SHA256(signing key, signing info) + signing info))
//! ```
//!
//! Numbers are little-endian, `str` is a u16 length and the bytes; the app id and certificate
//! go in as their 32 hex characters. The token's and the privileges' expiries are seconds
//! after `issue_ts`.
//!
//! The uid: Agora's numeric uids are u32, 1 to 2³²−1 (0 lets any uid join), and
//! `BuildTokenWithUid` puts the decimal digits in the token. We use the user's id as the
//! uid, so a client joins with the `uid` it gets next to the token; a user id outside that
//! range is refused (ids are positive and far below 2³²).

use super::TokenError;
use base64::Engine;
use flate2::{Compression, write::ZlibEncoder};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use std::io::Write;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AgoraSettings {
    /// The project's App ID, 32 hex characters.
    pub app_id: String,
    /// The project's primary App Certificate, 32 hex characters.
    pub app_certificate: SecretString,
}

const VERSION: &str = "007";
const SERVICE_RTC: u16 = 1;
const JOIN_CHANNEL: u16 = 1;
const PUBLISH_AUDIO: u16 = 2;
const PUBLISH_VIDEO: u16 = 3;
const PUBLISH_DATA_STREAM: u16 = 4;

/// A publisher's token (join, publish audio, video and data) for `channel`, issued at `now`
/// and good for `ttl` seconds. `salt` makes two tokens of the same second differ.
pub(super) fn rtc_token(
    settings: &AgoraSettings,
    channel: &str,
    user_id: i64,
    now: i64,
    ttl: i64,
    salt: u32,
) -> Result<String, TokenError> {
    let certificate = settings.app_certificate.expose_secret();
    if settings.app_id.is_empty() {
        return Err(TokenError::NotConfigured("agora.app_id"));
    }
    if certificate.is_empty() {
        return Err(TokenError::NotConfigured("agora.app_certificate"));
    }
    if !is_agora_key(&settings.app_id) {
        return Err(TokenError::Malformed("agora.app_id"));
    }
    if !is_agora_key(certificate) {
        return Err(TokenError::Malformed("agora.app_certificate"));
    }
    let uid = u32::try_from(user_id)
        .ok()
        .filter(|uid| *uid != 0)
        .ok_or(TokenError::OutOfRange { what: "Agora uid (user id)", value: user_id })?;
    let issue_ts = u32::try_from(now).map_err(|_| TokenError::OutOfRange { what: "Agora issue time", value: now })?;
    let expire = u32::try_from(ttl).map_err(|_| TokenError::OutOfRange { what: "Agora token lifetime", value: ttl })?;
    let token = AccessToken { app_id: &settings.app_id, certificate, issue_ts, expire, salt };
    let privileges =
        [JOIN_CHANNEL, PUBLISH_AUDIO, PUBLISH_VIDEO, PUBLISH_DATA_STREAM].map(|privilege| (privilege, expire));
    Ok(encode(&token.rtc(channel, &uid.to_string(), &privileges)))
}

/// App ids and certificates are 32 hex characters.
fn is_agora_key(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|byte| byte.is_ascii_hexdigit())
}

struct AccessToken<'a> {
    app_id: &'a str,
    certificate: &'a str,
    issue_ts: u32,
    expire: u32,
    salt: u32,
}

impl AccessToken<'_> {
    /// The signature and the signing info of a token with one RTC service, before
    /// compression. `privileges` in ascending order, as Agora packs them.
    fn rtc(&self, channel: &str, uid: &str, privileges: &[(u16, u32)]) -> Vec<u8> {
        let mut info = Vec::new();
        put_str(&mut info, self.app_id.as_bytes());
        for number in [self.issue_ts, self.expire, self.salt] {
            info.extend(number.to_le_bytes());
        }
        info.extend(1u16.to_le_bytes());
        info.extend(SERVICE_RTC.to_le_bytes());
        info.extend((privileges.len() as u16).to_le_bytes());
        for (privilege, expire) in privileges {
            info.extend(privilege.to_le_bytes());
            info.extend(expire.to_le_bytes());
        }
        put_str(&mut info, channel.as_bytes());
        put_str(&mut info, uid.as_bytes());

        let mut payload = Vec::with_capacity(34 + info.len());
        put_str(&mut payload, &self.sign(&info));
        payload.extend(info);
        payload
    }

    fn sign(&self, info: &[u8]) -> [u8; 32] {
        let key = hmac_sha256(&self.issue_ts.to_le_bytes(), self.certificate.as_bytes());
        let key = hmac_sha256(&self.salt.to_le_bytes(), &key);
        hmac_sha256(&key, info)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// A u16 length, then the bytes (all ours are short: ids, a channel name, a signature).
fn put_str(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("AccessToken2 strings are under 64 KiB");
    out.extend(len.to_le_bytes());
    out.extend(bytes);
}

fn encode(payload: &[u8]) -> String {
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    let compressed = zlib.write_all(payload).and_then(|()| zlib.finish()).expect("compressing into memory works");
    format!("{VERSION}{}", base64::engine::general_purpose::STANDARD.encode(compressed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    // The fixtures of Agora's tests (python3/test/AccessToken2Test.py, go/src/accesstoken2/
    // accesstoken_test.go in AgoraIO/Tools at da06bfb).
    const APP_ID: &str = "970CA35de60c44645bbae8a215061b33";
    const APP_CERTIFICATE: &str = "5CFd2fd1755d40ecb72977518be15d3b";
    const CHANNEL: &str = "7d72365eb983485397e3e3f9d460bdda";
    const TEST_TOKEN: AccessToken<'static> =
        AccessToken { app_id: APP_ID, certificate: APP_CERTIFICATE, issue_ts: 1_111_111, expire: 600, salt: 1 };

    /// The signature and signing info inside a token: zlib streams differ between
    /// implementations (Python's zlib, Go's compress/zlib, our zlib-ng), the content may not.
    fn payload(token: &str) -> Vec<u8> {
        let compressed =
            base64::engine::general_purpose::STANDARD.decode(token.strip_prefix(VERSION).unwrap()).unwrap();
        let mut payload = Vec::new();
        flate2::read::ZlibDecoder::new(&compressed[..]).read_to_end(&mut payload).unwrap();
        payload
    }

    fn settings() -> AgoraSettings {
        AgoraSettings { app_id: APP_ID.into(), app_certificate: APP_CERTIFICATE.into() }
    }

    #[test]
    fn reproduces_agoras_rtc_token_vector() {
        // AccessToken2Test.py `test_service_rtc` (uid 2882341273, join channel for 600 s).
        let python = "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj";
        // accesstoken_test.go `Test_AccessToken_Build_ServiceRtc`, the same token from Go.
        let go = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM=";
        let ours = TEST_TOKEN.rtc(CHANNEL, "2882341273", &[(JOIN_CHANNEL, 600)]);
        assert_eq!(ours, payload(python));
        assert_eq!(ours, payload(go));
        assert_eq!(payload(&encode(&ours)), ours, "our zlib stream decompresses to the same");
    }

    #[test]
    fn reproduces_agoras_any_uid_vector() {
        // AccessToken2Test.py `test_service_rtc_uid_0`: uid 0 is packed as an empty string.
        let python = "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo=";
        assert_eq!(TEST_TOKEN.rtc(CHANNEL, "", &[(JOIN_CHANNEL, 600)]), payload(python));
    }

    #[test]
    fn publisher_token_matches_agoras_python_builder() {
        // Made with AccessToken2.py at da06bfb: AccessToken(APP_ID, APP_CERTIFICATE,
        // issue_ts=1700000000, expire=3600), salt 12345678, ServiceRtc("call-7", 42) with
        // privileges 1–4 each 3600; the hex is zlib.decompress of the token's base64.
        let python = "2000d02b32c7c0c7ecf64ef7e5d244c40466dec1ad4c9e7667d3eda497614307dcca2000393730434133356465363063343436343562626165386132313530363162333300f15365100e00004e61bc000100010004000100100e00000200100e00000300100e00000400100e0000060063616c6c2d3702003432";
        let token = rtc_token(&settings(), "call-7", 42, 1_700_000_000, 3600, 12_345_678).unwrap();
        assert_eq!(hex::encode(payload(&token)), python);
    }

    #[test]
    fn another_certificate_or_salt_changes_the_signature() {
        let token = |certificate: &str, salt| {
            let settings = AgoraSettings { app_certificate: certificate.into(), ..settings() };
            payload(&rtc_token(&settings, "call-7", 42, 1_700_000_000, 3600, salt).unwrap())[2..34].to_vec()
        };
        let signature = token(APP_CERTIFICATE, 1);
        assert_ne!(signature, token("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1));
        assert_ne!(signature, token(APP_CERTIFICATE, 2));
    }

    #[test]
    fn uid_must_be_a_nonzero_u32() {
        for user_id in [0, -1, i64::from(u32::MAX) + 1] {
            let result = rtc_token(&settings(), "call-7", user_id, 1_700_000_000, 3600, 1);
            assert!(matches!(result, Err(TokenError::OutOfRange { value, .. }) if value == user_id), "{user_id}");
        }
        assert!(rtc_token(&settings(), "call-7", i64::from(u32::MAX), 1_700_000_000, 3600, 1).is_ok());
    }

    #[test]
    fn app_id_and_certificate_must_be_32_hex_characters() {
        let short = AgoraSettings { app_id: "970CA35d".into(), ..settings() };
        let not_hex = AgoraSettings { app_certificate: "z".repeat(32).into(), ..settings() };
        let empty = AgoraSettings { app_certificate: "".into(), ..settings() };
        let issue = |settings: &AgoraSettings| rtc_token(settings, "call-7", 42, 1_700_000_000, 3600, 1);
        assert!(matches!(issue(&short), Err(TokenError::Malformed("agora.app_id"))));
        assert!(matches!(issue(&not_hex), Err(TokenError::Malformed("agora.app_certificate"))));
        assert!(matches!(issue(&empty), Err(TokenError::NotConfigured("agora.app_certificate"))));
    }
}
