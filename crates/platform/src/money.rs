//! Money on the API. The seed's fields (`price`, `budget`, `product_price`) carry tenge as a
//! JSON number with up to two decimals — `150000` is 150 000 ₸, `150000.5` is 150 000 ₸ 50 tiyn —
//! and everything inside is integer tiyn. Clients that prefer integers send and read the
//! `*_minor` twin of each field instead.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};

/// The most a price or budget may be on the API: 10 billion tenge.
pub const MAX_TENGE: i64 = 10_000_000_000;

/// An amount in tenge on the wire, held as tiyn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tenge(i64);

impl Tenge {
    pub const fn from_tiyn(tiyn: i64) -> Self {
        Self(tiyn)
    }

    pub const fn tiyn(self) -> i64 {
        self.0
    }

    /// Exact conversion of a JSON number of tenge; more than two decimals is an error, not a
    /// rounding.
    pub fn from_number(tenge: f64) -> Result<Self, String> {
        if !tenge.is_finite() || tenge.abs() > MAX_TENGE as f64 {
            return Err(format!("must be a number of tenge of at most {MAX_TENGE}"));
        }
        let scaled = tenge * 100.0;
        let tiyn = scaled.round();
        // Decimal fractions are not exact in binary: 0.07 × 100 is 7.000000000000001, and the
        // error grows with the amount (275538139.22 × 100 is 3.8e-6 off): a relative tolerance.
        if (scaled - tiyn).abs() > (scaled.abs() * 1e-15).max(1e-6) {
            return Err("tenge with at most two decimals (tiyn)".to_owned());
        }
        Ok(Self(tiyn as i64))
    }

    /// The amount a client sent as either the tenge field or its `*_minor` twin (not both).
    pub fn either(tenge: Option<Tenge>, tiyn: Option<i64>) -> Result<Option<Tenge>, String> {
        match (tenge, tiyn) {
            (Some(_), Some(_)) => Err("send the amount in tenge or in tiyn (`*_minor`), not both".to_owned()),
            (Some(amount), None) => Ok(Some(amount)),
            (None, Some(tiyn)) => Ok(Some(Self(tiyn))),
            (None, None) => Ok(None),
        }
    }
}

impl Serialize for Tenge {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            serializer.serialize_i64(self.0 / 100)
        } else {
            serializer.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Tenge {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Tenge;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of tenge with at most two decimals")
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Tenge, E> {
                if v.abs() > MAX_TENGE {
                    return Err(E::custom(format!("must be a number of tenge of at most {MAX_TENGE}")));
                }
                Ok(Tenge(v * 100))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Tenge, E> {
                let v = i64::try_from(v).map_err(|_| E::custom(format!("must be at most {MAX_TENGE}")))?;
                self.visit_i64(v)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Tenge, E> {
                Tenge::from_number(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl utoipa::PartialSchema for Tenge {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
            .multiple_of(Some(0.01))
            .maximum(Some(MAX_TENGE as f64))
            .minimum(Some(-(MAX_TENGE as f64)))
            .description(Some("Tenge, up to two decimals (150000.5 is 150 000 ₸ 50 tiyn)"))
            .examples([serde_json::json!(150000)])
            .into()
    }
}

impl utoipa::ToSchema for Tenge {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Tenge, String> {
        serde_json::from_str::<Tenge>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn the_seeds_numbers_are_tenge() {
        assert_eq!(parse("150000").unwrap().tiyn(), 15_000_000);
        assert_eq!(parse("150000.50").unwrap().tiyn(), 15_000_050);
        assert_eq!(parse("0.07").unwrap().tiyn(), 7);
        assert_eq!(parse("19999.99").unwrap().tiyn(), 1_999_999);
        assert_eq!(parse("275538139.22").unwrap().tiyn(), 27_553_813_922, "large amounts keep their tiyn");
        assert_eq!(parse("9999999999.99").unwrap().tiyn(), 999_999_999_999);
        assert!(parse("123456789.125").is_err(), "a third decimal of a large amount");
    }

    #[test]
    fn more_than_two_decimals_or_other_types_are_refused() {
        assert!(parse("150000.505").is_err());
        assert!(parse("\"150000\"").is_err());
        assert!(parse("1e300").is_err());
        assert!(parse("10000000001").is_err());
    }

    #[test]
    fn written_as_whole_tenge_when_whole() {
        assert_eq!(serde_json::to_string(&Tenge::from_tiyn(15_000_000)).unwrap(), "150000");
        assert_eq!(serde_json::to_string(&Tenge::from_tiyn(15_000_050)).unwrap(), "150000.5");
        assert_eq!(serde_json::to_string(&Tenge::from_tiyn(7)).unwrap(), "0.07");
    }

    #[test]
    fn one_of_the_twins() {
        assert_eq!(Tenge::either(None, Some(5)).unwrap(), Some(Tenge::from_tiyn(5)));
        assert!(Tenge::either(Some(Tenge::from_tiyn(5)), Some(5)).is_err());
        assert_eq!(Tenge::either(None, None).unwrap(), None);
    }
}
