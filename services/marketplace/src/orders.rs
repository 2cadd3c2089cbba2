//! Orders after acceptance: moves through the state machine, reviews and master statistics.

use crate::domain::ids::OrderId;
use crate::domain::order::{self, OrderAction, OrderStatus, Party};
use crate::domain::request::RequestStatus;
use crate::domain::review;
use crate::error::MarketplaceError;
use crate::state::AppState;
use crate::store::orders::{self, NewStatusChange, Order, StatusChange};
use crate::store::reviews::{self, NewReview, Review};
use crate::store::users::Stats;
use crate::store::{is_unique_violation, requests, users};
use contracts::Role;
use contracts::events::{MasterStatsChanged, OrderStatusChanged, RequestClosed, ReviewCreated};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::outbox;
use platform::pagination::PageRequest;
use platform::{ApiError, AuthUser};

fn party(order: &Order, user: &AuthUser) -> Option<Party> {
    if order.buyer_id == user.id {
        Some(Party::Buyer)
    } else if order.master_id == user.id {
        Some(Party::Master)
    } else {
        None
    }
}

/// An order with its history, for its buyer, its master and admins; 404 for anyone else.
pub async fn view(state: &AppState, user: &AuthUser, id: OrderId) -> Result<(Order, Vec<StatusChange>), ApiError> {
    let mut conn = state.db.get().await?;
    let order = orders::find(&mut conn, id).await?.ok_or(MarketplaceError::NoSuchOrder)?;
    if party(&order, user).is_none() && user.role != Role::Admin {
        return Err(MarketplaceError::NoSuchOrder.into());
    }
    let history = orders::history(&mut conn, id).await?;
    Ok((order, history))
}

pub async fn list(
    state: &AppState,
    user: &AuthUser,
    status: Option<OrderStatus>,
    page: &PageRequest,
) -> Result<Vec<Order>, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(orders::of_user(&mut conn, user.id, status, page).await?)
}

/// Applies `action` by `user`; the order row is locked so concurrent moves queue.
#[tracing::instrument(skip(state, user, note), fields(user_id = user.id, order_id = %id))]
pub async fn act(
    state: &AppState,
    user: &AuthUser,
    id: OrderId,
    action: OrderAction,
    note: Option<String>,
) -> Result<Order, ApiError> {
    let note = note
        .as_deref()
        .map(|n| crate::domain::text(n, 0, review::MAX_TEXT_CHARS))
        .transpose()
        .map_err(|problem| ApiError::validation([("note", problem)]))?
        .filter(|n| !n.is_empty());
    if action == OrderAction::RequestRevision && note.is_none() {
        return Err(ApiError::validation([("note", "say what needs to change".to_owned())]));
    }
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = orders::lock(conn, id).await?.ok_or(MarketplaceError::NoSuchOrder)?;
        let party = party(&order, user).ok_or(MarketplaceError::NoSuchOrder)?;
        let from = order.state();
        let to = order::transition(from, action, party).map_err(MarketplaceError::from)?;
        let revision_notes = (action == OrderAction::RequestRevision).then_some(note.as_deref()).flatten();
        let moved = orders::move_to(conn, &order, to, revision_notes).await?;
        let change = NewStatusChange {
            order_id: id,
            from_status: Some(from.status),
            to_status: to.status,
            action,
            actor_id: user.id,
            note: note.as_deref(),
        };
        orders::record_change(conn, &change).await?;
        let event = OrderStatusChanged {
            order_id: id.get(),
            buyer_id: order.buyer_id,
            master_id: order.master_id,
            old_status: from.status.to_string(),
            new_status: to.status.to_string(),
            actor_id: user.id,
            note: note.clone(),
        };
        outbox::publish(conn, event).await?;
        match to.status {
            OrderStatus::Completed => {
                close_request(conn, &order, RequestStatus::Completed).await?;
                let stats = users::add_completed_order(conn, order.master_id).await?;
                publish_stats(conn, order.master_id, stats).await?;
            }
            OrderStatus::Cancelled => close_request(conn, &order, RequestStatus::Cancelled).await?,
            _ => {}
        }
        Ok(moved)
    })
    .await
}

async fn close_request(conn: &mut AsyncPgConnection, order: &Order, status: RequestStatus) -> Result<(), ApiError> {
    requests::set_status(conn, order.request_id, status, None).await?;
    let event =
        RequestClosed { request_id: order.request_id.get(), buyer_id: order.buyer_id, status: status.to_string() };
    outbox::publish(conn, event).await?;
    Ok(())
}

async fn publish_stats(conn: &mut AsyncPgConnection, master_id: i64, stats: Stats) -> Result<(), ApiError> {
    let event = MasterStatsChanged {
        master_id,
        rating: review::average(stats.rating_sum, stats.review_count),
        review_count: stats.review_count,
        completed_orders: stats.completed_orders,
    };
    outbox::publish(conn, event).await?;
    Ok(())
}

/// The buyer of a completed order rates its master, once.
#[tracing::instrument(skip(state, user, text), fields(user_id = user.id, order_id = %order_id))]
pub async fn review(
    state: &AppState,
    user: &AuthUser,
    order_id: OrderId,
    stars: i32,
    text: &str,
) -> Result<Review, ApiError> {
    let mut checks = FieldProblems::new();
    let rating = checks.check("rating", review::rating(stars));
    let text = checks.check("text", review::text(text));
    let (Some(rating), Some(text)) = (rating, text) else { return Err(checks.into_error()) };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = orders::lock(conn, order_id).await?.ok_or(MarketplaceError::NoSuchOrder)?;
        match party(&order, user) {
            None => return Err(MarketplaceError::NoSuchOrder.into()),
            Some(Party::Master) => return Err(MarketplaceError::NotOrderBuyer.into()),
            Some(Party::Buyer) => {}
        }
        if order.status != OrderStatus::Completed {
            return Err(MarketplaceError::OrderNotCompleted.into());
        }
        let new = NewReview { order_id, buyer_id: order.buyer_id, master_id: order.master_id, rating, text };
        let review = reviews::insert(conn, &new).await.map_err(|error| {
            if is_unique_violation(&error) { MarketplaceError::AlreadyReviewed.into() } else { ApiError::from(error) }
        })?;
        let stats = users::add_review(conn, order.master_id, rating).await?;
        let event = ReviewCreated {
            review_id: review.id,
            order_id: order_id.get(),
            buyer_id: order.buyer_id,
            master_id: order.master_id,
            rating: rating.into(),
        };
        outbox::publish(conn, event).await?;
        publish_stats(conn, order.master_id, stats).await?;
        Ok(review)
    })
    .await
}

pub async fn reviews_of(state: &AppState, master_id: i64, page: &PageRequest) -> Result<Vec<Review>, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(reviews::of_master(&mut conn, master_id, page).await?)
}
