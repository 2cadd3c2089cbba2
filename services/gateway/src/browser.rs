//! Browser safety: the CORS allow-list (preflights and response headers) and the CSRF rule
//! for cookie-authenticated writes. Pure functions of the request's headers.

/// Methods a browser may use cross-origin, and headers it may send.
pub const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
pub const ALLOWED_HEADERS: &str = "Authorization, Content-Type, X-Request-Id, Idempotency-Key, traceparent";
pub const EXPOSED_HEADERS: &str = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset";
pub const PREFLIGHT_MAX_AGE_SECS: u32 = 600;

pub struct Origins {
    allowed: Vec<String>,
}

/// What to do with a CORS preflight.
#[derive(Debug, PartialEq, Eq)]
pub enum Preflight {
    /// Not a preflight: proxy it.
    NotPreflight,
    Allowed {
        origin: String,
    },
    Denied,
}

impl Origins {
    pub fn new(allowed: &[String]) -> Self {
        Self { allowed: allowed.iter().map(|o| o.trim_end_matches('/').to_owned()).collect() }
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.allowed.iter().any(|allowed| allowed == origin.trim_end_matches('/'))
    }

    /// An `OPTIONS` with `Origin` and `Access-Control-Request-Method` is a preflight.
    pub fn preflight(&self, method: &str, origin: Option<&str>, requested_method: Option<&str>) -> Preflight {
        match (method, origin, requested_method) {
            ("OPTIONS", Some(origin), Some(_)) if self.allows(origin) => {
                Preflight::Allowed { origin: origin.to_owned() }
            }
            ("OPTIONS", Some(_), Some(_)) => Preflight::Denied,
            _ => Preflight::NotPreflight,
        }
    }

    /// CSRF: an unsafe request that authenticates with the cookie (no Bearer header) must come
    /// from an allowed origin, told by `Origin` or else `Referer`.
    pub fn csrf_ok(
        &self,
        method: &str,
        has_bearer: bool,
        has_auth_cookie: bool,
        origin: Option<&str>,
        referer: Option<&str>,
    ) -> bool {
        let unsafe_method = !matches!(method, "GET" | "HEAD" | "OPTIONS");
        if !unsafe_method || has_bearer || !has_auth_cookie {
            return true;
        }
        let source = origin.map(str::to_owned).or_else(|| referer.and_then(origin_of));
        source.is_some_and(|source| self.allows(&source))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Origins {
        Origins::new(&["https://mebelplace.com.kz".to_owned(), "http://localhost:3000/".to_owned()])
    }

    #[test]
    fn preflights_from_listed_origins_only() {
        let origins = origins();
        assert_eq!(
            origins.preflight("OPTIONS", Some("http://localhost:3000"), Some("POST")),
            Preflight::Allowed { origin: "http://localhost:3000".into() }
        );
        assert_eq!(origins.preflight("OPTIONS", Some("https://evil.example"), Some("POST")), Preflight::Denied);
        assert_eq!(origins.preflight("OPTIONS", None, None), Preflight::NotPreflight);
        assert_eq!(origins.preflight("GET", Some("https://evil.example"), None), Preflight::NotPreflight);
    }

    #[test]
    fn cookie_writes_need_an_allowed_origin() {
        let origins = origins();
        assert!(origins.csrf_ok("POST", false, true, Some("https://mebelplace.com.kz"), None));
        assert!(origins.csrf_ok("POST", false, true, None, Some("https://mebelplace.com.kz/orders/1")));
        assert!(!origins.csrf_ok("POST", false, true, Some("https://evil.example"), None));
        assert!(!origins.csrf_ok("DELETE", false, true, None, None));
        assert!(
            origins.csrf_ok("POST", true, true, None, None),
            "a Bearer header is not sent by browsers on their own"
        );
        assert!(origins.csrf_ok("POST", false, false, None, None), "no cookie, nothing to forge");
        assert!(origins.csrf_ok("GET", false, true, Some("https://evil.example"), None));
    }
}
