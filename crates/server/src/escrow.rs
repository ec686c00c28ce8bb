//! Restricted keys escrowed by devices (issue 12, `docs/security.md`).
//!
//! A device seals the restricted twins it stores to its own *restricted key pair*
//! (`tern_store`'s `sealed.rs`); only proven clinicians and supervisors hold the
//! secret key there, sealed to their own X25519 keys in the device's key file. So that
//! an account proven on the device later needs no other holder to be present, the
//! device escrows its key pair here over its authenticated channel
//! (`POST /v1/device/restricted-key`, [`escrow`]), once per key; the answer to a
//! proof ([`crate::service::prove_account`]) then carries the secret key sealed to the
//! proving user's public key ([`grant_for`]) when the account's role may read
//! restricted sections (the one rule, [`auth::allowed`] with [`Action::Restricted`]).
//!
//! The server already holds every record, restricted sections included, in the
//! clear: holding the key of one device's copies adds no exposure. The key lives only
//! in the `restricted_keys` table of the server's database (the encrypted SQLite file,
//! or PostgreSQL protected as the database is), like the server's bundle keys, and is
//! forgotten when the device is revoked.

use crate::auth::{self, Action};
use crate::db::{Db, EscrowedKey};
use crate::service::{ApiError, ApiResult, Caller};
use tern_record::Role;
use tern_sync::protocol::{ErrorCode, RestrictedKeyEscrow, RestrictedKeyEscrowed};
use zeroize::Zeroizing;

/// Why an escrow or a grant is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EscrowError {
    #[error("the {0} is not 64 hex digits (a 32-byte X25519 key); update tern")]
    Malformed(&'static str),
    #[error(
        "the restricted public key sent does not belong to the secret key sent with it; \
         nothing was escrowed"
    )]
    Mismatch,
    #[error(
        "device {0} already escrowed another restricted key, and a device's restricted \
         key never changes; nothing was stored. If this device's store was replaced, \
         enrol it again as a new device"
    )]
    Other(String),
    #[error("only an enrolled device escrows its own restricted key")]
    NotADevice,
}

impl From<EscrowError> for ApiError {
    fn from(e: EscrowError) -> ApiError {
        let code = match e {
            EscrowError::Malformed(_) | EscrowError::Mismatch => ErrorCode::BadRequest,
            EscrowError::Other(_) => ErrorCode::Conflict,
            EscrowError::NotADevice => ErrorCode::Forbidden,
        };
        ApiError::new(code, e.to_string())
    }
}

/// 32 bytes from 64 hex digits.
fn key_bytes(hex_key: &str, what: &'static str) -> Result<Zeroizing<[u8; 32]>, EscrowError> {
    let bytes = Zeroizing::new(hex::decode(hex_key).map_err(|_| EscrowError::Malformed(what))?);
    if bytes.len() != 32 {
        return Err(EscrowError::Malformed(what));
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&bytes);
    Ok(out)
}

/// An escrow request checked for `device`: both keys are 32 bytes and the public key
/// is the secret key's, so a device cannot escrow a pair that does not open its blobs.
pub fn checked(device: &str, req: &RestrictedKeyEscrow) -> Result<EscrowedKey, EscrowError> {
    let secret = key_bytes(&req.secret, "restricted secret key")?;
    let public = key_bytes(&req.public, "restricted public key")?;
    let derived = crypto_box::SecretKey::from(*secret).public_key();
    if derived.as_bytes() != &*public {
        return Err(EscrowError::Mismatch);
    }
    Ok(EscrowedKey {
        device: device.to_string(),
        public: hex::encode(*public),
        secret: Zeroizing::new(hex::encode(*secret)),
    })
}

/// The once-per-key rule: the key the device escrowed before (`held`, the public key
/// the database kept) stands; the same key again is accepted, another refused.
pub fn judge(device: &str, held: &str, sent: &str) -> Result<(), EscrowError> {
    if held.eq_ignore_ascii_case(sent) {
        Ok(())
    } else {
        Err(EscrowError::Other(device.to_string()))
    }
}

/// Whether a proof of an account of `role` receives the device's restricted key: the
/// same rule that lets a role receive and write restricted sections.
pub fn receives_key(role: Role) -> bool {
    auth::allowed(role, Action::Restricted)
}

/// A proving user's public key as the proof sends it, checked before anything else
/// of the proof happens.
pub fn user_key(hex_key: &str) -> Result<crypto_box::PublicKey, EscrowError> {
    Ok(crypto_box::PublicKey::from(*key_bytes(
        hex_key,
        "user's public key",
    )?))
}

/// The escrowed secret key sealed to the user's public key (`crypto_box` sealed
/// box, hex).
pub fn seal_to(key: &EscrowedKey, user: &crypto_box::PublicKey) -> Result<String, EscrowError> {
    let secret = key_bytes(&key.secret, "escrowed restricted secret key")?;
    let sealed = user
        .seal(&mut crypto_box::aead::OsRng, secret.as_slice())
        .map_err(|_| EscrowError::Malformed("user's public key"))?;
    Ok(hex::encode(sealed))
}

/// `POST /v1/device/restricted-key`: the calling device (its token; a revoked device
/// never gets this far) escrows its restricted key pair.
pub async fn escrow<D: Db>(
    db: &D,
    caller: &Caller,
    req: RestrictedKeyEscrow,
) -> ApiResult<RestrictedKeyEscrowed> {
    let device = caller.device.as_deref().ok_or(EscrowError::NotADevice)?;
    let key = checked(device, &req)?;
    let held = db
        .escrow_restricted_key(&key, crate::service::now_ms())
        .await?;
    judge(device, &held, &key.public)?;
    let site = caller.sites.first().map_or("", String::as_str);
    db.audit(&caller.audit("escrow_restricted_key", site, device))
        .await?;
    Ok(RestrictedKeyEscrowed { public: held })
}

/// What the answer to a proof of an account of `role` on `device` carries: the
/// device's escrowed restricted key sealed to `user_public`, or nothing (a role that
/// may not read restricted sections, a client that sent no public key, a device that
/// escrowed nothing). Only `device`'s own key is ever read.
pub async fn grant_for<D: Db>(
    db: &D,
    device: &str,
    role: Role,
    user_public: Option<&crypto_box::PublicKey>,
) -> ApiResult<Option<String>> {
    let Some(user_public) = user_public else {
        return Ok(None);
    };
    if !receives_key(role) {
        return Ok(None);
    }
    let Some(key) = db.escrowed_restricted_key(device).await? else {
        return Ok(None);
    };
    Ok(Some(seal_to(&key, user_public)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (String, crypto_box::SecretKey) {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).expect("random");
        let s = crypto_box::SecretKey::from(b);
        (hex::encode(s.public_key().as_bytes()), s)
    }

    fn request(public: &str, secret: &crypto_box::SecretKey) -> RestrictedKeyEscrow {
        RestrictedKeyEscrow {
            public: public.to_string(),
            secret: hex::encode(secret.to_bytes()),
        }
    }

    #[test]
    fn an_escrow_names_its_own_pair() {
        let (public, secret) = pair();
        let (other_public, _) = pair();
        assert!(checked("d1", &request(&public, &secret)).is_ok());
        assert_eq!(
            checked("d1", &request(&other_public, &secret)).err(),
            Some(EscrowError::Mismatch)
        );
        let mut short = request(&public, &secret);
        short.secret.truncate(10);
        assert!(matches!(
            checked("d1", &short),
            Err(EscrowError::Malformed(_))
        ));
        let mut not_hex = request(&public, &secret);
        not_hex.public = "zz".repeat(32);
        assert!(matches!(
            checked("d1", &not_hex),
            Err(EscrowError::Malformed(_))
        ));
    }

    #[test]
    fn once_per_key() {
        let (a, _) = pair();
        let (b, _) = pair();
        assert_eq!(judge("d1", &a, &a), Ok(()));
        assert_eq!(judge("d1", &a, &b), Err(EscrowError::Other("d1".into())));
        let message = EscrowError::Other("d1".into()).to_string();
        assert!(message.contains("never changes"), "{message}");
    }

    #[test]
    fn only_roles_that_read_restricted_sections_receive_the_key() {
        assert!(!receives_key(Role::Screener));
        assert!(receives_key(Role::Clinician));
        assert!(receives_key(Role::Supervisor));
    }

    #[test]
    fn the_sealed_key_opens_with_the_users_secret_key_only() {
        let (public, secret) = pair();
        let key = checked("d1", &request(&public, &secret)).expect("checked");
        let (user_public, user) = pair();
        let user_public = user_key(&user_public).expect("a key");
        let sealed = hex::decode(seal_to(&key, &user_public).expect("sealed")).expect("hex");
        let opened = user.unseal(&sealed).expect("opens");
        assert_eq!(opened.as_slice(), secret.to_bytes().as_slice());
        let (_, stranger) = pair();
        assert!(stranger.unseal(&sealed).is_err());
        assert!(matches!(user_key("00"), Err(EscrowError::Malformed(_))));
    }
}
