//! Whether an account may be used.

platform::text_enum! {
    #[derive(utoipa::ToSchema)]
    pub enum UserStatus {
        Active = "active",
        /// Banned by an admin until unbanned.
        Banned = "banned",
        /// Suspended by an admin until `suspended_until`.
        Suspended = "suspended",
    }
}
