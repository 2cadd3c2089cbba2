//! Support tickets, their replies, attached files and the audit trail of admin actions.

use super::schema::{ticket_attachments, ticket_audit, ticket_replies, tickets};
use crate::support::domain::{TicketCategory, TicketStatus};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::{PageRequest, Start};
use serde::Serialize;
use utoipa::ToSchema;

/// A ticket as stored and as its readers see it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    pub id: i64,
    /// The author.
    pub user_id: i64,
    pub subject: String,
    #[diesel(column_name = body)]
    pub text: String,
    pub category: TicketCategory,
    pub status: TicketStatus,
    /// The admin handling it.
    pub assignee_id: Option<i64>,
    pub order_id: Option<i64>,
    pub request_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The last reply or status change.
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tickets)]
pub struct NewTicket<'a> {
    pub user_id: i64,
    pub subject: &'a str,
    pub body: &'a str,
    pub category: TicketCategory,
    pub order_id: Option<i64>,
    pub request_id: Option<i64>,
}

/// What changes on a ticket; `None` leaves a column as it is (`Some(None)` clears the assignee).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = tickets)]
pub struct TicketChanges {
    pub status: Option<TicketStatus>,
    pub assignee_id: Option<Option<i64>>,
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl TicketChanges {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.assignee_id.is_none() && self.last_activity_at.is_none()
    }
}

/// Which tickets a list shows; `None` filters nothing.
#[derive(Debug, Default)]
pub struct TicketFilter {
    pub author_id: Option<i64>,
    pub status: Option<TicketStatus>,
    pub assignee_id: Option<i64>,
    pub category: Option<TicketCategory>,
    /// Opened before this moment.
    pub created_before: Option<DateTime<Utc>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewTicket<'_>) -> QueryResult<Ticket> {
    diesel::insert_into(tickets::table).values(new).returning(Ticket::as_returning()).get_result(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Ticket>> {
    tickets::table.find(id).select(Ticket::as_select()).first(conn).await.optional()
}

/// The ticket, locked until the transaction ends: concurrent changes to it queue.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Ticket>> {
    tickets::table.find(id).select(Ticket::as_select()).for_update().first(conn).await.optional()
}

pub async fn update(conn: &mut AsyncPgConnection, id: i64, changes: &TicketChanges) -> QueryResult<Ticket> {
    diesel::update(tickets::table.find(id)).set(changes).returning(Ticket::as_returning()).get_result(conn).await
}

/// A page of the tickets `filter` lets through, most recently active first.
pub async fn page(conn: &mut AsyncPgConnection, filter: &TicketFilter, page: &PageRequest) -> QueryResult<Vec<Ticket>> {
    let mut query = tickets::table
        .select(Ticket::as_select())
        .order((tickets::last_activity_at.desc(), tickets::id.desc()))
        .limit(page.fetch())
        .into_boxed();
    if let Some(author_id) = filter.author_id {
        query = query.filter(tickets::user_id.eq(author_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(tickets::status.eq(status));
    }
    if let Some(assignee_id) = filter.assignee_id {
        query = query.filter(tickets::assignee_id.eq(assignee_id));
    }
    if let Some(category) = filter.category {
        query = query.filter(tickets::category.eq(category));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(tickets::created_at.lt(before));
    }
    match page.start {
        Start::First => {}
        Start::After { created_at, id } => {
            query = query.filter(
                tickets::last_activity_at
                    .lt(created_at)
                    .or(tickets::last_activity_at.eq(created_at).and(tickets::id.lt(id))),
            )
        }
        Start::Offset(offset) => query = query.offset(offset),
    }
    query.load(conn).await
}

/// A message in a ticket's thread.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = ticket_replies)]
pub struct Reply {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: i64,
    /// Written by support, not by the ticket's author.
    pub from_support: bool,
    #[diesel(column_name = body)]
    pub text: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_reply(
    conn: &mut AsyncPgConnection,
    ticket_id: i64,
    author_id: i64,
    from_support: bool,
    text: &str,
) -> QueryResult<Reply> {
    diesel::insert_into(ticket_replies::table)
        .values((
            ticket_replies::ticket_id.eq(ticket_id),
            ticket_replies::author_id.eq(author_id),
            ticket_replies::from_support.eq(from_support),
            ticket_replies::body.eq(text),
        ))
        .returning(Reply::as_returning())
        .get_result(conn)
        .await
}

/// The ticket's thread, oldest first.
pub async fn replies_of(conn: &mut AsyncPgConnection, ticket_id: i64) -> QueryResult<Vec<Reply>> {
    ticket_replies::table
        .filter(ticket_replies::ticket_id.eq(ticket_id))
        .order(ticket_replies::id.asc())
        .select(Reply::as_select())
        .load(conn)
        .await
}

/// A file attached to a ticket; `path` names it in the object store.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_attachments)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub path: String,
    pub file_name: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// A file already in the object store, to record against a ticket.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub path: String,
    pub file_name: Option<String>,
    pub content_type: &'static str,
    pub size: i64,
}

pub async fn insert_attachments(conn: &mut AsyncPgConnection, ticket_id: i64, files: &[StoredFile]) -> QueryResult<()> {
    let rows: Vec<_> = files
        .iter()
        .map(|file| {
            (
                ticket_attachments::ticket_id.eq(ticket_id),
                ticket_attachments::path.eq(&file.path),
                ticket_attachments::file_name.eq(&file.file_name),
                ticket_attachments::content_type.eq(file.content_type),
                ticket_attachments::size.eq(file.size),
            )
        })
        .collect();
    diesel::insert_into(ticket_attachments::table).values(&rows).execute(conn).await.map(drop)
}

pub async fn attachments_of(conn: &mut AsyncPgConnection, ticket_id: i64) -> QueryResult<Vec<Attachment>> {
    ticket_attachments::table
        .filter(ticket_attachments::ticket_id.eq(ticket_id))
        .order(ticket_attachments::id.asc())
        .select(Attachment::as_select())
        .load(conn)
        .await
}

pub async fn attachment(conn: &mut AsyncPgConnection, ticket_id: i64, id: i64) -> QueryResult<Option<Attachment>> {
    ticket_attachments::table
        .filter(ticket_attachments::id.eq(id).and(ticket_attachments::ticket_id.eq(ticket_id)))
        .select(Attachment::as_select())
        .first(conn)
        .await
        .optional()
}

platform::text_enum! {
    /// What an admin did to a ticket.
    #[derive(ToSchema)]
    pub enum AuditAction {
        StatusChanged = "status_changed",
        Assigned = "assigned",
        Replied = "replied",
    }
}

/// One admin action on a ticket.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = ticket_audit)]
pub struct AuditRecord {
    pub id: i64,
    pub ticket_id: i64,
    pub actor_id: i64,
    pub action: AuditAction,
    /// `{from, to}` for a status change or an assignment, `{reply_id}` for a reply.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn audit(
    conn: &mut AsyncPgConnection,
    ticket_id: i64,
    actor_id: i64,
    action: AuditAction,
    details: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(ticket_audit::table)
        .values((
            ticket_audit::ticket_id.eq(ticket_id),
            ticket_audit::actor_id.eq(actor_id),
            ticket_audit::action.eq(action),
            ticket_audit::details.eq(details),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The ticket's audit trail, oldest first.
pub async fn audit_of(conn: &mut AsyncPgConnection, ticket_id: i64) -> QueryResult<Vec<AuditRecord>> {
    ticket_audit::table
        .filter(ticket_audit::ticket_id.eq(ticket_id))
        .order(ticket_audit::id.asc())
        .select(AuditRecord::as_select())
        .load(conn)
        .await
}
