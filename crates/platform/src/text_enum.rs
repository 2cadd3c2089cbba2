//! [`text_enum!`](crate::text_enum): an enum stored as text. Each variant names its text once;
//! the macro gives `as_str`, `Display`, `FromStr`, serde (the same texts) and diesel `ToSql` /
//! `FromSql` on `Text`, so statuses and roles are read and written as enums and an unknown text
//! in the database is an error, not a silent default. The calling crate needs `serde` and `diesel`.
//!
//! ```ignore
//! platform::text_enum! {
//!     /// Where a request stands.
//!     #[derive(utoipa::ToSchema)]
//!     pub enum RequestStatus {
//!         Pending = "pending",
//!         InProgress = "in_progress",
//!     }
//! }
//! ```

/// A text that names no variant of a [`text_enum!`](crate::text_enum).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {text:?}")]
pub struct UnknownText {
    pub kind: &'static str,
    pub text: String,
}

#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::text_enum::UnknownText;

            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::text_enum::UnknownText { kind: stringify!($name), text: text.to_owned() }),
                }
            }
        }

        impl $crate::__diesel::serialize::ToSql<$crate::__diesel::sql_types::Text, $crate::__diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut $crate::__diesel::serialize::Output<'b, '_, $crate::__diesel::pg::Pg>,
            ) -> $crate::__diesel::serialize::Result {
                <str as $crate::__diesel::serialize::ToSql<$crate::__diesel::sql_types::Text, $crate::__diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl $crate::__diesel::deserialize::FromSql<$crate::__diesel::sql_types::Text, $crate::__diesel::pg::Pg> for $name {
            fn from_sql(value: $crate::__diesel::pg::PgValue<'_>) -> $crate::__diesel::deserialize::Result<Self> {
                let text = ::std::str::from_utf8(value.as_bytes())?;
                Ok(text.parse::<Self>()?)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate as platform;

    platform::text_enum! {
        /// A test status.
        pub enum Light {
            Red = "red",
            /// Documented variants keep their docs.
            AmberBlinking = "amber_blinking",
        }
    }

    #[test]
    fn every_variant_is_written_and_read_as_its_text() {
        for light in Light::ALL {
            assert_eq!(light.as_str().parse::<Light>().unwrap(), *light);
            assert_eq!(serde_json::to_value(light).unwrap(), serde_json::json!(light.as_str()));
            assert_eq!(light.to_string(), light.as_str());
        }
        assert_eq!(Light::AmberBlinking.as_str(), "amber_blinking");
    }

    #[test]
    fn an_unknown_text_is_an_error_naming_the_type() {
        let error = "green".parse::<Light>().unwrap_err();
        assert_eq!(error.to_string(), "unknown Light \"green\"");
        assert!(serde_json::from_value::<Light>(serde_json::json!("green")).is_err());
    }
}
