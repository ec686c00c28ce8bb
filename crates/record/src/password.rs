//! The one password rule of Tern, for device users (whose password wraps the data
//! key) and server accounts alike: at least [`MIN_CHARS`] characters and not one
//! of the common passwords in `data/common-passwords.txt` (8,354 passwords of 8 or
//! more characters from a list of the 20,000 most common; source and licence in
//! `data/common-passwords.md`), compared in lowercase. Pure: no I/O.

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 8;

const COMMON: &str = include_str!("../data/common-passwords.txt");

/// Why a password was refused. The messages say what to do; they never repeat the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {0} characters")]
    TooShort(usize),
    #[error(
        "this password is one of the most common passwords, the first an attacker \
         tries; choose another (a few unrelated words make a good one)"
    )]
    Common,
}

/// Checks a new password against the rule.
pub fn check(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_CHARS {
        return Err(PasswordError::TooShort(MIN_CHARS));
    }
    if is_common(password) {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Whether the password (in lowercase) is on the shipped list of common passwords.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    // The list is sorted by byte order: a binary search over its lines.
    let lines: Vec<&str> = COMMON.lines().collect();
    lines.binary_search(&lower.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert_eq!(check("pass"), Err(PasswordError::TooShort(8)));
        assert_eq!(check("1234567"), Err(PasswordError::TooShort(8)));
        assert_eq!(check("password"), Err(PasswordError::Common));
        assert_eq!(check("Password1"), Err(PasswordError::Common));
        assert_eq!(check("12345678"), Err(PasswordError::Common));
        assert_eq!(check("iloveyou1"), Err(PasswordError::Common));
        assert_eq!(check("correct horse"), Ok(()));
        assert_eq!(check("device-pass-1"), Ok(()));
        // Characters, not bytes.
        assert_eq!(check("ñandú-ñu"), Ok(()));
    }

    #[test]
    fn the_list_is_sorted_long_enough_and_lowercase() {
        let lines: Vec<&str> = COMMON.lines().collect();
        assert!(lines.len() > 8000, "{}", lines.len());
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(lines
            .iter()
            .all(|l| l.chars().count() >= MIN_CHARS && l.to_lowercase() == *l));
    }
}
