//! Access-token verification for every service: RS256 only, keys from the auth service's JWKS
//! (cached, refetched on an unknown `kid` at most every `jwks_min_refresh_secs`), issuer and
//! audience checked, revoked `jti`s looked up in Redis. Handlers just take [`AuthUser`].

use crate::config::JwtSettings;
use crate::error::ApiError;
use crate::redis::RedisPool;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use contracts::{Claims, Role};
use futures_util::future::LocalBoxFuture;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

pub const ACCESS_TOKEN_COOKIE: &str = "access_token";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no access token")]
    Missing,
    #[error("the access token is malformed or its signature is invalid")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token has been revoked")]
    Revoked,
    /// The JWKS endpoint or the revocation list cannot be reached.
    #[error("tokens cannot be verified right now: {0}")]
    Unavailable(String),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        match error {
            AuthError::Missing => ApiError::unauthorized("missing_token", message),
            AuthError::Invalid => ApiError::unauthorized("invalid_token", message),
            AuthError::Expired => ApiError::unauthorized("token_expired", message),
            AuthError::NotYetValid => ApiError::unauthorized("invalid_token", message),
            AuthError::Revoked => ApiError::unauthorized("token_revoked", message),
            AuthError::Unavailable(cause) => {
                tracing::warn!(%cause, "token verification unavailable");
                ApiError::unavailable("cannot verify tokens right now")
            }
        }
    }
}

/// Where verification keys come from: the auth service's JWKS URL, or a key set in hand
/// (the auth service itself).
pub enum KeySource {
    Jwks { url: String, client: reqwest::Client },
    Static(JwkSet),
}

impl KeySource {
    pub fn jwks(url: impl Into<String>) -> Self {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(3)).build().expect("a plain HTTP client builds");
        KeySource::Jwks { url: url.into(), client }
    }

    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        match self {
            KeySource::Static(set) => Ok(set.clone()),
            KeySource::Jwks { url, client } => {
                let response = client
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| AuthError::Unavailable(e.to_string()))?;
                response.json().await.map_err(|e| AuthError::Unavailable(e.to_string()))
            }
        }
    }
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

pub struct TokenVerifier {
    source: KeySource,
    cache: RwLock<KeyCache>,
    refresh: Mutex<()>,
    validation: Validation,
    min_refresh: Duration,
    max_age: Duration,
    revocations: Option<RedisPool>,
    /// Tokens whose signature and claims were checked already: the RSA check costs more than
    /// the rest of a typical request, and a client sends the same token until it expires.
    verified: std::sync::Mutex<HashMap<String, Claims>>,
}

/// Verified tokens remembered at most; the memory is emptied when it fills up.
const VERIFIED_CAPACITY: usize = 10_000;

impl TokenVerifier {
    pub fn new(source: KeySource, settings: &JwtSettings, revocations: Option<RedisPool>) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        // A token that says it is not valid yet is refused (only checked when `nbf` is present).
        validation.validate_nbf = true;
        Self {
            source,
            cache: RwLock::default(),
            refresh: Mutex::new(()),
            validation,
            min_refresh: Duration::from_secs(settings.jwks_min_refresh_secs),
            max_age: Duration::from_secs(settings.jwks_max_age_secs),
            revocations,
            verified: std::sync::Mutex::new(HashMap::new()),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        // Parsing the header rejects `alg: none` and unknown algorithms; anything but RS256 is
        // refused before a key is chosen, which rules out HS256-with-the-public-key confusion.
        let header = decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        // The key is looked up even for a remembered token: a key withdrawn from the JWKS
        // ends its tokens at once.
        let key = self.key(&kid).await?;
        let claims = match self.remembered(token) {
            Some(claims) if claims.exp + self.validation.leeway as i64 >= now_secs() => claims,
            Some(_) => return Err(AuthError::Expired),
            None => {
                let claims = decode::<Claims>(token, &key, &self.validation)
                    .map_err(|e| match e.kind() {
                        jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                        jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                        _ => AuthError::Invalid,
                    })?
                    .claims;
                claims.user_id().ok_or(AuthError::Invalid)?;
                self.remember(token, &claims);
                claims
            }
        };
        if self.is_revoked(&claims).await? {
            return Err(AuthError::Revoked);
        }
        Ok(claims)
    }

    fn remembered(&self, token: &str) -> Option<Claims> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
    }

    fn remember(&self, token: &str, claims: &Claims) {
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(token.to_owned(), claims.clone());
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < self.max_age);
            if fresh && let Some(key) = cache.keys.get(kid) {
                return Ok(key.clone());
            }
        }
        let _single_flight = self.refresh.lock().await;
        let mut cache = self.cache.write().await;
        let may_refetch = cache.fetched_at.is_none_or(|at| at.elapsed() >= self.min_refresh);
        if may_refetch {
            match self.source.fetch().await {
                Ok(set) => {
                    cache.keys = set
                        .keys
                        .iter()
                        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
                        .collect();
                    cache.fetched_at = Some(Instant::now());
                }
                // Keep verifying with the keys we have while the JWKS endpoint is down.
                Err(error) if !cache.keys.is_empty() => tracing::warn!(%error, "JWKS refresh failed"),
                Err(error) => return Err(error),
            }
        }
        cache.keys.get(kid).cloned().ok_or(AuthError::Invalid)
    }

    /// Whether the token was revoked by itself (sign-out) or with every token of its user issued
    /// until a moment (a ban, a suspension, a role change): one Redis round trip for both.
    async fn is_revoked(&self, claims: &Claims) -> Result<bool, AuthError> {
        let Some(pool) = &self.revocations else { return Ok(false) };
        let user_id = claims.user_id().ok_or(AuthError::Invalid)?;
        let mut conn = pool.get().await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let (revoked, revoked_before): (bool, Option<i64>) = deadpool_redis::redis::pipe()
            .exists(pool.key(&contracts::revoked_jti_key(&claims.jti)))
            .get(pool.key(&contracts::revoked_before_key(user_id)))
            .query_async(&mut conn)
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        Ok(revoked || revoked_before.is_some_and(|before| claims.iat <= before))
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The caller, from a verified access token (Bearer header, or the `access_token` cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
    pub jti: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl AuthUser {
    /// 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this action is for {}", role_list(roles))))
        }
    }
}

fn role_list(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
}

/// The token of an `Authorization: Bearer …` header value (the gateway reads it too).
pub fn bearer(authorization: &str) -> Option<&str> {
    authorization.strip_prefix("Bearer ").or_else(|| authorization.strip_prefix("bearer ")).map(str::trim)
}

fn bearer_token(request: &HttpRequest) -> Option<String> {
    let from_header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .map(str::to_owned);
    from_header.or_else(|| request.cookie(ACCESS_TOKEN_COOKIE).map(|c| c.value().to_owned()))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = request.app_data::<web::Data<TokenVerifier>>().cloned();
        let token = bearer_token(request);
        Box::pin(async move {
            let verifier = verifier.ok_or_else(|| ApiError::internal("no TokenVerifier in app data"))?;
            let token = token.ok_or(AuthError::Missing)?;
            let claims = verifier.verify(&token).await?;
            let user = AuthUser {
                id: claims.user_id().ok_or(AuthError::Invalid)?,
                role: claims.role,
                jti: claims.jti,
                expires_at: claims.exp,
            };
            tracing::Span::current().record("user_id", user.id);
            Ok(user)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_guard_allows_listed_roles_only() {
        let master = AuthUser { id: 1, role: Role::Master, jti: "j".into(), expires_at: 0 };
        assert!(master.require_role(&[Role::Master, Role::Admin]).is_ok());
        let error = master.require_role(&[Role::Buyer]).unwrap_err();
        assert_eq!(error.status, actix_web::http::StatusCode::FORBIDDEN);
        assert_eq!(error.message, "this action is for buyer");
    }
}
