//! Reviews and the master's rating.

pub const MAX_TEXT_CHARS: usize = 2_000;

pub fn rating(stars: i32) -> Result<i16, String> {
    if (1..=5).contains(&stars) { Ok(stars as i16) } else { Err("must be 1 to 5".into()) }
}

pub fn text(raw: &str) -> Result<String, String> {
    super::text(raw, 0, MAX_TEXT_CHARS)
}

/// The average of `review_count` ratings summing to `rating_sum`, to two decimals (0 without reviews).
pub fn average(rating_sum: i64, review_count: i32) -> f64 {
    if review_count <= 0 {
        return 0.0;
    }
    (rating_sum as f64 / review_count as f64 * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_one_to_five_stars() {
        assert_eq!(rating(5).unwrap(), 5);
        assert!(rating(0).is_err());
        assert!(rating(6).is_err());
    }

    #[test]
    fn the_average_is_exact_to_two_decimals() {
        assert_eq!(average(0, 0), 0.0);
        assert_eq!(average(5, 1), 5.0);
        assert_eq!(average(14, 3), 4.67);
        assert_eq!(average(9, 2), 4.5);
    }
}
