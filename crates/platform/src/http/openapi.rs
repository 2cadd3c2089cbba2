//! What every service's OpenAPI document shares.

use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Declares the `bearer` (JWT) security scheme: `#[openapi(modifiers(&BearerAuth))]`.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Tells "absent" (`None`) from "null" (`Some(None)`) in partial updates:
/// `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// Declares a service's HTTP API once: the OpenAPI document and the routes, from one list of
/// handlers annotated with `#[utoipa::path(method, path = "...")]`: each handler is registered
/// at the method and path its documentation names, in the order listed (put
/// `/orders/{id}/review` before `/orders/{id}/{action}`). Every operation gets the platform's
/// error answers (see [`StandardErrors`]) and the bearer scheme. Schemas that the handlers'
/// bodies and answers name are collected by utoipa; those only query parameters name (enums of
/// `IntoParams` structs) are listed in `schemas`.
///
/// ```ignore
/// platform::http_api! {
///     pub struct ApiDoc { info(title = "MebelPlace marketplace") }
///     schemas: [domain::order::OrderAction]
///     routes: [
///         reference::{regions, categories},
///         requests::{list, create, details},
///     ]
/// }
/// // ApiDoc::openapi() is the document; ApiDoc::routes(cfg) registers the handlers.
/// ```
#[macro_export]
macro_rules! http_api {
    (
        $(#[$meta:meta])*
        $vis:vis struct $doc:ident { $($openapi:tt)* }
        $(schemas: [$($($schema:ident)::+),* $(,)?])?
        routes: [$($module:ident :: { $($handler:ident),+ $(,)? }),+ $(,)?]
    ) => {
        // `modifiers` takes a plain name.
        use $crate::http::openapi::PlatformDocs as __PlatformDocs;

        $(#[$meta])*
        #[derive(utoipa::OpenApi)]
        #[openapi(
            $($openapi)*,
            paths($($($module::$handler),+),+),
            components(schemas($crate::error::ErrorBody $($(, $($schema)::+)*)?)),
            modifiers(&__PlatformDocs)
        )]
        $vis struct $doc;

        impl $doc {
            /// Registers every documented handler at its documented method and path.
            $vis fn routes(cfg: &mut actix_web::web::ServiceConfig) {
                $crate::__paste! {
                    $($( $crate::http::openapi::route::<$module::[<__path_ $handler>], _, _>(cfg, $module::$handler); )+)+
                }
            }
        }
    };
}

/// Registers `handler` at the method(s) and path that its documentation `P` names.
pub fn route<P, F, Args>(cfg: &mut actix_web::web::ServiceConfig, handler: F)
where
    P: utoipa::Path,
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    use actix_web::http::Method;
    use utoipa::openapi::path::HttpMethod;
    for method in P::methods() {
        let method = match method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Delete => Method::DELETE,
            HttpMethod::Options => Method::OPTIONS,
            HttpMethod::Head => Method::HEAD,
            HttpMethod::Patch => Method::PATCH,
            HttpMethod::Trace => Method::TRACE,
        };
        let template = P::path();
        let mut route = actix_web::web::method(method).to(handler.clone());
        if template.contains('{') {
            // A literal sibling (`/videos/upload` beside `/videos/{id}`) is never taken for a
            // value of the parameter, whatever the method.
            let owned = segments(&template);
            route = route.guard(actix_web::guard::fn_guard(move |ctx| {
                ctx.app_data::<actix_web::web::Data<RouteTable>>()
                    .is_none_or(|table| table.owns(&owned, ctx.head().uri.path()))
            }));
        }
        cfg.route(&template, route);
    }
}

/// What every service's document gets: the bearer scheme and the standard error answers.
pub struct PlatformDocs;

impl utoipa::Modify for PlatformDocs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        BearerAuth.modify(openapi);
        StandardErrors.modify(openapi);
    }
}

/// The error answers, in one place. Every error an operation documents (`(status = 409)`, with
/// or without a `description`) answers in the spec's error shape ([`crate::error::ErrorBody`]),
/// described by its status when the operation does not say more; and every operation gets the
/// error answers the platform can give it unless it documents them itself: 400 when it takes
/// parameters or a body, 413 and 415 when it takes a body, 401 when it needs a token, 404 when
/// its path names a resource, and 503 everywhere (a dependency is down). `HEAD` answers have
/// no body.
pub struct StandardErrors;

/// What an error status means, for operations that do not say more.
fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "the request is malformed or a field is invalid",
        "401" => "no access token, or it is invalid, expired or revoked",
        "403" => "not allowed for this user",
        "404" => "no such resource (or not yours to see)",
        "409" => "the resource's state does not allow this",
        "410" => "gone",
        "413" => "the body is too large",
        "415" => "the body's media type is not accepted",
        "422" => "the request cannot be processed as it stands",
        "429" => "too many requests; try again later (Retry-After)",
        "503" => "a dependency is unavailable; try again (Retry-After)",
        _ => "the request was refused",
    }
}

impl utoipa::Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str, has_body: bool| {
            let answer = ResponseBuilder::new().description(description);
            let shape = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            if has_body { answer.content("application/json", shape) } else { answer }.build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names_resource = path.contains('{');
            for (operation, has_answer_body) in operations(item) {
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(documented) = response else { continue };
                    if !is_error(status) || !documented.content.is_empty() {
                        continue;
                    }
                    let description = match documented.description.as_str() {
                        "" => error_description(status),
                        described => described,
                    };
                    *response = error(description, has_answer_body).into();
                }
                let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = operation.request_body.is_some();
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let answers = [
                    ("400", has_params || has_body),
                    ("401", secured),
                    ("404", names_resource),
                    ("413", has_body),
                    ("415", has_body),
                    ("503", true),
                ];
                for (status, applies) in answers {
                    if applies && !operation.responses.responses.contains_key(status) {
                        let answer = error(error_description(status), has_answer_body);
                        operation.responses.responses.insert(status.to_owned(), answer.into());
                    }
                }
            }
        }
    }
}

fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

/// The operations of a path, each with whether its answers may have a body (not `HEAD`'s).
fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&mut utoipa::openapi::path::Operation, bool)> {
    [
        (item.get.as_mut(), true),
        (item.put.as_mut(), true),
        (item.post.as_mut(), true),
        (item.delete.as_mut(), true),
        (item.options.as_mut(), true),
        (item.head.as_mut(), false),
        (item.patch.as_mut(), true),
        (item.trace.as_mut(), true),
    ]
    .into_iter()
    .filter_map(|(operation, has_answer_body)| operation.map(|operation| (operation, has_answer_body)))
}

/// The documented routes of a service: which methods each path template answers, so that a
/// request matching no route gets 405 with `Allow` when its path exists with other methods,
/// and 404 otherwise.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<&'static str>)>,
}

impl RouteTable {
    pub fn from_openapi(openapi: &utoipa::openapi::OpenApi) -> Self {
        let mut table = Self::default();
        for (path, item) in &openapi.paths.paths {
            let methods: Vec<&'static str> = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
                ("OPTIONS", item.options.is_some()),
                ("HEAD", item.head.is_some()),
            ]
            .into_iter()
            .filter_map(|(method, present)| present.then_some(method))
            .collect();
            table.add(path, &methods);
        }
        table
    }

    pub fn add(&mut self, path: &str, methods: &[&'static str]) {
        let segments = segments(path);
        match self.routes.iter_mut().find(|(existing, _)| *existing == segments) {
            Some((_, known)) => {
                for method in methods {
                    if !known.contains(method) {
                        known.push(method);
                    }
                }
            }
            None => self.routes.push((segments, methods.to_vec())),
        }
    }

    /// The documented paths that own `path`: of those matching it, the ones with the most
    /// literal segments (`/subscriptions/my` is not the subscription of a user called "my").
    fn owners<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a (Vec<String>, Vec<&'static str>)> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let literals = |template: &[String]| template.iter().filter(|t| !t.starts_with('{')).count();
        let matching: Vec<&(Vec<String>, Vec<&'static str>)> = self
            .routes
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .collect();
        let best = matching.iter().map(|(template, _)| literals(template)).max().unwrap_or(0);
        matching.into_iter().filter(move |(template, _)| literals(template) == best)
    }

    /// Whether the documented path of `template` (its [`segments`]) owns `path` (see
    /// [`Self::owners`]); a table that does not know `template` does not judge.
    pub fn owns(&self, template: &[String], path: &str) -> bool {
        !self.routes.iter().any(|(known, _)| known == template) || self.owners(path).any(|(t, _)| t == template)
    }

    /// The methods the routes owning `path` answer (empty: no such path).
    pub fn allowed(&self, path: &str) -> Vec<&'static str> {
        let mut allowed: Vec<&'static str> = Vec::new();
        for (_, methods) in self.owners(path) {
            for method in methods {
                if !allowed.contains(method) {
                    allowed.push(method);
                }
            }
        }
        allowed
    }
}

/// A documented path's segments, as the route table keeps them.
pub fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/').split('/').map(str::to_owned).collect()
}

/// The `$ref`s of `document` (a JSON OpenAPI document) that name no component: a client
/// generator or a fuzzer cannot resolve them.
pub fn unresolved_references(document: &serde_json::Value) -> Vec<String> {
    fn walk<'a>(value: &'a serde_json::Value, refs: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    refs.push(target);
                }
                map.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(document, &mut refs);
    let mut unresolved: Vec<String> = refs
        .into_iter()
        .filter(|target| {
            let pointer = target.strip_prefix('#').unwrap_or(target);
            document.pointer(pointer).is_none()
        })
        .map(str::to_owned)
        .collect();
    unresolved.sort_unstable();
    unresolved.dedup();
    unresolved
}

/// A service's document as `GET …/openapi.json` answers it: what the derive macros write, with
/// [`forbid_nul`] applied.
pub fn respond(document: &impl serde::Serialize) -> actix_web::HttpResponse {
    match serde_json::to_value(document) {
        Ok(mut document) => {
            forbid_nul(&mut document);
            actix_web::HttpResponse::Ok().json(document)
        }
        Err(e) => actix_web::ResponseError::error_response(&crate::error::ApiError::internal(e)),
    }
}

/// What a text a request carries may not hold: U+0000, which PostgreSQL cannot store and which
/// [`crate::Json`] and the form readers refuse.
const NUL_TEXT: &str = "\u{0}";

/// Says in `document` (a JSON OpenAPI document) what every body reader enforces: no text a
/// request carries holds U+0000. Each free text schema (a string without `format`, `enum` or
/// `const`) of the components and of the request bodies gets `not` a string holding one; path
/// and query parameters are left as they are.
pub fn forbid_nul(document: &mut serde_json::Value) {
    use serde_json::Value;
    fn is_free_text(schema: &serde_json::Map<String, Value>) -> bool {
        let text = match schema.get("type") {
            Some(Value::String(kind)) => kind == "string",
            Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "string"),
            _ => false,
        };
        text && !["format", "enum", "const", "not"].iter().any(|key| schema.contains_key(*key))
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if is_free_text(map) {
                    map.insert("not".into(), serde_json::json!({ "type": "string", "pattern": NUL_TEXT }));
                }
                for (key, value) in map.iter_mut() {
                    // Examples and defaults are values, not schemas.
                    if !matches!(key.as_str(), "not" | "example" | "examples" | "default") {
                        walk(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(schemas) = document.pointer_mut("/components/schemas") {
        walk(schemas);
    }
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                if let Some(body) = operation.get_mut("requestBody") {
                    walk(body);
                }
            }
        }
    }
}

// Texts whose rules count what is left after trimming, for the schemas the derive macros cannot
// write (services' `http/schema.rs`).

/// What `str::trim` removes: the Unicode `White_Space` characters.
const WHITE_SPACE: [(char, char); 10] = [
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// [`WHITE_SPACE`] inside a pattern's character class (`\s` differs between regex engines).
pub fn white_space() -> String {
    let escaped = |c: char| format!("\\u{:04X}", c as u32);
    WHITE_SPACE
        .iter()
        .map(|&(from, to)| if from == to { escaped(from) } else { format!("{}-{}", escaped(from), escaped(to)) })
        .collect()
}

/// A text of at most `max` characters, spaces included, of which at least `min` are left once
/// trimmed (`min` 0: anything, blank included).
pub fn text(min: usize, max: usize) -> ObjectBuilder {
    let space = white_space();
    let pattern = match min {
        0 => None,
        1 => Some(format!("[^{space}]")),
        n => Some(format!("[^{space}][\\s\\S]{{{},}}[^{space}]", n - 2)),
    };
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(max)).pattern(pattern)
}

/// `text` that may also be `null`.
pub fn nullable_text(min: usize, max: usize) -> ObjectBuilder {
    text(min, max).schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern's spaces are exactly those `str::trim` removes, so a pattern asking for
    /// characters besides the spaces around asks what the domain's checks ask.
    #[test]
    fn patterns_trim_what_str_trim_trims() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let listed = WHITE_SPACE.iter().any(|(from, to)| (*from..=*to).contains(&c));
            assert_eq!(listed, c.is_whitespace(), "{c:?}");
        }
        assert!(white_space().starts_with("\\u0009-\\u000D\\u0020\\u0085"), "{}", white_space());
        assert_eq!(text(0, 5).build().pattern, None);
        assert_eq!(text(3, 5).build().pattern.unwrap(), format!("[^{0}][\\s\\S]{{1,}}[^{0}]", white_space()));
    }

    #[test]
    fn documented_errors_answer_in_the_error_shape_described_by_their_status() {
        #[utoipa::path(post, path = "/things/{id}", request_body = String,
            responses((status = 201), (status = 409), (status = 403, description = "not your thing")))]
        #[allow(dead_code)]
        fn post_thing() {}
        #[utoipa::path(head, path = "/things/{id}", responses((status = 200), (status = 410)))]
        #[allow(dead_code)]
        fn head_thing() {}
        #[derive(utoipa::OpenApi)]
        #[openapi(paths(post_thing, head_thing), modifiers(&StandardErrors))]
        struct Doc;

        let document = serde_json::to_value(<Doc as utoipa::OpenApi>::openapi()).unwrap();
        let post = &document["paths"]["/things/{id}"]["post"]["responses"];
        let error_shape = serde_json::json!({ "$ref": "#/components/schemas/ErrorBody" });
        for status in ["409", "403", "400", "404", "413", "415", "503"] {
            assert_eq!(post[status]["content"]["application/json"]["schema"], error_shape, "{status}");
        }
        assert_eq!(post["409"]["description"], "the resource's state does not allow this");
        assert_eq!(post["403"]["description"], "not your thing");
        assert!(post["201"].get("content").is_none(), "success answers are left alone");
        let head = &document["paths"]["/things/{id}"]["head"]["responses"];
        assert_eq!(head["410"]["description"], "gone");
        for status in ["410", "404", "503"] {
            assert!(head[status].get("content").is_none(), "HEAD answers have no body: {status}");
        }
    }

    #[test]
    fn a_known_path_with_another_method_is_told_apart_from_an_unknown_path() {
        let mut table = RouteTable::default();
        table.add("/api/v2/orders/{id}", &["GET"]);
        table.add("/api/v2/orders/{id}/review", &["POST"]);
        table.add("/api/v2/orders/{id}/{action}", &["POST"]);
        assert_eq!(table.allowed("/api/v2/orders/7"), ["GET"]);
        assert_eq!(table.allowed("/api/v2/orders/7/review"), ["POST"]);
        assert!(table.allowed("/api/v2/orders").is_empty());
        assert!(table.allowed("/api/v2/orders//review").is_empty());
    }

    #[test]
    fn a_literal_path_owns_its_requests_over_a_parameter() {
        let mut table = RouteTable::default();
        table.add("/api/v2/subscriptions/my", &["GET"]);
        table.add("/api/v2/subscriptions/{user_id}", &["POST", "DELETE"]);
        assert_eq!(table.allowed("/api/v2/subscriptions/my"), ["GET"]);
        assert_eq!(table.allowed("/api/v2/subscriptions/7"), ["POST", "DELETE"]);
        let by_user = segments("/api/v2/subscriptions/{user_id}");
        assert!(!table.owns(&by_user, "/api/v2/subscriptions/my"));
        assert!(table.owns(&by_user, "/api/v2/subscriptions/7"));
        assert!(
            table.owns(&segments("/api/v2/unknown/{id}"), "/api/v2/unknown/x"),
            "an undocumented route is not judged"
        );
    }

    #[test]
    fn dangling_references_are_found() {
        let document = serde_json::json!({
            "paths": { "/a": { "get": { "responses": { "200": { "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Known" } } } },
                "400": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Missing" } } } } } } } },
            "components": { "schemas": { "Known": { "type": "object" } } }
        });
        assert_eq!(unresolved_references(&document), ["#/components/schemas/Missing"]);
    }

    #[test]
    fn free_texts_of_bodies_and_components_are_said_to_hold_no_nul() {
        let nul = serde_json::json!({ "type": "string", "pattern": "\u{0}" });
        let mut document = serde_json::json!({
            "paths": { "/a": { "post": {
                "parameters": [{ "name": "q", "in": "query", "schema": { "type": "string" } }],
                "requestBody": { "content": { "multipart/form-data": { "schema": { "type": "object", "properties": {
                    "file": { "type": "string", "format": "binary" },
                    "title": { "type": "string", "maxLength": 10, "example": { "type": "string" } } } } } } },
                "responses": { "200": { "content": { "application/json": { "schema": { "type": "string" } } } } } } } },
            "components": { "schemas": { "Thing": { "type": "object", "properties": {
                "name": { "type": ["string", "null"], "pattern": "[^ ]" },
                "kind": { "type": "string", "enum": ["a", "b"] },
                "id": { "type": "string", "format": "uuid" },
                "tags": { "type": "array", "items": { "type": "string" } } } } } }
        });
        forbid_nul(&mut document);
        let form = &document["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(form["properties"]["title"]["not"], nul);
        assert_eq!(form["properties"]["title"]["example"], serde_json::json!({ "type": "string" }));
        assert!(form["properties"]["file"].get("not").is_none());
        let thing = &document["components"]["schemas"]["Thing"]["properties"];
        assert_eq!(thing["name"]["not"], nul);
        assert_eq!(thing["tags"]["items"]["not"], nul);
        assert!(thing["kind"].get("not").is_none() && thing["id"].get("not").is_none());
        let operation = &document["paths"]["/a"]["post"];
        assert!(operation["parameters"][0]["schema"].get("not").is_none());
        assert!(operation["responses"]["200"]["content"]["application/json"]["schema"].get("not").is_none());
    }
}
