//! The users projection (and so the masters' directory), kept from auth's user events.

use crate::domain::reference::Reference;
use crate::store::users::{self, Profile};
use contracts::events::envelope::Payload;
use contracts::events::{Role as EventRole, UserProfile};
use contracts::{Envelope, Role};
use diesel_async::AsyncPgConnection;
use platform::consumer::EventHandler;
use std::sync::Arc;

/// The consumer's name; its group is `marketplace.users`.
pub const CONSUMER: &str = "users";

pub struct UsersHandler {
    pub reference: Arc<Reference>,
}

/// The role an event names; an unknown number is read as a buyer's (the least privileged).
fn role_of(role: i32) -> Role {
    match EventRole::try_from(role) {
        Ok(EventRole::Master) => Role::Master,
        Ok(EventRole::Admin) => Role::Admin,
        _ => Role::Buyer,
    }
}

impl UsersHandler {
    fn profile(&self, user: &UserProfile) -> Profile {
        Profile {
            id: user.user_id,
            username: Some(user.username.clone()),
            role: role_of(user.role),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            avatar_url: user.avatar_url.clone(),
            region_code: user.region.as_deref().and_then(|r| self.reference.region(r)).map(|r| r.code.clone()),
            about: user.description.clone(),
        }
    }
}

impl EventHandler for UsersHandler {
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
            Some(Payload::UserRoleChanged(e)) => users::set_role(conn, e.user_id, role_of(e.new_role)).await?,
            Some(Payload::UserBanned(e)) => users::set_active(conn, e.user_id, false).await?,
            Some(Payload::UserUnbanned(e)) => users::set_active(conn, e.user_id, true).await?,
            _ => {}
        }
        Ok(())
    }
}
