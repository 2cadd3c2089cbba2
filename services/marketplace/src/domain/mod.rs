//! Pure rules of the marketplace, without I/O.

pub mod gamification;
pub mod ids;
pub mod order;
pub mod proposal;
pub mod reference;
pub mod request;
pub mod review;

/// A text as the API documents it: at most `max` characters, spaces included, and at least `min`
/// left once trimmed; the trimmed text.
pub fn text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if raw.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else if text.chars().count() < min {
        Err(if min == 1 { "must not be empty".into() } else { format!("must be at least {min} characters") })
    } else {
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn texts_count_spaces_towards_the_maximum_but_not_the_minimum() {
        assert_eq!(super::text("  abc  ", 3, 7).unwrap(), "abc");
        assert!(super::text("  abc   ", 3, 7).is_err());
        assert!(super::text("  ab   ", 3, 7).is_err());
        assert_eq!(super::text(" ", 0, 7).unwrap(), "");
        assert_eq!(super::text(" ", 1, 7).unwrap_err(), "must not be empty");
    }
}
