//! HTTP resources of the marketplace service, all under `/api/v2`.

pub mod gamification;
pub mod masters;
pub mod orders;
pub mod proposals;
pub mod reference;
pub mod requests;
pub mod schema;

use crate::domain::reference::Reference;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use platform::ApiError;

platform::http_api! {
    pub struct ApiDoc {
        info(title = "MebelPlace marketplace", description = "Requests, proposals, orders, reviews, masters, gamification.")
    }
    schemas: [orders::SimpleOrderAction, crate::store::users::MasterOrder]
    routes: [
        self::{openapi_json},
        reference::{regions, categories},
        requests::{list, create, details, edit, close, reopen},
        proposals::{list, create, accept},
        orders::{list, details, review, request_revision, act, reviews},
        masters::{search, set_services, details},
        gamification::{
            level, levels, my_achievements, user_achievements, leaderboard, advanced_leaderboard,
            rebuild_leaderboards, award_points,
        },
    ]
}

/// A query's `region` and `category` filters as codes (a category brings its subcategories).
pub struct Place {
    pub region_code: Option<String>,
    pub categories: Option<Vec<String>>,
}

impl Place {
    /// The filters a query names; `None` when it names a region or category the reference data
    /// does not know, which no request or master can be in.
    fn of(reference: &Reference, region: Option<&str>, category: Option<&str>) -> Option<Self> {
        let region_code = match region {
            Some(name) => Some(reference.region_code(name).ok()?),
            None => None,
        };
        let categories = match category {
            Some(name) => Some(reference.category_filter(name).ok()?),
            None => None,
        };
        Some(Self { region_code, categories })
    }
}

/// A body that may be left out: none at all (`Content-Length: 0`, or neither a length nor a
/// `Content-Type`) or `null`, or one that [`platform::Json`] accepts; a body that is there but
/// wrong is refused, not ignored (as `Option<Json<T>>` would).
pub struct OptionalJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
        let headers = request.headers();
        let empty = match headers.get(CONTENT_LENGTH) {
            Some(length) => length.as_bytes() == b"0",
            None => !headers.contains_key(CONTENT_TYPE),
        };
        if empty {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let body = platform::Json::<serde_json::Value>::from_request(request, payload);
        Box::pin(async move {
            match body.await?.into_inner() {
                serde_json::Value::Null => Ok(OptionalJson(None)),
                value => platform::http::json::parse(value)
                    .map(|parsed| OptionalJson(Some(parsed)))
                    .map_err(|cause| ApiError::bad_request("invalid_json", cause.to_string()).into()),
            }
        })
    }
}

/// This service's OpenAPI document, with the regions and categories writes accept.
#[utoipa::path(get, path = "/api/v2/marketplace/openapi.json", tag = "docs", responses((status = 200)))]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    platform::http::openapi::respond(&schema::document(&state.reference))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    ApiDoc::routes(cfg);
}
