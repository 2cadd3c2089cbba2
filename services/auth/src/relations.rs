//! Following and blocking, with their events.

use crate::profiles;
use crate::state::AppState;
use crate::store::relations;
use crate::store::users;
use contracts::events::{SubscriptionCreated, SubscriptionDeleted, UserBlocked, UserUnblocked};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::ApiError;
use platform::outbox;

async fn ensure_exists(conn: &mut AsyncPgConnection, id: i64) -> Result<(), ApiError> {
    users::find(conn, id).await.map(drop).map_err(|e| match e {
        diesel::result::Error::NotFound => ApiError::not_found("no such user"),
        other => other.into(),
    })
}

fn not_yourself(caller: i64, other: i64, what: &str) -> Result<(), ApiError> {
    if caller == other {
        Err(ApiError::unprocessable("self_relation", format!("you cannot {what} yourself")))
    } else {
        Ok(())
    }
}

#[tracing::instrument(skip(state))]
pub async fn follow(state: &AppState, follower: i64, followee: i64) -> Result<(), ApiError> {
    not_yourself(follower, followee, "follow")?;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        ensure_exists(conn, followee).await?;
        if relations::blocked_between(conn, follower, followee).await? {
            return Err(ApiError::forbidden("you cannot follow this user"));
        }
        if relations::follow(conn, follower, followee).await? {
            let event = SubscriptionCreated { follower_id: follower, followee_id: followee };
            outbox::publish(conn, event).await?;
        }
        Ok(())
    })
    .await?;
    profiles::forget(state, &[follower, followee]).await;
    Ok(())
}

/// Ends a follow if there is one, with its event.
async fn end_follow(conn: &mut AsyncPgConnection, follower: i64, followee: i64) -> diesel::QueryResult<()> {
    if relations::unfollow(conn, follower, followee).await? {
        let event = SubscriptionDeleted { follower_id: follower, followee_id: followee };
        outbox::publish(conn, event).await?;
    }
    Ok(())
}

#[tracing::instrument(skip(state))]
pub async fn unfollow(state: &AppState, follower: i64, followee: i64) -> Result<(), ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| Ok(end_follow(conn, follower, followee).await?)).await?;
    profiles::forget(state, &[follower, followee]).await;
    Ok(())
}

/// Blocking also ends follows in both directions.
#[tracing::instrument(skip(state))]
pub async fn block(state: &AppState, blocker: i64, blocked: i64) -> Result<(), ApiError> {
    not_yourself(blocker, blocked, "block")?;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        ensure_exists(conn, blocked).await?;
        if relations::block(conn, blocker, blocked).await? {
            let event = UserBlocked { blocker_id: blocker, blocked_id: blocked };
            outbox::publish(conn, event).await?;
            end_follow(conn, blocker, blocked).await?;
            end_follow(conn, blocked, blocker).await?;
        }
        Ok(())
    })
    .await?;
    profiles::forget(state, &[blocker, blocked]).await;
    Ok(())
}

#[tracing::instrument(skip(state))]
pub async fn unblock(state: &AppState, blocker: i64, blocked: i64) -> Result<(), ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        if relations::unblock(conn, blocker, blocked).await? {
            let event = UserUnblocked { blocker_id: blocker, blocked_id: blocked };
            outbox::publish(conn, event).await?;
        }
        Ok(())
    })
    .await
}
