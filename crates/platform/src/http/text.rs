//! Text a client sends in a form or a header for the services to store: UTF-8 without U+0000,
//! which PostgreSQL stores in neither text nor jsonb (it was a 500). JSON bodies get the same
//! rule from [`super::json`].

/// `bytes` as text to store, or what is wrong with them ("is not UTF-8", "contains U+0000").
pub fn storable(bytes: Vec<u8>) -> Result<String, &'static str> {
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8")?;
    if text.contains('\0') { Err("contains U+0000 (NUL)") } else { Ok(text) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_text_is_utf8_without_nul() {
        assert_eq!(super::storable("шкаф".as_bytes().to_vec()), Ok("шкаф".to_owned()));
        assert_eq!(super::storable(b"a\0b".to_vec()), Err("contains U+0000 (NUL)"));
        assert_eq!(super::storable(vec![0xff]), Err("is not UTF-8"));
    }
}
