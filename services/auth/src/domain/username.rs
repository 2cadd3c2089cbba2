//! Usernames: 3–32 letters (Latin, Cyrillic, Kazakh), digits, `_` or `.`; unique regardless of case.

/// What [`validate`] accepts, as the OpenAPI document says it.
pub const PATTERN: &str = r"^[\p{L}\p{N}_][\p{L}\p{N}_.]{1,30}[\p{L}\p{N}_]$";

pub fn validate(username: &str) -> Result<&str, &'static str> {
    let length = username.chars().count();
    if !(3..=32).contains(&length) {
        return Err("must be 3 to 32 characters long");
    }
    if !username.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return Err("may contain only letters, digits, '_' and '.'");
    }
    if username.starts_with('.') || username.ends_with('.') {
        return Err("must not start or end with '.'");
    }
    Ok(username)
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn cyrillic_and_kazakh_names_are_fine() {
        for name in ["мастер_алматы", "Әділет.ағаш", "shkaf_pro", "abc"] {
            assert!(validate(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn bad_names_are_rejected() {
        for name in ["ab", "a b c", "name!", ".hidden", &"x".repeat(33), "emoji🙂"] {
            assert!(validate(name).is_err(), "{name}");
        }
    }
}
