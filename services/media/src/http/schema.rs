//! What the derive macros cannot say in this service's OpenAPI document: texts whose rules
//! count what is left after trimming, the seed's loosely typed upload fields (a price as a
//! number or a string, a flag as a boolean or a word), and the limits the settings decide. The
//! document is the contract (a client, or a fuzzer, must be able to tell a valid request from
//! it alone), so each rule here is the one `domain::video` and the handlers check.

use crate::config::MediaSettings;
use crate::domain::video::{
    MAX_DESCRIPTION_CHARS, MAX_HASHTAG_CHARS, MAX_HASHTAGS, MAX_PRICE_MINOR, MAX_PRODUCT_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
};
use serde_json::{Value, json};
use utoipa::openapi::KnownFormat;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaFormat, SchemaType, Type};

pub use platform::http::openapi::{nullable_text, text, white_space as space};

/// What `domain::video::hashtags` reads: up to 30 words of letters, digits and `_`, each up to 50
/// characters, between spaces, commas and `#`.
pub fn hashtags_pattern() -> String {
    let (space, word) = (space(), format!("[\\p{{L}}\\p{{N}}_]{{1,{MAX_HASHTAG_CHARS}}}"));
    let gap = format!("[#,{space}]");
    format!("^{gap}*(?:{word}{gap}+){{0,{}}}(?:{word})?{gap}*$", MAX_HASHTAGS - 1)
}

/// What `domain::video::price_minor` reads: tenge with up to two decimals, at most 100 million.
fn price_pattern() -> String {
    let space = space();
    let limit = MAX_PRICE_MINOR / 100;
    let digits = limit.to_string().len() - 1;
    format!("^[{space}]*(?:0*(?:[0-9]{{1,{digits}}}(?:\\.[0-9]{{0,2}})?|{limit}(?:\\.0{{0,2}})?))?[{space}]*$")
}

/// What `domain::video::flag` reads, in any letter case.
fn flag_pattern() -> String {
    let any_case =
        |word: &str| -> String { word.chars().map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c)).collect() };
    let words: Vec<String> = ["true", "on", "yes", "false", "off", "no"].iter().map(|w| any_case(w)).collect();
    format!("^[{0}]*(?:{1}|1|0)?[{0}]*$", space(), words.join("|"))
}

pub fn title() -> Object {
    text(1, MAX_TITLE_CHARS).description(Some("Up to 200 characters, not blank.")).build()
}

pub fn edited_title() -> Object {
    nullable_text(1, MAX_TITLE_CHARS).description(Some("Up to 200 characters, not blank.")).build()
}

pub fn description() -> Object {
    nullable_text(0, MAX_DESCRIPTION_CHARS).build()
}

pub fn product_description() -> Object {
    nullable_text(0, MAX_PRODUCT_DESCRIPTION_CHARS).build()
}

/// The hashtags of a JSON body (`null`: none).
pub fn hashtags() -> Object {
    nullable(form_hashtags())
}

// A form field is text or absent: a multipart body has no `null`.

/// A text form field that must match `pattern`.
fn form_text(pattern: String, description: &str) -> Object {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).description(Some(description)).build()
}

pub fn form_hashtags() -> Object {
    form_text(hashtags_pattern(), "`#мебель #шкаф`: up to 30 words of letters, digits and `_` (50 characters each).")
}

pub fn form_description() -> Object {
    text(0, MAX_DESCRIPTION_CHARS).build()
}

pub fn form_product_description() -> Object {
    text(0, MAX_PRODUCT_DESCRIPTION_CHARS).build()
}

/// A price in a form field: tenge with up to two decimals.
pub fn form_price() -> Object {
    form_text(price_pattern(), "Tenge with up to two decimals (`150000`, `1499.90`), at most 100 000 000; empty: none.")
}

/// A file part.
pub fn file() -> Object {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))).build()
}

fn nullable(mut schema: Object) -> Object {
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// A price in JSON: the form field's text, or a number of tenge.
pub fn price() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Number, Type::Null]))
        .pattern(Some(price_pattern()))
        .minimum(Some(0))
        .maximum(Some(MAX_PRICE_MINOR / 100))
        .multiple_of(Some(0.01))
        .description(Some("Tenge with up to two decimals, as a number or a string, at most 100 000 000."))
        .build()
}

/// A flag in a form field.
pub fn form_flag() -> Object {
    form_text(flag_pattern(), "`true`/`1`/`on`/`yes` or `false`/`0`/`off`/`no` (empty: false).")
}

/// This service's document with the limits its settings decide.
pub fn document(settings: &MediaSettings) -> Value {
    use utoipa::OpenApi;
    let mut document = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_default();
    let schemas = &mut document["components"]["schemas"];
    schemas["StartChunks"]["properties"]["file_size"]["maximum"] = json!(settings.max_upload_bytes);
    // A flag in JSON: a boolean, 0 or 1, or the form field's words.
    schemas["StartChunks"]["properties"]["is_ad"] = json!({ "anyOf": [
        { "type": "boolean" }, { "type": "integer", "enum": [0, 1] }, nullable(form_flag()), ] });
    let creation = &mut document["paths"][super::tus::TUS_PATH]["post"];
    // The first bytes are optional, and bytes (not a nullable value).
    creation["requestBody"]["content"][crate::domain::tus::OFFSET_CONTENT_TYPE]["schema"] =
        json!({ "$ref": "#/components/schemas/UploadBytes" });
    for parameter in creation["parameters"].as_array_mut().into_iter().flatten() {
        if parameter["name"] == "Upload-Length" {
            parameter["schema"]["maximum"] = json!(settings.max_upload_bytes);
        }
        if parameter["name"] == "Upload-Metadata" {
            parameter["schema"]["pattern"] = json!(crate::domain::tus::METADATA_PATTERN);
        }
    }
    // A header is there or not; it is never `null`.
    for item in document["paths"].as_object_mut().into_iter().flat_map(|paths| paths.values_mut()) {
        for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
            let parameters = operation.as_object_mut().and_then(|operation| operation.get_mut("parameters"));
            for parameter in parameters.and_then(Value::as_array_mut).into_iter().flatten() {
                if parameter["in"] == "header"
                    && let Some(types) = parameter["schema"]["type"].as_array_mut()
                {
                    types.retain(|t| t != "null");
                }
            }
        }
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_loose_fields_are_spelled_out() {
        assert!(price_pattern().contains("(?:0*(?:[0-9]{1,8}(?:\\.[0-9]{0,2})?|100000000(?:\\.0{0,2})?))?"));
        assert!(flag_pattern().contains("[Tt][Rr][Uu][Ee]|[Oo][Nn]|"));
        assert!(hashtags_pattern().contains("{0,29}"));
    }

    #[test]
    fn the_settings_bound_a_chunked_upload() {
        let settings = MediaSettings { max_upload_bytes: 1234, ..Default::default() };
        let document = document(&settings);
        assert_eq!(document["components"]["schemas"]["StartChunks"]["properties"]["file_size"]["maximum"], 1234);
    }

    #[test]
    fn tus_metadata_is_documented_as_the_parser_reads_it() {
        let document = document(&MediaSettings::default());
        let creation = &document["paths"][crate::http::tus::TUS_PATH]["post"]["parameters"];
        let metadata = creation.as_array().unwrap().iter().find(|p| p["name"] == "Upload-Metadata").unwrap();
        assert_eq!(metadata["schema"]["pattern"], crate::domain::tus::METADATA_PATTERN);
        assert_eq!(metadata["required"], false);
    }
}
