//! Calls and the lines they hold.

use super::schema::{call_lines, calls};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calls)]
pub struct Call {
    pub id: i64,
    pub caller_id: i64,
    pub callee_id: i64,
    pub kind: String,
    pub status: String,
    pub media_key: Option<Vec<u8>>,
    pub media_salt: Option<Vec<u8>>,
    pub ring_deadline: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<i64>,
}

impl Call {
    pub fn participants(&self) -> [i64; 2] {
        [self.caller_id, self.callee_id]
    }

    pub fn other_than(&self, user_id: i64) -> i64 {
        if self.caller_id == user_id { self.callee_id } else { self.caller_id }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = calls)]
pub struct NewCall<'a> {
    pub caller_id: i64,
    pub callee_id: i64,
    pub kind: &'a str,
    pub media_key: Option<Vec<u8>>,
    pub media_salt: Option<Vec<u8>>,
    pub ring_deadline: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, call: &NewCall<'_>) -> QueryResult<Call> {
    diesel::insert_into(calls::table).values(call).returning(Call::as_returning()).get_result(conn).await
}

/// Puts both participants on the line of `call`; `false` when either is already on one (busy).
pub async fn take_lines(conn: &mut AsyncPgConnection, call: &Call) -> QueryResult<bool> {
    let rows = call.participants().map(|user| (call_lines::user_id.eq(user), call_lines::call_id.eq(call.id)));
    let taken = diesel::insert_into(call_lines::table).values(&rows[..]).on_conflict_do_nothing().execute(conn).await?;
    Ok(taken == rows.len())
}

pub async fn free_lines(conn: &mut AsyncPgConnection, call_id: i64) -> QueryResult<()> {
    diesel::delete(call_lines::table.filter(call_lines::call_id.eq(call_id))).execute(conn).await.map(drop)
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Call>> {
    calls::table.find(id).select(Call::as_select()).first(conn).await.optional()
}

/// The call, locked until the transaction ends (its changes queue here).
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Call>> {
    calls::table.find(id).select(Call::as_select()).for_update().first(conn).await.optional()
}

/// What a change of status writes besides the status.
pub struct Change {
    pub status: &'static str,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<i64>,
}

pub async fn update(conn: &mut AsyncPgConnection, id: i64, change: &Change) -> QueryResult<Call> {
    diesel::update(calls::table.find(id))
        .set((
            calls::status.eq(change.status),
            change.answered_at.map(|at| calls::answered_at.eq(at)),
            change.ended_at.map(|at| calls::ended_at.eq(at)),
            change.ended_by.map(|by| calls::ended_by.eq(by)),
        ))
        .returning(Call::as_returning())
        .get_result(conn)
        .await
}

/// Calls the clock has to move on, locked (replicas sweeping at once take different ones):
/// ringing past their deadline, or active since before `answered_before`.
pub async fn due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    answered_before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Call>> {
    calls::table
        .filter(
            (calls::status.eq("ringing").and(calls::ring_deadline.le(now)))
                .or(calls::status.eq("active").and(calls::answered_at.le(answered_before))),
        )
        .order(calls::id)
        .limit(limit)
        .select(Call::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// The ringing or active calls `user_id` is on.
pub async fn live_of(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<Call>> {
    calls::table
        .filter(calls::id.eq_any(call_lines::table.filter(call_lines::user_id.eq(user_id)).select(call_lines::call_id)))
        .select(Call::as_select())
        .load(conn)
        .await
}

/// A page of `user_id`'s calls, newest first, limited to `statuses` when given.
pub async fn page_of(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    statuses: Option<&[&str]>,
    page: &PageRequest,
) -> QueryResult<Vec<Call>> {
    let mut query = calls::table
        .filter(calls::caller_id.eq(user_id).or(calls::callee_id.eq(user_id)))
        .select(Call::as_select())
        .order((calls::created_at.desc(), calls::id.desc()))
        .limit(page.fetch())
        .into_boxed();
    if let Some(statuses) = statuses {
        query = query.filter(calls::status.eq_any(statuses.to_vec()));
    }
    match page.start {
        Start::First => {}
        Start::After { created_at, id } => {
            query = query
                .filter(calls::created_at.lt(created_at).or(calls::created_at.eq(created_at).and(calls::id.lt(id))))
        }
        Start::Offset(offset) => query = query.offset(offset),
    }
    query.load(conn).await
}
