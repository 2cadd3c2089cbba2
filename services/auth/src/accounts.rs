//! The account flows: register, sign in, verify, send a code, refresh, sign out. Handlers call
//! these; each change and its events commit in one transaction.

use crate::domain::code::{self, Verdict};
use crate::domain::identity::{Channel, Identity};
use crate::domain::status::UserStatus;
use crate::domain::{password, username};
use crate::hashing::HashingPool;
use crate::state::AppState;
use crate::store::users::{InsertError, NewUser, Taken, User};
use crate::store::{codes, refresh_tokens, users};
use crate::{throttle, tokens};
use chrono::{Duration, Utc};
use contracts::Role;
use contracts::events::{self, UserProfile, UserRegistered, UserVerified, VerificationRequested};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::ApiError;
use platform::db::PgPool;
use platform::outbox;
use serde_json::json;

pub struct Registration {
    pub email_or_phone: String,
    pub password: String,
    pub username: String,
    pub role: String,
}

/// Tokens handed to a client, and the user they belong to.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: User,
}

pub fn profile_event(user: &User) -> UserProfile {
    UserProfile {
        user_id: user.id,
        username: user.username.clone(),
        role: events::Role::from(user.role) as i32,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        avatar_url: user.avatar_url.clone(),
        region: user.region.clone(),
        description: user.description.clone(),
    }
}

fn parse_registration(input: &Registration) -> Result<(Identity, Role), ApiError> {
    let mut problems = Vec::new();
    let identity = Identity::parse(&input.email_or_phone)
        .map_err(|reason| problems.push(("email_or_phone", reason.to_owned())))
        .ok();
    if let Err(reason) = username::validate(&input.username) {
        problems.push(("username", reason.to_owned()));
    }
    if let Err(reason) = password::check_policy(&input.password) {
        problems.push(("password", reason.to_owned()));
    }
    let role = match input.role.parse::<Role>() {
        Ok(Role::Admin) => return Err(ApiError::forbidden("only an admin can grant the admin role")),
        Ok(role) => Some(role),
        Err(_) => {
            problems.push(("role", "must be buyer (or client) or master".to_owned()));
            None
        }
    };
    match (identity, role) {
        (Some(identity), Some(role)) if problems.is_empty() => Ok((identity, role)),
        _ => Err(ApiError::validation(problems)),
    }
}

/// Writes a new code for `identity` and the event that delivers it.
async fn issue_code(conn: &mut AsyncPgConnection, user_id: i64, identity: &Identity) -> diesel::QueryResult<()> {
    let code = code::generate();
    let expires_at = Utc::now() + code::LIFETIME;
    codes::insert(
        conn,
        user_id,
        identity.channel(),
        identity.as_str(),
        &code::hash(identity.as_str(), &code),
        expires_at,
    )
    .await?;
    let event = VerificationRequested {
        user_id,
        channel: identity.channel().to_string(),
        destination: identity.as_str().to_owned(),
        code,
        locale: "ru".to_owned(),
        expires_at: Some(events::timestamp(expires_at)),
    };
    outbox::publish(conn, event).await
}

/// Creates a refresh token (a new family unless one is given) and an access token.
async fn open_session(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    user: User,
    family: Option<uuid::Uuid>,
) -> Result<(Session, i64), ApiError> {
    let (refresh_token, refresh_hash) = tokens::new_refresh_token();
    let expires_at = Utc::now() + Duration::days(state.settings.refresh_ttl_days);
    let family = family.unwrap_or_else(uuid::Uuid::now_v7);
    let refresh_id = refresh_tokens::insert(conn, user.id, family, &refresh_hash, expires_at).await?;
    Ok((session_with(state, user, refresh_token)?, refresh_id))
}

/// A new access token next to `refresh_token`.
fn session_with(state: &AppState, user: User, refresh_token: String) -> Result<Session, ApiError> {
    let ttl = state.settings.access_ttl_secs;
    let access_token =
        tokens::access_token(&state.keys, &state.jwt, ttl, user.id, user.role).map_err(ApiError::internal)?;
    Ok(Session { access_token, refresh_token, expires_in: ttl, user })
}

/// Inserts the user and publishes `user.registered`; 409 names the taken field.
async fn create_user(
    conn: &mut AsyncPgConnection,
    identity: &Identity,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, ApiError> {
    let new_user = NewUser {
        username,
        email: matches!(identity, Identity::Email(_)).then_some(identity.as_str()),
        phone: matches!(identity, Identity::Phone(_)).then_some(identity.as_str()),
        password_hash,
        role,
    };
    let user = users::insert(conn, new_user).await.map_err(|error| match error {
        InsertError::Taken(field) => {
            let (field, what) = match field {
                Taken::Username => ("username", "this username"),
                Taken::Email => ("email_or_phone", "this e-mail address"),
                Taken::Phone => ("email_or_phone", "this phone number"),
            };
            ApiError::conflict("already_registered", format!("{what} is already registered"))
                .with_details(json!({ "field": field }))
        }
        InsertError::Database(error) => error.into(),
    })?;
    let registered = UserRegistered {
        user: Some(profile_event(&user)),
        has_email: user.email.is_some(),
        has_phone: user.phone.is_some(),
        locale: "ru".to_owned(),
    };
    outbox::publish(conn, registered).await?;
    tracing::info!(user_id = user.id, role = %role, "registered");
    Ok(user)
}

pub async fn register(state: &AppState, input: Registration) -> Result<Session, ApiError> {
    let (identity, role) = parse_registration(&input)?;
    let password_hash = state.passwords.hash(input.password).await?;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let user = create_user(conn, &identity, &input.username, &password_hash, role).await?;
        // After the insert: a registration that loses a race answers 409, not 429.
        throttle::take_code_send(&state.redis, identity.as_str()).await?;
        issue_code(conn, user.id, &identity).await?;
        Ok(open_session(conn, state, user, None).await?.0)
    })
    .await
}

/// The operator's way to make the first admin (`auth create-admin`); the identity counts as
/// verified because the operator vouches for it.
pub async fn create_admin(
    db: &PgPool,
    passwords: &HashingPool,
    email_or_phone: &str,
    username: &str,
    password: String,
) -> Result<User, ApiError> {
    let registration = Registration {
        email_or_phone: email_or_phone.to_owned(),
        password,
        username: username.to_owned(),
        role: Role::Buyer.as_str().to_owned(),
    };
    let (identity, _) = parse_registration(&registration)?;
    let password_hash = passwords.hash(registration.password).await?;
    let mut conn = db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let user = create_user(conn, &identity, username, &password_hash, Role::Admin).await?;
        users::mark_verified(conn, user.id, identity.channel()).await?;
        Ok(users::find(conn, user.id).await?)
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub async fn login(
    state: &AppState,
    email_or_phone: &str,
    password: &str,
    client_ip: &str,
) -> Result<Session, ApiError> {
    let identity =
        Identity::parse(email_or_phone).map_err(|r| ApiError::validation([("email_or_phone", r.to_owned())]))?;
    let account_key = throttle::login_account_key(identity.as_str());
    let ip_key = throttle::login_ip_key(client_ip);
    throttle::ensure_below(&state.redis, &account_key, state.settings.login_max_failures_per_account).await?;
    throttle::ensure_below(&state.redis, &ip_key, state.settings.login_max_failures_per_ip).await?;

    let mut conn = state.db.get().await?;
    let user = users::find_by_identity(&mut conn, &identity).await?;
    if let Some(user) = &user {
        tracing::Span::current().record("user_id", user.id);
    }
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Before any failure is counted: a sign-in refused for load says nothing about the password.
    let valid = state.passwords.verify(password.to_owned(), stored).await?;
    let Some(user) = user.filter(|_| valid) else {
        let window = state.settings.login_failure_window_secs;
        throttle::count_failure(&state.redis, &account_key, window).await?;
        throttle::count_failure(&state.redis, &ip_key, window).await?;
        return Err(ApiError::unauthorized("invalid_credentials", "wrong login or password"));
    };
    ensure_may_sign_in(&user)?;
    throttle::clear(&state.redis, &account_key).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        users::record_login(conn, user.id).await?;
        Ok(open_session(conn, state, user, None).await?.0)
    })
    .await
}

/// Banned users may not sign in; suspended ones not until their suspension ends.
fn ensure_may_sign_in(user: &User) -> Result<(), ApiError> {
    match user.status {
        UserStatus::Banned => {
            Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "account_banned", "this account is banned"))
        }
        UserStatus::Suspended if user.suspended_until.is_none_or(|until| until > Utc::now()) => {
            Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "account_suspended", "this account is suspended")
                .with_details(json!({ "until": user.suspended_until })))
        }
        _ => Ok(()),
    }
}

/// Checks a code sent over `channel` and marks the identity verified.
pub async fn verify(
    state: &AppState,
    channel: Channel,
    email_or_phone: &str,
    code_input: &str,
) -> Result<(), ApiError> {
    let identity =
        Identity::parse(email_or_phone).map_err(|r| ApiError::validation([("email_or_phone", r.to_owned())]))?;
    if identity.channel() != channel {
        let expected = match channel {
            Channel::Sms => "a phone number",
            Channel::Email => "an e-mail address",
        };
        return Err(ApiError::validation([("email_or_phone", format!("must be {expected}"))]));
    }
    if code_input.len() != 6 || !code_input.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation([("code", "must be 6 digits".to_owned())]));
    }
    let mut conn = state.db.get().await?;
    let verdict = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let Some(stored) = codes::latest_for_update(conn, identity.as_str(), channel).await? else {
                return Ok(Verdict::Wrong { attempts_left: 0 });
            };
            let verdict = code::judge(
                &stored.code_hash,
                &stored.destination,
                code_input,
                stored.attempts,
                stored.expires_at,
                stored.consumed_at.is_some(),
                Utc::now(),
            );
            match verdict {
                Verdict::Accepted => {
                    codes::consume(conn, stored.id).await?;
                    users::mark_verified(conn, stored.user_id, channel).await?;
                    let event = UserVerified { user_id: stored.user_id, channel: channel.to_string() };
                    outbox::publish(conn, event).await?;
                }
                Verdict::Wrong { .. } => codes::record_attempt(conn, stored.id).await?,
                _ => {}
            }
            Ok(verdict)
        })
        .await?;
    match verdict {
        Verdict::Accepted => Ok(()),
        Verdict::Wrong { attempts_left } => Err(ApiError::bad_request("invalid_code", "the code is wrong")
            .with_details(json!({ "attempts_left": attempts_left }))),
        Verdict::Expired => Err(ApiError::unprocessable("code_expired", "the code has expired; ask for a new one")),
        Verdict::AttemptsExhausted => {
            Err(ApiError::unprocessable("code_attempts_exhausted", "too many wrong tries; ask for a new code"))
        }
        Verdict::AlreadyUsed => Err(ApiError::unprocessable("code_used", "the code was already used")),
    }
}

/// Sends a new code. Unknown destinations get the same answer, so accounts cannot be probed.
pub async fn send_code(state: &AppState, email_or_phone: &str) -> Result<(), ApiError> {
    let identity =
        Identity::parse(email_or_phone).map_err(|r| ApiError::validation([("email_or_phone", r.to_owned())]))?;
    throttle::take_code_send(&state.redis, identity.as_str()).await?;
    let mut conn = state.db.get().await?;
    let Some(user) = users::find_by_identity(&mut conn, &identity).await? else { return Ok(()) };
    conn.transaction::<_, ApiError, _>(async |conn| Ok(issue_code(conn, user.id, &identity).await?)).await
}

enum Rotation {
    Rotated(Box<Session>),
    Reused,
}

/// Exchanges a refresh token for a new pair. A token rotated less than
/// `refresh_reuse_grace_secs` ago answers again with the same successor (a client retrying on a
/// flaky network, two tabs); presented later, or once its successor moved on, it revokes its
/// whole family: someone else may hold a copy.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<Session, ApiError> {
    let invalid = || ApiError::unauthorized("invalid_refresh_token", "the refresh token is not valid");
    let token_hash = tokens::hash_refresh_token(refresh_token);
    let mut conn = state.db.get().await?;
    let rotation = conn
        .transaction::<_, ApiError, _>(async |conn| {
            // Concurrent refreshes of one token queue on this lock; the later ones see it rotated.
            let stored = refresh_tokens::find_for_update(conn, &token_hash).await?.ok_or_else(invalid)?;
            if stored.revoked_at.is_some() || stored.expires_at <= Utc::now() {
                return Err(invalid());
            }
            if stored.rotated_at.is_some() {
                if let Some(successor) = current_successor(conn, state, &stored, refresh_token).await? {
                    let user = users::find(conn, stored.user_id).await?;
                    ensure_may_sign_in(&user)?;
                    return Ok(Rotation::Rotated(Box::new(session_with(state, user, successor)?)));
                }
                let revoked = refresh_tokens::revoke_family(conn, stored.family_id).await?;
                tracing::warn!(user_id = stored.user_id, revoked, "refresh token reused; family revoked");
                return Ok(Rotation::Reused);
            }
            let user = users::find(conn, stored.user_id).await?;
            ensure_may_sign_in(&user)?;
            let (session, successor_id) = open_session(conn, state, user, Some(stored.family_id)).await?;
            let sealed = tokens::seal_successor(refresh_token, &session.refresh_token)
                .ok_or_else(|| ApiError::internal("a new refresh token could not be sealed"))?;
            refresh_tokens::mark_rotated(conn, stored.id, successor_id, &sealed).await?;
            Ok(Rotation::Rotated(Box::new(session)))
        })
        .await?;
    match rotation {
        Rotation::Rotated(session) => Ok(*session),
        Rotation::Reused => Err(ApiError::unauthorized(
            "refresh_token_reused",
            "this refresh token was already used; every session of its family is signed out",
        )),
    }
}

/// The successor of a token rotated within the grace window, while that successor is current.
async fn current_successor(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    rotated: &refresh_tokens::RefreshToken,
    rotated_token: &str,
) -> Result<Option<String>, ApiError> {
    let grace = Duration::seconds(state.settings.refresh_reuse_grace_secs);
    let within_grace = rotated.rotated_at.is_some_and(|at| Utc::now() - at <= grace);
    let (Some(successor_id), Some(sealed), true) = (rotated.successor_id, &rotated.successor_sealed, within_grace)
    else {
        return Ok(None);
    };
    let successor = refresh_tokens::find(conn, successor_id).await?;
    Ok(successor.filter(|s| s.is_current()).and_then(|_| tokens::unseal_successor(rotated_token, sealed)))
}

/// Revokes the refresh token and denies the access token's `jti` until it expires.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub async fn logout(state: &AppState, user: &platform::AuthUser, refresh_token: Option<&str>) -> Result<(), ApiError> {
    if let Some(token) = refresh_token {
        let mut conn = state.db.get().await?;
        refresh_tokens::revoke(&mut conn, user.id, &tokens::hash_refresh_token(token)).await?;
    }
    let remaining = (user.expires_at - Utc::now().timestamp()).max(1);
    let mut redis = state.redis.get().await?;
    let _: () = deadpool_redis::redis::cmd("SET")
        .arg(state.redis.key(&contracts::revoked_jti_key(&user.jti)))
        .arg(1)
        .arg("EX")
        .arg(remaining)
        .query_async(&mut redis)
        .await?;
    Ok(())
}
