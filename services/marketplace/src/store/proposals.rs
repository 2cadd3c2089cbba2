use super::schema::proposals;
use crate::domain::ids::{ProposalId, RequestId};
use crate::domain::proposal::ProposalStatus;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A master's offer on a request.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = proposals)]
pub struct Proposal {
    pub id: ProposalId,
    pub request_id: RequestId,
    pub master_id: i64,
    /// The price in tiyn (`price` beside it is the same in tenge).
    #[serde(rename = "price_minor")]
    pub price: i64,
    pub deadline_days: i32,
    pub message: String,
    pub status: ProposalStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = proposals)]
pub struct NewProposal {
    pub request_id: RequestId,
    pub master_id: i64,
    pub price: i64,
    pub deadline_days: i32,
    pub message: String,
}

/// Inserts a proposal; a unique violation means this master already proposed.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewProposal) -> QueryResult<Proposal> {
    diesel::insert_into(proposals::table).values(new).returning(Proposal::as_returning()).get_result(conn).await
}

/// A request's proposals, oldest first; only `master_id`'s when given.
pub async fn for_request(
    conn: &mut AsyncPgConnection,
    request_id: RequestId,
    master_id: Option<i64>,
) -> QueryResult<Vec<Proposal>> {
    let mut query = proposals::table.filter(proposals::request_id.eq(request_id)).into_boxed();
    if let Some(master_id) = master_id {
        query = query.filter(proposals::master_id.eq(master_id));
    }
    query.order(proposals::id).select(Proposal::as_select()).load(conn).await
}

pub async fn find_in_request(
    conn: &mut AsyncPgConnection,
    request_id: RequestId,
    proposal_id: ProposalId,
) -> QueryResult<Option<Proposal>> {
    proposals::table
        .filter(proposals::id.eq(proposal_id).and(proposals::request_id.eq(request_id)))
        .select(Proposal::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn accept(conn: &mut AsyncPgConnection, id: ProposalId) -> QueryResult<Proposal> {
    diesel::update(proposals::table.find(id))
        .set((proposals::status.eq(ProposalStatus::Accepted), proposals::updated_at.eq(diesel::dsl::now)))
        .returning(Proposal::as_returning())
        .get_result(conn)
        .await
}

/// Rejects every other pending proposal of the request and returns them.
pub async fn reject_others(
    conn: &mut AsyncPgConnection,
    request_id: RequestId,
    accepted: ProposalId,
) -> QueryResult<Vec<Proposal>> {
    diesel::update(
        proposals::table.filter(
            proposals::request_id
                .eq(request_id)
                .and(proposals::id.ne(accepted))
                .and(proposals::status.eq(ProposalStatus::Pending)),
        ),
    )
    .set((proposals::status.eq(ProposalStatus::Rejected), proposals::updated_at.eq(diesel::dsl::now)))
    .returning(Proposal::as_returning())
    .get_results(conn)
    .await
}
