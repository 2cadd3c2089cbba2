use super::schema::requests;
use crate::domain::ids::RequestId;
use crate::domain::request::RequestStatus;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::PageRequest;
use platform::search::prefix_query;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct Request {
    pub id: RequestId,
    pub buyer_id: i64,
    pub title: String,
    pub description: String,
    pub region_code: String,
    pub categories: Vec<String>,
    pub budget: Option<i64>,
    pub images: Vec<String>,
    pub status: RequestStatus,
    pub views: i64,
    pub proposal_count: i32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = requests)]
pub struct NewRequest {
    pub buyer_id: i64,
    pub title: String,
    pub description: String,
    pub region_code: String,
    pub categories: Vec<String>,
    pub budget: Option<i64>,
    pub images: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// Fields an owner may change; `None` leaves a field alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = requests)]
pub struct RequestChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub region_code: Option<String>,
    pub categories: Option<Vec<String>>,
    pub budget: Option<Option<i64>>,
    pub images: Option<Vec<String>>,
}

impl RequestChanges {
    pub fn changed_fields(&self) -> Vec<String> {
        [
            ("title", self.title.is_some()),
            ("description", self.description.is_some()),
            ("region", self.region_code.is_some()),
            ("categories", self.categories.is_some()),
            ("budget", self.budget.is_some()),
            ("images", self.images.is_some()),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name.to_owned())
        .collect()
    }
}

/// What masters narrow the open requests by.
#[derive(Debug, Default, Clone)]
pub struct OpenFilter {
    pub region_code: Option<String>,
    /// Any of these categories (a category and its subcategories).
    pub categories: Option<Vec<String>>,
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub text: Option<String>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewRequest) -> QueryResult<Request> {
    diesel::insert_into(requests::table).values(new).returning(Request::as_returning()).get_result(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: RequestId) -> QueryResult<Option<Request>> {
    requests::table.find(id).select(Request::as_select()).first(conn).await.optional()
}

/// The request, locked until the transaction ends.
pub async fn lock(conn: &mut AsyncPgConnection, id: RequestId) -> QueryResult<Option<Request>> {
    requests::table.find(id).select(Request::as_select()).for_update().first(conn).await.optional()
}

pub async fn by_buyer(conn: &mut AsyncPgConnection, buyer_id: i64, page: &PageRequest) -> QueryResult<Vec<Request>> {
    let query = requests::table.filter(requests::buyer_id.eq(buyer_id)).select(Request::as_select()).into_boxed();
    newest_first!(query, page, requests).load(conn).await
}

pub async fn open(conn: &mut AsyncPgConnection, filter: &OpenFilter, page: &PageRequest) -> QueryResult<Vec<Request>> {
    let mut query =
        requests::table.filter(requests::status.eq(RequestStatus::Pending)).select(Request::as_select()).into_boxed();
    if let Some(region) = &filter.region_code {
        query = query.filter(requests::region_code.eq(region.clone()));
    }
    if let Some(categories) = &filter.categories {
        query = query.filter(requests::categories.overlaps_with(categories.clone()));
    }
    if let Some(min) = filter.budget_min {
        query = query.filter(requests::budget.ge(min));
    }
    if let Some(max) = filter.budget_max {
        query = query.filter(requests::budget.le(max));
    }
    if let Some(words) = filter.text.as_deref().and_then(prefix_query) {
        query = query.filter(sql::<Bool>("search_document @@ to_tsquery('russian', ").bind::<Text, _>(words).sql(")"));
    }
    newest_first!(query, page, requests).load(conn).await
}

pub async fn update(conn: &mut AsyncPgConnection, id: RequestId, changes: &RequestChanges) -> QueryResult<Request> {
    diesel::update(requests::table.find(id))
        .set((changes, requests::updated_at.eq(diesel::dsl::now)))
        .returning(Request::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: RequestId,
    status: RequestStatus,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<Request> {
    let expires_at = expires_at.map(|at| requests::expires_at.eq(at));
    diesel::update(requests::table.find(id))
        .set((requests::status.eq(status), requests::updated_at.eq(diesel::dsl::now), expires_at))
        .returning(Request::as_returning())
        .get_result(conn)
        .await
}

pub async fn count_view(conn: &mut AsyncPgConnection, id: RequestId) -> QueryResult<()> {
    diesel::update(requests::table.find(id)).set(requests::views.eq(requests::views + 1)).execute(conn).await?;
    Ok(())
}

pub async fn count_proposal(conn: &mut AsyncPgConnection, id: RequestId) -> QueryResult<()> {
    diesel::update(requests::table.find(id))
        .set(requests::proposal_count.eq(requests::proposal_count + 1))
        .execute(conn)
        .await?;
    Ok(())
}

/// Expires up to `limit` open requests past their deadline; concurrent jobs skip each other's rows.
pub async fn expire_due(conn: &mut AsyncPgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Request>> {
    let due: Vec<RequestId> = requests::table
        .filter(requests::status.eq(RequestStatus::Pending).and(requests::expires_at.le(now)))
        .select(requests::id)
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(requests::table.filter(requests::id.eq_any(due)))
        .set((requests::status.eq(RequestStatus::Expired), requests::updated_at.eq(diesel::dsl::now)))
        .returning(Request::as_returning())
        .get_results(conn)
        .await
}
