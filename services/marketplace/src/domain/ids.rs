//! The marketplace's aggregates by id: one type each, so that ids cannot be swapped.

platform::id_type! {
    /// A buyer's request.
    pub struct RequestId;
}

platform::id_type! {
    /// A master's offer on a request.
    pub struct ProposalId;
}

platform::id_type! {
    /// The order an accepted proposal became.
    pub struct OrderId;
}
