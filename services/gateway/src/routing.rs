//! Which upstream serves a path, whether it needs a token, its rate tier and body limit.
//! Pure: built from the configuration, unit-tested.

use crate::config::{GatewaySettings, PublicRule, RouteRule};

/// The rate-limit tier of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Api,
    Strict,
    Upload,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Strict => "strict",
            Self::Upload => "upload",
        }
    }
}

/// Where a request goes and under which rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub upstream: String,
    /// The matched prefix (the route label in metrics).
    pub route: String,
    pub public: bool,
    pub tier: Tier,
    /// `None` for WebSocket routes (frames are not a body).
    pub body_limit: Option<u64>,
}

pub struct Router {
    /// Longest prefix first.
    routes: Vec<RouteRule>,
    public: Vec<PublicRule>,
    upload_prefixes: Vec<String>,
    body_limit: u64,
    upload_body_limit: u64,
}

/// Whether `path` starts with `pattern`, segment by segment; `{id}` matches a number.
fn starts_with(path: &str, pattern: &str) -> bool {
    let mut path_segments = path.trim_end_matches('/').split('/');
    pattern.trim_end_matches('/').split('/').all(|expected| match path_segments.next() {
        Some(segment) if expected == "{id}" => !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()),
        Some(segment) => segment == expected,
        None => false,
    })
}

fn is_websocket_route(prefix: &str) -> bool {
    prefix == "/ws" || prefix.ends_with("/ws")
}

impl Router {
    pub fn new(settings: &GatewaySettings) -> Self {
        let mut routes = settings.routes.clone();
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        Self {
            routes,
            public: settings.public.clone(),
            upload_prefixes: settings.upload_prefixes.clone(),
            body_limit: settings.body_limit_bytes,
            upload_body_limit: settings.upload_body_limit_bytes,
        }
    }

    /// The destination of `method path`, or `None` for a path no service serves.
    pub fn route(&self, method: &str, path: &str) -> Option<Destination> {
        let rule = self.routes.iter().find(|r| starts_with(path, &r.prefix))?;
        let public = self.public.iter().any(|p| {
            p.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && starts_with(path, &p.prefix)
        });
        let upload = self.upload_prefixes.iter().any(|prefix| starts_with(path, prefix));
        let tier = if upload {
            Tier::Upload
        } else if starts_with(path, "/api/v2/auth") {
            Tier::Strict
        } else {
            Tier::Api
        };
        let body_limit = match (is_websocket_route(&rule.prefix), upload) {
            (true, _) => None,
            (false, true) => Some(self.upload_body_limit),
            (false, false) => Some(self.body_limit),
        };
        Some(Destination { upstream: rule.upstream.clone(), route: rule.prefix.clone(), public, tier, body_limit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new(&GatewaySettings::default())
    }

    #[test]
    fn the_longest_prefix_wins() {
        let router = router();
        assert_eq!(router.route("GET", "/api/v2/admin/users/5").unwrap().upstream, "auth");
        assert_eq!(router.route("GET", "/api/v2/admin/support/tickets").unwrap().upstream, "chat");
        assert_eq!(router.route("GET", "/api/v2/search/masters").unwrap().upstream, "marketplace");
        assert_eq!(router.route("POST", "/api/v2/requests/7/proposals").unwrap().upstream, "marketplace");
        assert_eq!(router.route("GET", "/ws").unwrap().upstream, "chat");
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let router = router();
        assert!(router.route("GET", "/api/v2/requestsx").is_none());
        assert!(router.route("GET", "/api/v2/nothing").is_none());
        assert!(router.route("GET", "/").is_none());
    }

    #[test]
    fn public_routes_need_no_token() {
        let router = router();
        assert!(router.route("POST", "/api/v2/auth/login").unwrap().public);
        assert!(router.route("GET", "/api/v2/users/42").unwrap().public);
        assert!(!router.route("GET", "/api/v2/users/me").unwrap().public, "own profile needs a token");
        assert!(!router.route("PUT", "/api/v2/users/42").unwrap().public);
        assert!(router.route("GET", "/api/v2/regions").unwrap().public);
        assert!(!router.route("POST", "/api/v2/requests").unwrap().public);
        assert!(!router.route("POST", "/api/v2/auth/logout").unwrap().public);
    }

    #[test]
    fn tiers_and_body_limits() {
        let router = router();
        assert_eq!(router.route("POST", "/api/v2/auth/login").unwrap().tier, Tier::Strict);
        let upload = router.route("POST", "/api/v2/uploads/chunk").unwrap();
        assert_eq!((upload.tier, upload.body_limit), (Tier::Upload, Some(1024 * 1024 * 1024)));
        assert_eq!(router.route("GET", "/api/v2/orders").unwrap().body_limit, Some(10 * 1024 * 1024));
        assert_eq!(router.route("GET", "/ws").unwrap().body_limit, None);
    }
}
