//! The masters' directory: search, entries, and what masters say they serve.

use crate::error::MarketplaceError;
use crate::state::AppState;
use crate::store::users::{self, MasterFilter, MasterHit, MasterOrder, User};
use contracts::Role;
use contracts::events::MasterServicesChanged;
use diesel_async::AsyncConnection;
use platform::error::FieldProblems;
use platform::outbox;
use platform::pagination::PageRequest;
use platform::{ApiError, AuthUser};

pub const MAX_SERVED: usize = 30;

pub async fn search(
    state: &AppState,
    filter: &MasterFilter,
    order: MasterOrder,
    page: &PageRequest,
) -> Result<Vec<MasterHit>, ApiError> {
    let mut conn = state.db.get().await?;
    Ok(users::search_masters(&mut conn, filter, order, page.fetch(), page.offset()).await?)
}

pub async fn find(state: &AppState, id: i64) -> Result<User, ApiError> {
    let mut conn = state.db.get().await?;
    users::find(&mut conn, id)
        .await?
        .filter(|user| user.role == Role::Master && user.active && user.username.is_some())
        .ok_or_else(|| MarketplaceError::NoSuchMaster.into())
}

#[tracing::instrument(skip_all, fields(master_id = user.id))]
pub async fn set_services(
    state: &AppState,
    user: &AuthUser,
    regions: &[String],
    categories: &[String],
) -> Result<User, ApiError> {
    user.require_role(&[Role::Master])?;
    let mut problems = FieldProblems::new();
    if regions.len() > MAX_SERVED {
        problems.add("regions", format!("at most {MAX_SERVED}"));
    }
    if categories.len() > MAX_SERVED {
        problems.add("categories", format!("at most {MAX_SERVED}"));
    }
    let mut region_codes: Vec<String> = Vec::new();
    for name in regions {
        match state.reference.region_code(name) {
            Ok(code) if !region_codes.contains(&code) => region_codes.push(code),
            Ok(_) => {}
            Err(_) => problems.add("regions", format!("unknown region {name:?}")),
        }
    }
    let category_codes =
        state.reference.category_codes(categories).map_err(|unknown| format!("unknown categories {unknown:?}"));
    let category_codes = problems.check("categories", category_codes).unwrap_or_default();
    problems.finish()?;
    let event = MasterServicesChanged {
        master_id: user.id,
        relevant_category_codes: state.reference.relevant_categories(&category_codes),
        region_codes: region_codes.clone(),
        category_codes: category_codes.clone(),
    };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let master = users::set_services(conn, user.id, &region_codes, &category_codes).await?;
        outbox::publish(conn, event).await?;
        Ok(master)
    })
    .await
}
