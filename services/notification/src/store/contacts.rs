//! Where users can be reached: the address of their last verification code per channel.

use super::schema::contacts;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Remembers `destination` as the user's address on `channel` ("sms" or "email").
pub async fn remember(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    channel: &str,
    destination: &str,
    locale: &str,
) -> QueryResult<()> {
    let (email, phone) = if channel == "sms" { (None, Some(destination)) } else { (Some(destination), None) };
    let locale = if locale.is_empty() { "ru" } else { locale };
    diesel::insert_into(contacts::table)
        .values((
            contacts::user_id.eq(user_id),
            contacts::email.eq(email),
            contacts::phone.eq(phone),
            contacts::locale.eq(locale),
        ))
        .on_conflict(contacts::user_id)
        .do_update()
        .set((
            contacts::email.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "COALESCE(excluded.email, contacts.email)",
            )),
            contacts::phone.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "COALESCE(excluded.phone, contacts.phone)",
            )),
            contacts::locale.eq(excluded(contacts::locale)),
            contacts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}
