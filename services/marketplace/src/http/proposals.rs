//! `/api/v2/requests/{id}/proposals`: masters' offers and the owner's acceptance.

use super::orders::OrderView;
use crate::domain::ids::{ProposalId, RequestId};
use crate::proposals::{self, ProposalInput};
use crate::state::AppState;
use crate::store::proposals::Proposal;
use actix_web::{HttpResponse, web};
use platform::money::Tenge;
use platform::{ApiError, AuthUser};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Proposals {
    pub items: Vec<ProposalView>,
}

/// A proposal, its price in tenge beside `price_minor`.
#[derive(Serialize, ToSchema)]
pub struct ProposalView {
    #[serde(flatten)]
    pub proposal: Proposal,
    pub price: Tenge,
}

impl From<Proposal> for ProposalView {
    fn from(proposal: Proposal) -> Self {
        Self { price: Tenge::from_tiyn(proposal.price), proposal }
    }
}

/// Masters offer a price and a deadline, once per request, on open requests of others.
#[utoipa::path(post, path = "/api/v2/requests/{id}/proposals", tag = "requests", request_body = ProposalInput,
    security(("bearer" = [])),
    responses((status = 201, body = ProposalView), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<ProposalInput>,
) -> Result<HttpResponse, ApiError> {
    let proposal = proposals::propose(&state, &user, RequestId(*id), &body).await?;
    Ok(HttpResponse::Created().json(ProposalView::from(proposal)))
}

/// The request's owner sees every proposal; a master sees their own.
#[utoipa::path(get, path = "/api/v2/requests/{id}/proposals", tag = "requests", security(("bearer" = [])),
    responses((status = 200, body = Proposals), (status = 404)))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let proposals = proposals::list(&state, &user, RequestId(*id)).await?;
    Ok(HttpResponse::Ok().json(Proposals { items: proposals.into_iter().map(ProposalView::from).collect() }))
}

/// The owner accepts one proposal: the others are rejected and an order is created. Exactly
/// once: a second accept (racing or not) gets 409.
#[utoipa::path(post, path = "/api/v2/requests/{id}/proposals/{proposal_id}/accept", tag = "requests",
    security(("bearer" = [])),
    responses((status = 201, body = OrderView), (status = 403),
        (status = 404), (status = 409)))]
pub async fn accept(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (request_id, proposal_id) = path.into_inner();
    let order = proposals::accept(&state, &user, RequestId(request_id), ProposalId(proposal_id)).await?;
    Ok(HttpResponse::Created().json(OrderView::new(order, None)))
}
