//! Admin actions on users. Each one is audited (actor, target, before, after, reason) and
//! published, in the same transaction as the change; a ban, a suspension or a role change also
//! ends the user's access tokens at once, everywhere.

use crate::domain::status::UserStatus;
use crate::profiles;
use crate::state::AppState;
use crate::store::admin::{self, AuditEntry};
use crate::store::users::{self, User};
use chrono::{DateTime, Utc};
use contracts::Role;
use contracts::events::{self, Payload, UserBanned, UserRoleChanged, UserSuspended, UserUnbanned};
use diesel_async::AsyncConnection;
use platform::outbox;
use platform::{ApiError, AuthUser};
use serde_json::json;

#[derive(Debug)]
pub enum Action {
    Ban { reason: Option<String> },
    Unban,
    Suspend { until: DateTime<Utc>, reason: Option<String> },
    ChangeRole { role: Role },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Ban { .. } => "ban",
            Action::Unban => "unban",
            Action::Suspend { .. } => "suspend",
            Action::ChangeRole { .. } => "change_role",
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Action::Ban { reason } | Action::Suspend { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// Every access token of `user_id` issued until now stops working at every verifier (they read
/// the mark with the token's own revocation, on every request); the mark outlives the tokens.
async fn revoke_access_tokens(state: &AppState, user_id: i64) -> Result<(), ApiError> {
    let mut redis = state.redis.get().await?;
    let _: () = deadpool_redis::redis::cmd("SET")
        .arg(state.redis.key(&contracts::revoked_before_key(user_id)))
        .arg(Utc::now().timestamp())
        .arg("EX")
        .arg(state.settings.access_ttl_secs + 60)
        .query_async(&mut redis)
        .await?;
    Ok(())
}

fn snapshot(user: &User) -> serde_json::Value {
    json!({ "status": user.status, "role": user.role, "suspended_until": user.suspended_until })
}

#[tracing::instrument(skip(state, actor), fields(actor_id = actor.id))]
pub async fn act(state: &AppState, actor: &AuthUser, target: i64, action: Action) -> Result<User, ApiError> {
    actor.require_role(&[Role::Admin])?;
    if actor.id == target {
        return Err(ApiError::unprocessable("self_administration", "admins cannot act on their own account"));
    }
    if let Action::Suspend { until, .. } = &action
        && *until <= Utc::now()
    {
        return Err(ApiError::validation([("until", "must be in the future".to_owned())]));
    }
    let mut conn = state.db.get().await?;
    let updated = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let before = users::find(conn, target).await.map_err(|e| match e {
                diesel::result::Error::NotFound => ApiError::not_found("no such user"),
                other => other.into(),
            })?;
            let reason = action.reason().map(str::to_owned);
            let (after, payload): (User, Payload) = match &action {
                Action::Ban { .. } => {
                    let after = admin::set_status(conn, target, UserStatus::Banned, None, reason.as_deref()).await?;
                    admin::revoke_all_refresh_tokens(conn, target).await?;
                    let event =
                        UserBanned { user_id: target, actor_id: actor.id, reason: reason.clone().unwrap_or_default() };
                    (after, event.into())
                }
                Action::Unban => {
                    let after = admin::set_status(conn, target, UserStatus::Active, None, None).await?;
                    (after, UserUnbanned { user_id: target, actor_id: actor.id }.into())
                }
                Action::Suspend { until, .. } => {
                    let after =
                        admin::set_status(conn, target, UserStatus::Suspended, Some(*until), reason.as_deref()).await?;
                    admin::revoke_all_refresh_tokens(conn, target).await?;
                    let event = UserSuspended {
                        user_id: target,
                        actor_id: actor.id,
                        reason: reason.clone().unwrap_or_default(),
                        until: Some(events::timestamp(*until)),
                    };
                    (after, event.into())
                }
                Action::ChangeRole { role } => {
                    let after = admin::set_role(conn, target, *role).await?;
                    let event = UserRoleChanged {
                        user_id: target,
                        old_role: events::Role::from(before.role) as i32,
                        new_role: events::Role::from(*role) as i32,
                        actor_id: actor.id,
                    };
                    (after, event.into())
                }
            };
            admin::audit(
                conn,
                AuditEntry {
                    actor_id: actor.id,
                    action: action.name(),
                    target_id: target,
                    before: snapshot(&before),
                    after: snapshot(&after),
                    reason: reason.as_deref(),
                },
            )
            .await?;
            outbox::publish(conn, payload).await?;
            // Last, so that a Redis failure undoes the action rather than leaving tokens valid.
            if !matches!(action, Action::Unban) {
                revoke_access_tokens(state, target).await?;
            }
            Ok(after)
        })
        .await?;
    tracing::info!(actor = actor.id, target, action = action.name(), "admin action");
    profiles::forget(state, &[target]).await;
    Ok(updated)
}
