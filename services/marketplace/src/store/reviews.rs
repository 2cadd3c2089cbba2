use super::schema::reviews;
use crate::domain::ids::OrderId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::PageRequest;

/// A buyer's rating of the master of a completed order.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = reviews)]
pub struct Review {
    pub id: i64,
    pub order_id: OrderId,
    pub buyer_id: i64,
    pub master_id: i64,
    pub rating: i16,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reviews)]
pub struct NewReview {
    pub order_id: OrderId,
    pub buyer_id: i64,
    pub master_id: i64,
    pub rating: i16,
    pub text: String,
}

/// Inserts a review; a unique violation means the order was reviewed already.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewReview) -> QueryResult<Review> {
    diesel::insert_into(reviews::table).values(new).returning(Review::as_returning()).get_result(conn).await
}

pub async fn of_master(conn: &mut AsyncPgConnection, master_id: i64, page: &PageRequest) -> QueryResult<Vec<Review>> {
    let query = reviews::table.filter(reviews::master_id.eq(master_id)).select(Review::as_select()).into_boxed();
    newest_first!(query, page, reviews).load(conn).await
}
