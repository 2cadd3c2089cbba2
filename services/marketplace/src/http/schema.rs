//! What the derive macros cannot say in this service's OpenAPI document: texts whose rules
//! count what is left after trimming, amounts of money with their bounds, the reference data
//! that region and category fields take, and rules spanning two fields. The document is the
//! contract (a client, or a fuzzer, must be able to tell a valid request from it alone), so each
//! rule here is the one the domain checks.

use crate::domain::proposal;
use crate::domain::reference::{ANY_FURNITURE, Reference};
use crate::domain::request::{self, MAX_BUDGET};
use serde_json::{Value, json};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, schema::SchemaType};

pub use platform::http::openapi::{nullable_text, text, white_space as space};

/// Checks of requests' and proposals' input, as `schema_with` functions.
const TITLE: &str = "At most 200 characters, at least 3 besides the spaces around (which are trimmed).";

pub fn title() -> Object {
    text(request::MIN_TITLE_CHARS, request::MAX_TITLE_CHARS).description(Some(TITLE)).build()
}

pub fn edited_title() -> Object {
    nullable_text(request::MIN_TITLE_CHARS, request::MAX_TITLE_CHARS).description(Some(TITLE)).build()
}

pub fn description() -> Object {
    text(0, request::MAX_DESCRIPTION_CHARS).build()
}

pub fn edited_description() -> Object {
    nullable_text(0, request::MAX_DESCRIPTION_CHARS).build()
}

pub fn message() -> Object {
    text(1, proposal::MAX_MESSAGE_CHARS).description(Some("At most 2 000 characters, not blank.")).build()
}

/// Up to ten absolute http(s) addresses of at most 2 000 characters, without spaces.
pub fn images() -> Array {
    let url = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(request::MAX_IMAGE_URL_CHARS))
        .pattern(Some(format!("^[{space}]*https?://[^{space}]*[{space}]*$", space = space())))
        .examples(["https://cdn.example.kz/a.jpg"]);
    ArrayBuilder::new().items(url).max_items(Some(request::MAX_IMAGES)).build()
}

pub fn edited_images() -> Array {
    let mut images = images();
    images.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    images
}

/// An amount in tenge (up to two decimals) that a price or budget may be: 1 tiyn to
/// [`MAX_BUDGET`] tiyn.
pub fn tenge() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        .multiple_of(Some(0.01))
        .minimum(Some(0.01))
        .maximum(Some((MAX_BUDGET / 100) as f64))
        .description(Some("Tenge, up to two decimals (150000.5 is 150 000 ₸ 50 tiyn); or the `*_minor` twin."))
        .examples([json!(150000)])
        .build()
}

/// The same amount in tiyn.
pub fn tiyn() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(MAX_BUDGET))
        .description(Some("The amount in tiyn (1/100 tenge), instead of the tenge field."))
        .build()
}

/// This service's document with what depends on the reference data (loaded at start) and
/// the rules spanning two fields.
pub fn document(reference: &Reference) -> Value {
    use utoipa::OpenApi;
    let mut document = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_default();
    let mut regions: Vec<&str> = Vec::new();
    for region in &reference.regions {
        regions.extend([region.code.as_str(), &region.name_ru, &region.name_kk]);
    }
    let mut categories: Vec<&str> = Vec::new();
    for category in &reference.categories {
        categories.extend([category.code.as_str(), &category.name_ru, &category.name_kk]);
    }
    let (regions, real_categories) = (distinct(regions), distinct(categories));
    let categories = distinct(real_categories.iter().copied().chain(ANY_FURNITURE.iter().copied()).collect());
    let region = json!({ "type": "string", "enum": regions });
    let category = json!({ "type": "string", "enum": categories });
    let schemas = &mut document["components"]["schemas"];
    // Writes take known regions and categories only (filters take anything: an unknown one
    // matches nothing).
    schemas["RequestInput"]["properties"]["region"] = with_description(&region, "Region code or name (`/regions`).");
    schemas["RequestEdit"]["properties"]["region"] =
        with_description(&json!({ "type": ["string", "null"], "enum": nullable(&regions) }), "Region code or name.");
    let request_categories = json!({
        "type": "array", "items": category, "minItems": 1, "maxItems": crate::domain::request::MAX_CATEGORIES,
        "contains": { "enum": real_categories },
        "description": "1 to 5 category codes or names (`/categories`), at least one of them a kind of furniture \
            (\"мебель\" alone says none).",
    });
    schemas["RequestInput"]["properties"]["categories"] = request_categories.clone();
    schemas["RequestEdit"]["properties"]["categories"] = {
        let mut edit = request_categories;
        edit["type"] = json!(["array", "null"]);
        edit
    };
    let served = |items: &Value, what: &str| {
        json!({ "type": "array", "items": items, "maxItems": crate::masters::MAX_SERVED,
                "description": format!("Codes or names of the {what} served (at most 30).") })
    };
    schemas["ServicesBody"]["properties"]["regions"] = served(&region, "regions");
    schemas["ServicesBody"]["properties"]["categories"] = served(&category, "categories");
    // The amount twins: in tenge or in tiyn, not both; a proposal needs one of them.
    schemas["RequestInput"]["not"] = both("budget", "budget_minor");
    schemas["RequestEdit"]["not"] = both("budget", "budget_minor");
    schemas["ProposalInput"]["oneOf"] = json!([given("price", "number"), given("price_minor", "integer")]);
    schemas["AwardBody"]["properties"]["points"]["not"] = json!({ "const": 0 });
    document
}

fn distinct(mut values: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    values.retain(|value| seen.insert(*value));
    values
}

fn nullable(values: &[&str]) -> Value {
    values.iter().map(|v| json!(v)).chain([Value::Null]).collect()
}

fn with_description(schema: &Value, description: &str) -> Value {
    let mut schema = schema.clone();
    schema["description"] = json!(description);
    schema
}

/// A body where `field` is given and not `null`.
fn given(field: &str, kind: &str) -> Value {
    json!({ "required": [field], "properties": { field: { "type": kind } } })
}

/// Both twins given, neither `null`.
fn both(tenge: &str, tiyn: &str) -> Value {
    json!({ "required": [tenge, tiyn], "properties": { tenge: { "type": "number" }, tiyn: { "type": "integer" } } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{proposal, review};

    fn schemas() -> Value {
        document(&Reference::sample())["components"]["schemas"].clone()
    }

    fn number(value: &Value) -> i64 {
        value.as_i64().or_else(|| value.as_f64().map(|f| f as i64)).unwrap_or_else(|| panic!("{value} is no number"))
    }

    #[test]
    fn writes_name_known_places_and_filters_name_anything() {
        let schemas = schemas();
        let regions = &schemas["RequestInput"]["properties"]["region"]["enum"];
        for name in ["almaty", "Алматы", "Ақтөбе облысы"] {
            assert!(regions.as_array().unwrap().contains(&json!(name)), "{name}: {regions}");
        }
        let categories = &schemas["RequestInput"]["properties"]["categories"];
        assert!(categories["items"]["enum"].as_array().unwrap().contains(&json!("мебель")));
        assert!(!categories["contains"]["enum"].as_array().unwrap().contains(&json!("мебель")));
        assert_eq!(number(&categories["maxItems"]), request::MAX_CATEGORIES as i64);
        let served = &schemas["ServicesBody"]["properties"]["regions"];
        assert_eq!(
            (number(&served["maxItems"]), &served["items"]["enum"]),
            (crate::masters::MAX_SERVED as i64, regions)
        );
    }

    #[test]
    fn documented_bounds_are_the_checked_ones() {
        let schemas = schemas();
        let deadline = &schemas["ProposalInput"]["properties"]["deadline_days"];
        let (min, max) = (number(&deadline["minimum"]) as i32, number(&deadline["maximum"]) as i32);
        assert!(proposal::deadline_days(min).is_ok() && proposal::deadline_days(max).is_ok());
        assert!(proposal::deadline_days(min - 1).is_err() && proposal::deadline_days(max + 1).is_err());
        let tiyn = &schemas["ProposalInput"]["properties"]["price_minor"];
        let (min, max) = (number(&tiyn["minimum"]), number(&tiyn["maximum"]));
        assert!(proposal::price(min).is_ok() && proposal::price(max).is_ok());
        assert!(proposal::price(min - 1).is_err() && proposal::price(max + 1).is_err());
        assert!(request::budget(min).is_ok() && request::budget(max + 1).is_err());
        let tenge = &schemas["RequestInput"]["properties"]["budget"];
        assert_eq!(tenge["maximum"].as_f64().unwrap() * 100.0, max as f64);
        for (schema, field, max) in [
            ("RequestInput", "title", request::MAX_TITLE_CHARS),
            ("RequestInput", "description", request::MAX_DESCRIPTION_CHARS),
            ("ProposalInput", "message", proposal::MAX_MESSAGE_CHARS),
            ("ReviewBody", "text", review::MAX_TEXT_CHARS),
        ] {
            assert_eq!(number(&schemas[schema]["properties"][field]["maxLength"]), max as i64, "{schema}.{field}");
        }
        assert!(schemas["RevisionBody"]["required"].as_array().unwrap().contains(&json!("note")));
    }

    #[test]
    fn amounts_come_in_one_of_their_twins() {
        let schemas = schemas();
        assert_eq!(schemas["RequestInput"]["not"]["required"], json!(["budget", "budget_minor"]));
        assert_eq!(schemas["ProposalInput"]["oneOf"].as_array().unwrap().len(), 2);
    }
}
