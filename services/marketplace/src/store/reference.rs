use super::schema::{categories, regions};
use crate::domain::reference::{Category, Reference, Region};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<Reference> {
    let regions = regions::table
        .order(regions::sort)
        .select((regions::code, regions::name_ru, regions::name_kk, regions::kind))
        .load::<(String, String, String, String)>(conn)
        .await?
        .into_iter()
        .map(|(code, name_ru, name_kk, kind)| Region { code, name_ru, name_kk, kind })
        .collect();
    let categories = categories::table
        .order(categories::sort)
        .select((categories::code, categories::parent_code, categories::name_ru, categories::name_kk))
        .load::<(String, Option<String>, String, String)>(conn)
        .await?
        .into_iter()
        .map(|(code, parent_code, name_ru, name_kk)| Category { code, parent_code, name_ru, name_kk })
        .collect();
    Ok(Reference { regions, categories })
}
