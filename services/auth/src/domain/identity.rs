//! What a user signs in with: an e-mail address or a Kazakh phone number in `+7` + 10 digits form (`+77001234567`).
//!
//! The patterns below are what the OpenAPI document says of these fields: each describes exactly
//! the input [`Identity::parse`] accepts (the tests hold the two together), so a client, or a
//! fuzzer, can tell a valid identity from the document alone.

/// At most this many characters, spaces around included (an e-mail address has at most 254).
pub const MAX_CHARS: usize = 254;

/// What a phone number may be written as: `+7`/`8`/`7` and 10 digits, or the 10 digits alone,
/// with spaces, dashes and parentheses anywhere; the number itself starts with 6 or 7.
macro_rules! phone_pattern {
    () => {
        r"\+?[ ()-]*[78][ ()-]*[67](?:[ ()-]*[0-9]){9}[ ()-]*|[ ()-]*[67](?:[ ()-]*[0-9]){9}[ ()-]*"
    };
}

/// An e-mail address: up to 64 characters, `@`, a domain of dot-separated labels; no spaces or
/// control characters.
macro_rules! email_pattern {
    () => {
        r"[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s.\x00-\x1f\x7f-\x9f]+(?:\.[^@\s.\x00-\x1f\x7f-\x9f]+)+"
    };
}

pub const PHONE_PATTERN: &str = concat!("^ *(?:", phone_pattern!(), ") *$");
pub const EMAIL_PATTERN: &str = concat!("^ *(?:", email_pattern!(), ") *$");
pub const EMAIL_OR_PHONE_PATTERN: &str = concat!("^ *(?:", email_pattern!(), "|", phone_pattern!(), ") *$");

platform::text_enum! {
    /// How verification codes reach a user.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Email(String),
    Phone(String),
}

impl Identity {
    /// Accepts an e-mail address (lower-cased) or a phone number written the usual ways:
    /// `87785421871`, `77785421871`, `7785421871`, `+7 (778) 542-18-71` → `+77785421871`.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        if input.chars().count() > MAX_CHARS {
            return Err("must be at most 254 characters");
        }
        let input = input.trim();
        if input.contains('@') {
            return parse_email(input).map(Identity::Email);
        }
        normalize_phone(input).map(Identity::Phone)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Identity::Email(email) | Identity::Phone(email) => email,
        }
    }

    /// The delivery channel of verification codes for this identity.
    pub fn channel(&self) -> Channel {
        match self {
            Identity::Email(_) => Channel::Email,
            Identity::Phone(_) => Channel::Sms,
        }
    }
}

fn parse_email(input: &str) -> Result<String, &'static str> {
    let (local, domain) = input.split_once('@').ok_or("must be an e-mail address or a phone number")?;
    let valid = !local.is_empty()
        && local.chars().count() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !input.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    if valid { Ok(input.to_lowercase()) } else { Err("is not a valid e-mail address") }
}

pub fn normalize_phone(input: &str) -> Result<String, &'static str> {
    const INVALID: &str = "is not a valid Kazakhstan phone number (+7 and 10 digits)";
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')');
    if input.is_empty() || !input.chars().all(allowed) || input.chars().skip(1).any(|c| c == '+') {
        return Err(INVALID);
    }
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.len() {
        11 if digits.starts_with('8') || digits.starts_with('7') => &digits[1..],
        10 if !input.starts_with('+') => &digits[..],
        _ => return Err(INVALID),
    };
    // Kazakhstan numbers are +7 6XX / +7 7XX.
    if national.starts_with('6') || national.starts_with('7') { Ok(format!("+7{national}")) } else { Err(INVALID) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_as_the_spec_says() {
        for input in ["87785421871", "77785421871", "7785421871", "+77785421871", "+7 (778) 542-18-71"] {
            assert_eq!(Identity::parse(input), Ok(Identity::Phone("+77785421871".into())), "{input}");
        }
    }

    #[test]
    fn invalid_phone_numbers_are_rejected() {
        for input in ["", "12345", "+1 202 555 0101", "8778542187100", "+7778542187a", "97785421871", "7 1234 567 890"]
        {
            assert!(Identity::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(Identity::parse(" Aigerim@Mail.KZ "), Ok(Identity::Email("aigerim@mail.kz".into())));
        for input in ["@mail.kz", "user@", "user@mailkz", "user@.kz", "us er@mail.kz", "a@b@c.kz", "user@mail..kz"] {
            assert!(Identity::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn lengths_are_counted_in_characters_as_documented() {
        let local = "я".repeat(64);
        assert!(Identity::parse(&format!("{local}@mail.kz")).is_ok(), "64 characters, 128 bytes");
        assert!(Identity::parse(&format!("я{local}@mail.kz")).is_err(), "65 characters");
        let domain = format!("{}.kz", "d".repeat(MAX_CHARS - 5));
        assert_eq!(format!("a@{domain}").chars().count(), MAX_CHARS);
        assert!(Identity::parse(&format!("a@{domain}")).is_ok());
        assert!(Identity::parse(&format!("ab@{domain}")).is_err(), "longer than maxLength");
    }

    /// One string per branch of the documented patterns, and what lies just outside them.
    #[test]
    fn the_documented_pattern_branches_parse() {
        for input in [" 8 (778) 542-18-71 ", "+8 778 542 18 71", "(6)001234567", "почта@пример.қаз", "a@b.c"]
        {
            assert!(Identity::parse(input).is_ok(), "{input}");
        }
        for input in ["+7785421871", "(+7)7785421871", "87785421871+", "a\u{7f}@b.kz", "a@b.kz\u{85}x"] {
            assert!(Identity::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn channel_follows_the_identity() {
        assert_eq!(Identity::parse("a@b.kz").unwrap().channel(), Channel::Email);
        assert_eq!(Identity::parse("87785421871").unwrap().channel(), Channel::Sms);
    }
}
