//! Internal request/reply contracts over NATS (JSON bodies), served by the owning service.

use crate::claims::Role;
use serde::{Deserialize, Serialize};

/// `rpc.auth.users.get`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetUser {
    pub id: i64,
}

/// `rpc.auth.users.batch_get` (at most 100 ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetUsers {
    pub ids: Vec<i64>,
}

/// What other services may know about a user: no e-mail, no phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub region: Option<String>,
    pub banned: bool,
}

/// Reply of `users.get` (`user` is null for an unknown id) …
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserReply {
    pub user: Option<PublicUser>,
}

/// … and of `users.batch_get` (unknown ids are left out).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersReply {
    pub users: Vec<PublicUser>,
}

/// `rpc.auth.blocks.check`: has either user blocked the other?
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckBlock {
    pub user_id: i64,
    pub other_id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockReply {
    pub blocked: bool,
}

/// Any RPC that could not be answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RpcError {
    pub error: String,
}
