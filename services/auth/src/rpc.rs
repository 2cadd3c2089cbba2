//! Internal lookups over NATS request/reply for the other services (`contracts::rpc`).

use crate::domain::status::UserStatus;
use crate::state::AppState;
use crate::store::{relations, users};
use bytes::Bytes;
use contracts::rpc::{BlockReply, CheckBlock, GetUser, GetUsers, PublicUser, RpcError, UserReply, UsersReply};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde::de::DeserializeOwned;

const MAX_BATCH: usize = 100;

fn public(user: users::User) -> PublicUser {
    PublicUser {
        role: user.role,
        banned: user.status == UserStatus::Banned,
        id: user.id,
        username: user.username,
        first_name: user.first_name,
        last_name: user.last_name,
        avatar_url: user.avatar_url,
        region: user.region,
    }
}

fn reply<R: Serialize>(result: Result<R, String>) -> Bytes {
    let json = match result {
        Ok(value) => serde_json::to_vec(&value),
        Err(error) => serde_json::to_vec(&RpcError { error }),
    };
    json.unwrap_or_default().into()
}

async fn answer<Q, R, F>(request: Bytes, handle: F) -> Bytes
where
    Q: DeserializeOwned,
    R: Serialize,
    F: AsyncFnOnce(Q) -> Result<R, String>,
{
    match serde_json::from_slice::<Q>(&request) {
        Ok(query) => reply(handle(query).await),
        Err(error) => reply::<R>(Err(format!("bad request: {error}"))),
    }
}

/// A NATS request handler that answers with `handle` over the service's state.
pub fn answering<F, Fut>(state: AppState, handle: F) -> impl Fn(Bytes) -> Fut + Send + 'static
where
    F: Fn(AppState, Bytes) -> Fut + Send + 'static,
    Fut: Future<Output = Bytes> + Send,
{
    move |request| handle(state.clone(), request)
}

pub async fn get_user(state: AppState, request: Bytes) -> Bytes {
    answer(request, async |query: GetUser| {
        let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
        let user = users::find(&mut conn, query.id).await.optional().map_err(|e| e.to_string())?;
        Ok(UserReply { user: user.map(public) })
    })
    .await
}

pub async fn get_users(state: AppState, request: Bytes) -> Bytes {
    answer(request, async |query: GetUsers| {
        if query.ids.len() > MAX_BATCH {
            return Err(format!("at most {MAX_BATCH} ids"));
        }
        use crate::store::schema::users::dsl;
        let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
        let found: Vec<users::User> = dsl::users
            .filter(dsl::id.eq_any(&query.ids))
            .select(users::User::as_select())
            .load(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(UsersReply { users: found.into_iter().map(public).collect() })
    })
    .await
}

pub async fn check_block(state: AppState, request: Bytes) -> Bytes {
    answer(request, async |query: CheckBlock| {
        let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
        let blocked =
            relations::blocked_between(&mut conn, query.user_id, query.other_id).await.map_err(|e| e.to_string())?;
        Ok(BlockReply { blocked })
    })
    .await
}
