//! The service catalogue: every deployable program declared once. The CLI (`mebelplace up`,
//! `bench`), the gateway's default routing table, public routes, search fan-out and merged
//! docs, the deployment checks and the system suites all read this table; adding a service is
//! its crate plus one entry here.

use crate::topics;

/// A request that passes the gateway without an access token: `method` (any when `None`)
/// and a path prefix (`{id}` matches one segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicRoute {
    pub method: Option<&'static str>,
    pub prefix: &'static str,
}

/// One source of the gateway's universal search (`/api/v2/search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchSource {
    /// The key in the merged answer (`users`, `masters`, `videos`, `requests`).
    pub name: &'static str,
    pub path: &'static str,
    /// Asked only for callers with a token (which is passed on).
    pub authenticated: bool,
}

/// One deployable program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Also its cargo package, its binary and its consumer-group prefix.
    pub name: &'static str,
    pub port: u16,
    /// Its PostgreSQL schema; `None` for the gateway, which keeps no data.
    pub schema: Option<&'static str>,
    /// Path prefixes the gateway sends to it.
    pub routes: &'static [&'static str],
    pub public: &'static [PublicRoute],
    /// Prefixes that count as uploads at the gateway (own rate tier, larger body limit).
    pub uploads: &'static [&'static str],
    pub search: &'static [SearchSource],
    /// Its OpenAPI document, merged by the gateway.
    pub openapi: Option<&'static str>,
    /// Kafka topics it owns and publishes to.
    pub publishes: &'static [&'static str],
}

impl ServiceSpec {
    /// The consumer group of one of its consumers: `<service>.<consumer>`.
    pub fn consumer_group(&self, consumer: &str) -> String {
        format!("{}.{consumer}", self.name)
    }
}

const fn public(method: &'static str, prefix: &'static str) -> PublicRoute {
    PublicRoute { method: Some(method), prefix }
}

const fn any_method(prefix: &'static str) -> PublicRoute {
    PublicRoute { method: None, prefix }
}

pub const AUTH: ServiceSpec = ServiceSpec {
    name: "auth",
    port: 8081,
    schema: Some("auth"),
    routes: &[
        "/api/v2/auth",
        "/api/v2/users",
        "/api/v2/subscriptions",
        "/api/v2/admin/users",
        "/api/v2/search/users",
        "/.well-known/jwks.json",
    ],
    public: &[
        public("POST", "/api/v2/auth/register"),
        public("POST", "/api/v2/auth/login"),
        public("POST", "/api/v2/auth/verify-sms"),
        public("POST", "/api/v2/auth/verify-email"),
        public("POST", "/api/v2/auth/send-code"),
        public("POST", "/api/v2/auth/refresh"),
        any_method("/.well-known/jwks.json"),
        public("GET", "/api/v2/users/{id}"),
        public("GET", "/api/v2/auth/openapi.json"),
    ],
    uploads: &["/api/v2/users/me/avatar"],
    search: &[SearchSource { name: "users", path: "/api/v2/search/users", authenticated: false }],
    openapi: Some("/api/v2/auth/openapi.json"),
    publishes: &[topics::AUTH_USERS, topics::AUTH_VERIFICATIONS, topics::AUTH_SUBSCRIPTIONS],
};

pub const MEDIA: ServiceSpec = ServiceSpec {
    name: "media",
    port: 8082,
    schema: Some("media"),
    routes: &["/api/v2/videos", "/api/v2/stories", "/api/v2/uploads", "/api/v2/media", "/api/v2/search/videos"],
    public: &[
        public("GET", "/api/v2/videos"),
        public("GET", "/api/v2/stories"),
        public("GET", "/api/v2/media/files"),
        public("GET", "/api/v2/search/videos"),
        public("GET", "/api/v2/media/openapi.json"),
    ],
    uploads: &["/api/v2/uploads", "/api/v2/media/upload", "/api/v2/media/tus", "/api/v2/videos/upload"],
    search: &[SearchSource { name: "videos", path: "/api/v2/search/videos", authenticated: false }],
    openapi: Some("/api/v2/media/openapi.json"),
    publishes: &[topics::MEDIA_VIDEOS, topics::MEDIA_STORIES],
};

pub const MARKETPLACE: ServiceSpec = ServiceSpec {
    name: "marketplace",
    port: 8083,
    schema: Some("marketplace"),
    routes: &[
        "/api/v2/requests",
        "/api/v2/orders",
        "/api/v2/reviews",
        "/api/v2/regions",
        "/api/v2/categories",
        "/api/v2/gamification",
        "/api/v2/masters",
        "/api/v2/search/masters",
        "/api/v2/marketplace",
    ],
    public: &[
        public("GET", "/api/v2/regions"),
        public("GET", "/api/v2/categories"),
        public("GET", "/api/v2/masters/{id}"),
        public("GET", "/api/v2/reviews"),
        public("GET", "/api/v2/search/masters"),
        public("GET", "/api/v2/gamification/leaderboard"),
        public("GET", "/api/v2/gamification/levels"),
        public("GET", "/api/v2/gamification/achievements/user/{id}"),
        public("GET", "/api/v2/marketplace/openapi.json"),
    ],
    uploads: &[],
    search: &[
        SearchSource { name: "masters", path: "/api/v2/search/masters", authenticated: false },
        SearchSource { name: "requests", path: "/api/v2/requests", authenticated: true },
    ],
    openapi: Some("/api/v2/marketplace/openapi.json"),
    publishes: &[topics::MARKETPLACE_REQUESTS, topics::MARKETPLACE_ORDERS, topics::MARKETPLACE_MASTERS],
};

pub const CHAT: ServiceSpec = ServiceSpec {
    name: "chat",
    port: 8084,
    schema: Some("chat"),
    routes: &[
        "/api/v2/chats",
        "/api/v2/chat",
        "/api/v2/calls",
        "/api/v2/support",
        "/api/v2/admin/support",
        "/api/v2/ws",
        "/ws",
    ],
    public: &[public("GET", "/api/v2/chat/openapi.json")],
    // Tickets may carry three 10 MB attachments.
    uploads: &["/api/v2/support/tickets"],
    search: &[],
    openapi: Some("/api/v2/chat/openapi.json"),
    publishes: &[topics::CHAT_MESSAGES, topics::CHAT_CALLS, topics::CHAT_SUPPORT],
};

pub const NOTIFICATION: ServiceSpec = ServiceSpec {
    name: "notification",
    port: 8085,
    schema: Some("notification"),
    routes: &["/api/v2/notifications"],
    // One-click unsubscribe (RFC 8058): mail clients post without a session; a signed token.
    public: &[public("GET", "/api/v2/notifications/openapi.json"), public("POST", "/api/v2/notifications/unsubscribe")],
    uploads: &[],
    search: &[],
    openapi: Some("/api/v2/notifications/openapi.json"),
    publishes: &[],
};

pub const GATEWAY: ServiceSpec = ServiceSpec {
    name: "gateway",
    port: 8080,
    schema: None,
    routes: &[],
    public: &[public("GET", "/api/v2/search"), public("GET", "/api/v2/openapi.json")],
    uploads: &[],
    search: &[],
    openapi: None,
    publishes: &[],
};

/// Every program, in start-up order: the gateway last, once its upstreams answer.
pub const CATALOGUE: &[ServiceSpec] = &[AUTH, MEDIA, MARKETPLACE, CHAT, NOTIFICATION, GATEWAY];

/// The services behind the gateway.
pub fn upstreams() -> impl Iterator<Item = &'static ServiceSpec> {
    CATALOGUE.iter().filter(|s| s.schema.is_some())
}

pub fn find(name: &str) -> Option<&'static ServiceSpec> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// The service that owns `topic` (the one that publishes it).
pub fn owner_of(topic: &str) -> Option<&'static ServiceSpec> {
    CATALOGUE.iter().find(|s| s.publishes.contains(&topic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_ports_and_schemas_are_unique() {
        let names: HashSet<_> = CATALOGUE.iter().map(|s| s.name).collect();
        let ports: HashSet<_> = CATALOGUE.iter().map(|s| s.port).collect();
        let schemas: Vec<_> = CATALOGUE.iter().filter_map(|s| s.schema).collect();
        assert_eq!(names.len(), CATALOGUE.len());
        assert_eq!(ports.len(), CATALOGUE.len());
        assert_eq!(schemas.iter().collect::<HashSet<_>>().len(), schemas.len());
    }

    #[test]
    fn a_route_prefix_belongs_to_one_service() {
        let mut seen = HashSet::new();
        for route in CATALOGUE.iter().flat_map(|s| s.routes) {
            assert!(seen.insert(route), "{route} is routed twice");
        }
    }

    #[test]
    fn every_topic_but_the_shared_one_has_one_owner() {
        for topic in topics::ALL.iter().filter(|t| **t != topics::NOTIFICATIONS_REQUESTS) {
            let owners = CATALOGUE.iter().filter(|s| s.publishes.contains(topic)).count();
            assert_eq!(owners, 1, "{topic}");
        }
    }

    #[test]
    fn consumer_groups_are_named_after_the_service() {
        assert_eq!(MARKETPLACE.consumer_group("users"), "marketplace.users");
        assert_eq!(owner_of(topics::MEDIA_VIDEOS).map(|s| s.name), Some("media"));
    }
}
