//! The local projection of users (from auth's events) and the master directory built on it.

use super::schema::users;
use contracts::Role;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::search::prefix_query;

/// A master's average rating, as the `users_masters_rating` index computes it.
const RATING: &str = "(CASE WHEN review_count = 0 THEN 0 ELSE rating_sum::float8 / review_count END)";

/// A user as marketplace knows them (from auth's events), with what a master serves and their
/// statistics.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: Option<String>,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub region_code: Option<String>,
    pub active: bool,
    pub served_regions: Vec<String>,
    pub served_categories: Vec<String>,
    pub about: Option<String>,
    pub rating_sum: i64,
    pub review_count: i32,
    pub completed_orders: i32,
    pub points: i64,
}

/// What auth's user events say about a user.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct Profile {
    pub id: i64,
    pub username: Option<String>,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub region_code: Option<String>,
    pub about: Option<String>,
}

/// A master's statistics after a change.
#[derive(Debug, Clone, Copy, Queryable)]
pub struct Stats {
    pub rating_sum: i64,
    pub review_count: i32,
    pub completed_orders: i32,
}

#[derive(Debug, Default, Clone)]
pub struct MasterFilter {
    pub region_code: Option<String>,
    pub categories: Option<Vec<String>>,
    pub min_rating: Option<f64>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MasterOrder {
    Relevance,
    Rating,
}

#[derive(Debug, Queryable)]
pub struct MasterHit {
    pub user: User,
    pub relevance: f64,
}

/// Makes sure a row exists for `id` (events about a user may arrive before the profile).
async fn ensure(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::insert_into(users::table).values(users::id.eq(id)).on_conflict_do_nothing().execute(conn).await?;
    Ok(())
}

pub async fn upsert_profile(conn: &mut AsyncPgConnection, profile: &Profile) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(profile)
        .on_conflict(users::id)
        .do_update()
        .set((profile, users::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_role(conn: &mut AsyncPgConnection, id: i64, role: Role) -> QueryResult<()> {
    ensure(conn, id).await?;
    diesel::update(users::table.find(id)).set(users::role.eq(role)).execute(conn).await?;
    Ok(())
}

pub async fn set_active(conn: &mut AsyncPgConnection, id: i64, active: bool) -> QueryResult<()> {
    ensure(conn, id).await?;
    diesel::update(users::table.find(id)).set(users::active.eq(active)).execute(conn).await?;
    Ok(())
}

/// Active masters serving `region` and one of `categories` (already widened to related ones),
/// except `except`. Only masters set what they serve (their token says so), so the role
/// column, which follows auth's events, is neither needed nor waited for.
pub async fn serving(
    conn: &mut AsyncPgConnection,
    region: &str,
    categories: &[String],
    except: i64,
) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::active)
        .filter(users::served_regions.contains(vec![region.to_owned()]))
        .filter(users::served_categories.overlaps_with(categories))
        .filter(users::id.ne(except))
        .select(users::id)
        .order(users::id)
        .load(conn)
        .await
}

pub async fn set_services(
    conn: &mut AsyncPgConnection,
    id: i64,
    regions: &[String],
    categories: &[String],
) -> QueryResult<User> {
    ensure(conn, id).await?;
    diesel::update(users::table.find(id))
        .set((
            users::served_regions.eq(regions),
            users::served_categories.eq(categories),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).await.optional()
}

pub async fn usernames(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<(i64, Option<String>)>> {
    users::table.filter(users::id.eq_any(ids)).select((users::id, users::username)).load(conn).await
}

/// Adds one review of `rating` stars to the master's statistics.
pub async fn add_review(conn: &mut AsyncPgConnection, master_id: i64, rating: i16) -> QueryResult<Stats> {
    ensure(conn, master_id).await?;
    diesel::update(users::table.find(master_id))
        .set((
            users::rating_sum.eq(users::rating_sum + i64::from(rating)),
            users::review_count.eq(users::review_count + 1),
        ))
        .returning((users::rating_sum, users::review_count, users::completed_orders))
        .get_result(conn)
        .await
}

pub async fn add_completed_order(conn: &mut AsyncPgConnection, master_id: i64) -> QueryResult<Stats> {
    ensure(conn, master_id).await?;
    diesel::update(users::table.find(master_id))
        .set(users::completed_orders.eq(users::completed_orders + 1))
        .returning((users::rating_sum, users::review_count, users::completed_orders))
        .get_result(conn)
        .await
}

/// Adds points; returns the new total, the role and the region (for the leaderboards).
pub async fn add_points(
    conn: &mut AsyncPgConnection,
    id: i64,
    points: i32,
) -> QueryResult<(i64, Role, Option<String>)> {
    ensure(conn, id).await?;
    diesel::update(users::table.find(id))
        .set(users::points.eq(users::points + i64::from(points)))
        .returning((users::points, users::role, users::region_code))
        .get_result(conn)
        .await
}

/// Active masters matching `filter`, best first by `order`.
pub async fn search_masters(
    conn: &mut AsyncPgConnection,
    filter: &MasterFilter,
    order: MasterOrder,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<MasterHit>> {
    // Without a text every master is equally relevant (0) and the rating decides.
    let text = filter.text.clone().unwrap_or_default();
    let words = prefix_query(&text).unwrap_or_default();
    let relevance = sql::<Double>("(CASE WHEN ")
        .bind::<Text, _>(text.clone())
        .sql(" = '' THEN 0 ELSE ts_rank(search_document, to_tsquery('russian', ")
        .bind::<Text, _>(words.clone())
        .sql(")) + word_similarity(")
        .bind::<Text, _>(text)
        .sql(", search_text) END)::float8 AS relevance");
    let mut query = users::table
        .filter(users::role.eq(Role::Master).and(users::active).and(users::username.is_not_null()))
        .select((User::as_select(), relevance))
        .into_boxed();
    if let Some(region) = &filter.region_code {
        query = query.filter(users::service_area.contains(vec![region.clone()]));
    }
    if let Some(categories) = &filter.categories {
        query = query.filter(users::served_categories.overlaps_with(categories.clone()));
    }
    if let Some(min_rating) = filter.min_rating {
        query = query.filter(sql::<Bool>(&format!("{RATING} >= ")).bind::<Double, _>(min_rating));
    }
    if let Some(text) = &filter.text {
        query = query.filter(
            sql::<Bool>("(search_document @@ to_tsquery('russian', ")
                .bind::<Text, _>(words.clone())
                .sql(") OR ")
                .bind::<Text, _>(text.clone())
                .sql(" <% search_text)"),
        );
    }
    query = match order {
        MasterOrder::Relevance => {
            query.order((sql::<Double>("relevance").desc(), sql::<Double>(RATING).desc(), users::id))
        }
        MasterOrder::Rating => query.order((sql::<Double>(RATING).desc(), users::id)),
    };
    query.limit(limit).offset(offset).load(conn).await
}
