//! Storage: diesel queries over the `marketplace` schema. Every function takes a connection,
//! so callers compose them in one transaction.

/// Orders a boxed query of `$table` newest first and applies the page's start and size.
macro_rules! newest_first {
    ($query:expr, $page:expr, $table:ident) => {{
        let query = match $page.start {
            platform::pagination::Start::After { created_at, id } => {
                $query.filter($crate::store::before(created_at, id))
            }
            platform::pagination::Start::Offset(offset) => $query.offset(offset),
            platform::pagination::Start::First => $query,
        };
        query.order(($table::created_at.desc(), $table::id.desc())).limit($page.fetch())
    }};
}

pub mod gamification;
pub mod orders;
pub mod proposals;
pub mod reference;
pub mod requests;
pub mod reviews;
pub mod schema;
pub mod users;

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamptz};

/// `(created_at, id) < (at, id)`: keyset pagination, newest first, matching the indexes.
pub fn before<T: 'static>(created_at: DateTime<Utc>, id: i64) -> Box<dyn BoxableExpression<T, Pg, SqlType = Bool>> {
    Box::new(
        sql::<Bool>("(created_at, id) < (").bind::<Timestamptz, _>(created_at).sql(", ").bind::<BigInt, _>(id).sql(")"),
    )
}

/// Whether a diesel error is a unique-constraint violation.
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
