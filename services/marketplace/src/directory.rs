//! The users projection (and so the master directory), kept from auth's user events.

use crate::domain::reference::Reference;
use crate::store::users::{self, Profile};
use contracts::Envelope;
use contracts::events::envelope::Payload;
use contracts::events::{Role as EventRole, UserProfile};
use diesel_async::AsyncPgConnection;
use platform::consumer::EventHandler;
use std::sync::Arc;

/// The consumer's name; its group is `marketplace.directory`.
pub const CONSUMER: &str = "directory";

pub struct DirectoryHandler {
    pub reference: Arc<Reference>,
}

fn role_name(role: i32) -> &'static str {
    match EventRole::try_from(role) {
        Ok(EventRole::Master) => "master",
        Ok(EventRole::Admin) => "admin",
        _ => "buyer",
    }
}

impl DirectoryHandler {
    fn profile(&self, user: &UserProfile) -> Profile {
        Profile {
            id: user.user_id,
            username: Some(user.username.clone()),
            role: role_name(user.role).into(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            avatar_url: user.avatar_url.clone(),
            region_code: user.region.as_deref().and_then(|r| self.reference.region(r)).map(|r| r.code.clone()),
            about: user.description.clone(),
        }
    }
}

impl EventHandler for DirectoryHandler {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        match &event.payload {
            Some(Payload::UserRegistered(e)) => {
                if let Some(user) = &e.user {
                    users::upsert_profile(conn, &self.profile(user)).await?;
                }
            }
            Some(Payload::UserUpdated(e)) => {
                if let Some(user) = &e.user {
                    users::upsert_profile(conn, &self.profile(user)).await?;
                }
            }
            Some(Payload::UserRoleChanged(e)) => users::set_role(conn, e.user_id, role_name(e.new_role)).await?,
            Some(Payload::UserBanned(e)) => users::set_active(conn, e.user_id, false).await?,
            Some(Payload::UserUnbanned(e)) => users::set_active(conn, e.user_id, true).await?,
            _ => {}
        }
        Ok(())
    }
}
