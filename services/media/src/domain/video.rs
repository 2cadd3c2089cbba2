//! A video's fields as the seed's upload gives them, and its processing status.

use platform::error::FieldProblems;
use serde::{Deserialize, Serialize};

/// `uploaded → processing → ready | failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatus {
    Uploaded,
    Processing,
    Ready,
    Failed,
}

impl VideoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Uploaded => "uploaded",
            VideoStatus::Processing => "processing",
            VideoStatus::Ready => "ready",
            VideoStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [VideoStatus::Uploaded, VideoStatus::Processing, VideoStatus::Ready, VideoStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

pub const MAX_TITLE_CHARS: usize = 200;
/// The title of a video uploaded with neither a title nor a file name ("Untitled").
pub const UNTITLED: &str = "Без названия";
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_PRODUCT_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_HASHTAGS: usize = 30;
pub const MAX_HASHTAG_CHARS: usize = 50;
/// 100 million tenge, in tiyn.
pub const MAX_PRICE_MINOR: i64 = 100_000_000 * 100;

/// The seed's upload fields as text, however they arrived (multipart fields, tus metadata,
/// the chunked API's JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RawFields {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `"#мебель #шкаф"`.
    pub hashtags: Option<String>,
    /// Tenge, with up to two decimals (`"150000"`, `"1499.90"`).
    pub price: Option<String>,
    pub product_description: Option<String>,
    pub is_ad: Option<String>,
}

impl RawFields {
    /// The seed's names of the fields.
    pub const NAMES: [&'static str; 6] = ["title", "description", "hashtags", "price", "product_description", "is_ad"];

    /// The title a file's uploader gave none for (tus clients send the file's name, not a title):
    /// the name without its extension, else [`UNTITLED`].
    pub fn title_from_file_name(&mut self, file_name: Option<&str>) {
        if self.title.is_none() {
            let stem = file_name.map(|name| name.rsplit_once('.').map_or(name, |(stem, _)| stem).trim());
            let stem: Option<String> = stem.map(|stem| stem.chars().take(MAX_TITLE_CHARS).collect());
            self.title = Some(stem.filter(|stem| !stem.is_empty()).unwrap_or_else(|| UNTITLED.to_owned()));
        }
    }

    /// Sets a field by its seed name; `false` when the name is not one of them.
    pub fn set(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "title" => &mut self.title,
            "description" => &mut self.description,
            "hashtags" => &mut self.hashtags,
            "price" => &mut self.price,
            "product_description" => &mut self.product_description,
            "is_ad" => &mut self.is_ad,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// A video's fields, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoFields {
    pub title: String,
    pub description: String,
    pub hashtags: Vec<String>,
    pub price_minor: Option<i64>,
    pub product_description: Option<String>,
    pub is_ad: bool,
}

impl VideoFields {
    /// Checks every field, noting each problem in `problems`; `None` when any was found.
    pub fn parse(raw: &RawFields, problems: &mut FieldProblems) -> Option<Self> {
        let title = problems.check("title", title(raw.title.as_deref()));
        let description = problems
            .check("description", bounded(raw.description.as_deref().unwrap_or_default(), MAX_DESCRIPTION_CHARS));
        let hashtags = problems.check("hashtags", hashtags(raw.hashtags.as_deref().unwrap_or_default()));
        let price_minor =
            problems.check("price", raw.price.as_deref().filter(|p| !p.trim().is_empty()).map(price_minor).transpose());
        let product_description = problems.check(
            "product_description",
            raw.product_description
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(|d| bounded(d, MAX_PRODUCT_DESCRIPTION_CHARS))
                .transpose(),
        );
        let is_ad = problems.check("is_ad", raw.is_ad.as_deref().map(flag).transpose());
        Some(Self {
            title: title?,
            description: description?,
            hashtags: hashtags?,
            price_minor: price_minor?,
            product_description: product_description?,
            is_ad: is_ad?.unwrap_or(false),
        })
    }
}

/// An owner's edit: only the fields present change; `null` clears the optional ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoEdit {
    #[schema(schema_with = crate::http::schema::edited_title)]
    pub title: Option<String>,
    #[schema(schema_with = crate::http::schema::description)]
    pub description: Option<String>,
    /// `"#мебель #шкаф"`: replaces the hashtags (at most 30 words of letters, digits and `_`,
    /// each up to 50 characters, separated by spaces, commas or `#`).
    #[schema(schema_with = crate::http::schema::hashtags)]
    pub hashtags: Option<String>,
    /// Tiyn; `null` makes the video not a product.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0.0, maximum = 1e10)]
    pub price_minor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::http::schema::product_description)]
    pub product_description: Option<Option<String>>,
    pub is_ad: Option<bool>,
}

/// A field that is present, even as `null` (absent fields stay `None` by `default`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl VideoFields {
    /// These fields with `edit` applied, every problem noted in `problems`.
    pub fn edited(&self, edit: &VideoEdit, problems: &mut FieldProblems) -> Option<Self> {
        // Each is `None` when absent from the edit, `Some(None)` when present but invalid.
        let title = edit.title.as_deref().map(|v| problems.check("title", title(Some(v))));
        let description =
            edit.description.as_deref().map(|v| problems.check("description", bounded(v, MAX_DESCRIPTION_CHARS)));
        let tags = edit.hashtags.as_deref().map(|v| problems.check("hashtags", hashtags(v)));
        let price = edit.price_minor.map(|price| {
            let checked = match price {
                Some(minor) if !(0..=MAX_PRICE_MINOR).contains(&minor) => {
                    Err(format!("between 0 and {MAX_PRICE_MINOR} tiyn"))
                }
                other => Ok(other),
            };
            problems.check("price_minor", checked)
        });
        let product_description = edit.product_description.as_ref().map(|d| {
            let checked = d
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(|d| bounded(d, MAX_PRODUCT_DESCRIPTION_CHARS))
                .transpose();
            problems.check("product_description", checked)
        });
        if matches!(title, Some(None))
            || matches!(description, Some(None))
            || matches!(tags, Some(None))
            || matches!(price, Some(None))
            || matches!(product_description, Some(None))
        {
            return None;
        }
        Some(Self {
            title: title.flatten().unwrap_or_else(|| self.title.clone()),
            description: description.flatten().unwrap_or_else(|| self.description.clone()),
            hashtags: tags.flatten().unwrap_or_else(|| self.hashtags.clone()),
            price_minor: price.flatten().unwrap_or(self.price_minor),
            product_description: product_description.flatten().unwrap_or_else(|| self.product_description.clone()),
            is_ad: edit.is_ad.unwrap_or(self.is_ad),
        })
    }
}

fn title(value: Option<&str>) -> Result<String, String> {
    let title = bounded(value.unwrap_or_default(), MAX_TITLE_CHARS)?;
    if title.is_empty() {
        return Err("a title is required".into());
    }
    Ok(title)
}

/// At most `max_chars` characters, spaces included (the OpenAPI document's `maxLength`);
/// trimmed.
fn bounded(value: &str, max_chars: usize) -> Result<String, String> {
    if value.chars().count() > max_chars {
        return Err(format!("at most {max_chars} characters"));
    }
    Ok(value.trim().to_owned())
}

/// `"#Мебель #шкаф, #Шкаф #ас_үй"` → `["мебель", "шкаф", "ас_үй"]`: words (any script's letters,
/// digits, `_`), lowercased, each once, in order.
pub fn hashtags(text: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == '#').filter(|w| !w.is_empty()) {
        if !word.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("`{word}` is not a hashtag (letters, digits and _ only)"));
        }
        if word.chars().count() > MAX_HASHTAG_CHARS {
            return Err(format!("a hashtag has at most {MAX_HASHTAG_CHARS} characters"));
        }
        let tag = word.to_lowercase();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_HASHTAGS {
        return Err(format!("at most {MAX_HASHTAGS} hashtags"));
    }
    Ok(tags)
}

/// Tenge with up to two decimals → tiyn, exactly.
pub fn price_minor(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a price in tenge (up to two decimals)");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let whole: i64 = whole.parse().map_err(|_| invalid())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
    let minor = whole.checked_mul(100).and_then(|w| w.checked_add(fraction)).ok_or_else(invalid)?;
    if minor > MAX_PRICE_MINOR {
        return Err("the price is too large".into());
    }
    Ok(minor)
}

/// A yes-or-no form field.
pub fn flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_words_lowercased_once() {
        assert_eq!(hashtags("#Мебель #шкаф, #Шкаф #ас_үй").unwrap(), ["мебель", "шкаф", "ас_үй"]);
        assert_eq!(hashtags("").unwrap(), Vec::<String>::new());
        assert!(hashtags("#drop;table").is_err());
    }

    #[test]
    fn prices_are_tenge_converted_exactly() {
        assert_eq!(price_minor("150000"), Ok(15_000_000));
        assert_eq!(price_minor("1499.9"), Ok(149_990));
        assert_eq!(price_minor("0.05"), Ok(5));
        for bad in ["-5", "1.234", "abc", "", "1e5", "99999999999999999999"] {
            assert!(price_minor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let raw = RawFields {
            title: Some("  ".into()),
            price: Some("дорого".into()),
            is_ad: Some("maybe".into()),
            ..Default::default()
        };
        let mut problems = FieldProblems::new();
        assert!(VideoFields::parse(&raw, &mut problems).is_none());
        let error = problems.finish().unwrap_err();
        let fields = &error.details["fields"];
        assert!(fields["title"].is_string() && fields["price"].is_string() && fields["is_ad"].is_string());
    }

    #[test]
    fn an_edit_changes_only_what_it_names() {
        let current = VideoFields {
            title: "Шкаф".into(),
            description: "дуб".into(),
            hashtags: vec!["шкаф".into()],
            price_minor: Some(100),
            product_description: Some("купе".into()),
            is_ad: false,
        };
        let edit: VideoEdit =
            serde_json::from_str(r##"{"title": " Диван ", "hashtags": "#Диван #ас_үй", "price_minor": null}"##)
                .unwrap();
        let mut problems = FieldProblems::new();
        let next = current.edited(&edit, &mut problems).unwrap();
        assert!(problems.finish().is_ok());
        assert_eq!(
            (next.title.as_str(), next.hashtags.clone()),
            ("Диван", vec!["диван".to_owned(), "ас_үй".to_owned()])
        );
        assert_eq!(
            (next.price_minor, next.description.as_str(), next.product_description.as_deref()),
            (None, "дуб", Some("купе"))
        );
        let unchanged = current.edited(&VideoEdit::default(), &mut FieldProblems::new()).unwrap();
        assert_eq!(unchanged, current);
    }

    #[test]
    fn a_bad_edit_is_refused_by_field() {
        let current = VideoFields {
            title: "Шкаф".into(),
            description: String::new(),
            hashtags: vec![],
            price_minor: None,
            product_description: None,
            is_ad: false,
        };
        for (body, field) in [
            (r#"{"title": "  "}"#, "title"),
            (r#"{"price_minor": -1}"#, "price_minor"),
            (r#"{"hashtags": "a;b"}"#, "hashtags"),
        ] {
            let edit: VideoEdit = serde_json::from_str(body).unwrap();
            let mut problems = FieldProblems::new();
            assert!(current.edited(&edit, &mut problems).is_none(), "{body}");
            assert!(problems.finish().unwrap_err().details["fields"][field].is_string(), "{body}");
        }
        assert!(serde_json::from_str::<VideoEdit>(r#"{"status": "ready"}"#).is_err());
    }

    #[test]
    fn good_fields_parse() {
        let mut raw = RawFields::default();
        for (name, value) in [("title", "Шкаф-купе"), ("hashtags", "#шкаф"), ("price", "150000"), ("is_ad", "true")]
        {
            assert!(raw.set(name, value.into()));
        }
        assert!(!raw.set("path", "/etc/passwd".into()));
        let mut problems = FieldProblems::new();
        let fields = VideoFields::parse(&raw, &mut problems).unwrap();
        assert!(problems.finish().is_ok());
        assert_eq!((fields.price_minor, fields.is_ad, fields.hashtags.len()), (Some(15_000_000), true, 1));
        assert_eq!(VideoStatus::parse("ready"), Some(VideoStatus::Ready));
    }

    #[test]
    fn a_missing_title_comes_from_the_file_name() {
        let title = |given: Option<&str>, file_name: Option<&str>| {
            let mut raw = RawFields { title: given.map(str::to_owned), ..Default::default() };
            raw.title_from_file_name(file_name);
            raw.title.unwrap()
        };
        assert_eq!(title(None, Some("Шкаф-купе.mp4")), "Шкаф-купе");
        assert_eq!(title(None, Some("kitchen.final.mov")), "kitchen.final");
        assert_eq!(title(None, Some("clip")), "clip");
        assert_eq!(title(None, Some(".mp4")), UNTITLED);
        assert_eq!(title(None, None), UNTITLED);
        assert_eq!(title(None, Some(&format!("{}.mp4", "ы".repeat(300)))).chars().count(), MAX_TITLE_CHARS);
        assert_eq!(title(Some("  "), Some("clip.mp4")), "  ", "a title given, even blank, is the client's");
    }
}
