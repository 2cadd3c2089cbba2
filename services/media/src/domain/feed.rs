//! Which videos a feed shows, and the key its cached pages live under.

use crate::domain::video::hashtags;
use platform::pagination::{PageRequest, Start};

/// The feed's filters, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// One hashtag, normalised as stored (`#Шкаф` → `шкаф`).
    pub hashtag: Option<String>,
    pub user_id: Option<i64>,
    /// Only authors this viewer follows.
    pub following_of: Option<i64>,
    /// Only videos with a price (products).
    pub products: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FilterError {
    Field(&'static str, String),
    /// `following=true` without a signed-in viewer.
    SignInRequired,
}

impl FeedFilter {
    pub fn parse(
        hashtag: Option<&str>,
        user_id: Option<i64>,
        following: bool,
        products: bool,
        viewer: Option<i64>,
    ) -> Result<Self, FilterError> {
        let hashtag = match hashtag.map(str::trim).filter(|h| !h.is_empty()) {
            None => None,
            Some(text) => match hashtags(text).map_err(|e| FilterError::Field("hashtag", e))?.as_slice() {
                [one] => Some(one.clone()),
                _ => return Err(FilterError::Field("hashtag", "exactly one hashtag".into())),
            },
        };
        if user_id.is_some_and(|id| id <= 0) {
            return Err(FilterError::Field("user_id", "a user id is a positive integer".into()));
        }
        let following_of = match (following, viewer) {
            (false, _) => None,
            (true, Some(viewer)) => Some(viewer),
            (true, None) => return Err(FilterError::SignInRequired),
        };
        Ok(Self { hashtag, user_id, following_of, products })
    }

    /// The key of one cached page. Pages are shared by every viewer except the following
    /// feed, which is the viewer's own; blocks are applied when a page is served, not cached.
    pub fn page_key(&self, page: &PageRequest) -> String {
        let start = match page.start {
            Start::First => "first".to_owned(),
            Start::After { created_at, id } => format!("after:{}:{id}", created_at.timestamp_micros()),
            Start::Offset(offset) => format!("offset:{offset}"),
        };
        format!(
            "tag={};user={};following={};products={};{start};limit={}",
            self.hashtag.as_deref().unwrap_or(""),
            self.user_id.map(|id| id.to_string()).unwrap_or_default(),
            self.following_of.map(|id| id.to_string()).unwrap_or_default(),
            self.products,
            page.limit,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn a_hashtag_is_normalised_like_stored_ones() {
        let filter = FeedFilter::parse(Some(" #Шкаф "), None, false, false, None).unwrap();
        assert_eq!(filter.hashtag.as_deref(), Some("шкаф"));
        assert_eq!(FeedFilter::parse(Some(""), None, false, false, None).unwrap(), FeedFilter::default());
        assert!(matches!(
            FeedFilter::parse(Some("#a #b"), None, false, false, None),
            Err(FilterError::Field("hashtag", _))
        ));
        assert!(matches!(
            FeedFilter::parse(Some("a;b"), None, false, false, None),
            Err(FilterError::Field("hashtag", _))
        ));
    }

    #[test]
    fn following_needs_a_viewer_and_user_ids_are_positive() {
        assert_eq!(FeedFilter::parse(None, None, true, false, None), Err(FilterError::SignInRequired));
        assert_eq!(FeedFilter::parse(None, None, true, false, Some(7)).unwrap().following_of, Some(7));
        assert!(matches!(FeedFilter::parse(None, Some(0), false, false, None), Err(FilterError::Field("user_id", _))));
    }

    #[test]
    fn page_keys_differ_by_every_filter_and_position() {
        let first = PageRequest { limit: 20, start: Start::First };
        let after = PageRequest {
            limit: 20,
            start: Start::After { created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(), id: 9 },
        };
        let plain = FeedFilter::default();
        let tagged = FeedFilter { hashtag: Some("шкаф".into()), ..Default::default() };
        let mine = FeedFilter { following_of: Some(3), ..Default::default() };
        let keys = [plain.page_key(&first), plain.page_key(&after), tagged.page_key(&first), mine.page_key(&first)];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(plain.page_key(&first), FeedFilter::default().page_key(&first));
    }
}
