//! Chats and their members.

use super::schema::{chat_members, chats};
use crate::domain::Pair;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = chats)]
pub struct Chat {
    pub id: i64,
    pub user_low: i64,
    pub user_high: i64,
    pub request_id: Option<i64>,
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
}

impl Chat {
    pub fn participants(&self) -> [i64; 2] {
        [self.user_low, self.user_high]
    }

    pub fn partner_of(&self, user_id: i64) -> i64 {
        if self.user_low == user_id { self.user_high } else { self.user_low }
    }
}

/// One participant's side of a chat, with the chat.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = chat_members)]
pub struct Membership {
    pub chat_id: i64,
    pub user_id: i64,
    pub partner_id: i64,
    pub read_seq: i64,
    pub last_activity_at: DateTime<Utc>,
}

/// Creates the chat of `pair` about `request_id` unless it exists; `true` when created now.
pub async fn open(conn: &mut AsyncPgConnection, pair: Pair, request_id: Option<i64>) -> QueryResult<(Chat, bool)> {
    let created: Option<Chat> = diesel::sql_query(
        "INSERT INTO chats (user_low, user_high, request_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_low, user_high, COALESCE(request_id, 0)) DO NOTHING
         RETURNING id, user_low, user_high, request_id, last_seq, created_at",
    )
    .bind::<BigInt, _>(pair.low())
    .bind::<BigInt, _>(pair.high())
    .bind::<Nullable<BigInt>, _>(request_id)
    .get_result(conn)
    .await
    .optional()?;
    if let Some(chat) = created {
        let members = [(pair.low(), pair.high()), (pair.high(), pair.low())].map(|(user, partner)| {
            (chat_members::chat_id.eq(chat.id), chat_members::user_id.eq(user), chat_members::partner_id.eq(partner))
        });
        diesel::insert_into(chat_members::table).values(&members[..]).execute(conn).await?;
        return Ok((chat, true));
    }
    let existing = chats::table
        .filter(chats::user_low.eq(pair.low()).and(chats::user_high.eq(pair.high())))
        .filter(chats::request_id.is_not_distinct_from(request_id))
        .select(Chat::as_select())
        .first(conn)
        .await?;
    Ok((existing, false))
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Chat>> {
    chats::table.find(id).select(Chat::as_select()).first(conn).await.optional()
}

/// `user_id`'s side of the chat; `None` for a stranger (or no such chat).
pub async fn membership(conn: &mut AsyncPgConnection, chat_id: i64, user_id: i64) -> QueryResult<Option<Membership>> {
    chat_members::table.find((chat_id, user_id)).select(Membership::as_select()).first(conn).await.optional()
}

/// The chats among `chat_ids` that `user_id` takes part in.
pub async fn memberships_among(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    chat_ids: &[i64],
) -> QueryResult<Vec<Membership>> {
    chat_members::table
        .filter(chat_members::user_id.eq(user_id).and(chat_members::chat_id.eq_any(chat_ids)))
        .select(Membership::as_select())
        .load(conn)
        .await
}

/// Locks the chat row for a new message and returns its last sequence number: concurrent
/// senders queue here, so sequence numbers commit in order and without gaps.
pub async fn lock_last_seq(conn: &mut AsyncPgConnection, chat_id: i64) -> QueryResult<i64> {
    chats::table.find(chat_id).select(chats::last_seq).for_update().get_result(conn).await
}

/// Records message `seq` as the chat's last and moves the chat up in both members' lists.
pub async fn advance(conn: &mut AsyncPgConnection, chat_id: i64, seq: i64, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(chats::table.find(chat_id)).set(chats::last_seq.eq(seq)).execute(conn).await?;
    diesel::update(chat_members::table.filter(chat_members::chat_id.eq(chat_id)))
        .set(chat_members::last_activity_at.eq(at))
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves `user_id`'s read mark forward to `seq` (never back); the new mark when it moved.
pub async fn mark_read(conn: &mut AsyncPgConnection, chat_id: i64, user_id: i64, seq: i64) -> QueryResult<Option<i64>> {
    diesel::update(chat_members::table.find((chat_id, user_id)).filter(chat_members::read_seq.lt(seq)))
        .set(chat_members::read_seq.eq(seq))
        .returning(chat_members::read_seq)
        .get_result(conn)
        .await
        .optional()
}

/// A page of `user_id`'s chats, most recently active first (one index range, however many).
pub async fn page_of(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    page: &PageRequest,
) -> QueryResult<Vec<(Membership, Chat)>> {
    let mut query = chat_members::table
        .inner_join(chats::table)
        .filter(chat_members::user_id.eq(user_id))
        .select((Membership::as_select(), Chat::as_select()))
        .order((chat_members::last_activity_at.desc(), chat_members::chat_id.desc()))
        .limit(page.fetch())
        .into_boxed();
    match page.start {
        Start::First => {}
        Start::After { created_at, id } => {
            query = query.filter(
                chat_members::last_activity_at
                    .lt(created_at)
                    .or(chat_members::last_activity_at.eq(created_at).and(chat_members::chat_id.lt(id))),
            )
        }
        Start::Offset(offset) => query = query.offset(offset),
    }
    query.load(conn).await
}

/// Do `a` and `b` have a chat (about anything)?
pub async fn have_chat(conn: &mut AsyncPgConnection, a: i64, b: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        chat_members::table.filter(chat_members::user_id.eq(a).and(chat_members::partner_id.eq(b))),
    ))
    .get_result(conn)
    .await
}

/// Everyone `user_id` has a chat with.
pub async fn partners(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    chat_members::table
        .filter(chat_members::user_id.eq(user_id))
        .select(chat_members::partner_id)
        .distinct()
        .load(conn)
        .await
}

#[derive(QueryableByName)]
struct Unread {
    #[diesel(sql_type = BigInt)]
    chat_id: i64,
    #[diesel(sql_type = BigInt)]
    unread: i64,
}

/// Messages from the partner after `user_id`'s read mark, per chat (chats with none left out).
pub async fn unread_counts(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    chat_ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
    let rows: Vec<Unread> = diesel::sql_query(
        "SELECT m.chat_id, count(*) AS unread
         FROM chat_members cm JOIN messages m ON m.chat_id = cm.chat_id AND m.seq > cm.read_seq
         WHERE cm.user_id = $1 AND cm.chat_id = ANY($2)
           AND m.sender_id IS DISTINCT FROM $1 AND m.deleted_at IS NULL
         GROUP BY m.chat_id",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Array<BigInt>, _>(chat_ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.chat_id, r.unread)).collect())
}
