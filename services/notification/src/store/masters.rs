//! What each master serves, so that a new request reaches the masters it concerns.

use super::schema::masters;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub async fn upsert(
    conn: &mut AsyncPgConnection,
    master_id: i64,
    region_codes: &[String],
    relevant_category_codes: &[String],
) -> QueryResult<()> {
    diesel::insert_into(masters::table)
        .values((
            masters::master_id.eq(master_id),
            masters::region_codes.eq(region_codes),
            masters::category_codes.eq(relevant_category_codes),
        ))
        .on_conflict(masters::master_id)
        .do_update()
        .set((
            masters::region_codes.eq(excluded(masters::region_codes)),
            masters::category_codes.eq(excluded(masters::category_codes)),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Masters serving `region` and one of `categories`, except `buyer_id`.
pub async fn serving(
    conn: &mut AsyncPgConnection,
    region: &str,
    categories: &[String],
    buyer_id: i64,
) -> QueryResult<Vec<i64>> {
    masters::table
        .filter(masters::region_codes.contains(vec![region.to_owned()]))
        .filter(masters::category_codes.overlaps_with(categories))
        .filter(masters::master_id.ne(buyer_id))
        .select(masters::master_id)
        .order(masters::master_id)
        .load(conn)
        .await
}
