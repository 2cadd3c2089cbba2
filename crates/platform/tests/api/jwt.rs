//! Token verification at a service: every kind of bad token is a 401 in the error shape.

use crate::helpers::*;
use actix_web::{HttpResponse, web};
use contracts::Role;
use platform::auth::{AuthUser, KeySource, TokenVerifier};
use platform::config::JwtSettings;
use testkit::TestApp;
use testkit::fake_http::FakeHttp;
use testkit::keys::{self, KEY_1, KEY_2};
use testkit::{TestSchema, unique_prefix};

async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": user.id, "role": user.role }))
}

async fn admin_only(user: AuthUser) -> Result<HttpResponse, platform::ApiError> {
    user.require_role(&[Role::Admin])?;
    Ok(HttpResponse::NoContent().finish())
}

struct Fixture {
    app: TestApp,
    jwks: FakeHttp,
    redis: platform::redis::RedisPool,
    _schema: TestSchema,
}

async fn fixture() -> Fixture {
    fixture_with(JwtSettings { jwks_min_refresh_secs: 0, ..JwtSettings::default() }).await
}

async fn fixture_with(jwt: JwtSettings) -> Fixture {
    let schema = TestSchema::create(&[]).await;
    let settings = testkit::settings(&schema, &unique_prefix());
    let jwks = FakeHttp::start().await;
    jwks.respond("/jwks.json", 200, serde_json::to_value(keys::jwks(&[KEY_1])).unwrap());
    let redis = platform::redis::pool(&settings.redis).unwrap();
    let verifier = web::Data::new(TokenVerifier::new(
        KeySource::jwks(format!("{}/jwks.json", jwks.url())),
        &jwt,
        Some(redis.clone()),
    ));
    let app = spawn_app(&settings, no_dependencies(), move |cfg| {
        cfg.app_data(verifier.clone()).route("/me", web::get().to(me)).route("/admin", web::post().to(admin_only));
    })
    .await;
    Fixture { app, jwks, redis, _schema: schema }
}

async fn call(fixture: &Fixture, token: &str) -> (u16, serde_json::Value) {
    let response = client().get(fixture.app.url("/me")).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn assert_rejected(fixture: &Fixture, token: &str, code: &str) {
    let (status, body) = call(fixture, token).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn a_valid_token_identifies_the_caller() {
    let fixture = fixture().await;
    let (status, body) = call(&fixture, &keys::token(42, Role::Master)).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({ "id": 42, "role": "master" }));
}

#[tokio::test]
async fn missing_and_malformed_tokens_are_rejected() {
    let fixture = fixture().await;
    let response = client().get(fixture.app.url("/me")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_token");
    assert_rejected(&fixture, "not-a-jwt", "invalid_token").await;
    let mut tampered = keys::token(42, Role::Buyer);
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    assert_rejected(&fixture, &tampered, "invalid_token").await;
}

#[tokio::test]
async fn alg_none_and_hs256_key_confusion_are_rejected() {
    let fixture = fixture().await;
    let claims = keys::claims(1, Role::Admin);
    assert_rejected(&fixture, &keys::unsigned_token(&claims), "invalid_token").await;
    assert_rejected(&fixture, &keys::hs256_with_public_key(&claims), "invalid_token").await;
}

#[tokio::test]
async fn expired_wrong_issuer_and_wrong_audience_are_rejected() {
    let fixture = fixture().await;
    let mut expired = keys::claims(1, Role::Buyer);
    expired.iat -= 3600;
    expired.exp -= 3600;
    assert_rejected(&fixture, &keys::sign(&expired, KEY_1), "token_expired").await;
    let mut wrong_issuer = keys::claims(1, Role::Buyer);
    wrong_issuer.iss = "someone-else".into();
    assert_rejected(&fixture, &keys::sign(&wrong_issuer, KEY_1), "invalid_token").await;
    let mut wrong_audience = keys::claims(1, Role::Buyer);
    wrong_audience.aud = "another-app".into();
    assert_rejected(&fixture, &keys::sign(&wrong_audience, KEY_1), "invalid_token").await;
}

/// Claims with `nbf`, which [`contracts::Claims`] does not carry.
fn sign_with_not_before(claims: &contracts::Claims, not_before: i64) -> String {
    let mut value = serde_json::to_value(claims).unwrap();
    value["nbf"] = not_before.into();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KEY_1.0.to_owned());
    jsonwebtoken::encode(&header, &value, &keys::encoding_key(KEY_1)).unwrap()
}

#[tokio::test]
async fn a_token_not_valid_yet_is_rejected() {
    let fixture = fixture().await;
    let claims = keys::claims(1, Role::Buyer);
    assert_rejected(&fixture, &sign_with_not_before(&claims, claims.iat + 3600), "invalid_token").await;
    assert_eq!(call(&fixture, &sign_with_not_before(&claims, claims.iat - 1)).await.0, 200, "nbf in the past is fine");
}

#[tokio::test]
async fn a_foreign_kid_is_rejected() {
    let fixture = fixture().await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("someone-elses-key".to_owned());
    // Signed with a key the JWKS has, but naming one it does not: no key is guessed.
    let token = jsonwebtoken::encode(&header, &keys::claims(1, Role::Admin), &keys::encoding_key(KEY_1)).unwrap();
    assert_rejected(&fixture, &token, "invalid_token").await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = None;
    let token = jsonwebtoken::encode(&header, &keys::claims(1, Role::Admin), &keys::encoding_key(KEY_1)).unwrap();
    assert_rejected(&fixture, &token, "invalid_token").await;
}

#[tokio::test]
async fn a_token_of_a_key_withdrawn_from_the_jwks_is_rejected() {
    // Keys are trusted for `jwks_max_age_secs` after a fetch; 0 refetches on every check.
    let fixture =
        fixture_with(JwtSettings { jwks_min_refresh_secs: 0, jwks_max_age_secs: 0, ..JwtSettings::default() }).await;
    fixture.jwks.respond("/jwks.json", 200, serde_json::to_value(keys::jwks(&[KEY_1, KEY_2])).unwrap());
    let token = keys::sign(&keys::claims(9, Role::Buyer), KEY_2);
    assert_eq!(call(&fixture, &token).await.0, 200);
    fixture.jwks.respond("/jwks.json", 200, serde_json::to_value(keys::jwks(&[KEY_1])).unwrap());
    assert_rejected(&fixture, &token, "invalid_token").await;
    assert_eq!(call(&fixture, &keys::token(9, Role::Buyer)).await.0, 200, "the remaining key still works");
}

#[tokio::test]
async fn tokens_issued_before_the_users_revocation_mark_are_rejected() {
    let fixture = fixture().await;
    let mut earlier = keys::claims(6, Role::Buyer);
    earlier.iat -= 10;
    let (earlier, now) = (keys::sign(&earlier, KEY_1), keys::sign(&keys::claims(6, Role::Buyer), KEY_1));
    assert_eq!(call(&fixture, &earlier).await.0, 200);
    let mut conn = fixture.redis.get().await.unwrap();
    let mark = keys::claims(6, Role::Buyer).iat - 5;
    let _: () = deadpool_redis::redis::cmd("SET")
        .arg(fixture.redis.key(&contracts::revoked_before_key(6)))
        .arg(mark)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_rejected(&fixture, &earlier, "token_revoked").await;
    assert_eq!(call(&fixture, &now).await.0, 200, "a token issued after the mark works");
    assert_eq!(call(&fixture, &keys::token(7, Role::Buyer)).await.0, 200, "other users are not affected");
}

#[tokio::test]
async fn a_revoked_jti_is_rejected() {
    let fixture = fixture().await;
    let claims = keys::claims(5, Role::Buyer);
    let token = keys::sign(&claims, KEY_1);
    assert_eq!(call(&fixture, &token).await.0, 200);
    let mut conn = fixture.redis.get().await.unwrap();
    let _: () = deadpool_redis::redis::cmd("SET")
        .arg(fixture.redis.key(&contracts::revoked_jti_key(&claims.jti)))
        .arg(1)
        .arg("EX")
        .arg(900)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_rejected(&fixture, &token, "token_revoked").await;
}

#[tokio::test]
async fn an_unknown_kid_makes_the_verifier_refetch_the_key_set() {
    let fixture = fixture().await;
    let token = keys::sign(&keys::claims(9, Role::Buyer), KEY_2);
    assert_rejected(&fixture, &token, "invalid_token").await;
    // The auth service introduces a second key; the old one keeps working.
    fixture.jwks.respond("/jwks.json", 200, serde_json::to_value(keys::jwks(&[KEY_1, KEY_2])).unwrap());
    assert_eq!(call(&fixture, &token).await.0, 200);
    assert_eq!(call(&fixture, &keys::token(9, Role::Buyer)).await.0, 200);
}

#[tokio::test]
async fn role_guard_answers_403() {
    let fixture = fixture().await;
    let post = |token: String| client().post(fixture.app.url("/admin")).bearer_auth(token).send();
    let response = post(keys::token(3, Role::Buyer)).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(post(keys::token(3, Role::Admin)).await.unwrap().status().as_u16(), 204);
}
