//! The tus 1.0 protocol's headers: metadata, checksums and concatenation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub const VERSION: &str = "1.0.0";
pub const EXTENSIONS: &str =
    "creation,creation-with-upload,creation-defer-length,expiration,checksum,termination,concatenation";
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";
pub const OFFSET_CONTENT_TYPE: &str = "application/offset+octet-stream";

/// Whether `text` names a protocol version (`1.0.0`): three dot-separated numbers.
pub fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `Upload-Metadata` as [`parse_metadata`] reads it, for the document: comma-separated pairs of
/// a key (printable ASCII) and an optional value, with spaces and tabs around each pair.
pub const METADATA_PATTERN: &str =
    r"^[ \t]*(?:[!-+\x2D-~]+(?: +[^ ,]+)?)?[ \t]*(?:,[ \t]*(?:[!-+\x2D-~]+(?: +[^ ,]+)?)?[ \t]*)*$";

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent). Only
/// the pairs whose key is in `read` are returned, their values decoded as text; the others are
/// a client's own (tus lets it add any) and are only checked for their shape.
pub fn parse_metadata(header: &str, read: &[&str]) -> Result<Vec<(String, Option<String>)>, String> {
    let mut pairs = Vec::new();
    for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("`{pair}` has no printable ASCII key"));
        }
        let value = parts.next();
        if parts.next().is_some() {
            return Err(format!("`{pair}` has more than a key and a value"));
        }
        if !read.contains(&key) {
            continue;
        }
        if pairs.iter().any(|(k, _): &(String, Option<String>)| k == key) {
            return Err(format!("`{key}` is given twice"));
        }
        let value = match value {
            Some(encoded) => {
                let bytes = STANDARD.decode(encoded).map_err(|_| format!("the value of `{key}` is not base64"))?;
                Some(
                    platform::http::text::storable(bytes)
                        .map_err(|problem| format!("the value of `{key}` {problem}"))?,
                )
            }
            None => None,
        };
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

/// `Upload-Checksum: <algorithm> <base64 digest>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

/// `Err` carries whether the algorithm is unsupported (400) rather than malformed (400 too,
/// but named differently).
pub fn parse_checksum(header: &str) -> Result<Checksum, String> {
    let (name, encoded) = header.trim().split_once(' ').ok_or("expected `<algorithm> <base64 digest>`")?;
    let algorithm = match name {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        other => return Err(format!("unsupported checksum algorithm `{other}` (sha1, sha256)")),
    };
    let digest = STANDARD.decode(encoded.trim()).map_err(|_| "the digest is not base64".to_owned())?;
    let expected = if algorithm == Algorithm::Sha1 { 20 } else { 32 };
    if digest.len() != expected {
        return Err(format!("a {name} digest has {expected} bytes"));
    }
    Ok(Checksum { algorithm, digest })
}

/// `Upload-Concat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concat {
    Partial,
    /// The parts' ids, in order, from their URLs.
    Final(Vec<uuid::Uuid>),
}

pub fn parse_concat(header: &str) -> Result<Concat, String> {
    let header = header.trim();
    if header == "partial" {
        return Ok(Concat::Partial);
    }
    let urls = header.strip_prefix("final;").ok_or("expected `partial` or `final;<url> <url> ...`")?;
    let ids = urls
        .split(' ')
        .filter(|u| !u.is_empty())
        .map(|url| {
            let id = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            uuid::Uuid::parse_str(id).map_err(|_| format!("`{url}` is not an upload of this server"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err("a final upload names its partial uploads".into());
    }
    Ok(Concat::Final(ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_three_numbers() {
        for (text, version) in [("1.0.0", true), ("0.2.2", true), ("1.0", false), ("{}", false), ("1.0.x", false)] {
            assert_eq!(is_version(text), version, "{text}");
        }
    }

    #[test]
    fn metadata_pairs_are_decoded() {
        let read = ["filename", "is_confidential", "title"];
        let pairs =
            parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential,title 0KjQutCw0YQ=", &read)
                .unwrap();
        assert_eq!(pairs[0], ("filename".into(), Some("world_domination_plan.pdf".into())));
        assert_eq!(pairs[1], ("is_confidential".into(), None));
        assert_eq!(pairs[2], ("title".into(), Some("Шкаф".into())));
        assert!(parse_metadata("title !!!", &read).is_err());
        assert!(parse_metadata("title YQ==,title YQ==", &read).is_err());
        assert!(parse_metadata("title AA==", &read).unwrap_err().contains("NUL"), "PostgreSQL stores no U+0000");
    }

    #[test]
    fn metadata_of_the_clients_own_keys_is_only_checked_for_its_shape() {
        let read = ["title"];
        assert_eq!(parse_metadata("app !!!, app AA==,\tx", &read).unwrap(), []);
        assert_eq!(parse_metadata(" , ,", &read).unwrap(), []);
        for bad in ["a b c", "ключ YQ==", "a\tb YQ=="] {
            assert!(parse_metadata(bad, &read).is_err(), "{bad:?}");
        }
    }

    /// The document's pattern takes what the parser takes (regex's `find` at both anchors).
    #[test]
    fn the_documented_metadata_pattern_agrees_with_the_parser() {
        let pattern = regex_lite::Regex::new(METADATA_PATTERN).unwrap();
        for header in ["", "a", "a b", " a b , c ,", "title 0KjQutCw0YQ=,filename", "\ta b\t", "a !!!", ",,"] {
            assert!(pattern.is_match(header) && parse_metadata(header, &[]).is_ok(), "{header:?}");
        }
        for header in ["a b c", "ключ", "a\tb", "a b c,d"] {
            assert!(!pattern.is_match(header) && parse_metadata(header, &[]).is_err(), "{header:?}");
        }
    }

    #[test]
    fn checksums_name_a_supported_algorithm_and_a_digest_of_its_size() {
        let sha1 = parse_checksum("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=").unwrap();
        assert_eq!((sha1.algorithm, sha1.digest.len()), (Algorithm::Sha1, 20));
        assert!(parse_checksum("md5 1B2M2Y8AsgTpgAmY7PhCfg==").unwrap_err().contains("unsupported"));
        assert!(parse_checksum("sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0=").is_err());
        assert!(parse_checksum("sha1").is_err());
    }

    #[test]
    fn concatenation_names_parts_by_their_urls() {
        assert_eq!(parse_concat("partial"), Ok(Concat::Partial));
        let a = uuid::Uuid::new_v4();
        let b = uuid::Uuid::new_v4();
        let header = format!("final;/api/v2/media/tus/{a} http://host/api/v2/media/tus/{b}");
        assert_eq!(parse_concat(&header), Ok(Concat::Final(vec![a, b])));
        assert!(parse_concat("final;").is_err());
        assert!(parse_concat("final;/tus/not-an-id").is_err());
    }
}
