//! The JSON body extractor of every handler: `web::Json` (its size limit, content type and error
//! shape from [`super::json_config`]) with JSON Schema's notion of an integer, so that a number
//! written with a zero fraction (`58181.0`), valid for an `integer` in the OpenAPI document, is
//! read into an integer field instead of being refused; and without U+0000 in what the handler
//! reads.

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
            read(value).map(Json).map_err(Into::into)
        })
    }
}

/// `T` from a JSON body, refused when a string that `T` reads holds U+0000: PostgreSQL stores
/// no NUL in text or jsonb, so it is refused here, not as a 500 later. Fields `T` ignores may
/// hold anything. A body without NUL (nearly all) is read as by [`parse`]; only one with NUL is
/// read again to learn which values `T` ignored.
fn read<T: DeserializeOwned>(mut value: Value) -> Result<T, ApiError> {
    let invalid = |cause: serde_json::Error| ApiError::bad_request("invalid_json", cause.to_string());
    if !contains_nul(&value) {
        return parse(value).map_err(invalid);
    }
    let (parsed, ignored) = match deserialize_noting_ignored(&value) {
        Ok(read) => read,
        // The second attempt's error names what is still wrong.
        Err(_) if integralize(&mut value) => deserialize_noting_ignored(&value).map_err(invalid)?,
        Err(error) => return Err(invalid(error)),
    };
    if holds_nul(&value, &ignored, &mut Vec::new()) {
        return Err(ApiError::bad_request("invalid_json", "text must not contain U+0000 (NUL)"));
    }
    Ok(parsed)
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

/// `T`, and where the values are that it ignored (as keys and indexes from the top).
fn deserialize_noting_ignored<T: DeserializeOwned>(value: &Value) -> Result<(T, Vec<Vec<String>>), serde_json::Error> {
    let mut ignored = Vec::new();
    let parsed = serde_ignored::deserialize(value, |path| ignored.push(steps(&path)))?;
    Ok((parsed, ignored))
}

fn steps(path: &serde_ignored::Path) -> Vec<String> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => [steps(parent), vec![index.to_string()]].concat(),
        Path::Map { parent, key } => [steps(parent), vec![key.clone()]].concat(),
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => steps(parent),
    }
}

/// Whether any string or key of `value` contains U+0000 (the quick look, without allocating).
fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(fields) => fields.iter().any(|(key, field)| key.contains('\0') || contains_nul(field)),
        _ => false,
    }
}

/// Whether a string or key at or below `at`, outside the `ignored` values, contains U+0000.
fn holds_nul(value: &Value, ignored: &[Vec<String>], at: &mut Vec<String>) -> bool {
    if ignored.contains(at) {
        return false;
    }
    let mut below = |step: String, value: &Value, key_holds_nul: bool| {
        at.push(step);
        let found = !ignored.contains(at) && (key_holds_nul || holds_nul(value, ignored, at));
        at.pop();
        found
    };
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(index, item)| below(index.to_string(), item, false)),
        Value::Object(fields) => fields.iter().any(|(key, field)| below(key.clone(), field, key.contains('\0'))),
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

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Note {
        title: String,
        tags: Vec<String>,
        extra: Option<std::collections::HashMap<String, String>>,
    }

    #[test]
    fn nul_is_refused_where_the_type_reads_it_and_nowhere_else() {
        let refused = |body: Value| read::<Note>(body).is_err_and(|e| e.message.contains("U+0000"));
        assert!(refused(json!({ "title": "a\u{0}b", "tags": [] })));
        assert!(refused(json!({ "title": "a", "tags": ["x", "\u{0}"] })));
        assert!(refused(json!({ "title": "a", "tags": [], "extra": { "\u{0}": "map keys are read" } })));
        let ignored = json!({ "title": "шкаф", "tags": ["\u{1}"], "unknown": ["\u{0}"], "\u{0}": { "x": "\u{0}" } });
        assert!(read::<Note>(ignored).is_ok(), "fields the type ignores may hold anything");
        assert_eq!(read::<Note>(json!({ "title": 5, "tags": [] })).unwrap_err().code, "invalid_json");
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
