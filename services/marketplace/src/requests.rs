//! Buyers' requests: posting, seeing, editing, closing and reopening them. Who may see a request
//! is decided here for proposals too.

use crate::domain::ids::RequestId;
use crate::domain::reference::Reference;
use crate::domain::request::{self, RequestStatus};
use crate::error::MarketplaceError;
use crate::http::schema;
use crate::state::AppState;
use crate::store::proposals;
use crate::store::requests::{self, NewRequest, OpenFilter, Request, RequestChanges};
use crate::store::users;
use chrono::{Duration, Utc};
use contracts::Role;
use contracts::events::{RequestClosed, RequestCreated, RequestUpdated};
use deadpool_redis::redis::AsyncCommands;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::error::FieldProblems;
use platform::money::Tenge;
use platform::outbox;
use platform::pagination::PageRequest;
use platform::{ApiError, AuthUser};

/// A request as the buyer wrote it (`POST /requests`), before checking.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    #[schema(schema_with = schema::title)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = schema::description)]
    pub description: String,
    /// Region code or name, in Russian or Kazakh ("Алматы").
    pub region: String,
    /// Category codes or names ("шкафы-купе").
    pub categories: Vec<String>,
    #[schema(schema_with = schema::tenge)]
    pub budget: Option<Tenge>,
    /// The budget in tiyn, instead of `budget`.
    #[schema(schema_with = schema::tiyn)]
    pub budget_minor: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = schema::images)]
    pub images: Vec<String>,
}

/// Changes as the owner sent them (`PATCH /requests/{id}`): a missing field stays as it is;
/// `budget: null` removes the budget.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestEdit {
    #[schema(schema_with = schema::edited_title)]
    pub title: Option<String>,
    #[schema(schema_with = schema::edited_description)]
    pub description: Option<String>,
    pub region: Option<String>,
    pub categories: Option<Vec<String>>,
    #[serde(default, deserialize_with = "platform::http::openapi::double_option")]
    #[schema(schema_with = schema::tenge)]
    pub budget: Option<Option<Tenge>>,
    /// The budget in tiyn, instead of `budget`.
    #[serde(default, deserialize_with = "platform::http::openapi::double_option")]
    #[schema(schema_with = schema::tiyn)]
    pub budget_minor: Option<Option<i64>>,
    #[schema(schema_with = schema::edited_images)]
    pub images: Option<Vec<String>>,
}

fn category_codes(reference: &Reference, names: &[String]) -> Result<Vec<String>, String> {
    if names.is_empty() || names.len() > request::MAX_CATEGORIES {
        return Err(format!("give 1 to {} categories", request::MAX_CATEGORIES));
    }
    let codes = reference
        .category_codes(names)
        .map_err(|unknown| format!("unknown categories {unknown:?}; see /api/v2/categories"))?;
    if codes.is_empty() {
        return Err("name at least one kind of furniture; see /api/v2/categories".to_owned());
    }
    Ok(codes)
}

fn parse_new_request(
    reference: &Reference,
    buyer_id: i64,
    input: &RequestInput,
    ttl: Duration,
) -> Result<NewRequest, ApiError> {
    let mut checks = FieldProblems::new();
    let title = checks.check("title", request::title(&input.title));
    let description = checks.check("description", request::description(&input.description));
    let region_code = checks.check("region", reference.region_code(&input.region));
    let categories = checks.check("categories", category_codes(reference, &input.categories));
    let budget = checks.check("budget", budget_in_tiyn(input.budget, input.budget_minor));
    let images = checks.check("images", request::images(&input.images));
    let (Some(title), Some(description), Some(region_code), Some(categories), Some(budget), Some(images)) =
        (title, description, region_code, categories, budget, images)
    else {
        return Err(checks.into_error());
    };
    Ok(NewRequest {
        buyer_id,
        title,
        description,
        region_code,
        categories,
        budget,
        images,
        expires_at: Utc::now() + ttl,
    })
}

/// The budget in tiyn from either of its fields, checked.
fn budget_in_tiyn(tenge: Option<Tenge>, tiyn: Option<i64>) -> Result<Option<i64>, String> {
    Tenge::either(tenge, tiyn)?.map(|amount| request::budget(amount.tiyn())).transpose()
}

fn parse_edit(reference: &Reference, edit: &RequestEdit) -> Result<RequestChanges, ApiError> {
    let mut checks = FieldProblems::new();
    let changes = RequestChanges {
        title: edit.title.as_deref().and_then(|t| checks.check("title", request::title(t))),
        description: edit.description.as_deref().and_then(|d| checks.check("description", request::description(d))),
        region_code: edit.region.as_deref().and_then(|r| checks.check("region", reference.region_code(r))),
        categories: edit.categories.as_deref().and_then(|c| checks.check("categories", category_codes(reference, c))),
        budget: match (edit.budget, edit.budget_minor) {
            (None, None) => None,
            (tenge, tiyn) => checks.check("budget", budget_in_tiyn(tenge.flatten(), tiyn.flatten())),
        },
        images: edit.images.as_deref().and_then(|i| checks.check("images", request::images(i))),
    };
    checks.finish()?;
    Ok(changes)
}

fn ttl(state: &AppState) -> Duration {
    Duration::days(state.settings.request_ttl_days)
}

#[tracing::instrument(skip_all, fields(buyer_id = buyer.id))]
pub async fn create(state: &AppState, buyer: &AuthUser, input: &RequestInput) -> Result<Request, ApiError> {
    buyer.require_role(&[Role::Buyer])?;
    let new = parse_new_request(&state.reference, buyer.id, input, ttl(state))?;
    let mut conn = state.db.get().await?;
    let related = state.reference.relevant_categories(&new.categories);
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = requests::insert(conn, &new).await?;
        let event = RequestCreated {
            request_id: request.id.get(),
            buyer_id: request.buyer_id,
            title: request.title.clone(),
            region_code: request.region_code.clone(),
            category_codes: request.categories.clone(),
            budget_minor: request.budget,
            serving_master_ids: users::serving(conn, &request.region_code, &related, request.buyer_id).await?,
        };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

/// Whether `user` may see `request`: its owner, admins, masters while it is open, and masters
/// who proposed on it. Others are told it does not exist.
async fn visible(conn: &mut AsyncPgConnection, user: &AuthUser, request: &Request) -> Result<bool, ApiError> {
    Ok(match user.role {
        Role::Admin => true,
        _ if request.buyer_id == user.id => true,
        Role::Master if request.status.is_open() => true,
        Role::Master => !proposals::for_request(conn, request.id, Some(user.id)).await?.is_empty(),
        Role::Buyer => false,
    })
}

/// The request, when `user` may see it; else "no such request".
pub(crate) async fn visible_request(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: RequestId,
) -> Result<Request, ApiError> {
    let request = requests::find(conn, id).await?.ok_or(MarketplaceError::NoSuchRequest)?;
    if visible(conn, user, &request).await? { Ok(request) } else { Err(MarketplaceError::NoSuchRequest.into()) }
}

/// The request's owner's own request, locked for the change; 404 for requests the user may
/// not see, 403 for others' requests they may.
pub(crate) async fn own_request(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: RequestId,
) -> Result<Request, ApiError> {
    let request = requests::lock(conn, id).await?.ok_or(MarketplaceError::NoSuchRequest)?;
    if request.buyer_id == user.id {
        return Ok(request);
    }
    if visible(conn, user, &request).await? {
        Err(MarketplaceError::NotRequestOwner.into())
    } else {
        Err(MarketplaceError::NoSuchRequest.into())
    }
}

/// A request's details; the first view by each other user within the window counts.
#[tracing::instrument(skip_all, fields(user_id = user.id, request_id = %id))]
pub async fn view(state: &AppState, user: &AuthUser, id: RequestId) -> Result<Request, ApiError> {
    let mut conn = state.db.get().await?;
    let mut request = visible_request(&mut conn, user, id).await?;
    if request.buyer_id != user.id && first_view(state, id, user.id).await {
        requests::count_view(&mut conn, id).await?;
        request.views += 1;
    }
    Ok(request)
}

/// Whether this is `viewer`'s first look at the request within the window. Without Redis,
/// views are not counted rather than counted twice.
async fn first_view(state: &AppState, request_id: RequestId, viewer: i64) -> bool {
    let key = state.redis.key(&format!("marketplace:viewed:{request_id}:{viewer}"));
    let options = deadpool_redis::redis::SetOptions::default()
        .conditional_set(deadpool_redis::redis::ExistenceCheck::NX)
        .with_expiration(deadpool_redis::redis::SetExpiry::EX(state.settings.view_window_secs));
    let outcome: Result<Option<String>, ApiError> = async {
        let mut redis = state.redis.get().await?;
        Ok(redis.set_options(&key, 1, options).await?)
    }
    .await;
    // The conversion to ApiError has logged the outage.
    outcome.is_ok_and(|set| set.is_some())
}

/// Buyers see their own requests; masters (and admins) the open ones, filtered (`None`: a
/// filter that matches nothing).
pub async fn list(
    state: &AppState,
    user: &AuthUser,
    filter: Option<&OpenFilter>,
    page: &PageRequest,
) -> Result<Vec<Request>, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(match (user.role, filter) {
        (Role::Buyer, _) => requests::by_buyer(&mut conn, user.id, page).await?,
        (Role::Master | Role::Admin, Some(filter)) => requests::open(&mut conn, filter, page).await?,
        (Role::Master | Role::Admin, None) => Vec::new(),
    })
}

#[tracing::instrument(skip_all, fields(user_id = user.id, request_id = %id))]
pub async fn edit(state: &AppState, user: &AuthUser, id: RequestId, edit: &RequestEdit) -> Result<Request, ApiError> {
    let changes = parse_edit(&state.reference, edit)?;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, id).await?;
        if !request.status.is_open() {
            return Err(MarketplaceError::RequestNotOpen("only an open request can be edited").into());
        }
        let changed_fields = changes.changed_fields();
        if changed_fields.is_empty() {
            return Ok(request);
        }
        let request = requests::update(conn, id, &changes).await?;
        let event = RequestUpdated {
            request_id: id.get(),
            buyer_id: request.buyer_id,
            changed_fields,
            status: request.status.to_string(),
        };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

/// The owner closes an open request (cancelled) or reopens a cancelled or expired one.
#[tracing::instrument(skip_all, fields(user_id = user.id, request_id = %id))]
pub async fn close(state: &AppState, user: &AuthUser, id: RequestId) -> Result<Request, ApiError> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, id).await?;
        if !request.status.can_close() {
            return Err(MarketplaceError::RequestNotOpen("only an open request can be closed").into());
        }
        let request = requests::set_status(conn, id, RequestStatus::Cancelled, None).await?;
        let event =
            RequestClosed { request_id: id.get(), buyer_id: request.buyer_id, status: request.status.to_string() };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = user.id, request_id = %id))]
pub async fn reopen(state: &AppState, user: &AuthUser, id: RequestId) -> Result<Request, ApiError> {
    let expires_at = Utc::now() + ttl(state);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let request = own_request(conn, user, id).await?;
        if !request.status.can_reopen() {
            return Err(MarketplaceError::RequestNotClosed.into());
        }
        let request = requests::set_status(conn, id, RequestStatus::Pending, Some(expires_at)).await?;
        let event = RequestUpdated {
            request_id: id.get(),
            buyer_id: request.buyer_id,
            changed_fields: vec!["status".into()],
            status: request.status.to_string(),
        };
        outbox::publish(conn, event).await?;
        Ok(request)
    })
    .await
}
