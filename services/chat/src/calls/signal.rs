//! WebRTC signalling messages relayed between the two participants of a call: the SDP offer and
//! answer, and ICE candidates. The server only checks their shape and size; it never reads SDP.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One signalling message (`type`: `offer`, `answer` or `ice_candidate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
// Unknown fields are ignored, not refused: browsers' `RTCIceCandidate.toJSON()` adds
// `usernameFragment`, and what the peer needs is relayed.
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Signal {
    Offer {
        /// At most `calls.max_sdp_bytes` characters (12,288 by default).
        #[schema(max_length = 12288, pattern = "^v=0[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$")]
        sdp: String,
    },
    Answer {
        #[schema(max_length = 12288, pattern = "^v=0[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$")]
        sdp: String,
    },
    /// `candidate` is the ICE candidate line (`candidate:…`); empty means end of candidates.
    IceCandidate {
        #[schema(
            max_length = 1024,
            pattern = "^(candidate:[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*)?$"
        )]
        candidate: String,
        #[schema(max_length = 64)]
        sdp_mid: Option<String>,
        #[schema(minimum = 0, maximum = 65535)]
        sdp_m_line_index: Option<u16>,
    },
}

/// The longest ICE candidate line, and `sdpMid`, in characters (as the OpenAPI document says).
const CANDIDATE_LIMIT: usize = 1024;
const SDP_MID_LIMIT: usize = 64;

impl Signal {
    /// The signal if it is well formed and its SDP at most `sdp_limit` characters.
    pub fn validate(&self, sdp_limit: usize) -> Result<(), String> {
        match self {
            Signal::Offer { sdp } | Signal::Answer { sdp } => {
                if !sdp.starts_with("v=0") {
                    return Err("sdp must be a session description (starting with v=0)".into());
                }
                if sdp.chars().count() > sdp_limit {
                    return Err(format!("sdp must be at most {sdp_limit} characters"));
                }
            }
            Signal::IceCandidate { candidate, sdp_mid, .. } => {
                if !(candidate.is_empty() || candidate.starts_with("candidate:")) {
                    return Err("candidate must be an ICE candidate line (candidate:…) or empty".into());
                }
                if candidate.chars().count() > CANDIDATE_LIMIT {
                    return Err(format!("candidate must be at most {CANDIDATE_LIMIT} characters"));
                }
                if sdp_mid.as_ref().is_some_and(|mid| mid.chars().count() > SDP_MID_LIMIT) {
                    return Err(format!("sdp_mid must be at most {SDP_MID_LIMIT} characters"));
                }
            }
        }
        if self.has_control_characters() {
            return Err("must not contain control characters other than tabs and line breaks".into());
        }
        Ok(())
    }

    fn has_control_characters(&self) -> bool {
        let text = match self {
            Signal::Offer { sdp } | Signal::Answer { sdp } => sdp.as_str(),
            Signal::IceCandidate { candidate, .. } => candidate.as_str(),
        };
        text.chars().any(|c| c.is_ascii_control() && !matches!(c, '\t' | '\r' | '\n'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

    #[test]
    fn offers_and_answers_carry_a_bounded_session_description() {
        assert_eq!(Signal::Offer { sdp: OFFER.into() }.validate(1024), Ok(()));
        assert_eq!(Signal::Answer { sdp: OFFER.into() }.validate(1024), Ok(()));
        assert!(Signal::Offer { sdp: "hello".into() }.validate(1024).is_err());
        assert!(Signal::Offer { sdp: format!("{OFFER}{}", "a=x\r\n".repeat(300)) }.validate(1024).is_err());
        assert!(Signal::Offer { sdp: format!("{OFFER}\u{0}") }.validate(1024).is_err());
    }

    #[test]
    fn candidates_are_candidate_lines_or_the_end() {
        let candidate = |line: &str| Signal::IceCandidate {
            candidate: line.into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        };
        assert_eq!(
            candidate("candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx").validate(1024),
            Ok(())
        );
        assert_eq!(candidate("").validate(1024), Ok(()));
        assert!(candidate("udp 1 2 3").validate(1024).is_err());
        assert!(candidate(&format!("candidate:{}", "1".repeat(1100))).validate(1024).is_err());
    }

    #[test]
    fn signals_are_tagged_by_type() {
        let parsed: Signal = serde_json::from_str(r#"{"type":"offer","sdp":"v=0"}"#).unwrap();
        assert_eq!(parsed, Signal::Offer { sdp: "v=0".into() });
        assert!(serde_json::from_str::<Signal>(r#"{"type":"bye"}"#).is_err());
        let browser =
            r#"{"type":"ice_candidate","candidate":"","sdp_mid":"0","sdp_m_line_index":0,"usernameFragment":"x"}"#;
        assert!(serde_json::from_str::<Signal>(browser).is_ok(), "a browser's candidate, with its extra field");
    }
}
