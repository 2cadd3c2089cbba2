//! The order state machine: which party may move an order from which status, and where to.
//!
//! pending → accepted → in_progress → completed | cancelled | revision (→ in_progress again).
//! The master accepts, starts and marks the work finished; the buyer then confirms completion or
//! asks for a revision, and may cancel before work starts.

platform::text_enum! {
    /// Where an order stands.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum OrderStatus {
        Pending = "pending",
        Accepted = "accepted",
        InProgress = "in_progress",
        Completed = "completed",
        Cancelled = "cancelled",
        Revision = "revision",
    }
}

platform::text_enum! {
    /// What moved an order, as its history records it.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum OrderAction {
        /// Buyer: accepting a proposal created the order (its first history entry; not a move).
        Create = "create",
        /// Master: takes the order on.
        Accept = "accept",
        /// Master: starts (or resumes after a revision) the work.
        Start = "start",
        /// Master: the work is done and waits for the buyer's confirmation.
        Finish = "finish",
        /// Buyer: the work is accepted; the order is completed.
        Confirm = "confirm",
        /// Buyer: the finished work needs changes (notes required).
        RequestRevision = "request_revision",
        /// Buyer: calls the order off before the work starts.
        Cancel = "cancel",
    }
}

impl OrderAction {
    fn party(self) -> Party {
        match self {
            Self::Accept | Self::Start | Self::Finish => Party::Master,
            Self::Create | Self::Confirm | Self::RequestRevision | Self::Cancel => Party::Buyer,
        }
    }
}

/// Which side of the order the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Buyer,
    Master,
}

/// Where an order stands: its status, and whether the master has marked the work finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderState {
    pub status: OrderStatus,
    pub delivered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("only the {0} of the order may {1}")]
    WrongParty(&'static str, &'static str),
    #[error("an order that is {status}{delivered} cannot {action}")]
    NotAllowed { status: OrderStatus, delivered: &'static str, action: &'static str },
}

/// The state after `action` by `party`, or why it is refused.
pub fn transition(from: OrderState, action: OrderAction, party: Party) -> Result<OrderState, TransitionError> {
    use OrderAction::*;
    use OrderStatus::*;
    if action.party() != party {
        let who = if action.party() == Party::Master { "master" } else { "buyer" };
        return Err(TransitionError::WrongParty(who, action.as_str()));
    }
    let to = match (from.status, from.delivered, action) {
        (Pending, _, Accept) => OrderState { status: Accepted, delivered: false },
        (Accepted | Revision, _, Start) => OrderState { status: InProgress, delivered: false },
        (InProgress, false, Finish) => OrderState { status: InProgress, delivered: true },
        (InProgress, true, Confirm) => OrderState { status: Completed, delivered: true },
        (InProgress, true, RequestRevision) => OrderState { status: Revision, delivered: false },
        (Pending | Accepted, _, Cancel) => OrderState { status: Cancelled, delivered: false },
        _ => {
            return Err(TransitionError::NotAllowed {
                status: from.status,
                delivered: if from.delivered { " (finished, awaiting confirmation)" } else { "" },
                action: action.as_str(),
            });
        }
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::OrderAction::*;
    use super::OrderStatus::*;
    use super::*;

    fn state(status: OrderStatus, delivered: bool) -> OrderState {
        OrderState { status, delivered }
    }

    #[test]
    fn the_happy_path_with_a_revision() {
        let mut order = state(Pending, false);
        for (action, party) in [
            (Accept, Party::Master),
            (Start, Party::Master),
            (Finish, Party::Master),
            (RequestRevision, Party::Buyer),
            (Start, Party::Master),
            (Finish, Party::Master),
            (Confirm, Party::Buyer),
        ] {
            order = transition(order, action, party).unwrap();
        }
        assert_eq!(order.status, Completed);
    }

    #[test]
    fn each_action_belongs_to_one_party() {
        for action in [Accept, Start, Finish] {
            assert!(matches!(
                transition(state(Pending, false), action, Party::Buyer),
                Err(TransitionError::WrongParty("master", _))
            ));
        }
        for action in [Confirm, RequestRevision, Cancel] {
            assert!(matches!(
                transition(state(Pending, false), action, Party::Master),
                Err(TransitionError::WrongParty("buyer", _))
            ));
        }
    }

    #[test]
    fn cancel_only_before_work_starts() {
        assert_eq!(transition(state(Pending, false), Cancel, Party::Buyer).unwrap().status, Cancelled);
        assert_eq!(transition(state(Accepted, false), Cancel, Party::Buyer).unwrap().status, Cancelled);
        for status in [InProgress, Revision, Completed, Cancelled] {
            assert!(transition(state(status, false), Cancel, Party::Buyer).is_err(), "{status}");
        }
    }

    #[test]
    fn confirmation_and_revision_need_finished_work() {
        assert!(transition(state(InProgress, false), Confirm, Party::Buyer).is_err());
        assert!(transition(state(InProgress, false), RequestRevision, Party::Buyer).is_err());
        assert!(transition(state(InProgress, true), Finish, Party::Master).is_err());
    }

    #[test]
    fn final_statuses_stay_final() {
        for status in [Completed, Cancelled] {
            for (action, party) in [(Accept, Party::Master), (Start, Party::Master), (Finish, Party::Master)] {
                assert!(transition(state(status, true), action, party).is_err());
            }
        }
    }

    #[test]
    fn creation_is_no_move() {
        for status in OrderStatus::ALL {
            assert!(transition(state(*status, false), Create, Party::Buyer).is_err(), "{status}");
        }
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for status in [Pending, Accepted, InProgress, Completed, Cancelled, Revision] {
            assert_eq!(status.as_str().parse::<OrderStatus>().unwrap(), status);
        }
        assert!("done".parse::<OrderStatus>().is_err());
    }
}
