//! Access-token claims and roles, shared by the issuer (auth) and every verifier.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[cfg_attr(feature = "diesel", derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The seed calls buyers `client`; both spellings are accepted.
    #[serde(alias = "client")]
    Buyer,
    Master,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Buyer => "buyer",
            Role::Master => "master",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "buyer" | "client" => Ok(Role::Buyer),
            "master" => Ok(Role::Master),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl std::fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown role {:?}: expected buyer, client, master or admin", self.0)
    }
}

impl std::error::Error for UnknownRole {}

/// A role is stored as its text; a text that names no role is an error, never a default.
#[cfg(feature = "diesel")]
mod column {
    use super::Role;
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::serialize::{self, Output, ToSql};
    use diesel::sql_types::Text;

    impl ToSql<Text, Pg> for Role {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
        }
    }

    impl FromSql<Text, Pg> for Role {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            Ok(std::str::from_utf8(value.as_bytes())?.parse()?)
        }
    }
}

/// Claims of an RS256 access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a decimal string (JWT `sub` is a string).
    pub sub: String,
    pub role: Role,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Redis key that marks an access token's `jti` as revoked until the token expires.
/// Written by auth on logout, read by every verifier.
pub fn revoked_jti_key(jti: &str) -> String {
    format!("auth:revoked_jti:{jti}")
}

/// Redis key holding a Unix second: the user's access tokens issued at or before it are
/// revoked (a ban, a suspension, a role change). Written by auth, read by every verifier.
pub fn revoked_before_key(user_id: i64) -> String {
    format!("auth:revoked_before:user:{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_an_alias_of_buyer() {
        assert_eq!(serde_json::from_str::<Role>("\"client\"").unwrap(), Role::Buyer);
        assert_eq!("client".parse::<Role>().unwrap(), Role::Buyer);
        assert_eq!(serde_json::to_string(&Role::Buyer).unwrap(), "\"buyer\"");
    }

    #[test]
    fn unknown_role_is_an_error() {
        assert!("superuser".parse::<Role>().is_err());
        assert!(serde_json::from_str::<Role>("\"superuser\"").is_err());
    }
}
