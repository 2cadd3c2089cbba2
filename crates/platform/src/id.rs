//! [`id_type!`](crate::id_type): an aggregate's id as its own type over `bigint`, so that
//! `accept(request_id, proposal_id)` cannot be called with the two swapped. Serialized as the
//! bare number (JSON, paths, OpenAPI), stored through diesel as `BigInt`. The calling crate needs
//! `serde`, `diesel` and `utoipa`.
//!
//! ```ignore
//! platform::id_type! {
//!     /// A buyer's request.
//!     pub struct RequestId;
//! }
//! ```

#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow, utoipa::ToSchema,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        $vis struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::convert::From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl $crate::__diesel::serialize::ToSql<$crate::__diesel::sql_types::BigInt, $crate::__diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut $crate::__diesel::serialize::Output<'b, '_, $crate::__diesel::pg::Pg>,
            ) -> $crate::__diesel::serialize::Result {
                <i64 as $crate::__diesel::serialize::ToSql<$crate::__diesel::sql_types::BigInt, $crate::__diesel::pg::Pg>>::to_sql(
                    &self.0,
                    out,
                )
            }
        }

        impl $crate::__diesel::deserialize::FromSql<$crate::__diesel::sql_types::BigInt, $crate::__diesel::pg::Pg> for $name {
            fn from_sql(value: $crate::__diesel::pg::PgValue<'_>) -> $crate::__diesel::deserialize::Result<Self> {
                <i64 as $crate::__diesel::deserialize::FromSql<$crate::__diesel::sql_types::BigInt, $crate::__diesel::pg::Pg>>::from_sql(value)
                    .map(Self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate as platform;

    platform::id_type! {
        /// A test id.
        pub struct ThingId;
    }

    #[test]
    fn an_id_is_its_number_on_the_wire() {
        assert_eq!(serde_json::to_value(ThingId(7)).unwrap(), serde_json::json!(7));
        assert_eq!(serde_json::from_value::<ThingId>(serde_json::json!(7)).unwrap(), ThingId(7));
        assert_eq!(ThingId(7).to_string(), "7");
        assert_eq!(i64::from(ThingId(7)), 7);
    }
}
