//! Pseudonyms keyed per recipient and purpose (FORMS.md 7): HMAC-SHA256 under a key
//! derived from the server's export secret, so the same subject has the same
//! pseudonym in every export to one recipient for one purpose, and different ones
//! for another recipient or purpose: two recipients cannot join their files. An
//! export without a recipient gets a fresh random secret (pseudonyms of one export
//! only). Pure: the secret is passed in; it never appears in logs or files.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The keyed pseudonyms of one export.
#[derive(Clone)]
pub struct Pseudonyms {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(..)")
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length: new_from_slice cannot fail.
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn crockford(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < chars {
            bits -= 5;
            out.push(char::from(CROCKFORD[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
        if out.len() == chars {
            break;
        }
    }
    out
}

impl Pseudonyms {
    /// The pseudonyms of exports to `recipient` for `purpose` under the server's
    /// export `secret`.
    pub fn new(secret: &[u8], recipient: &str, purpose: &str) -> Pseudonyms {
        Pseudonyms {
            key: mac(
                secret,
                &[
                    b"tern-export-pseudonyms-v1",
                    recipient.as_bytes(),
                    purpose.as_bytes(),
                ],
            ),
        }
    }

    /// A subject's pseudonym: `P` and 16 Crockford Base32 characters (80 bits).
    pub fn subject(&self, subject_id: &str) -> String {
        format!(
            "P{}",
            crockford(&mac(&self.key, &[b"subject", subject_id.as_bytes()]), 16)
        )
    }

    /// A record's key in the export (the encounter, pseudonymised the same way: a
    /// record id would let two recipients join their files).
    pub fn record(&self, record_id: &str) -> String {
        format!(
            "E{}",
            crockford(&mac(&self.key, &[b"record", record_id.as_bytes()]), 16)
        )
    }

    /// A stable UUID (version 4 layout) for a FHIR resource of `kind` about `id`.
    pub fn uuid(&self, kind: &str, id: &str) -> String {
        let h = mac(&self.key, &[b"uuid", kind.as_bytes(), id.as_bytes()]);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_recipient_and_purpose_and_differ_across() {
        let secret = [7u8; 32];
        let a = Pseudonyms::new(&secret, "rki", "research");
        let again = Pseudonyms::new(&secret, "rki", "research");
        let b = Pseudonyms::new(&secret, "ukhsa", "research");
        let c = Pseudonyms::new(&secret, "rki", "share_destination");
        let other_server = Pseudonyms::new(&[8u8; 32], "rki", "research");
        let s = "7KQ2M9XW4TB";
        assert_eq!(a.subject(s), again.subject(s));
        for other in [&b, &c, &other_server] {
            assert_ne!(a.subject(s), other.subject(s));
            assert_ne!(a.record("r1"), other.record("r1"));
        }
        assert_ne!(a.subject(s), a.subject("7KQ2M9XW4TC"));
        assert_eq!(a.subject(s).len(), 17);
        assert!(a.subject(s).chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!a.subject(s).contains(s));
        let u = a.uuid("Patient", s);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, a.uuid("Encounter", s));
    }
}
