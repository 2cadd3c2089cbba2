use super::schema::{order_status_history, orders};
use crate::domain::ids::{OrderId, ProposalId, RequestId};
use crate::domain::order::{OrderAction, OrderState, OrderStatus};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::pagination::PageRequest;

/// An order as stored and as answered.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: OrderId,
    pub request_id: RequestId,
    pub proposal_id: ProposalId,
    pub buyer_id: i64,
    pub master_id: i64,
    pub title: String,
    /// The price in tiyn (`price` beside it is the same in tenge).
    #[serde(rename = "price_minor")]
    pub price: i64,
    pub deadline_days: i32,
    pub due_at: DateTime<Utc>,
    pub status: OrderStatus,
    /// When the master marked the work finished (awaiting the buyer's confirmation).
    pub delivered_at: Option<DateTime<Utc>>,
    pub revision_notes: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Order {
    pub fn state(&self) -> OrderState {
        OrderState { status: self.status, delivered: self.delivered_at.is_some() }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = orders)]
pub struct NewOrder {
    pub request_id: RequestId,
    pub proposal_id: ProposalId,
    pub buyer_id: i64,
    pub master_id: i64,
    pub title: String,
    pub price: i64,
    pub deadline_days: i32,
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = order_status_history)]
pub struct StatusChange {
    pub id: i64,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub action: OrderAction,
    pub actor_id: i64,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = order_status_history)]
pub struct NewStatusChange<'a> {
    pub order_id: OrderId,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub action: OrderAction,
    pub actor_id: i64,
    pub note: Option<&'a str>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewOrder) -> QueryResult<Order> {
    diesel::insert_into(orders::table).values(new).returning(Order::as_returning()).get_result(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: OrderId) -> QueryResult<Option<Order>> {
    orders::table.find(id).select(Order::as_select()).first(conn).await.optional()
}

pub async fn lock(conn: &mut AsyncPgConnection, id: OrderId) -> QueryResult<Option<Order>> {
    orders::table.find(id).select(Order::as_select()).for_update().first(conn).await.optional()
}

/// Orders where `user_id` is the buyer or the master, newest first.
pub async fn of_user(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    status: Option<OrderStatus>,
    page: &PageRequest,
) -> QueryResult<Vec<Order>> {
    let mut query = orders::table
        .filter(orders::buyer_id.eq(user_id).or(orders::master_id.eq(user_id)))
        .select(Order::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(orders::status.eq(status));
    }
    newest_first!(query, page, orders).load(conn).await
}

/// Moves `order` to `to`, recording when the work was finished or completed and revision notes.
pub async fn move_to(
    conn: &mut AsyncPgConnection,
    order: &Order,
    to: OrderState,
    revision_notes: Option<&str>,
) -> QueryResult<Order> {
    let now = Utc::now();
    let delivered_at = if to.delivered { order.delivered_at.or(Some(now)) } else { None };
    let completed_at = (to.status == OrderStatus::Completed).then_some(now);
    let notes = revision_notes.map(|notes| orders::revision_notes.eq(notes));
    diesel::update(orders::table.find(order.id))
        .set((
            orders::status.eq(to.status),
            orders::delivered_at.eq(delivered_at),
            orders::completed_at.eq(completed_at),
            orders::updated_at.eq(now),
            notes,
        ))
        .returning(Order::as_returning())
        .get_result(conn)
        .await
}

pub async fn record_change(conn: &mut AsyncPgConnection, change: &NewStatusChange<'_>) -> QueryResult<()> {
    diesel::insert_into(order_status_history::table).values(change).execute(conn).await?;
    Ok(())
}

pub async fn history(conn: &mut AsyncPgConnection, order_id: OrderId) -> QueryResult<Vec<StatusChange>> {
    order_status_history::table
        .filter(order_status_history::order_id.eq(order_id))
        .order(order_status_history::id)
        .select(StatusChange::as_select())
        .load(conn)
        .await
}
