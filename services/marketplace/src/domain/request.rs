//! Requests: what a buyer may post and how a request's status may change.

pub const MIN_TITLE_CHARS: usize = 3;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
pub const MAX_CATEGORIES: usize = 5;
pub const MAX_IMAGES: usize = 10;
pub const MAX_IMAGE_URL_CHARS: usize = 2_000;
/// 1 billion tenge in tiyn: larger budgets are typing mistakes.
pub const MAX_BUDGET: i64 = 100_000_000_000;

platform::text_enum! {
    /// Where a request stands.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum RequestStatus {
        Pending = "pending",
        InProgress = "in_progress",
        Completed = "completed",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

impl RequestStatus {
    /// Open for proposals and edits.
    pub fn is_open(self) -> bool {
        self == Self::Pending
    }

    /// The owner may close an open request (it becomes cancelled).
    pub fn can_close(self) -> bool {
        self == Self::Pending
    }

    /// The owner may reopen a request nobody is working on.
    pub fn can_reopen(self) -> bool {
        matches!(self, Self::Cancelled | Self::Expired)
    }
}

/// Checks a title: at most 200 characters, at least 3 once trimmed.
pub fn title(raw: &str) -> Result<String, String> {
    super::text(raw, MIN_TITLE_CHARS, MAX_TITLE_CHARS)
}

pub fn description(raw: &str) -> Result<String, String> {
    super::text(raw, 0, MAX_DESCRIPTION_CHARS)
}

/// A budget in tiyn (minor units): positive and plausible.
pub fn budget(value: i64) -> Result<i64, String> {
    if (1..=MAX_BUDGET).contains(&value) { Ok(value) } else { Err(format!("must be between 1 and {MAX_BUDGET} tiyn")) }
}

/// Image addresses: at most ten absolute http(s) URLs.
pub fn images(urls: &[String]) -> Result<Vec<String>, String> {
    if urls.len() > MAX_IMAGES {
        return Err(format!("at most {MAX_IMAGES} images"));
    }
    urls.iter()
        .map(|raw| {
            let url = raw.trim();
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if scheme_ok && raw.chars().count() <= MAX_IMAGE_URL_CHARS && !url.contains(char::is_whitespace) {
                Ok(url.to_owned())
            } else {
                Err(format!("{url:?} is not an http(s) URL"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(title("  Шкаф-купе  ").unwrap(), "Шкаф-купе");
        assert!(title("ok").is_err());
        assert!(title(&"я".repeat(201)).is_err());
        assert!(title(&"я".repeat(200)).is_ok());
        assert!(title(&format!(" {}", "я".repeat(200))).is_err(), "spaces count towards the maximum");
    }

    #[test]
    fn budgets_are_positive_and_plausible() {
        assert_eq!(budget(15_000_000).unwrap(), 15_000_000);
        assert!(budget(0).is_err());
        assert!(budget(-5).is_err());
        assert!(budget(MAX_BUDGET + 1).is_err());
    }

    #[test]
    fn images_must_be_web_addresses() {
        assert!(images(&["https://cdn.example.kz/a.jpg".into()]).is_ok());
        assert!(images(&["javascript:alert(1)".into()]).is_err());
        assert!(images(&["https://a b".into()]).is_err());
        assert!(images(&vec!["https://x.kz/a.jpg".to_owned(); 11]).is_err());
    }

    #[test]
    fn only_open_requests_close_and_only_closed_ones_reopen() {
        assert!(RequestStatus::Pending.can_close());
        assert!(!RequestStatus::InProgress.can_close());
        assert!(RequestStatus::Cancelled.can_reopen());
        assert!(RequestStatus::Expired.can_reopen());
        assert!(!RequestStatus::Completed.can_reopen());
        assert!(!RequestStatus::InProgress.can_reopen());
    }
}
