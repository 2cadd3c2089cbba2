//! Masters' proposals on requests, up to the accepted one that becomes an order.

use crate::domain::ids::{ProposalId, RequestId};
use crate::domain::order::OrderAction;
use crate::domain::proposal::{self as rules, ProposalStatus};
use crate::domain::request::RequestStatus;
use crate::error::MarketplaceError;
use crate::http::schema;
use crate::requests::{own_request, visible_request};
use crate::state::AppState;
use crate::store::is_unique_violation;
use crate::store::orders::{self, NewOrder, NewStatusChange, Order};
use crate::store::proposals::{self, NewProposal, Proposal};
use crate::store::requests;
use chrono::{Duration, Utc};
use contracts::Role;
use contracts::events::{OrderCreated, ProposalAccepted, ProposalCreated, ProposalRejected, timestamp};
use diesel_async::AsyncConnection;
use platform::error::FieldProblems;
use platform::money::Tenge;
use platform::outbox;
use platform::{ApiError, AuthUser};

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

#[tracing::instrument(skip_all, fields(master_id = master.id, request_id = %request_id))]
pub async fn propose(
    state: &AppState,
    master: &AuthUser,
    request_id: RequestId,
    input: &ProposalInput,
) -> Result<Proposal, ApiError> {
    master.require_role(&[Role::Master])?;
    let mut checks = FieldProblems::new();
    let price = checks.check(
        "price",
        Tenge::either(input.price, input.price_minor)
            .and_then(|amount| amount.ok_or_else(|| "required (tenge), or `price_minor` in tiyn".to_owned()))
            .and_then(|amount| rules::price(amount.tiyn())),
    );
    let deadline_days = checks.check("deadline_days", rules::deadline_days(input.deadline_days));
    let message = checks.check("message", rules::message(&input.message));
    let (Some(price), Some(deadline_days), Some(message)) = (price, deadline_days, message) else {
        return Err(checks.into_error());
    };
    let new = NewProposal { request_id, master_id: master.id, price, deadline_days, message };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = requests::lock(conn, request_id).await?.ok_or(MarketplaceError::NoSuchRequest)?;
        if request.buyer_id == master.id {
            return Err(MarketplaceError::OwnRequest.into());
        }
        if !request.status.is_open() {
            return Err(MarketplaceError::RequestNotOpen("this request no longer takes proposals").into());
        }
        let proposal = proposals::insert(conn, &new).await.map_err(|error| {
            if is_unique_violation(&error) { MarketplaceError::ProposalExists.into() } else { ApiError::from(error) }
        })?;
        requests::count_proposal(conn, request_id).await?;
        let event = ProposalCreated {
            proposal_id: proposal.id.get(),
            request_id: request_id.get(),
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
pub async fn list(state: &AppState, user: &AuthUser, request_id: RequestId) -> Result<Vec<Proposal>, ApiError> {
    let mut conn = state.db.get().await?;
    let request = visible_request(&mut conn, user, request_id).await?;
    let only = (request.buyer_id != user.id && user.role != Role::Admin).then_some(user.id);
    Ok(proposals::for_request(&mut conn, request_id, only).await?)
}

/// Accepts a proposal: in one transaction it is accepted, the others rejected, the request
/// taken in progress and the order created. The request row lock makes racing accepts queue;
/// the second finds the request no longer open.
#[tracing::instrument(skip_all, fields(user_id = user.id, request_id = %request_id, proposal_id = %proposal_id))]
pub async fn accept(
    state: &AppState,
    user: &AuthUser,
    request_id: RequestId,
    proposal_id: ProposalId,
) -> Result<Order, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, request_id).await?;
        if !request.status.is_open() {
            return Err(MarketplaceError::RequestNotOpen("a proposal on this request was already accepted").into());
        }
        let proposal =
            proposals::find_in_request(conn, request_id, proposal_id).await?.ok_or(MarketplaceError::NoSuchProposal)?;
        if proposal.status != ProposalStatus::Pending {
            return Err(MarketplaceError::ProposalNotPending.into());
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
            to_status: order.status,
            action: OrderAction::Create,
            actor_id: user.id,
            note: None,
        };
        orders::record_change(conn, &created).await?;
        let accepted = ProposalAccepted {
            proposal_id: proposal.id.get(),
            request_id: request_id.get(),
            master_id: proposal.master_id,
            buyer_id: request.buyer_id,
            order_id: order.id.get(),
        };
        outbox::publish(conn, accepted).await?;
        for other in rejected {
            let event = ProposalRejected {
                proposal_id: other.id.get(),
                request_id: request_id.get(),
                master_id: other.master_id,
            };
            outbox::publish(conn, event).await?;
        }
        let event = OrderCreated {
            order_id: order.id.get(),
            request_id: request_id.get(),
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
