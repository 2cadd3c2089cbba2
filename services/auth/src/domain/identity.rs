//! What a user signs in with: an e-mail address or a Kazakh phone number in `+7` + 10 digits form (`+77001234567`).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Email(String),
    Phone(String),
}

impl Identity {
    /// Accepts an e-mail address (lower-cased) or a phone number written the usual ways:
    /// `87785421871`, `77785421871`, `7785421871`, `+7 (778) 542-18-71` → `+77785421871`.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
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
    pub fn channel(&self) -> &'static str {
        match self {
            Identity::Email(_) => "email",
            Identity::Phone(_) => "sms",
        }
    }
}

fn parse_email(input: &str) -> Result<String, &'static str> {
    let email = input.to_lowercase();
    let (local, domain) = email.split_once('@').ok_or("must be an e-mail address or a phone number")?;
    let valid = !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    if valid { Ok(email) } else { Err("is not a valid e-mail address") }
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
    fn channel_follows_the_identity() {
        assert_eq!(Identity::parse("a@b.kz").unwrap().channel(), "email");
        assert_eq!(Identity::parse("87785421871").unwrap().channel(), "sms");
    }
}
