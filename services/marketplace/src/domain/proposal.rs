//! What a master may offer.

pub const MAX_MESSAGE_CHARS: usize = 2_000;
pub const MAX_DEADLINE_DAYS: i32 = 365;

platform::text_enum! {
    /// Where a proposal stands: waiting, or the one the buyer accepted, or one of the others.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum ProposalStatus {
        Pending = "pending",
        Accepted = "accepted",
        Rejected = "rejected",
    }
}

pub fn price(value: i64) -> Result<i64, String> {
    if (1..=super::request::MAX_BUDGET).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between 1 and {} tiyn", super::request::MAX_BUDGET))
    }
}

pub fn deadline_days(value: i32) -> Result<i32, String> {
    if (1..=MAX_DEADLINE_DAYS).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between 1 and {MAX_DEADLINE_DAYS} days"))
    }
}

/// At most 2 000 characters, not blank.
pub fn message(raw: &str) -> Result<String, String> {
    super::text(raw, 1, MAX_MESSAGE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_are_checked() {
        assert!(price(15_000_000).is_ok());
        assert!(price(0).is_err());
        assert!(deadline_days(14).is_ok());
        assert!(deadline_days(0).is_err());
        assert!(deadline_days(366).is_err());
        assert_eq!(message("  Могу выполнить заказ ").unwrap(), "Могу выполнить заказ");
        assert!(message("   ").is_err());
    }
}
