//! A self-signed server certificate made in the test (a P-256 key from aws-lc-rs and the few
//! lines of DER an X.509 v3 certificate needs; the workspace has no certificate generator), for
//! fakes that speak TLS. Its PEM file is what a client is told to trust, as an operator's CA
//! file for a private relay.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate for `localhost` and `127.0.0.1`, signed by its own key.
pub struct SelfSigned {
    der: Vec<u8>,
    key_pkcs8: Vec<u8>,
    pem_file: PathBuf,
}

impl SelfSigned {
    pub fn generate() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        let key_pkcs8 = key.to_pkcs8v1().expect("the key as PKCS#8").as_ref().to_vec();
        let der = certificate(&key, "localhost");
        let pem_file = std::env::temp_dir().join(format!("mebelplace-test-ca-{}.pem", uuid::Uuid::new_v4().simple()));
        std::fs::write(&pem_file, pem(&der)).expect("write the certificate's PEM file");
        Self { der, key_pkcs8, pem_file }
    }

    /// The certificate as PEM, in a file removed when this is dropped.
    pub fn pem_file(&self) -> &Path {
        &self.pem_file
    }

    /// Accepts TLS connections presenting this certificate.
    pub fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(self.der.clone())], key)
            .expect("a valid certificate and key");
        TlsAcceptor::from(Arc::new(config))
    }
}

impl Drop for SelfSigned {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pem_file);
    }
}

// Object identifiers, DER-encoded (tag, length, value).
const ECDSA_WITH_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PRIME256V1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const COMMON_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
const SUBJECT_ALT_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x11];

/// One DER element: `tag`, the length of `content`, `content`.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// An X.509 v3 certificate of `key`'s public half for `host` and 127.0.0.1, signed by `key`
/// (no basic constraints: an end-entity certificate that is also its own trust anchor).
fn certificate(key: &EcdsaKeyPair, host: &str) -> Vec<u8> {
    let algorithm = sequence(&[ECDSA_WITH_SHA256]);
    let name = sequence(&[&der(0x31, &sequence(&[COMMON_NAME, &der(0x0c, host.as_bytes())]))]);
    let validity = sequence(&[&der(0x17, b"250101000000Z"), &der(0x17, b"491231235959Z")]);
    let public_key = sequence(&[
        &sequence(&[EC_PUBLIC_KEY, PRIME256V1]),
        &der(0x03, &[&[0u8][..], key.public_key().as_ref()].concat()),
    ]);
    // dNSName [2] and iPAddress [7], both implicit primitives.
    let alt_names = sequence(&[&der(0x82, host.as_bytes()), &der(0x87, &[127, 0, 0, 1])]);
    let extensions = der(0xa3, &sequence(&[&sequence(&[SUBJECT_ALT_NAME, &der(0x04, &alt_names)])]));
    let mut serial = *uuid::Uuid::new_v4().as_bytes();
    serial[0] &= 0x7f; // positive
    let tbs = sequence(&[
        &der(0xa0, &der(0x02, &[2])), // version 3
        &der(0x02, &serial),
        &algorithm,
        &name,
        &validity,
        &name,
        &public_key,
        &extensions,
    ]);
    let signature = key.sign(&aws_lc_rs::rand::SystemRandom::new(), &tbs).expect("signing the certificate");
    sequence(&[&tbs, &algorithm, &der(0x03, &[&[0u8][..], signature.as_ref()].concat())])
}

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        encoded.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII")).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths_take_the_short_and_the_long_form() {
        assert_eq!(super::der(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        assert_eq!(&super::der(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(&super::der(0x04, &[0; 300])[..4], [0x04, 0x82, 1, 44]);
    }

    #[test]
    fn the_certificate_is_pem_a_tls_server_accepts() {
        let certificate = super::SelfSigned::generate();
        let pem = std::fs::read_to_string(certificate.pem_file()).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n") && pem.ends_with("-----END CERTIFICATE-----\n"));
        let _ = certificate.acceptor();
    }
}
