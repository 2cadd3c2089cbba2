//! What the chat service takes in: accepted proposals open chats; auth's blocks are projected.

use crate::chats;
use crate::state::AppState;
use crate::store::blocks;
use contracts::Envelope;
use contracts::events::envelope::Payload;
use diesel_async::AsyncPgConnection;
use platform::consumer::EventHandler;

/// Group `chat.deals`: `proposal.accepted` opens the buyer's chat with the master.
pub const DEALS: &str = "deals";
/// Group `chat.blocks`: `user.blocked` / `user.unblocked`.
pub const BLOCKS: &str = "blocks";

pub struct DealsHandler {
    pub state: AppState,
}

impl EventHandler for DealsHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        if let Some(Payload::ProposalAccepted(accepted)) = &event.payload {
            chats::open_for_deal(conn, accepted.buyer_id, accepted.master_id, accepted.request_id).await?;
        }
        Ok(())
    }

    async fn after_commit(&self, event: &Envelope) {
        if let Some(Payload::ProposalAccepted(accepted)) = &event.payload {
            let announced =
                chats::announce_deal(&self.state, accepted.buyer_id, accepted.master_id, accepted.request_id).await;
            if let Err(error) = announced {
                tracing::warn!(error = %format!("{error:#}"), "deal chat not announced");
            }
        }
    }
}

pub struct BlocksHandler;

impl EventHandler for BlocksHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        match &event.payload {
            Some(Payload::UserBlocked(e)) => blocks::add(conn, e.blocker_id, e.blocked_id).await?,
            Some(Payload::UserUnblocked(e)) => blocks::remove(conn, e.blocker_id, e.blocked_id).await?,
            _ => {}
        }
        Ok(())
    }
}
