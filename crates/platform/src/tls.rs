//! Client-side TLS with rustls on aws-lc-rs, the backend the rest of the workspace uses:
//! which certificate authorities to trust and how much of the server's certificate to check.
//! PostgreSQL (`db::tls`) builds its configuration here; Redis lets the `redis` crate build it
//! from the process-wide provider installed by [`install_default_provider`].

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
};

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Encryption only: any certificate is accepted (libpq's `sslmode=require`).
    Nothing,
    /// Signed by a trusted authority, whatever name it carries (`verify-ca`).
    Chain,
    /// Signed by a trusted authority and naming the host connected to (`verify-full`).
    ChainAndName,
}

/// The workspace's rustls backend. Both aws-lc-rs and ring are compiled in (async-nats brings
/// ring), so rustls cannot pick one by itself: every configuration names it.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// Makes aws-lc-rs the process-wide default, for libraries that call `ClientConfig::builder()`
/// (the `redis` crate); with two backends compiled in, that call panics without a default.
pub fn install_default_provider() {
    // Err means a default is installed already, which is as good.
    let _ = aws_lc_rs::default_provider().install_default();
}

/// The bytes of a PEM file of certificate authorities; the error names the file.
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))
}

/// The authorities in `ca_pem`, or the system's when there is none.
pub fn root_store(ca_pem: Option<&[u8]>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
                roots.add(cert).map_err(|e| format!("the CA file holds an unusable certificate: {e}"))?;
            }
        }
        None => {
            // Unreadable entries of the system store are skipped, as every other client does.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    if roots.is_empty() {
        return Err("no certificate authority to trust: the CA file (or the system store) is empty".into());
    }
    Ok(roots)
}

/// A client configuration that checks the server's certificate as `check` says and offers
/// `alpn` (PostgreSQL's direct TLS negotiation requires `postgresql`).
pub fn client_config(check: Check, roots: Option<RootCertStore>, alpn: &[u8]) -> Result<ClientConfig, String> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match (check, roots) {
        (Check::Nothing, _) => Arc::new(Relaxed { chain: None, provider: provider.clone() }),
        (check, roots) => {
            let roots = match roots {
                Some(roots) => roots,
                None => root_store(None)?,
            };
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
            if check == Check::Chain {
                Arc::new(Relaxed { chain: Some(webpki), provider: provider.clone() })
            } else {
                webpki
            }
        }
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(config)
}

/// [`Check::Nothing`] (no `chain`) and [`Check::Chain`]: the handshake's signatures are always
/// verified (the peer holds the key of the certificate it shows); the certificate is accepted,
/// or webpki's verdict is taken except that a certificate for another name passes (webpki
/// checks the name last, so that error means the chain was found good).
#[derive(Debug)]
struct Relaxed {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
