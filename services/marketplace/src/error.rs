//! Every way the marketplace refuses an operation, each with its error code and message written
//! once, and how it maps to the API's error shape. (Invalid input stays
//! [`ApiError::validation`], which names the fields.)

use crate::domain::order::TransitionError;
use platform::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketplaceError {
    #[error("no such request")]
    NoSuchRequest,
    #[error("no such proposal on this request")]
    NoSuchProposal,
    #[error("no such order")]
    NoSuchOrder,
    #[error("no such master")]
    NoSuchMaster,
    #[error("only the request's owner may do this")]
    NotRequestOwner,
    #[error("you cannot propose on your own request")]
    OwnRequest,
    #[error("only the buyer of the order may review it")]
    NotOrderBuyer,
    /// The request is no longer pending; says what could not be done.
    #[error("{0}")]
    RequestNotOpen(&'static str),
    #[error("only a cancelled or expired request can be reopened")]
    RequestNotClosed,
    #[error("you have already proposed on this request")]
    ProposalExists,
    #[error("this proposal can no longer be accepted")]
    ProposalNotPending,
    #[error("only a completed order can be reviewed")]
    OrderNotCompleted,
    #[error("this order has been reviewed already")]
    AlreadyReviewed,
    #[error("the leaderboards cannot be rebuilt now")]
    LeaderboardsUnavailable,
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl From<MarketplaceError> for ApiError {
    fn from(error: MarketplaceError) -> Self {
        use MarketplaceError::*;
        let message = error.to_string();
        match error {
            NoSuchRequest | NoSuchProposal | NoSuchOrder | NoSuchMaster => ApiError::not_found(message),
            NotRequestOwner | OwnRequest | NotOrderBuyer | Transition(TransitionError::WrongParty(..)) => {
                ApiError::forbidden(message)
            }
            RequestNotOpen(_) => ApiError::conflict("request_not_open", message),
            RequestNotClosed => ApiError::conflict("request_not_closed", message),
            ProposalExists => ApiError::conflict("proposal_exists", message),
            ProposalNotPending => ApiError::conflict("proposal_not_pending", message),
            OrderNotCompleted => ApiError::conflict("order_not_completed", message),
            AlreadyReviewed => ApiError::conflict("already_reviewed", message),
            LeaderboardsUnavailable => ApiError::unavailable(message),
            Transition(TransitionError::NotAllowed { .. }) => ApiError::conflict("invalid_transition", message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MarketplaceError::*;
    use super::*;
    use crate::domain::order::OrderStatus;
    use actix_web::http::StatusCode;

    fn status_and_code(error: MarketplaceError) -> (StatusCode, String) {
        let api = ApiError::from(error);
        (api.status, api.code.to_owned())
    }

    #[test]
    fn each_refusal_has_its_status_and_code() {
        assert_eq!(status_and_code(NoSuchOrder).0, StatusCode::NOT_FOUND);
        assert_eq!(status_and_code(OwnRequest).0, StatusCode::FORBIDDEN);
        assert_eq!(status_and_code(RequestNotOpen("x")), (StatusCode::CONFLICT, "request_not_open".to_owned()));
        assert_eq!(status_and_code(AlreadyReviewed), (StatusCode::CONFLICT, "already_reviewed".to_owned()));
        assert_eq!(status_and_code(LeaderboardsUnavailable).0, StatusCode::SERVICE_UNAVAILABLE);
        let wrong_party = TransitionError::WrongParty("master", "start");
        assert_eq!(status_and_code(wrong_party.into()).0, StatusCode::FORBIDDEN);
        let not_allowed =
            TransitionError::NotAllowed { status: OrderStatus::Completed, delivered: "", action: "start" };
        assert_eq!(status_and_code(not_allowed.into()), (StatusCode::CONFLICT, "invalid_transition".to_owned()));
    }
}
