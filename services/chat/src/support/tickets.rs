//! Tickets: opening one (with files), the author's list and thread, replies from either side,
//! reopening; admins' queue and their changes of status and assignee. Only the author and
//! admins see a ticket (anyone else is told it does not exist). Every change publishes its
//! event, and every admin action writes its audit row, in the change's transaction.

use super::attachments::{self, Upload};
use super::domain::{self, Refused, Side, TicketCategory, TicketStatus};
use crate::state::AppState;
use crate::store::tickets::{
    self as store, Attachment, AuditAction, AuditRecord, NewTicket, Reply, Ticket, TicketChanges, TicketFilter,
};
use chrono::{DateTime, Utc};
use contracts::Role;
use contracts::events::{TicketCreated, TicketReplied, TicketStatusChanged};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::pagination::{Page, PageRequest};
use platform::{ApiError, AuthUser, outbox};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A ticket with its thread and files, as its author (and admins) see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// The thread, oldest first.
    pub replies: Vec<Reply>,
    pub attachments: Vec<AttachmentView>,
}

/// A ticket as admins see it: with the audit trail of admin actions.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminTicketView {
    #[serde(flatten)]
    pub view: TicketView,
    /// Admin actions on the ticket, oldest first.
    pub audit: Vec<AuditRecord>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub file_name: Option<String>,
    /// Decided by the file's content.
    pub content_type: String,
    pub size: i64,
    /// Where the ticket's readers download it (with their token).
    pub url: String,
    pub created_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentView {
    fn from(file: Attachment) -> Self {
        Self {
            url: format!("/api/v2/support/tickets/{}/attachments/{}", file.ticket_id, file.id),
            id: file.id,
            file_name: file.file_name,
            content_type: file.content_type,
            size: file.size,
            created_at: file.created_at,
        }
    }
}

/// A new ticket as the author wrote it, from a JSON body or multipart fields, not yet checked
/// (a missing text is empty).
#[derive(Debug, Default)]
pub struct Draft {
    pub subject: String,
    pub text: String,
    pub category: String,
    pub order_id: Option<i64>,
    pub request_id: Option<i64>,
}

/// A new ticket, checked.
#[derive(Debug)]
pub struct Opening {
    pub subject: String,
    pub text: String,
    pub category: TicketCategory,
    pub order_id: Option<i64>,
    pub request_id: Option<i64>,
}

impl Draft {
    /// The checked ticket, or every problem at once (with those already noted in `problems`).
    pub fn check(&self, mut problems: FieldProblems) -> Result<Opening, ApiError> {
        let subject = problems.check("subject", domain::subject(&self.subject));
        let text = problems.check("text", domain::text(&self.text));
        let category = problems.check("category", domain::category(&self.category));
        let order_id = self.order_id.and_then(|id| problems.check("order_id", domain::id(id)));
        let request_id = self.request_id.and_then(|id| problems.check("request_id", domain::id(id)));
        let (Some(subject), Some(text), Some(category)) = (subject, text, category) else {
            return Err(problems.into_error());
        };
        problems.finish()?;
        Ok(Opening { subject, text, category, order_id, request_id })
    }
}

/// An admin, checked: what admin operations take, so that none runs for anyone else.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a>(&'a AuthUser);

impl<'a> Admin<'a> {
    /// 403 unless `user` is an admin.
    pub fn check(user: &'a AuthUser) -> Result<Self, ApiError> {
        user.require_role(&[Role::Admin])?;
        Ok(Self(user))
    }

    pub fn id(&self) -> i64 {
        self.0.id
    }
}

/// An admin's change to a ticket, checked.
#[derive(Debug)]
pub struct AdminChange {
    pub status: Option<TicketStatus>,
    /// `Some(None)` unassigns.
    pub assignee_id: Option<Option<i64>>,
}

impl AdminChange {
    pub fn parse(status: Option<&str>, assignee_id: Option<Option<i64>>) -> Result<Self, ApiError> {
        let mut problems = FieldProblems::new();
        if status.is_none() && assignee_id.is_none() {
            problems.add("status", "give a status, an assignee_id or both");
        }
        let status = status.and_then(|status| problems.check("status", domain::status(status)));
        let assignee_id = match assignee_id {
            Some(Some(id)) => problems.check("assignee_id", domain::id(id)).map(Some),
            other => other,
        };
        problems.finish()?;
        Ok(Self { status, assignee_id })
    }
}

/// The admins' queue filter from query parameters.
pub fn queue_filter(
    status: Option<&str>,
    assignee_id: Option<i64>,
    category: Option<&str>,
    older_than_hours: Option<i64>,
) -> Result<TicketFilter, ApiError> {
    let mut problems = FieldProblems::new();
    let filter = TicketFilter {
        author_id: None,
        status: status.and_then(|status| problems.check("status", domain::status(status))),
        assignee_id: assignee_id.and_then(|id| problems.check("assignee_id", domain::id(id))),
        category: category.and_then(|category| problems.check("category", domain::category(category))),
        created_before: older_than_hours
            .and_then(|hours| problems.check("older_than_hours", domain::created_before(hours, Utc::now()))),
    };
    problems.finish()?;
    Ok(filter)
}

fn no_such_ticket() -> ApiError {
    ApiError::not_found("no such ticket")
}

fn refused(refusal: Refused) -> ApiError {
    match refusal {
        Refused::Transition { .. } => ApiError::conflict("invalid_transition", refusal.to_string()),
        Refused::Closed => ApiError::conflict("ticket_closed", refusal.to_string()),
    }
}

/// The ticket if `user` may read it (its author or an admin); 404 for anyone else.
fn readable(ticket: Option<Ticket>, user: &AuthUser) -> Result<Ticket, ApiError> {
    ticket.filter(|ticket| ticket.user_id == user.id || user.role == Role::Admin).ok_or_else(no_such_ticket)
}

/// The ticket if `user_id` wrote it; 404 for anyone else.
fn authored(ticket: Option<Ticket>, user_id: i64) -> Result<Ticket, ApiError> {
    ticket.filter(|ticket| ticket.user_id == user_id).ok_or_else(no_such_ticket)
}

/// Opens a ticket for `user` with `files` (stored first: 415 for a file of another kind,
/// and then nothing is stored or created).
pub async fn open(
    state: &AppState,
    user: &AuthUser,
    opening: Opening,
    files: Vec<Upload>,
) -> Result<TicketView, ApiError> {
    let stored = attachments::store(state, user.id, files).await?;
    let new = NewTicket {
        user_id: user.id,
        subject: &opening.subject,
        body: &opening.text,
        category: opening.category,
        order_id: opening.order_id,
        request_id: opening.request_id,
    };
    let created = async {
        let mut conn = state.db.get().await?;
        conn.transaction::<_, ApiError, _>(async |conn| {
            let ticket = store::insert(conn, &new).await?;
            if !stored.is_empty() {
                store::insert_attachments(conn, ticket.id, &stored).await?;
            }
            let event = TicketCreated { ticket_id: ticket.id, user_id: user.id, subject: ticket.subject.clone() };
            outbox::publish(conn, event).await?;
            Ok(ticket)
        })
        .await
    }
    .await;
    let ticket = match created {
        Ok(ticket) => ticket,
        Err(error) => {
            attachments::forget(state, &stored).await;
            return Err(error);
        }
    };
    tracing::info!(ticket_id = ticket.id, files = stored.len(), "support ticket opened");
    view_of(&mut *state.db.get().await?, ticket).await
}

/// The caller's tickets, most recently active first.
pub async fn mine(state: &AppState, user: &AuthUser, page: &PageRequest) -> Result<Page<Ticket>, ApiError> {
    let filter = TicketFilter { author_id: Some(user.id), ..Default::default() };
    list(state, &filter, page).await
}

/// The admins' queue: every ticket `filter` lets through, most recently active first.
pub async fn queue(
    state: &AppState,
    _: Admin<'_>,
    filter: &TicketFilter,
    page: &PageRequest,
) -> Result<Page<Ticket>, ApiError> {
    list(state, filter, page).await
}

async fn list(state: &AppState, filter: &TicketFilter, page: &PageRequest) -> Result<Page<Ticket>, ApiError> {
    let mut conn = state.db.get().await?;
    let rows = store::page(&mut conn, filter, page).await?;
    Ok(Page::from_rows(rows, page, |ticket| (ticket.last_activity_at, ticket.id)))
}

async fn view_of(conn: &mut AsyncPgConnection, ticket: Ticket) -> Result<TicketView, ApiError> {
    let replies = store::replies_of(conn, ticket.id).await?;
    let attachments = store::attachments_of(conn, ticket.id).await?.into_iter().map(AttachmentView::from).collect();
    Ok(TicketView { ticket, replies, attachments })
}

async fn admin_view_of(conn: &mut AsyncPgConnection, ticket: Ticket) -> Result<AdminTicketView, ApiError> {
    let audit = store::audit_of(conn, ticket.id).await?;
    Ok(AdminTicketView { view: view_of(conn, ticket).await?, audit })
}

/// A ticket with its thread, for its author and admins.
pub async fn view(state: &AppState, user: &AuthUser, id: i64) -> Result<TicketView, ApiError> {
    let mut conn = state.db.get().await?;
    let ticket = readable(store::find(&mut conn, id).await?, user)?;
    view_of(&mut conn, ticket).await
}

/// A ticket with its thread and audit trail, for admins.
pub async fn admin_view(state: &AppState, _: Admin<'_>, id: i64) -> Result<AdminTicketView, ApiError> {
    let mut conn = state.db.get().await?;
    let ticket = store::find(&mut conn, id).await?.ok_or_else(no_such_ticket)?;
    admin_view_of(&mut conn, ticket).await
}

/// An attached file with its bytes, for the ticket's author and admins.
pub async fn attachment(
    state: &AppState,
    user: &AuthUser,
    ticket_id: i64,
    id: i64,
) -> Result<(Attachment, bytes::Bytes), ApiError> {
    let mut conn = state.db.get().await?;
    readable(store::find(&mut conn, ticket_id).await?, user)?;
    let file = store::attachment(&mut conn, ticket_id, id).await?.ok_or_else(|| ApiError::not_found("no such file"))?;
    drop(conn);
    let bytes = attachments::read(state, &file.path).await?;
    Ok((file, bytes))
}

/// Publishes `ticket`'s move to `to`; a move by support is audited too.
async fn record_move(
    conn: &mut AsyncPgConnection,
    ticket: &Ticket,
    to: TicketStatus,
    side: Side,
    actor_id: i64,
) -> Result<(), ApiError> {
    let event = TicketStatusChanged { ticket_id: ticket.id, user_id: ticket.user_id, status: to.as_str().to_owned() };
    outbox::publish(conn, event).await?;
    if side == Side::Support {
        let details = json!({ "from": ticket.status, "to": to });
        store::audit(conn, ticket.id, actor_id, AuditAction::StatusChanged, details).await?;
    }
    Ok(())
}

/// The author adds `text` to their ticket's thread (reopening it when it was resolved).
pub async fn reply_as_author(state: &AppState, user: &AuthUser, id: i64, text: String) -> Result<Reply, ApiError> {
    reply(state, user.id, id, Side::Author, text).await
}

/// Support answers a ticket (taking it in progress when it was open).
pub async fn reply_as_support(state: &AppState, admin: Admin<'_>, id: i64, text: String) -> Result<Reply, ApiError> {
    reply(state, admin.id(), id, Side::Support, text).await
}

/// Adds `text` by `writer_id` on `side` to the thread, moving the ticket as
/// [`domain::after_reply`] says.
async fn reply(state: &AppState, writer_id: i64, id: i64, side: Side, text: String) -> Result<Reply, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let ticket = store::lock(conn, id).await?;
        let ticket = match side {
            Side::Author => authored(ticket, writer_id)?,
            Side::Support => ticket.ok_or_else(no_such_ticket)?,
        };
        let to = domain::after_reply(ticket.status, side).map_err(refused)?;
        let reply = store::insert_reply(conn, ticket.id, writer_id, side == Side::Support, &text).await?;
        let moved = (to != ticket.status).then_some(to);
        let changes = TicketChanges { status: moved, last_activity_at: Some(reply.created_at), ..Default::default() };
        store::update(conn, ticket.id, &changes).await?;
        let event = TicketReplied { ticket_id: ticket.id, user_id: ticket.user_id, author_id: writer_id };
        outbox::publish(conn, event).await?;
        if side == Side::Support {
            store::audit(conn, ticket.id, writer_id, AuditAction::Replied, json!({ "reply_id": reply.id })).await?;
        }
        if let Some(to) = moved {
            record_move(conn, &ticket, to, side, writer_id).await?;
        }
        Ok(reply)
    })
    .await
}

/// The author reopens their resolved or closed ticket.
pub async fn reopen(state: &AppState, user: &AuthUser, id: i64) -> Result<TicketView, ApiError> {
    let mut conn = state.db.get().await?;
    let ticket = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let ticket = authored(store::lock(conn, id).await?, user.id)?;
            let to = domain::transition(ticket.status, TicketStatus::Open, Side::Author).map_err(refused)?;
            let changes = TicketChanges { status: Some(to), last_activity_at: Some(Utc::now()), ..Default::default() };
            let updated = store::update(conn, ticket.id, &changes).await?;
            record_move(conn, &ticket, to, Side::Author, user.id).await?;
            Ok(updated)
        })
        .await?;
    view_of(&mut conn, ticket).await
}

/// An admin changes a ticket's status and/or assignee. Setting what already holds changes
/// nothing (and audits nothing); a status the ticket cannot move to is 409.
pub async fn change(
    state: &AppState,
    admin: Admin<'_>,
    id: i64,
    change: AdminChange,
) -> Result<AdminTicketView, ApiError> {
    let mut conn = state.db.get().await?;
    let ticket = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let ticket = store::lock(conn, id).await?.ok_or_else(no_such_ticket)?;
            let mut changes = TicketChanges::default();
            if let Some(to) = change.status.filter(|to| *to != ticket.status) {
                domain::transition(ticket.status, to, Side::Support).map_err(refused)?;
                changes.status = Some(to);
                changes.last_activity_at = Some(Utc::now());
                record_move(conn, &ticket, to, Side::Support, admin.id()).await?;
            }
            if let Some(assignee_id) = change.assignee_id.filter(|assignee| *assignee != ticket.assignee_id) {
                changes.assignee_id = Some(assignee_id);
                let details = json!({ "from": ticket.assignee_id, "to": assignee_id });
                store::audit(conn, ticket.id, admin.id(), AuditAction::Assigned, details).await?;
            }
            if changes.is_empty() {
                return Ok(ticket);
            }
            Ok(store::update(conn, ticket.id, &changes).await?)
        })
        .await?;
    admin_view_of(&mut conn, ticket).await
}
