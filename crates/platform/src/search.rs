//! Turning what people type into a full-text query.

/// A `to_tsquery` text that finds every word by its stem as a prefix (`шкаф:* & купе:*`), or
/// `None` when there is no word. Prefix matching covers the Russian stemmer's uneven stems
/// ("диван" stems to "дива", "диванов" to "диван"). Only letters and digits reach the query,
/// so no input can break its syntax.
pub fn prefix_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(10)
        .map(|word| format!("{}:*", word.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_prefixes_joined_by_and() {
        assert_eq!(prefix_query("Шкаф-купе").unwrap(), "шкаф:* & купе:*");
        assert_eq!(prefix_query("  диван ").unwrap(), "диван:*");
        assert_eq!(prefix_query("Ас үй жиһазы").unwrap(), "ас:* & үй:* & жиһазы:*");
    }

    #[test]
    fn query_syntax_cannot_be_injected() {
        assert_eq!(prefix_query("a' | !b:* & (c)").unwrap(), "a:* & b:* & c:*");
        assert_eq!(prefix_query("!&|()"), None);
    }
}
