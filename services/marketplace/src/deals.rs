//! Requests and proposals, up to the accepted proposal that becomes an order.

use crate::domain::request::{self, RequestStatus};
use crate::domain::{proposal as proposal_rules, reference::Reference};
use crate::http::schema;
use crate::state::AppState;
use crate::store::is_unique_violation;
use crate::store::orders::{self, NewOrder, NewStatusChange, Order};
use crate::store::proposals::{self, NewProposal, Proposal};
use crate::store::requests::{self, NewRequest, OpenFilter, Request, RequestChanges};
use crate::store::users;
use chrono::{Duration, Utc};
use contracts::Role;
use contracts::events::{
    OrderCreated, ProposalAccepted, ProposalCreated, ProposalRejected, RequestClosed, RequestCreated, RequestUpdated,
    timestamp,
};
use deadpool_redis::redis::AsyncCommands;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::money::Tenge;
use platform::outbox;
use platform::pagination::PageRequest;
use platform::{ApiError, AuthUser};

/// A request as the buyer wrote it (`POST /requests`), before checking.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    #[schema(schema_with = schema::title)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = schema::description)]
    pub description: String,
    /// Region code or name, in Russian or Kazakh ("Алматы").
    pub region: String,
    /// Category codes or names ("шкафы-купе").
    pub categories: Vec<String>,
    #[schema(schema_with = schema::tenge)]
    pub budget: Option<Tenge>,
    /// The budget in tiyn, instead of `budget`.
    #[schema(schema_with = schema::tiyn)]
    pub budget_minor: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = schema::images)]
    pub images: Vec<String>,
}

/// Changes as the owner sent them (`PATCH /requests/{id}`): a missing field stays as it is;
/// `budget: null` removes the budget.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestEdit {
    #[schema(schema_with = schema::edited_title)]
    pub title: Option<String>,
    #[schema(schema_with = schema::edited_description)]
    pub description: Option<String>,
    pub region: Option<String>,
    pub categories: Option<Vec<String>>,
    #[serde(default, deserialize_with = "platform::http::openapi::double_option")]
    #[schema(schema_with = schema::tenge)]
    pub budget: Option<Option<Tenge>>,
    /// The budget in tiyn, instead of `budget`.
    #[serde(default, deserialize_with = "platform::http::openapi::double_option")]
    #[schema(schema_with = schema::tiyn)]
    pub budget_minor: Option<Option<i64>>,
    #[schema(schema_with = schema::edited_images)]
    pub images: Option<Vec<String>>,
}

fn category_codes(reference: &Reference, names: &[String]) -> Result<Vec<String>, String> {
    if names.is_empty() || names.len() > request::MAX_CATEGORIES {
        return Err(format!("give 1 to {} categories", request::MAX_CATEGORIES));
    }
    let codes = reference
        .category_codes(names)
        .map_err(|unknown| format!("unknown categories {unknown:?}; see /api/v2/categories"))?;
    if codes.is_empty() {
        return Err("name at least one kind of furniture; see /api/v2/categories".to_owned());
    }
    Ok(codes)
}

fn parse_new_request(
    reference: &Reference,
    buyer_id: i64,
    input: &RequestInput,
    ttl: Duration,
) -> Result<NewRequest, ApiError> {
    let mut checks = FieldProblems::new();
    let title = checks.check("title", request::title(&input.title));
    let description = checks.check("description", request::description(&input.description));
    let region_code = checks.check("region", reference.region_code(&input.region));
    let categories = checks.check("categories", category_codes(reference, &input.categories));
    let budget = checks.check("budget", budget_in_tiyn(input.budget, input.budget_minor));
    let images = checks.check("images", request::images(&input.images));
    checks.finish()?;
    let missing = || ApiError::internal("a checked field is missing");
    Ok(NewRequest {
        buyer_id,
        title: title.ok_or_else(missing)?,
        description: description.ok_or_else(missing)?,
        region_code: region_code.ok_or_else(missing)?,
        categories: categories.ok_or_else(missing)?,
        budget: budget.ok_or_else(missing)?,
        images: images.ok_or_else(missing)?,
        expires_at: Utc::now() + ttl,
    })
}

/// The budget in tiyn from either of its fields, checked.
fn budget_in_tiyn(tenge: Option<Tenge>, tiyn: Option<i64>) -> Result<Option<i64>, String> {
    Tenge::either(tenge, tiyn)?.map(|amount| request::budget(amount.tiyn())).transpose()
}

fn parse_edit(reference: &Reference, edit: &RequestEdit) -> Result<RequestChanges, ApiError> {
    let mut checks = FieldProblems::new();
    let changes = RequestChanges {
        title: edit.title.as_deref().and_then(|t| checks.check("title", request::title(t))),
        description: edit.description.as_deref().and_then(|d| checks.check("description", request::description(d))),
        region_code: edit.region.as_deref().and_then(|r| checks.check("region", reference.region_code(r))),
        categories: edit.categories.as_deref().and_then(|c| checks.check("categories", category_codes(reference, c))),
        budget: match (edit.budget, edit.budget_minor) {
            (None, None) => None,
            (tenge, tiyn) => checks.check("budget", budget_in_tiyn(tenge.flatten(), tiyn.flatten())),
        },
        images: edit.images.as_deref().and_then(|i| checks.check("images", request::images(i))),
    };
    checks.finish()?;
    Ok(changes)
}

fn ttl(state: &AppState) -> Duration {
    Duration::days(state.settings.request_ttl_days)
}

pub async fn create_request(state: &AppState, buyer: &AuthUser, input: &RequestInput) -> Result<Request, ApiError> {
    buyer.require_role(&[Role::Buyer])?;
    let new = parse_new_request(&state.reference, buyer.id, input, ttl(state))?;
    let mut conn = state.db.get().await?;
    let related = state.reference.relevant_categories(&new.categories);
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = requests::insert(conn, &new).await?;
        let event = RequestCreated {
            request_id: request.id,
            buyer_id: request.buyer_id,
            title: request.title.clone(),
            region_code: request.region_code.clone(),
            category_codes: request.categories.clone(),
            budget_minor: request.budget,
            serving_master_ids: users::serving(conn, &request.region_code, &related, request.buyer_id).await?,
        };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

/// Whether `user` may see `request`: its owner, admins, masters while it is open, and masters
/// who proposed on it. Others are told it does not exist.
async fn visible(conn: &mut AsyncPgConnection, user: &AuthUser, request: &Request) -> Result<bool, ApiError> {
    Ok(match user.role {
        Role::Admin => true,
        _ if request.buyer_id == user.id => true,
        Role::Master if request.status().is_open() => true,
        Role::Master => !proposals::for_request(conn, request.id, Some(user.id)).await?.is_empty(),
        Role::Buyer => false,
    })
}

fn no_such_request() -> ApiError {
    ApiError::not_found("no such request")
}

async fn visible_request(conn: &mut AsyncPgConnection, user: &AuthUser, id: i64) -> Result<Request, ApiError> {
    let request = requests::find(conn, id).await?.ok_or_else(no_such_request)?;
    if visible(conn, user, &request).await? { Ok(request) } else { Err(no_such_request()) }
}

/// The request's owner's own request, locked for the change; 404 for others' requests.
async fn own_request(conn: &mut AsyncPgConnection, user: &AuthUser, id: i64) -> Result<Request, ApiError> {
    let request = requests::lock(conn, id).await?.ok_or_else(no_such_request)?;
    if request.buyer_id == user.id {
        return Ok(request);
    }
    if visible(conn, user, &request).await? {
        Err(ApiError::forbidden("only the request's owner may do this"))
    } else {
        Err(no_such_request())
    }
}

/// A request's details; the first view by each other user within the window counts.
pub async fn view_request(state: &AppState, user: &AuthUser, id: i64) -> Result<Request, ApiError> {
    let mut conn = state.db.get().await?;
    let mut request = visible_request(&mut conn, user, id).await?;
    if request.buyer_id != user.id && first_view(state, id, user.id).await {
        requests::count_view(&mut conn, id).await?;
        request.views += 1;
    }
    Ok(request)
}

/// Whether this is `viewer`'s first look at the request within the window. Without Redis,
/// views are not counted rather than counted twice.
async fn first_view(state: &AppState, request_id: i64, viewer: i64) -> bool {
    let key = state.redis.key(&format!("marketplace:viewed:{request_id}:{viewer}"));
    let options = deadpool_redis::redis::SetOptions::default()
        .conditional_set(deadpool_redis::redis::ExistenceCheck::NX)
        .with_expiration(deadpool_redis::redis::SetExpiry::EX(state.settings.view_window_secs));
    let outcome: Result<Option<String>, ApiError> = async {
        let mut redis = state.redis.get().await?;
        Ok(redis.set_options(&key, 1, options).await?)
    }
    .await;
    // The conversion to ApiError has logged the outage.
    outcome.is_ok_and(|set| set.is_some())
}

/// Buyers see their own requests; masters (and admins) the open ones, filtered (`None`: a
/// filter that matches nothing).
pub async fn list_requests(
    state: &AppState,
    user: &AuthUser,
    filter: Option<&OpenFilter>,
    page: &PageRequest,
) -> Result<Vec<Request>, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(match (user.role, filter) {
        (Role::Buyer, _) => requests::by_buyer(&mut conn, user.id, page).await?,
        (Role::Master | Role::Admin, Some(filter)) => requests::open(&mut conn, filter, page).await?,
        (Role::Master | Role::Admin, None) => Vec::new(),
    })
}

pub async fn edit_request(state: &AppState, user: &AuthUser, id: i64, edit: &RequestEdit) -> Result<Request, ApiError> {
    let changes = parse_edit(&state.reference, edit)?;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, id).await?;
        if !request.status().is_open() {
            return Err(ApiError::conflict("request_not_open", "only an open request can be edited"));
        }
        let changed_fields = changes.changed_fields();
        if changed_fields.is_empty() {
            return Ok(request);
        }
        let request = requests::update(conn, id, &changes).await?;
        let event = RequestUpdated {
            request_id: id,
            buyer_id: request.buyer_id,
            changed_fields,
            status: request.status.clone(),
        };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

/// The owner closes an open request (cancelled) or reopens a cancelled or expired one.
pub async fn close_request(state: &AppState, user: &AuthUser, id: i64) -> Result<Request, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, id).await?;
        if !request.status().can_close() {
            return Err(ApiError::conflict("request_not_open", "only an open request can be closed"));
        }
        let request = requests::set_status(conn, id, RequestStatus::Cancelled, None).await?;
        let event = RequestClosed { request_id: id, buyer_id: request.buyer_id, status: request.status.clone() };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

pub async fn reopen_request(state: &AppState, user: &AuthUser, id: i64) -> Result<Request, ApiError> {
    let expires_at = Utc::now() + ttl(state);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, id).await?;
        if !request.status().can_reopen() {
            return Err(ApiError::conflict(
                "request_not_closed",
                "only a cancelled or expired request can be reopened",
            ));
        }
        let request = requests::set_status(conn, id, RequestStatus::Pending, Some(expires_at)).await?;
        let event = RequestUpdated {
            request_id: id,
            buyer_id: request.buyer_id,
            changed_fields: vec!["status".into()],
            status: request.status.clone(),
        };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

/// A master's offer as sent (`POST /requests/{id}/proposals`), before checking: the price in
/// tenge (`price`) or in tiyn (`price_minor`), exactly one of them.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    #[schema(schema_with = schema::tenge)]
    pub price: Option<Tenge>,
    #[schema(schema_with = schema::tiyn)]
    pub price_minor: Option<i64>,
    /// Days to do the work, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub deadline_days: i32,
    #[schema(schema_with = schema::message)]
    pub message: String,
}

pub async fn propose(
    state: &AppState,
    master: &AuthUser,
    request_id: i64,
    input: &ProposalInput,
) -> Result<Proposal, ApiError> {
    master.require_role(&[Role::Master])?;
    let mut checks = FieldProblems::new();
    let price = checks.check(
        "price",
        Tenge::either(input.price, input.price_minor)
            .and_then(|amount| amount.ok_or_else(|| "required (tenge), or `price_minor` in tiyn".to_owned()))
            .and_then(|amount| proposal_rules::price(amount.tiyn())),
    );
    let deadline_days = checks.check("deadline_days", proposal_rules::deadline_days(input.deadline_days));
    let message = checks.check("message", proposal_rules::message(&input.message));
    checks.finish()?;
    let (Some(price), Some(deadline_days), Some(message)) = (price, deadline_days, message) else {
        return Err(ApiError::internal("a checked field is missing"));
    };
    let new = NewProposal { request_id, master_id: master.id, price, deadline_days, message };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = requests::lock(conn, request_id).await?.ok_or_else(no_such_request)?;
        if request.buyer_id == master.id {
            return Err(ApiError::forbidden("you cannot propose on your own request"));
        }
        if !request.status().is_open() {
            return Err(ApiError::conflict("request_not_open", "this request no longer takes proposals"));
        }
        let proposal = proposals::insert(conn, &new).await.map_err(|error| {
            if is_unique_violation(&error) {
                ApiError::conflict("proposal_exists", "you have already proposed on this request")
            } else {
                error.into()
            }
        })?;
        requests::count_proposal(conn, request_id).await?;
        let event = ProposalCreated {
            proposal_id: proposal.id,
            request_id,
            master_id: master.id,
            buyer_id: request.buyer_id,
            price_minor: proposal.price,
            deadline_days: proposal.deadline_days,
        };
        outbox::publish(conn, event).await?;
        Ok(proposal)
    })
    .await
}

/// The owner (and admins) see every proposal; a master sees their own.
pub async fn list_proposals(state: &AppState, user: &AuthUser, request_id: i64) -> Result<Vec<Proposal>, ApiError> {
    let mut conn = state.db.get().await?;
    let request = visible_request(&mut conn, user, request_id).await?;
    let only = (request.buyer_id != user.id && user.role != Role::Admin).then_some(user.id);
    Ok(proposals::for_request(&mut conn, request_id, only).await?)
}

/// Accepts a proposal: in one transaction it is accepted, the others rejected, the request
/// taken in progress and the order created. The request row lock makes racing accepts queue;
/// the second finds the request no longer open.
pub async fn accept(state: &AppState, user: &AuthUser, request_id: i64, proposal_id: i64) -> Result<Order, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, request_id).await?;
        if !request.status().is_open() {
            return Err(ApiError::conflict("request_not_open", "a proposal on this request was already accepted"));
        }
        let proposal = proposals::find_in_request(conn, request_id, proposal_id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such proposal on this request"))?;
        if proposal.status != "pending" {
            return Err(ApiError::conflict("proposal_not_pending", "this proposal can no longer be accepted"));
        }
        let proposal = proposals::accept(conn, proposal.id).await?;
        let rejected = proposals::reject_others(conn, request_id, proposal.id).await?;
        requests::set_status(conn, request_id, RequestStatus::InProgress, None).await?;
        let order = orders::insert(
            conn,
            &NewOrder {
                request_id,
                proposal_id: proposal.id,
                buyer_id: request.buyer_id,
                master_id: proposal.master_id,
                title: request.title.clone(),
                price: proposal.price,
                deadline_days: proposal.deadline_days,
                due_at: Utc::now() + Duration::days(proposal.deadline_days.into()),
            },
        )
        .await?;
        let created = NewStatusChange {
            order_id: order.id,
            from_status: None,
            to_status: &order.status,
            action: "create",
            actor_id: user.id,
            note: None,
        };
        orders::record_change(conn, &created).await?;
        let accepted = ProposalAccepted {
            proposal_id: proposal.id,
            request_id,
            master_id: proposal.master_id,
            buyer_id: request.buyer_id,
            order_id: order.id,
        };
        outbox::publish(conn, accepted).await?;
        for other in rejected {
            let event = ProposalRejected { proposal_id: other.id, request_id, master_id: other.master_id };
            outbox::publish(conn, event).await?;
        }
        let event = OrderCreated {
            order_id: order.id,
            request_id,
            buyer_id: order.buyer_id,
            master_id: order.master_id,
            price_minor: order.price,
            deadline: Some(timestamp(order.due_at)),
        };
        outbox::publish(conn, event).await?;
        Ok(order)
    })
    .await
}
