//! Secrets and permissions: Argon2id password hashes, opaque random tokens stored
//! only as SHA-256 hashes, one-time enrolment codes, and what each role may do on the
//! server after FORMS.md 2.2.

use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use tern_record::Role;

/// Argon2id memory in KiB, iterations and lanes (OWASP minimum: 19 MiB, 2).
const M_KIB: u32 = 19 * 1024;
const T: u32 = 2;
const P: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random generator failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(b)
}

fn argon(m: u32, t: u32, p: u32) -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// `argon2id$m$t$p$salt-hex$hash-hex`.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt: [u8; 16] = random()?;
    let mut out = [0u8; 32];
    argon(M_KIB, T, P)?
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(format!(
        "argon2id${M_KIB}${T}${P}${}${}",
        hex::encode(salt),
        hex::encode(out)
    ))
}

/// Checks a password against a stored hash, in constant time over the hash bytes.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [alg, m, t, p, salt, hash] = parts.as_slice() else {
        return false;
    };
    let (Ok(m), Ok(t), Ok(p), Ok(salt), Ok(hash)) = (
        m.parse::<u32>(),
        t.parse::<u32>(),
        p.parse::<u32>(),
        hex::decode(salt),
        hex::decode(hash),
    ) else {
        return false;
    };
    if *alg != "argon2id" || hash.len() != 32 {
        return false;
    }
    let mut out = [0u8; 32];
    let Ok(a) = argon(m, t, p) else { return false };
    if a.hash_password_into(password.as_bytes(), &salt, &mut out)
        .is_err()
    {
        return false;
    }
    out.iter().zip(&hash).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new opaque token (device or session): 32 random bytes as hex.
pub fn new_token() -> Result<String, AuthError> {
    Ok(hex::encode(random::<32>()?))
}

/// What the database keeps of a token or code: its SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A one-time enrolment code: 80 random bits as 16 Crockford characters in groups.
pub fn new_code() -> Result<String, AuthError> {
    let bytes: [u8; 16] = random()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CROCKFORD[(b & 31) as usize] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A code as typed (case, hyphens, spaces, O/I/L aliases) to its canonical form.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// Everything a caller may ask of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Push and pull records of the device's site.
    Sync,
    /// Receive and write restricted sections.
    Restricted,
    /// List records (projection) of one's sites.
    ListRecords,
    /// Open a record (access-logged).
    ViewRecord,
    /// Export pseudonymised data.
    Export,
    /// Users, devices, sites, form versions.
    Administer,
    /// Read the access log.
    ReadAudit,
    /// Release or reject quarantined changes of one's sites (crate::quarantine).
    ReviewQuarantine,
}

/// FORMS.md 2.2 on the server. Admins administer but never read health data; a data
/// manager sees pseudonymised data and exports but opens no record.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        Sync => matches!(role, Screener | Clinician | Supervisor),
        Restricted => role.may_see_restricted(),
        ListRecords => matches!(role, Clinician | Supervisor | DataManager),
        ViewRecord => matches!(role, Screener | Clinician | Supervisor),
        Export => matches!(role, DataManager),
        Administer => matches!(role, Admin),
        ReadAudit => matches!(role, Supervisor | DataManager | Admin),
        ReviewQuarantine => matches!(role, Supervisor),
    }
}

/// Roles that see every site rather than their own.
pub fn all_sites(role: Role) -> bool {
    matches!(role, Role::DataManager | Role::Admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("argon2id$19456$2$1$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("correct horse", "garbage"));
    }

    #[test]
    fn codes_normalise() {
        let c = new_code().expect("code");
        assert_eq!(c.len(), 19);
        assert_eq!(normalise_code(&c.to_lowercase()), normalise_code(&c));
        assert_eq!(normalise_code("ab-cd oi"), "ABCD01");
        assert_ne!(token_hash("a"), token_hash("b"));
    }

    #[test]
    fn admins_never_read_health_data() {
        for a in [
            Action::Sync,
            Action::ListRecords,
            Action::ViewRecord,
            Action::Export,
        ] {
            assert!(!allowed(Role::Admin, a));
        }
        assert!(allowed(Role::Admin, Action::Administer));
        assert!(!allowed(Role::Screener, Action::Restricted));
        assert!(allowed(Role::Clinician, Action::Restricted));
    }
}
