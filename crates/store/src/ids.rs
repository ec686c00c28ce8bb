//! Identifiers: record ids are UUIDv7 (time-ordered, so record lists sort by
//! creation); subject ids are 10 random Crockford Base32 characters and one check
//! character from the same alphabet (FORMS.md 2), never derived from identity data.

use crate::error::{Result, StoreError};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new record id.
pub(crate) fn new_record_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A new random subject id.
pub(crate) fn new_subject_id() -> Result<String> {
    let mut bytes = [0u8; 10];
    crate::keys::random_fill(&mut bytes)?;
    let body: String = bytes
        .iter()
        .map(|b| CROCKFORD[(b & 31) as usize] as char)
        .collect();
    let check = check_char(&body).unwrap_or('0');
    Ok(format!("{body}{check}"))
}

/// The check character by the Luhn mod 32 algorithm over the symbol values, so any
/// single changed character and most swaps of two neighbours are detected.
fn check_char(body: &str) -> Option<char> {
    const N: u32 = 32;
    let mut factor = 2;
    let mut sum = 0;
    for c in body.chars().rev() {
        let mut addend = factor * value(c)?;
        factor = if factor == 2 { 1 } else { 2 };
        addend = addend / N + addend % N;
        sum += addend;
    }
    let check = (N - sum % N) % N;
    Some(CROCKFORD[check as usize] as char)
}

fn value(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    CROCKFORD
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

/// Reads a subject id as typed (case-insensitive, Crockford's O/I/L aliases, hyphens
/// ignored) into its canonical form, checking the check character.
pub fn parse_subject_id(s: &str) -> Result<String> {
    let cleaned: String = s
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let bad = || StoreError::BadSubjectId(s.chars().take(20).collect());
    if cleaned.len() != 11 || !cleaned.is_ascii() {
        return Err(bad());
    }
    let (body, check) = cleaned.split_at(10);
    match check_char(body) {
        Some(c) if check.starts_with(c) => Ok(cleaned),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_ids_check() {
        for _ in 0..200 {
            let id = new_subject_id().expect("id");
            assert_eq!(id.len(), 11);
            assert_eq!(parse_subject_id(&id.to_lowercase()).expect("valid"), id);
            // One changed character is caught.
            let mut chars: Vec<char> = id.chars().collect();
            let v = value(chars[3]).expect("v");
            chars[3] = CROCKFORD[((v + 1) % 32) as usize] as char;
            let changed: String = chars.iter().collect();
            assert!(parse_subject_id(&changed).is_err(), "{id} vs {changed}");
        }
        assert!(parse_subject_id("short").is_err());
    }
}
