//! Signing keys: every `<kid>.pem` in the keys folder is published in the JWKS; one of them
//! signs new tokens. Rotation: add a key (published, not yet signing), switch `active_kid` once
//! verifiers have refreshed their JWKS, remove the old file once its tokens have expired.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey};
use std::path::Path;

pub struct KeyRing {
    active_kid: String,
    active: EncodingKey,
    published: JwkSet,
}

impl KeyRing {
    /// Loads the folder; when it has no key and `generate_if_empty`, makes one and keeps it.
    pub fn load(dir: &Path, active_kid: Option<&str>, generate_if_empty: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut keys = read_keys(dir)?;
        if keys.is_empty() && generate_if_empty {
            generate_key(dir)?;
            keys = read_keys(dir)?;
        }
        anyhow::ensure!(!keys.is_empty(), "no signing key (*.pem) in {}", dir.display());
        let active_kid = match active_kid {
            Some(kid) => kid.to_owned(),
            None => keys.last().map(|(kid, _)| kid.clone()).unwrap_or_default(),
        };
        let active = keys
            .iter()
            .find(|(kid, _)| *kid == active_kid)
            .map(|(_, key)| key.clone())
            .ok_or_else(|| anyhow::anyhow!("active key {active_kid:?} is not in {}", dir.display()))?;
        let published = JwkSet {
            keys: keys
                .iter()
                .map(|(kid, key)| {
                    let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256)?;
                    jwk.common.key_id = Some(kid.clone());
                    Ok(jwk)
                })
                .collect::<anyhow::Result<_>>()?,
        };
        Ok(Self { active_kid, active, published })
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.published
    }

    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    pub fn signing_key(&self) -> &EncodingKey {
        &self.active
    }
}

/// `(kid, key)` sorted by kid.
fn read_keys(dir: &Path) -> anyhow::Result<Vec<(String, EncodingKey)>> {
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "pem") {
            let kid = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let pem = std::fs::read(&path)?;
            let key = EncodingKey::from_rsa_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            keys.push((kid, key));
        }
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keys)
}

/// A development key, named by its creation time so that newer keys sort last.
fn generate_key(dir: &Path) -> anyhow::Result<()> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
    let pem = key.to_pkcs8_pem(LineEnding::LF)?;
    let kid = format!("dev-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    let path = dir.join(format!("{kid}.pem"));
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?.write_all(pem.as_bytes())?;
    tracing::warn!(path = %path.display(), "generated a development signing key");
    Ok(())
}
