//! NATS subject names: real-time pushes, internal request/reply, JetStream work queues.

/// Real-time pushes to whichever replica holds the user's WebSocket.
pub fn realtime_user(user_id: i64) -> String {
    format!("rt.user.{user_id}")
}

pub const RPC_AUTH_USERS_GET: &str = "rpc.auth.users.get";
pub const RPC_AUTH_USERS_BATCH_GET: &str = "rpc.auth.users.batch_get";
pub const RPC_AUTH_BLOCKS_CHECK: &str = "rpc.auth.blocks.check";

pub const JOBS_MEDIA_PROCESS: &str = "jobs.media.process";
pub const JOBS_MEDIA_ANALYZE: &str = "jobs.media.analyze";

#[cfg(test)]
mod tests {
    #[test]
    fn realtime_subject_per_user() {
        assert_eq!(super::realtime_user(17), "rt.user.17");
    }
}
