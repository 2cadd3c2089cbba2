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

/// A path prefix split once into segments; `{id}` matches a number.
#[derive(Debug, Clone)]
struct Pattern(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Number,
}

impl Pattern {
    fn new(prefix: &str) -> Self {
        let segments = prefix.trim_end_matches('/').split('/');
        Self(segments.map(|s| if s == "{id}" { Segment::Number } else { Segment::Literal(s.to_owned()) }).collect())
    }

    /// Whether `path` (already split) starts with this pattern, segment by segment.
    fn matches(&self, path: &[&str]) -> bool {
        self.0.len() <= path.len()
            && self.0.iter().zip(path).all(|(expected, segment)| match expected {
                Segment::Number => !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()),
                Segment::Literal(literal) => literal == segment,
            })
    }
}

struct Route {
    pattern: Pattern,
    rule: RouteRule,
    websocket: bool,
}

struct PublicPattern {
    method: Option<String>,
    pattern: Pattern,
}

/// The routing table, its patterns split once (routing runs on every request).
pub struct Router {
    /// Longest prefix first.
    routes: Vec<Route>,
    public: Vec<PublicPattern>,
    uploads: Vec<Pattern>,
    auth: Pattern,
    body_limit: u64,
    upload_body_limit: u64,
}

fn is_websocket_route(prefix: &str) -> bool {
    prefix == "/ws" || prefix.ends_with("/ws")
}

impl Router {
    pub fn new(settings: &GatewaySettings) -> Self {
        let mut rules = settings.routes.clone();
        rules.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        let routes = rules
            .into_iter()
            .map(|rule| Route {
                pattern: Pattern::new(&rule.prefix),
                websocket: is_websocket_route(&rule.prefix),
                rule,
            })
            .collect();
        let public = settings
            .public
            .iter()
            .map(|PublicRule { method, prefix }| PublicPattern {
                method: method.clone(),
                pattern: Pattern::new(prefix),
            })
            .collect();
        Self {
            routes,
            public,
            uploads: settings.upload_prefixes.iter().map(|prefix| Pattern::new(prefix)).collect(),
            auth: Pattern::new("/api/v2/auth"),
            body_limit: settings.body_limit_bytes,
            upload_body_limit: settings.upload_body_limit_bytes,
        }
    }

    /// The destination of `method path`, or `None` for a path no service serves.
    pub fn route(&self, method: &str, path: &str) -> Option<Destination> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let route = self.routes.iter().find(|r| r.pattern.matches(&segments))?;
        let public = self.public.iter().any(|p| {
            p.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && p.pattern.matches(&segments)
        });
        let upload = self.uploads.iter().any(|pattern| pattern.matches(&segments));
        let tier = if upload {
            Tier::Upload
        } else if self.auth.matches(&segments) {
            Tier::Strict
        } else {
            Tier::Api
        };
        let body_limit = match (route.websocket, upload) {
            (true, _) => None,
            (false, true) => Some(self.upload_body_limit),
            (false, false) => Some(self.body_limit),
        };
        let (upstream, prefix) = (route.rule.upstream.clone(), route.rule.prefix.clone());
        Some(Destination { upstream, route: prefix, public, tier, body_limit })
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
