//! `/api/v2/support/tickets`: users' tickets; `/api/v2/admin/support/tickets`: the admins'
//! queue (403 for everyone else).

use crate::state::AppState;
use crate::store::tickets::{Reply, Ticket};
use crate::support::attachments::{self, Upload};
use crate::support::domain::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS};
use crate::support::tickets::{self, Admin, AdminChange, AdminTicketView, Draft, TicketView};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use platform::error::FieldProblems;
use platform::http::form;
use platform::pagination::{Page, PageQuery};
use platform::{ApiError, AuthUser};
use serde::Deserialize;
use utoipa::ToSchema;

/// A new ticket (JSON). The multipart form has the same fields, plus `attachments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTicket {
    /// Up to 200 characters, not blank.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S", required = true)]
    pub subject: String,
    /// Up to 5000 characters, not blank.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S", required = true)]
    pub text: String,
    /// account, order, payment, technical, complaint or other.
    #[serde(default)]
    #[schema(pattern = "^(account|order|payment|technical|complaint|other)$", required = true)]
    pub category: String,
    /// The order the ticket is about, if any.
    #[schema(minimum = 1)]
    pub order_id: Option<i64>,
    /// The request the ticket is about, if any.
    #[schema(minimum = 1)]
    pub request_id: Option<i64>,
}

/// The multipart form of a new ticket; other fields are refused.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct OpenTicketForm {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    subject: String,
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    text: String,
    #[schema(pattern = "^(account|order|payment|technical|complaint|other)$")]
    category: String,
    #[schema(minimum = 1)]
    order_id: Option<i64>,
    #[schema(minimum = 1)]
    request_id: Option<i64>,
    /// Up to 3 files (none is fine), each a JPEG, PNG or WebP image or a PDF (decided by content)
    /// of at most 10 MB.
    #[schema(value_type = Vec<String>, format = Binary, required = false, max_items = 3)]
    attachments: Option<Vec<Vec<u8>>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// Up to 5000 characters, not blank.
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketUpdate {
    /// open, in_progress, resolved or closed (see the status flow in the ticket docs).
    #[schema(pattern = "^(open|in_progress|resolved|closed)$")]
    pub status: Option<String>,
    /// The admin handling the ticket; `null` unassigns.
    #[serde(default, deserialize_with = "platform::http::openapi::double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub assignee_id: Option<Option<i64>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// open, in_progress, resolved or closed.
    #[param(pattern = "^(open|in_progress|resolved|closed)$")]
    pub status: Option<String>,
    #[param(minimum = 1)]
    pub assignee_id: Option<i64>,
    /// account, order, payment, technical, complaint or other.
    #[param(pattern = "^(account|order|payment|technical|complaint|other)$")]
    pub category: Option<String>,
    /// Only tickets opened more than this many hours ago.
    #[param(minimum = 0, maximum = 87840)]
    pub older_than_hours: Option<i64>,
}

/// Opens a ticket: a JSON body, or a multipart form with up to 3 `attachments` (JPEG, PNG,
/// WebP or PDF by content, 10 MB each: 415 or 413 otherwise, and nothing is created).
#[utoipa::path(post, path = "/api/v2/support/tickets", tag = "support", security(("bearer" = [])),
    request_body(content((OpenTicket = "application/json"), (OpenTicketForm = "multipart/form-data",
        encoding(("attachments" = (content_type = "image/jpeg, image/png, image/webp, application/pdf")))))),
    responses((status = 201, body = TicketView), (status = 400),
        (status = 413), (status = 415)))]
pub async fn open(
    state: web::Data<AppState>,
    user: AuthUser,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let (draft, problems, files) = if form::is_multipart(&request) {
        read_form(Multipart::new(request.headers(), payload)).await?
    } else {
        let body = platform::Json::<OpenTicket>::from_request(&request, &mut payload.into_inner()).await?.into_inner();
        let draft = Draft {
            subject: body.subject,
            text: body.text,
            category: body.category,
            order_id: body.order_id,
            request_id: body.request_id,
        };
        (draft, FieldProblems::new(), Vec::new())
    };
    let opening = draft.check(problems)?;
    let ticket = tickets::open(&state, &user, opening, files).await?;
    Ok(HttpResponse::Created().json(ticket))
}

/// The caller's tickets, most recently active first.
#[utoipa::path(get, path = "/api/v2/support/tickets", tag = "support", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Ticket>), (status = 400)))]
pub async fn mine(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(tickets::mine(&state, &user, &page).await?))
}

/// A ticket with its thread (oldest first) and files, for its author and admins (404 for
/// anyone else).
#[utoipa::path(get, path = "/api/v2/support/tickets/{id}", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = TicketView), (status = 404)))]
pub async fn details(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tickets::view(&state, &user, *id).await?))
}

/// The author writes to their ticket: a resolved one opens again; a closed one answers 409
/// `ticket_closed` (reopen it first).
#[utoipa::path(post, path = "/api/v2/support/tickets/{id}/replies", tag = "support", request_body = NewReply,
    security(("bearer" = [])),
    responses((status = 201, body = Reply), (status = 400),
        (status = 404), (status = 409)))]
pub async fn reply(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<NewReply>,
) -> Result<HttpResponse, ApiError> {
    let text = reply_text(&body)?;
    Ok(HttpResponse::Created().json(tickets::reply_as_author(&state, &user, *id, text).await?))
}

/// The author reopens a resolved or closed ticket (409 `invalid_transition` otherwise).
#[utoipa::path(post, path = "/api/v2/support/tickets/{id}/reopen", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = TicketView), (status = 404),
        (status = 409)))]
pub async fn reopen(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tickets::reopen(&state, &user, *id).await?))
}

/// A file attached to a ticket, for its author and admins, with its content type.
#[utoipa::path(get, path = "/api/v2/support/tickets/{id}/attachments/{attachment_id}", tag = "support",
    security(("bearer" = [])),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"),
        (status = 404)))]
pub async fn attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (ticket_id, id) = path.into_inner();
    let (file, bytes) = tickets::attachment(&state, &user, ticket_id, id).await?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(bytes))
}

/// Every ticket, most recently active first, filtered by status, assignee, category and age.
#[utoipa::path(get, path = "/api/v2/admin/support/tickets", tag = "admin", params(QueueQuery, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Ticket>), (status = 400),
        (status = 403)))]
pub async fn queue(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let admin = Admin::check(&user)?;
    let filter = tickets::queue_filter(
        query.status.as_deref(),
        query.assignee_id,
        query.category.as_deref(),
        query.older_than_hours,
    )?;
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(tickets::queue(&state, admin, &filter, &page).await?))
}

/// A ticket with its thread, files and the audit trail of admin actions.
#[utoipa::path(get, path = "/api/v2/admin/support/tickets/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AdminTicketView), (status = 403),
        (status = 404)))]
pub async fn admin_details(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let admin = Admin::check(&user)?;
    Ok(HttpResponse::Ok().json(tickets::admin_view(&state, admin, *id).await?))
}

/// Changes a ticket's status and/or assignee (audited). Support's moves: open → in_progress,
/// resolved or closed; in_progress → open, resolved or closed; resolved → in_progress or
/// closed; others answer 409 `invalid_transition`. The status it already has changes nothing.
#[utoipa::path(patch, path = "/api/v2/admin/support/tickets/{id}", tag = "admin", request_body = TicketUpdate,
    security(("bearer" = [])),
    responses((status = 200, body = AdminTicketView), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<TicketUpdate>,
) -> Result<HttpResponse, ApiError> {
    let admin = Admin::check(&user)?;
    let body = body.into_inner();
    let change = AdminChange::parse(body.status.as_deref(), body.assignee_id)?;
    Ok(HttpResponse::Ok().json(tickets::change(&state, admin, *id, change).await?))
}

/// Support answers a ticket (audited): an open ticket goes in progress; a closed one answers
/// 409 `ticket_closed`.
#[utoipa::path(post, path = "/api/v2/admin/support/tickets/{id}/replies", tag = "admin", request_body = NewReply,
    security(("bearer" = [])),
    responses((status = 201, body = Reply), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn admin_reply(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<NewReply>,
) -> Result<HttpResponse, ApiError> {
    let admin = Admin::check(&user)?;
    let text = reply_text(&body)?;
    Ok(HttpResponse::Created().json(tickets::reply_as_support(&state, admin, *id, text).await?))
}

fn reply_text(body: &NewReply) -> Result<String, ApiError> {
    crate::support::domain::text(&body.text).map_err(|problem| ApiError::validation([("text", problem)]))
}

/// The text fields of the multipart form.
const TEXT_FIELDS: [&str; 5] = ["subject", "text", "category", "order_id", "request_id"];

/// The fields and files of a multipart ticket, with the problems met reading them. A file over
/// the limit is 413 and an unknown field 400, once the body is read to its end (so that the
/// client reads the answer).
async fn read_form(mut form: Multipart) -> Result<(Draft, FieldProblems, Vec<Upload>), ApiError> {
    let (mut draft, mut problems, mut files) = (Draft::default(), FieldProblems::new(), Vec::new());
    let mut failure: Option<ApiError> = None;
    let mut too_many = false;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(form::error)?;
        let name = field.name().unwrap_or_default().to_owned();
        let known = TEXT_FIELDS.into_iter().find(|known| *known == name);
        if failure.is_some() || (name == "attachments" && files.len() == MAX_ATTACHMENTS) {
            too_many |= failure.is_none();
            form::discard(&mut field).await?;
        } else if name == "attachments" {
            let file_name = form::file_name(&field);
            match form::read_field(&mut field, MAX_ATTACHMENT_BYTES).await? {
                Some(bytes) => files.push(Upload { file_name, bytes }),
                None => failure = Some(attachments::too_large()),
            }
        } else if let Some(known) = known {
            let Ok(value) = form::read_text(&mut field, form::MAX_TEXT_FIELD_BYTES).await? else {
                problems.add(known, "must be UTF-8 text (without NUL) of at most 64 KB");
                continue;
            };
            match known {
                "subject" => draft.subject = value,
                "text" => draft.text = value,
                "category" => draft.category = value,
                _ => {
                    // A form has no null: the document's nullable id arrives as `null` or empty.
                    let id = match value.trim() {
                        "" | "null" => None,
                        text => {
                            let id = text.parse().ok();
                            if id.is_none() {
                                problems.add(known, "must be a positive id");
                            }
                            id
                        }
                    };
                    if known == "order_id" { draft.order_id = id } else { draft.request_id = id }
                }
            }
        } else {
            form::discard(&mut field).await?;
            failure = Some(ApiError::bad_request("invalid_multipart", format!("unknown field `{name}`")));
        }
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    if too_many {
        problems.add("attachments", format!("at most {MAX_ATTACHMENTS} files"));
    }
    Ok((draft, problems, files))
}
