//! The JSON body extractor of every handler: `web::Json` (its size limit, content type and error
//! shape from [`super::json_config`]) with JSON Schema's notion of an integer, so that a number
//! written with a zero fraction (`58181.0`), valid for an `integer` in the OpenAPI document, is
//! read into an integer field instead of being refused.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Value>::from_request(request, payload);
        Box::pin(async move {
            let web::Json(value) = body.await?;
            if holds_nul(&value) {
                // PostgreSQL stores no U+0000 in text or jsonb: refused here, not as a 500 later.
                return Err(ApiError::bad_request("invalid_json", "text must not contain U+0000 (NUL)").into());
            }
            parse(value).map(Json).map_err(|cause| ApiError::bad_request("invalid_json", cause.to_string()).into())
        })
    }
}

/// `T` from a JSON value, integral floats read as integers (only when `T` refused them as they
/// were: the usual body costs one pass).
pub fn parse<T: DeserializeOwned>(mut value: Value) -> Result<T, serde_json::Error> {
    match T::deserialize(&value) {
        Ok(parsed) => Ok(parsed),
        // The second attempt's error names what is still wrong.
        Err(_) if integralize(&mut value) => serde_json::from_value(value),
        Err(error) => Err(error),
    }
}

/// Whether any string of `value`, or any key, contains U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(key, field)| key.contains('\0') || holds_nul(field)),
        _ => false,
    }
}

/// Rewrites every float with a zero fraction that fits an `i64` as an integer; whether any was.
fn integralize(value: &mut Value) -> bool {
    match value {
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            // 2^63 is the first float past i64::MAX.
            let fits = float.fract() == 0.0 && float >= -(2f64.powi(63)) && float < 2f64.powi(63);
            if fits {
                *number = Number::from(float as i64);
            }
            fits
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| integralize(item) | changed),
        Value::Object(fields) => fields.values_mut().fold(false, |changed, field| integralize(field) | changed),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        price: i64,
        rating: i32,
        share: f64,
        ids: Vec<u32>,
    }

    #[test]
    fn integral_floats_are_integers_and_other_numbers_unchanged() {
        let body = json!({ "price": 58181.0, "rating": 5.0, "share": 0.5, "ids": [1.0, 2] });
        assert_eq!(parse::<Body>(body).unwrap(), Body { price: 58181, rating: 5, share: 0.5, ids: vec![1, 2] });
        let whole_share = json!({ "price": 1, "rating": 1, "share": 2.0, "ids": [] });
        assert_eq!(parse::<Body>(whole_share).unwrap().share, 2.0);
    }

    #[test]
    fn nul_is_found_in_any_string_or_key() {
        assert!(holds_nul(&json!({ "a": [1, { "b": "x\u{0}y" }] })));
        assert!(holds_nul(&json!({ "\u{0}": 1 })));
        assert!(!holds_nul(&json!({ "a": ["\u{1}", "шкаф", null, 2.5] })));
    }

    #[test]
    fn fractions_out_of_range_and_wrong_types_are_still_refused() {
        let body = |price: Value| json!({ "price": price, "rating": 1, "share": 0.0, "ids": [] });
        assert!(parse::<Body>(body(json!(1.5))).is_err());
        assert!(parse::<Body>(body(json!(1e19))).is_err(), "past i64");
        assert!(parse::<Body>(body(json!("7"))).is_err());
        let error = parse::<Body>(json!({ "price": 3.0, "rating": 1e10, "share": 0.0, "ids": [] })).unwrap_err();
        assert!(error.to_string().contains("10000000000"), "the remaining problem is named: {error}");
    }
}
