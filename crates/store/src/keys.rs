//! Key management: one random 32-byte data key per store, wrapped for each local user
//! by a key derived from their password with Argon2id (XChaCha20-Poly1305, the user
//! name bound as associated data so wrapped keys cannot be swapped between users).
//! The wrapped keys live in `<db>.keys` beside the database because they cannot be
//! inside it; the file is replaced atomically so a crash leaves the old or the new one.

use crate::error::{Result, StoreError};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// Argon2id memory in KiB (19 MiB, the OWASP minimum the design asks for).
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const FORMAT: &str = "tern-keys";

/// The store's data key (and, with the same type, a key derived from a password).
/// Never written anywhere unwrapped; zeroed on drop.
pub(crate) struct DataKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl DataKey {
    pub(crate) fn random() -> Result<DataKey> {
        let mut k = [0u8; 32];
        random_fill(&mut k)?;
        let key = DataKey(k);
        k.zeroize();
        Ok(key)
    }

    /// The SQLCipher raw-key literal, so SQLCipher skips its own key derivation;
    /// zeroed when dropped.
    pub(crate) fn pragma_literal(&self) -> Zeroizing<String> {
        let hex = Zeroizing::new(hex::encode(self.0));
        Zeroizing::new(format!("\"x'{}'\"", hex.as_str()))
    }
}

pub(crate) fn random_fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| StoreError::Random(e.to_string()))
}

/// One user's wrapped copy of the data key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WrappedKey {
    name: String,
    kdf: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    nonce: String,
    wrapped: String,
    /// The user's X25519 public key (hex): the device's restricted key is granted to
    /// a user by sealing it to this key (sealed.rs), without their password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public: Option<String>,
    /// The user's X25519 secret key wrapped with the same password-derived key as
    /// the data key (`nonce || ciphertext`, hex; the user name and `user-key` bound
    /// as associated data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// The device's restricted secret key sealed to `public` (hex): present only for
    /// proven users whose role may read restricted sections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restricted: Option<String>,
}

/// What a user's password opens: the data key and the user's own secret key.
pub(crate) struct Unlocked {
    pub(crate) data: DataKey,
    pub(crate) user: crypto_box::SecretKey,
    /// The entry had no key pair yet (a key file written before sealing) and got one:
    /// the caller writes the file.
    pub(crate) upgraded: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFileRaw {
    format: String,
    version: u32,
    users: Vec<WrappedKey>,
}

/// The key file of one store.
#[derive(Debug, Clone)]
pub(crate) struct KeyFile {
    path: PathBuf,
    raw: KeyFileRaw,
}

/// Where the key file of a database lives.
pub fn key_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".keys");
    PathBuf::from(s)
}

impl KeyFile {
    pub(crate) fn new(db: &Path) -> KeyFile {
        KeyFile {
            path: key_path(db),
            raw: KeyFileRaw {
                format: FORMAT.into(),
                version: 1,
                users: Vec::new(),
            },
        }
    }

    pub(crate) fn read(db: &Path) -> Result<KeyFile> {
        let path = key_path(db);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoStore {
                    path: db.to_path_buf(),
                })
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let bad = |reason: String| StoreError::BadKeyFile {
            path: path.clone(),
            reason,
        };
        let raw: KeyFileRaw = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if raw.format != FORMAT || raw.version != 1 {
            return Err(bad(format!(
                "format {} version {} is not tern-keys version 1",
                raw.format, raw.version
            )));
        }
        Ok(KeyFile { path, raw })
    }

    /// A key file's content kept elsewhere (a revoked device's unsynced-work file).
    pub(crate) fn from_json(path: &Path, value: serde_json::Value) -> Result<KeyFile> {
        let raw: KeyFileRaw =
            serde_json::from_value(value).map_err(|e| StoreError::BadKeyFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(KeyFile {
            path: path.to_path_buf(),
            raw,
        })
    }

    pub(crate) fn users(&self) -> Vec<String> {
        self.raw.users.iter().map(|u| u.name.clone()).collect()
    }

    /// The acting user: the one named, or the only one.
    pub(crate) fn pick_user(&self, name: Option<&str>) -> Result<String> {
        match name {
            Some(n) if self.raw.users.iter().any(|u| u.name == n) => Ok(n.to_string()),
            Some(n) => Err(StoreError::UnknownUser(n.to_string())),
            None => match self.raw.users.as_slice() {
                [only] => Ok(only.name.clone()),
                [] => Err(StoreError::BadKeyFile {
                    path: self.path.clone(),
                    reason: "it holds no user".into(),
                }),
                many => Err(StoreError::WhichUser(
                    many.iter()
                        .map(|u| u.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
            },
        }
    }

    /// Wraps `key` for `name` (replacing an existing entry: a password change).
    /// Returns the user's new secret key (their key pair is made here).
    pub(crate) fn wrap(
        &mut self,
        name: &str,
        password: &str,
        key: &DataKey,
    ) -> Result<crypto_box::SecretKey> {
        crate::password::check(password)?;
        let mut salt = [0u8; 16];
        random_fill(&mut salt)?;
        let mut nonce = [0u8; 24];
        random_fill(&mut nonce)?;
        let kek = derive(password, &salt, M_COST, T_COST, P_COST)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&kek.0)
            .map_err(|e| StoreError::Random(e.to_string()))?;
        let wrapped = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: &key.0,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|e| StoreError::Random(e.to_string()))?;
        let user = user_secret_random()?;
        let mut entry = WrappedKey {
            name: name.to_string(),
            kdf: "argon2id-v19".into(),
            m_cost: M_COST,
            t_cost: T_COST,
            p_cost: P_COST,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            wrapped: hex::encode(wrapped),
            public: None,
            secret: None,
            restricted: None,
        };
        set_user_key(&mut entry, &kek, &user)?;
        self.raw.users.retain(|u| u.name != name);
        self.raw.users.push(entry);
        Ok(user)
    }

    /// Unwraps the data key with `name`'s password.
    pub(crate) fn unwrap(&self, name: &str, password: &str) -> Result<DataKey> {
        Ok(self.open_entry(name, password)?.0)
    }

    /// Unwraps the data key and the user's secret key with `name`'s password; an
    /// entry without a key pair (written before sealing) gets one here.
    pub(crate) fn unlock(&mut self, name: &str, password: &str) -> Result<Unlocked> {
        let (data, kek) = self.open_entry(name, password)?;
        let path = self.path.clone();
        let entry = self
            .raw
            .users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.to_string()))?;
        let (user, upgraded) = match &entry.secret {
            Some(sealed) => {
                let bad = |reason: &str| StoreError::BadKeyFile {
                    path: path.clone(),
                    reason: format!("entry of `{name}`: {reason}"),
                };
                let bytes = hex::decode(sealed).map_err(|_| bad("user key is not hex"))?;
                if bytes.len() < 24 {
                    return Err(bad("user key is too short"));
                }
                let cipher = XChaCha20Poly1305::new_from_slice(&kek.0)
                    .map_err(|e| StoreError::Random(e.to_string()))?;
                let nonce: [u8; 24] = bytes[..24].try_into().map_err(|_| bad("nonce"))?;
                let plain = Zeroizing::new(
                    cipher
                        .decrypt(
                            (&nonce).into(),
                            Payload {
                                msg: &bytes[24..],
                                aad: user_key_aad(name).as_bytes(),
                            },
                        )
                        .map_err(|_| bad("user key does not open with this password"))?,
                );
                let mut key: [u8; 32] = plain
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad("user key has the wrong length"))?;
                let secret = crypto_box::SecretKey::from(key);
                key.zeroize();
                (secret, false)
            }
            None => {
                let user = user_secret_random()?;
                set_user_key(entry, &kek, &user)?;
                (user, true)
            }
        };
        Ok(Unlocked {
            data,
            user,
            upgraded,
        })
    }

    /// Grants the device's restricted secret key to `name` (sealed to their public
    /// key). False when they hold it already or have no key pair yet.
    pub(crate) fn grant(&mut self, name: &str, restricted: &crypto_box::SecretKey) -> Result<bool> {
        let Some(entry) = self.raw.users.iter_mut().find(|u| u.name == name) else {
            return Ok(false);
        };
        if entry.restricted.is_some() {
            return Ok(false);
        }
        let Some(public) = entry
            .public
            .as_deref()
            .and_then(|p| hex::decode(p).ok())
            .and_then(|p| <[u8; 32]>::try_from(p).ok())
        else {
            return Ok(false);
        };
        let bytes = Zeroizing::new(restricted.to_bytes());
        let sealed = crypto_box::PublicKey::from(public)
            .seal(&mut crypto_box::aead::OsRng, bytes.as_slice())
            .map_err(|e| StoreError::Random(e.to_string()))?;
        entry.restricted = Some(hex::encode(sealed));
        Ok(true)
    }

    /// Whether `name` holds a grant of the restricted key.
    pub(crate) fn has_grant(&self, name: &str) -> bool {
        self.raw
            .users
            .iter()
            .any(|u| u.name == name && u.restricted.is_some())
    }

    /// The users holding a grant of the restricted key.
    pub(crate) fn grant_holders(&self) -> Vec<String> {
        self.raw
            .users
            .iter()
            .filter(|u| u.restricted.is_some())
            .map(|u| u.name.clone())
            .collect()
    }

    /// Removes `name`'s grant; true when there was one.
    pub(crate) fn drop_grant(&mut self, name: &str) -> bool {
        self.raw
            .users
            .iter_mut()
            .find(|u| u.name == name)
            .and_then(|u| u.restricted.take())
            .is_some()
    }

    /// The restricted secret key granted to `name`, opened with their secret key.
    pub(crate) fn granted(
        &self,
        name: &str,
        user: &crypto_box::SecretKey,
    ) -> Result<Option<crypto_box::SecretKey>> {
        let Some(sealed) = self
            .raw
            .users
            .iter()
            .find(|u| u.name == name)
            .and_then(|u| u.restricted.as_deref())
        else {
            return Ok(None);
        };
        let bad = |reason: &str| StoreError::BadKeyFile {
            path: self.path.clone(),
            reason: format!("restricted key of `{name}`: {reason}"),
        };
        let sealed = hex::decode(sealed).map_err(|_| bad("not hex"))?;
        let plain = Zeroizing::new(user.unseal(&sealed).map_err(|_| bad("does not open"))?);
        let mut key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| bad("wrong length"))?;
        let secret = crypto_box::SecretKey::from(key);
        key.zeroize();
        Ok(Some(secret))
    }

    /// The data key and the password-derived key of `name`'s entry.
    fn open_entry(&self, name: &str, password: &str) -> Result<(DataKey, DataKey)> {
        let entry = self
            .raw
            .users
            .iter()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.to_string()))?;
        let bad = |reason: &str| StoreError::BadKeyFile {
            path: self.path.clone(),
            reason: format!("entry of `{name}`: {reason}"),
        };
        if entry.kdf != "argon2id-v19" {
            return Err(bad("unknown key derivation"));
        }
        let salt = hex::decode(&entry.salt).map_err(|_| bad("salt is not hex"))?;
        let nonce: [u8; 24] = hex::decode(&entry.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| bad("nonce is not 24 hex bytes"))?;
        let wrapped = hex::decode(&entry.wrapped).map_err(|_| bad("wrapped key is not hex"))?;
        let kek = derive(password, &salt, entry.m_cost, entry.t_cost, entry.p_cost)
            .map_err(|_| bad("key derivation parameters refused"))?;
        let cipher = XChaCha20Poly1305::new_from_slice(&kek.0)
            .map_err(|e| StoreError::Random(e.to_string()))?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    (&nonce).into(),
                    Payload {
                        msg: &wrapped,
                        aad: name.as_bytes(),
                    },
                )
                .map_err(|_| StoreError::WrongPassword(name.to_string()))?,
        );
        let mut key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| bad("wrapped key has the wrong length"))?;
        let data = DataKey(key);
        key.zeroize();
        Ok((data, kek))
    }

    /// Writes the file atomically: temp file, fsync, rename, fsync of the folder.
    pub(crate) fn write(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.raw)
            .map_err(|e| StoreError::encode("the key file", e))?;
        write_atomic(&self.path, text.as_bytes())
    }
}

/// The key of another encrypted database (a supervisor hub's server database at
/// `db`), wrapped for `holder` with a passphrase in `<db>.keys` exactly like a store's
/// data key: made at random and written when no key file exists yet, unwrapped with
/// the passphrase after. Returned as 64 hex digits for SQLCipher's raw key. A wrong
/// passphrase is [`StoreError::WrongPassword`]; without the passphrase the database
/// and the key file give nothing. The hex string is wiped from memory when dropped.
pub fn database_key(db: &Path, holder: &str, passphrase: &str) -> Result<Zeroizing<String>> {
    let path = key_path(db);
    let key = if path.exists() {
        KeyFile::read(db)?.unwrap(holder, passphrase)?
    } else {
        if db.exists() {
            return Err(StoreError::BadKeyFile {
                path,
                reason: "missing, but the database exists: restore the key file".into(),
            });
        }
        let key = DataKey::random()?;
        let mut file = KeyFile::new(db);
        file.wrap(holder, passphrase, &key)?;
        file.write()?;
        key
    };
    Ok(Zeroizing::new(hex::encode(key.0)))
}

/// Associated data of a user's wrapped secret key.
fn user_key_aad(name: &str) -> String {
    format!("{name}\0user-key")
}

fn user_secret_random() -> Result<crypto_box::SecretKey> {
    let mut k = [0u8; 32];
    random_fill(&mut k)?;
    let secret = crypto_box::SecretKey::from(k);
    k.zeroize();
    Ok(secret)
}

/// Stores `user`'s public key and its secret key wrapped with `kek` in `entry`.
fn set_user_key(entry: &mut WrappedKey, kek: &DataKey, user: &crypto_box::SecretKey) -> Result<()> {
    let mut nonce = [0u8; 24];
    random_fill(&mut nonce)?;
    let cipher =
        XChaCha20Poly1305::new_from_slice(&kek.0).map_err(|e| StoreError::Random(e.to_string()))?;
    let bytes = Zeroizing::new(user.to_bytes());
    let wrapped = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: bytes.as_slice(),
                aad: user_key_aad(&entry.name).as_bytes(),
            },
        )
        .map_err(|e| StoreError::Random(e.to_string()))?;
    let mut out = nonce.to_vec();
    out.extend(wrapped);
    entry.public = Some(hex::encode(user.public_key().as_bytes()));
    entry.secret = Some(hex::encode(out));
    entry.restricted = None;
    Ok(())
}

/// The key file's Argon2 parameters do not make a key (a damaged or edited file).
fn bad_key_parameters(e: &argon2::Error) -> StoreError {
    StoreError::decode("the key file's Argon2 parameters", e)
}

fn derive(password: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<DataKey> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| bad_key_parameters(&e))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|e| bad_key_parameters(&e))?;
    let key = DataKey(out);
    out.zeroize();
    Ok(key)
}

/// Replaces `path` with `bytes` so that a crash at any point leaves either the old or
/// the new content, never a mix: write a temp file, fsync it, rename, fsync the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // Only the owner may read the wrapped keys.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| StoreError::io(&tmp, e))?;
    f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))?;
    let d = std::fs::File::open(&dir).map_err(|e| StoreError::io(&dir, e))?;
    d.sync_all().map_err(|e| StoreError::io(&dir, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_and_wrong_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("s.db");
        let key = DataKey::random().expect("random");
        let mut kf = KeyFile::new(&db);
        kf.wrap("amina", "correct horse", &key).expect("wrap");
        kf.write().expect("write");
        let kf = KeyFile::read(&db).expect("read");
        let back = kf.unwrap("amina", "correct horse").expect("unwrap");
        assert_eq!(back.0, key.0);
        assert!(matches!(
            kf.unwrap("amina", "wrong"),
            Err(StoreError::WrongPassword(_))
        ));
        assert!(matches!(
            kf.unwrap("bob", "x"),
            Err(StoreError::UnknownUser(_))
        ));
    }

    #[test]
    fn short_and_common_passwords_wrap_nothing() {
        use crate::password::PasswordError;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("s.db");
        let key = DataKey::random().expect("random");
        let mut kf = KeyFile::new(&db);
        for (password, why) in [
            ("1234", PasswordError::TooShort(8)),
            ("pass-a", PasswordError::TooShort(8)),
            ("iloveyou1", PasswordError::Common),
            ("Password1", PasswordError::Common),
        ] {
            match kf.wrap("amina", password, &key) {
                Err(StoreError::WeakPassword(e)) => assert_eq!(e, why),
                other => panic!("{password}: {other:?}"),
            }
        }
        assert!(kf.users().is_empty(), "nothing wrapped");
        // A refused first user leaves no store behind.
        let refused = crate::Store::init(&db, "amina", crate::Role::Screener, "password1", "s");
        assert!(matches!(refused, Err(StoreError::WeakPassword(_))));
        assert!(!db.exists() && !key_path(&db).exists());
    }

    #[test]
    fn entries_cannot_be_swapped_between_users() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("s.db");
        let key = DataKey::random().expect("random");
        let mut kf = KeyFile::new(&db);
        kf.wrap("a", "pass-a-long", &key).expect("wrap");
        kf.wrap("b", "pass-b-long", &key).expect("wrap");
        let a = kf.raw.users[0].clone();
        kf.raw.users[1].wrapped = a.wrapped;
        kf.raw.users[1].nonce = a.nonce;
        kf.raw.users[1].salt = a.salt;
        assert!(matches!(
            kf.unwrap("b", "pass-a-long"),
            Err(StoreError::WrongPassword(_))
        ));
    }
}
