//! Restricted sections sealed on the device (issue 12): the data key opens the
//! database, but the restricted twins of records (FORMS.md 2.2) inside it are sealed
//! to a second key that only proven users whose role may read restricted sections
//! hold, so a screener who knows the data key of a shared tablet cannot read them
//! from the SQLite file.
//!
//! - Every blob of a restricted twin (its snapshot in `docs`, its rows in `changes`)
//!   is an X25519 sealed box (`crypto_box`, libsodium's `crypto_box_seal`) to the
//!   device's *restricted public key*, stored in `meta` and prefixed with [`SEALED`].
//!   Anyone can seal (a screener's session stores the twin skeletons of the records it
//!   creates and the restricted chunks it pulls), only the restricted secret key opens.
//! - The restricted secret key is never stored as such: it is sealed to the X25519
//!   public key of each proven local user whose role may read restricted sections, in
//!   their entry of the key file (`keys.rs`; each user's own secret key is wrapped
//!   with their password like the data key). The first such user to open the store
//!   on an enrolled device makes the key pair and seals every restricted blob already
//!   there (a store of an older version, or a screener's twin skeletons); every session
//!   of a holder grants it to the other proven users of such a role.
//! - Ids, hashes and revisions stay readable with the data key: the sync log and the
//!   projections work as before. A session without the key cannot load a twin:
//!   [`Store::may_see_restricted`] is false there, its alerts stay as a holder last
//!   derived them, and its pushes set the twins' changes aside (`sealed_waiting`) so the
//!   rest of the device's work leaves; the next session of a holder queues them again
//!   (new local sequences, so the server sees them in order) and pushes them.
//!
//! - Escrow (docs/security.md): a session holding the key hands the key pair to the
//!   server once ([`Store::restricted_key_to_escrow`], `meta.restricted_escrowed` once
//!   the server kept it), so the server's answer to a later proof of a clinician or
//!   supervisor carries the secret key sealed to that user's public key
//!   ([`Store::accept_restricted_key`]): they open restricted sections right after
//!   their proof, with no holder present. A grant by a holder's session still works
//!   where the server has no key (an older server, a device that never escrowed).
//!
//! Before sealing starts on a device (not enrolled, or no proven clinician or
//! supervisor opened it since this version), restricted twins are stored as before,
//! readable with the data key.

use crate::error::{Result, StoreError};
use crate::store::Store;
use automerge::{Automerge, Change};
use rusqlite::{params, OptionalExtension};

/// The prefix of a sealed blob (an Automerge chunk starts with `85 6f 4a 83`).
pub(crate) const SEALED: &[u8; 4] = b"TSB1";

/// The device's restricted key pair, as far as this session holds it.
#[derive(Default)]
pub(crate) struct Sealing {
    /// The restricted public key (`meta.restricted_public`); `None` before sealing
    /// started on this device.
    public: Option<crypto_box::PublicKey>,
    /// The restricted secret key, in sessions of users it was granted to.
    secret: Option<crypto_box::SecretKey>,
    /// The acting user's own secret key (opens a grant made by another session).
    user: Option<crypto_box::SecretKey>,
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealing")
            .field("active", &self.public.is_some())
            .field("holds_key", &self.secret.is_some())
            .finish()
    }
}

impl Sealing {
    pub(crate) fn with_user(user: crypto_box::SecretKey) -> Sealing {
        Sealing {
            user: Some(user),
            ..Sealing::default()
        }
    }

    pub(crate) fn set_user(&mut self, user: crypto_box::SecretKey) {
        self.user = Some(user);
    }
}

/// The device's restricted key pair as it is escrowed with the server; zeroed when
/// dropped, never printed.
pub struct RestrictedKeyPair {
    public: [u8; 32],
    secret: crypto_box::SecretKey,
}

impl std::fmt::Debug for RestrictedKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestrictedKeyPair")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

impl RestrictedKeyPair {
    /// The public key, 64 hex digits (as in `meta.restricted_public`).
    pub fn public_hex(&self) -> String {
        hex::encode(self.public)
    }

    /// The secret key, 64 hex digits, zeroed when dropped.
    pub fn secret_hex(&self) -> zeroize::Zeroizing<String> {
        let bytes = zeroize::Zeroizing::new(self.secret.to_bytes());
        zeroize::Zeroizing::new(hex::encode(bytes.as_slice()))
    }
}

/// Whether a document id is a restricted twin's.
pub(crate) fn is_twin(doc_id: &str) -> bool {
    doc_id.ends_with(".restricted")
}

fn sealed_error() -> StoreError {
    StoreError::Sealed
}

impl Store {
    /// Whether this session can read the restricted twins of this device: sealing has
    /// not started, or the acting user holds the restricted key.
    pub(crate) fn holds_restricted_key(&self) -> bool {
        self.sealing.public.is_none() || self.sealing.secret.is_some()
    }

    /// The restricted secret key, when this session holds it.
    pub(crate) fn sealing_secret(&self) -> Option<crypto_box::SecretKey> {
        self.sealing.secret.clone()
    }

    /// Whether restricted twins are sealed on this device (a restricted key exists).
    pub fn restricted_sealed(&self) -> bool {
        self.sealing.public.is_some()
    }

    /// Whether this session can load document `doc_id`.
    pub(crate) fn can_read(&self, doc_id: &str) -> bool {
        !is_twin(doc_id) || self.holds_restricted_key()
    }

    /// A blob as it is stored: sealed when it belongs to a restricted twin and sealing
    /// is on.
    pub(crate) fn seal_blob(&self, doc_id: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        match &self.sealing.public {
            Some(public) if is_twin(doc_id) => {
                let sealed = public
                    .seal(&mut crypto_box::aead::OsRng, bytes)
                    .map_err(|e| StoreError::Random(e.to_string()))?;
                let mut out = SEALED.to_vec();
                out.extend(sealed);
                Ok(out)
            }
            _ => Ok(bytes.to_vec()),
        }
    }

    /// A stored blob opened: a sealed one needs the restricted key.
    pub(crate) fn open_blob(&self, doc_id: &str, bytes: Vec<u8>) -> Result<Vec<u8>> {
        let Some(body) = bytes.strip_prefix(SEALED) else {
            return Ok(bytes);
        };
        let secret = self.sealing.secret.as_ref().ok_or_else(sealed_error)?;
        secret.unseal(body).map_err(|_| {
            StoreError::BadDocument(doc_id.into(), "a sealed part does not open".into())
        })
    }

    /// Inserts a change row (sealed for a twin); returns 1 when it was new.
    pub(crate) fn insert_change_row(
        &self,
        doc_id: &str,
        hash: &[u8],
        bytes: &[u8],
    ) -> Result<usize> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM changes WHERE doc_id = ?1 AND hash = ?2)",
            params![doc_id, hash],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(0);
        }
        let stored = self.seal_blob(doc_id, bytes)?;
        Ok(self.conn.execute(
            "INSERT OR IGNORE INTO changes(doc_id, hash, bytes) VALUES (?1, ?2, ?3)",
            params![doc_id, hash, stored],
        )?)
    }

    /// Reads the device's restricted public key and, when the acting user holds a
    /// grant, the restricted secret key; then starts sealing or grants the key when
    /// this session may (see the module). Runs after open, enrolment, proof and
    /// account-list changes.
    pub(crate) fn refresh_sealing(&mut self) -> Result<()> {
        self.read_public()?;
        let capable = self.role.may_see_restricted() && self.proven && self.enrolled()?;
        if !capable {
            return Ok(());
        }
        if self.sealing.public.is_none() {
            self.start_sealing()?;
        }
        if self.sealing.secret.is_none() {
            let keys = crate::keys::KeyFile::read(self.path())?;
            if let Some(user) = &self.sealing.user {
                self.sealing.secret = keys.granted(&self.user, user)?;
            }
        }
        if self.sealing.secret.is_some() {
            self.grant_to_capable()?;
        }
        Ok(())
    }

    /// The device's restricted key pair while the server has not kept it yet: in a
    /// session holding the key, until [`Store::note_restricted_key_escrowed`] records
    /// the server's answer. The client sends it over the device's authenticated
    /// channel (`POST /v1/device/restricted-key`).
    pub fn restricted_key_to_escrow(&self) -> Result<Option<RestrictedKeyPair>> {
        let (Some(public), Some(secret)) = (&self.sealing.public, &self.sealing.secret) else {
            return Ok(None);
        };
        let public = *public.as_bytes();
        if self.escrowed_public()?.as_deref() == Some(hex::encode(public).as_str()) {
            return Ok(None);
        }
        Ok(Some(RestrictedKeyPair {
            public,
            secret: secret.clone(),
        }))
    }

    /// Records that the server keeps the device's restricted key `public` (hex): it is
    /// not sent again. Ignored unless it is this device's key.
    pub fn note_restricted_key_escrowed(&mut self, public: &str) -> Result<()> {
        let Some(mine) = &self.sealing.public else {
            return Ok(());
        };
        let mine = hex::encode(mine.as_bytes());
        if !mine.eq_ignore_ascii_case(public) {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES ('restricted_escrowed', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [mine],
        )?;
        Ok(())
    }

    fn escrowed_public(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'restricted_escrowed'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The acting user's X25519 public key (hex), which a proof sends so that the
    /// server can seal the device's restricted key to it.
    pub fn user_public_key(&self) -> Option<String> {
        self.sealing
            .user
            .as_ref()
            .map(|u| hex::encode(u.public_key().as_bytes()))
    }

    /// Whether the acting user is proven with a role that may read restricted
    /// sections on a device where they are sealed, and does not hold the key yet: a
    /// proof would bring it when the device escrowed it.
    pub fn awaits_restricted_key(&self) -> bool {
        self.role.may_see_restricted()
            && self.proven
            && self.sealing.public.is_some()
            && self.sealing.secret.is_none()
    }

    /// Takes the device's restricted secret key that the server sealed to the acting
    /// user's public key in the answer to their proof: stored as their grant in the key
    /// file (as a holder's session grants it), so they open restricted sections at
    /// once. True when this session holds the key afterwards. Nothing is taken for a
    /// user who is not proven or whose role may not read restricted sections, nor a key
    /// that does not open with the user's key or is not this device's (its public key
    /// differs from `meta.restricted_public`).
    pub fn accept_restricted_key(&mut self, sealed: &[u8]) -> Result<bool> {
        if !(self.role.may_see_restricted() && self.proven) {
            return Ok(false);
        }
        if self.sealing.secret.is_some() {
            return Ok(true);
        }
        let (Some(public), Some(user)) = (&self.sealing.public, &self.sealing.user) else {
            return Ok(false);
        };
        let Ok(plain) = user.unseal(sealed).map(zeroize::Zeroizing::new) else {
            return Ok(false);
        };
        let Ok(mut bytes) = <[u8; 32]>::try_from(plain.as_slice()) else {
            return Ok(false);
        };
        let secret = crypto_box::SecretKey::from(bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        if secret.public_key().as_bytes() != public.as_bytes() {
            return Ok(false);
        }
        let public_hex = hex::encode(public.as_bytes());
        // The database lock orders key-file updates of concurrent sessions.
        self.in_tx(|s| {
            let mut keys = crate::keys::KeyFile::read(s.path())?;
            keys.drop_grant(&s.user);
            if keys.grant(&s.user, &secret)? {
                keys.write()?;
            }
            Ok(())
        })?;
        self.sealing.secret = Some(secret);
        // The server holds the key: nothing to escrow from this device.
        self.note_restricted_key_escrowed(&public_hex)?;
        self.refresh_sealing()?;
        Ok(self.sealing.secret.is_some())
    }

    fn enrolled(&self) -> Result<bool> {
        Ok(self.enrolment()?.is_some())
    }

    fn read_public(&mut self) -> Result<()> {
        let hex_key: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'restricted_public'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        self.sealing.public = match hex_key {
            None => None,
            Some(h) => Some(parse_public(&h)?),
        };
        Ok(())
    }

    /// Makes the device's restricted key pair, grants it to the acting user and seals
    /// every restricted blob already stored, in one transaction (the database lock
    /// also keeps a second connection of this store from making another pair).
    fn start_sealing(&mut self) -> Result<()> {
        self.conn.execute_batch("PRAGMA secure_delete = ON;")?;
        let result = self.in_tx(|s| {
            s.read_public()?;
            if s.sealing.public.is_some() {
                return Ok(());
            }
            let mut keys = crate::keys::KeyFile::read(s.path())?;
            // A grant written just before a crash, whose public key never reached
            // the database: reuse it.
            let secret = match (&s.sealing.user, keys.has_grant(&s.user)) {
                (Some(user), true) => keys.granted(&s.user, user)?,
                _ => None,
            };
            let secret = match secret {
                Some(k) => k,
                None => {
                    let mut bytes = [0u8; 32];
                    crate::keys::random_fill(&mut bytes)?;
                    let k = crypto_box::SecretKey::from(bytes);
                    zeroize::Zeroize::zeroize(&mut bytes);
                    keys.drop_grant(&s.user);
                    if !keys.grant(&s.user, &k)? {
                        return Err(StoreError::NoKeyPair);
                    }
                    keys.write()?;
                    k
                }
            };
            let public = secret.public_key();
            s.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('restricted_public', ?1)",
                [hex::encode(public.as_bytes())],
            )?;
            s.sealing.public = Some(public);
            s.sealing.secret = Some(secret);
            s.seal_existing()
        });
        if result.is_err() {
            // The transaction rolled back: the database holds no public key.
            self.sealing.public = None;
            self.sealing.secret = None;
        }
        let _ = self
            .conn
            .execute_batch("PRAGMA secure_delete = OFF; PRAGMA wal_checkpoint(TRUNCATE);");
        result
    }

    /// Seals every restricted blob stored in the clear (inside the open transaction).
    fn seal_existing(&mut self) -> Result<()> {
        let snapshots: Vec<(String, Vec<u8>)> = {
            let mut stmt = self.conn.prepare(
                "SELECT doc_id, snapshot FROM docs
                 WHERE kind = 'restricted' AND snapshot IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, bytes) in snapshots {
            if bytes.starts_with(SEALED) {
                continue;
            }
            let sealed = self.seal_blob(&id, &bytes)?;
            self.conn.execute(
                "UPDATE docs SET snapshot = ?2 WHERE doc_id = ?1",
                params![id, sealed],
            )?;
        }
        let rows: Vec<(i64, String, Vec<u8>)> = {
            let mut stmt = self.conn.prepare(
                "SELECT id, doc_id, bytes FROM changes WHERE doc_id LIKE '%.restricted'",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (row, id, bytes) in rows {
            if bytes.starts_with(SEALED) {
                continue;
            }
            let sealed = self.seal_blob(&id, &bytes)?;
            self.conn.execute(
                "UPDATE changes SET bytes = ?2 WHERE id = ?1",
                params![row, sealed],
            )?;
        }
        Ok(())
    }

    /// Grants the restricted key to every proven local user whose role may read
    /// restricted sections and takes it back from users whose role no longer may
    /// (while another holder remains, so the key is never lost).
    fn grant_to_capable(&mut self) -> Result<()> {
        let users: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare("SELECT name, role FROM users")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let unproven = self.unproven_users()?;
        let capable = |name: &str, role: &str| {
            !unproven.contains(name)
                && crate::roles::Role::parse(role).is_ok_and(|r| r.may_see_restricted())
        };
        let keys = crate::keys::KeyFile::read(self.path())?;
        let to_grant: Vec<&str> = users
            .iter()
            .filter(|(n, r)| capable(n, r) && !keys.has_grant(n))
            .map(|(n, _)| n.as_str())
            .collect();
        let holders = keys.grant_holders();
        let to_drop: Vec<&String> = holders
            .iter()
            .filter(|h| {
                users
                    .iter()
                    .find(|(n, _)| n == *h)
                    .is_none_or(|(n, r)| !capable(n, r))
            })
            .collect();
        if to_grant.is_empty() && to_drop.is_empty() {
            return Ok(());
        }
        let secret = match &self.sealing.secret {
            Some(s) => s.clone(),
            None => return Ok(()),
        };
        // The database lock orders key-file updates of concurrent sessions.
        self.in_tx(|s| {
            let mut keys = crate::keys::KeyFile::read(s.path())?;
            let mut changed = false;
            for name in &to_grant {
                changed |= keys.grant(name, &secret)?;
            }
            if holders.len() > to_drop.len() || !to_grant.is_empty() {
                for name in &to_drop {
                    changed |= keys.drop_grant(name);
                }
            }
            if changed {
                keys.write()?;
            }
            Ok(())
        })
    }

    /// The table of twin changes a session without the restricted key set aside.
    fn ensure_waiting_table(&self) -> Result<()> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sealed_waiting(
                doc_id TEXT NOT NULL, hash BLOB NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY(doc_id, hash));",
        )?;
        Ok(())
    }

    /// Before a push page is built: a session without the restricted key moves the
    /// unacknowledged changes of restricted twins out of the push queue (they cannot
    /// be read here, and must not stop the rest); a session with it puts them back at
    /// the end of the queue, in their order.
    pub(crate) fn sort_sealed_queue(&mut self) -> Result<()> {
        if self.sealing.public.is_none() {
            return Ok(());
        }
        let acked = self.push_acked()?;
        if self.holds_restricted_key() {
            let waiting: bool = self.conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'sealed_waiting')",
                [],
                |r| r.get(0),
            )?;
            if !waiting {
                return Ok(());
            }
            return self.in_tx(|s| {
                s.conn.execute(
                    "INSERT OR IGNORE INTO sync_log(doc_id, hash)
                     SELECT doc_id, hash FROM sealed_waiting ORDER BY seq",
                    [],
                )?;
                s.conn.execute("DELETE FROM sealed_waiting", [])?;
                Ok(())
            });
        }
        let any: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sync_log
             WHERE seq > ?1 AND from_server = 0 AND doc_id LIKE '%.restricted')",
            [acked],
            |r| r.get(0),
        )?;
        if !any {
            return Ok(());
        }
        self.in_tx(|s| {
            s.ensure_waiting_table()?;
            s.conn.execute(
                "INSERT OR IGNORE INTO sealed_waiting(doc_id, hash, seq)
                 SELECT doc_id, hash, seq FROM sync_log
                 WHERE seq > ?1 AND from_server = 0 AND doc_id LIKE '%.restricted'",
                [acked],
            )?;
            s.conn.execute(
                "DELETE FROM sync_log
                 WHERE seq > ?1 AND from_server = 0 AND doc_id LIKE '%.restricted'",
                [acked],
            )?;
            Ok(())
        })
    }

    /// How many twin changes wait for a session with the restricted key to push them.
    pub fn sealed_waiting_count(&self) -> Result<i64> {
        let waiting: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'sealed_waiting')",
            [],
            |r| r.get(0),
        )?;
        if !waiting {
            return Ok(0);
        }
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM sealed_waiting", [], |r| r.get(0))?)
    }

    /// Stores pulled chunks of a restricted twin in a session without the restricted
    /// key (inside the open transaction): every change they hold becomes a sealed
    /// change row, marked as pulled; the twin is merged when a holder next loads it.
    /// The record's conflict flag follows the server's summary when it sent one.
    /// Returns how many changes were new.
    pub(crate) fn stash_sealed(
        &mut self,
        id: &str,
        documents: &[Vec<u8>],
        changes: Vec<Change>,
        summary: Option<&tern_record::DocSummary>,
    ) -> Result<usize> {
        let mut all = changes;
        for d in documents {
            let doc = Automerge::load(d)
                .map_err(|e| StoreError::BadDocument(id.into(), format!("pulled chunk: {e}")))?;
            all.extend(doc.get_changes(&[]));
        }
        let mut new = 0;
        for c in &all {
            let hash = c.hash().0.to_vec();
            new += self.insert_change_row(id, &hash, c.raw_bytes())?;
            self.conn.execute(
                "INSERT INTO sync_log(doc_id, hash, from_server) VALUES (?1, ?2, 1)
                 ON CONFLICT(doc_id, hash) DO UPDATE SET from_server = 1",
                params![id, hash],
            )?;
        }
        self.conn.execute(
            "INSERT INTO docs(doc_id, kind, rev) VALUES (?1, 'restricted', 1)
             ON CONFLICT(doc_id) DO UPDATE SET rev = rev + 1",
            [id],
        )?;
        if let Some(summary @ tern_record::DocSummary::Restricted { .. }) = summary {
            self.write_summary(id, summary, false)?;
        }
        Ok(new)
    }
}

fn parse_public(h: &str) -> Result<crypto_box::PublicKey> {
    let bytes: [u8; 32] = hex::decode(h)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(StoreError::DamagedRestrictedKey)?;
    Ok(crypto_box::PublicKey::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::SEALED;
    use crate::{Enrolment, Role, Store};
    use std::path::Path;
    use tern_record::DocKind;

    const PW: &str = "pass-word-1";
    const MARKER: &str = "LAB-SEALED-4711";

    fn enrolled_clinician(db: &Path) -> Store {
        let mut amina = Store::init(db, "amina", Role::Clinician, PW, "site-a").expect("init");
        let accounts = [
            ("amina".to_string(), "clinician".to_string()),
            ("bilal".to_string(), "screener".to_string()),
            ("chen".to_string(), "supervisor".to_string()),
        ];
        amina
            .set_enrolment_with_accounts(
                &Enrolment {
                    server: "http://127.0.0.1:9".into(),
                    token: "t".into(),
                    account: "amina".into(),
                    role: "clinician".into(),
                    sites: vec!["site-a".into()],
                },
                Some((1, &accounts)),
            )
            .expect("enrolled");
        amina
    }

    fn write_restricted(s: &mut Store, record: &str) {
        for (field, value) in [
            ("hiv_offered", "true"),
            ("hiv_accepted", "true"),
            ("hiv_lab_id", MARKER),
        ] {
            s.set_answer(record, field, value, None).expect(field);
        }
    }

    /// Every stored blob of the restricted twins, read with the data key alone (as
    /// anyone who knows it can, with any SQLCipher client).
    fn raw_twin_blobs(db: &Path, user: &str) -> Vec<Vec<u8>> {
        let key = crate::keys::KeyFile::read(db)
            .expect("keys")
            .unwrap(user, PW)
            .expect("data key");
        let conn = crate::db::open(db, &key).expect("raw open");
        let mut out: Vec<Vec<u8>> = Vec::new();
        for sql in [
            "SELECT snapshot FROM docs WHERE kind = 'restricted' AND snapshot IS NOT NULL",
            "SELECT bytes FROM changes WHERE doc_id LIKE '%.restricted'",
        ] {
            let mut stmt = conn.prepare(sql).expect("sql");
            let rows = stmt.query_map([], |r| r.get(0)).expect("rows");
            out.extend(rows.map(|r| r.expect("row")));
        }
        out
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    fn value(s: &mut Store, record: &str) -> Option<String> {
        s.show(record)
            .expect("show")
            .answers
            .get("hiv_lab_id")
            .and_then(|v| v.as_str().map(str::to_string))
    }

    #[test]
    fn the_data_key_alone_does_not_open_restricted_sections() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("d.db");
        let mut amina = enrolled_clinician(&db);
        assert!(
            amina.restricted_sealed(),
            "enrolment by a clinician starts sealing"
        );
        amina.add_user("bilal", Role::Screener, PW).expect("bilal");
        let subject = amina
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let record = amina.new_record("pda", &subject).expect("record");
        write_restricted(&mut amina, &record);
        assert_eq!(value(&mut amina, &record).as_deref(), Some(MARKER));
        amina.compact(0).expect("fold into a snapshot");
        amina
            .set_answer(&record, "hiv_lab_id", &format!("{MARKER}-2"), None)
            .expect("and a change row after it");
        drop(amina);

        // The screener's data key opens the database, not the twins.
        let blobs = raw_twin_blobs(&db, "bilal");
        assert!(blobs.len() >= 2, "a snapshot and a change row");
        for b in &blobs {
            assert!(b.starts_with(SEALED), "every twin blob is sealed");
            assert!(!contains(b, MARKER));
            assert!(automerge::Change::from_bytes(b.clone()).is_err());
            assert!(automerge::Automerge::load(b).is_err());
        }
        let mut bilal = Store::open(&db, Some("bilal"), PW).expect("bilal");
        assert!(!bilal.may_see_restricted());
        assert_eq!(value(&mut bilal, &record), None);
        // He still works on the record.
        bilal
            .set_answer(&record, "weight_kg", "61", None)
            .expect("screener's work");
        drop(bilal);

        let mut amina = Store::open(&db, Some("amina"), PW).expect("amina");
        assert_eq!(
            value(&mut amina, &record).as_deref(),
            Some(format!("{MARKER}-2").as_str())
        );
    }

    #[test]
    fn a_store_made_before_sealing_is_sealed_when_a_clinician_proves_and_grants_follow() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("d.db");
        // Not enrolled: nothing is sealed yet (as a store of an older version).
        let mut amina = Store::init(&db, "amina", Role::Clinician, PW, "site-a").expect("init");
        amina.add_user("chen", Role::Supervisor, PW).expect("chen");
        amina.add_user("bilal", Role::Screener, PW).expect("bilal");
        let subject = amina
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let record = amina.new_record("pda", &subject).expect("record");
        write_restricted(&mut amina, &record);
        drop(amina);
        assert!(
            raw_twin_blobs(&db, "bilal")
                .iter()
                .any(|b| contains(b, MARKER)),
            "in the clear before sealing starts"
        );
        let mut amina = Store::open(&db, Some("amina"), PW).expect("amina");
        assert!(!amina.restricted_sealed());
        amina
            .set_enrolment(&Enrolment {
                server: "http://127.0.0.1:9".into(),
                token: "t".into(),
                account: "amina".into(),
                role: "clinician".into(),
                sites: vec!["site-a".into()],
            })
            .expect("enrolled");
        assert!(amina.restricted_sealed());
        for b in raw_twin_blobs(&db, "bilal") {
            assert!(b.starts_with(SEALED) && !contains(&b, MARKER));
        }
        assert_eq!(value(&mut amina, &record).as_deref(), Some(MARKER));
        drop(amina);

        // Chen (supervisor) proves later with no key in the answer (a device that
        // escrowed nothing, or an older server): no key until a holder's session
        // grants it. With an escrowed key the answer brings it (the test below).
        let mut chen = Store::open(&db, Some("chen"), PW).expect("chen");
        chen.set_proven("supervisor").expect("proven");
        assert!(!chen.may_see_restricted(), "proven, but holds no key yet");
        assert_eq!(value(&mut chen, &record), None);
        drop(chen);
        drop(Store::open(&db, Some("amina"), PW).expect("amina grants"));
        let mut chen = Store::open(&db, Some("chen"), PW).expect("chen");
        assert!(chen.may_see_restricted());
        assert_eq!(value(&mut chen, &record).as_deref(), Some(MARKER));
        // A password change keeps it.
        chen.change_password("another-pass-9").expect("password");
        drop(chen);
        let mut chen = Store::open(&db, Some("chen"), "another-pass-9").expect("chen");
        assert_eq!(value(&mut chen, &record).as_deref(), Some(MARKER));
    }

    /// What the server does with an escrowed key (crates/server/src/escrow.rs): seal
    /// it to the proving user's public key.
    fn sealed_to(secret_hex: &str, user_public_hex: &str) -> Vec<u8> {
        let secret: [u8; 32] = hex::decode(secret_hex)
            .expect("hex")
            .try_into()
            .expect("32");
        let public: [u8; 32] = hex::decode(user_public_hex)
            .expect("hex")
            .try_into()
            .expect("32");
        crypto_box::PublicKey::from(public)
            .seal(&mut crypto_box::aead::OsRng, &secret)
            .expect("seal")
    }

    #[test]
    fn a_key_from_the_proof_opens_restricted_sections_at_once_and_only_for_its_roles() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("d.db");
        let mut amina = enrolled_clinician(&db);
        amina.add_user("chen", Role::Supervisor, PW).expect("chen");
        amina.add_user("bilal", Role::Screener, PW).expect("bilal");
        let subject = amina
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let record = amina.new_record("pda", &subject).expect("record");
        write_restricted(&mut amina, &record);
        // The holder's session escrows the key pair once the server keeps it.
        let pair = amina
            .restricted_key_to_escrow()
            .expect("escrow")
            .expect("a holder has a key to escrow");
        let secret = pair.secret_hex();
        amina
            .note_restricted_key_escrowed(&pair.public_hex())
            .expect("kept");
        assert!(amina.restricted_key_to_escrow().expect("again").is_none());
        assert!(
            !format!("{pair:?}").contains(secret.as_str()),
            "never printed"
        );
        drop(amina);

        // Chen proves later; the answer to her proof carries the key sealed to her:
        // she reads the restricted sections at once, no holder's session between.
        let mut chen = Store::open(&db, Some("chen"), PW).expect("chen");
        assert!(!chen.awaits_restricted_key(), "not proven yet");
        let chen_public = chen.user_public_key().expect("her key");
        assert!(
            !chen
                .accept_restricted_key(&sealed_to(&secret, &chen_public))
                .expect("accept"),
            "an unproven user takes nothing"
        );
        chen.set_proven("supervisor").expect("proven");
        assert!(chen.awaits_restricted_key());
        assert_eq!(value(&mut chen, &record), None);
        // A key that is not this device's is not taken.
        let mut other = [0u8; 32];
        crate::keys::random_fill(&mut other).expect("random");
        assert!(!chen
            .accept_restricted_key(&sealed_to(&hex::encode(other), &chen_public))
            .expect("accept"));
        assert!(!chen.may_see_restricted());
        assert!(chen
            .accept_restricted_key(&sealed_to(&secret, &chen_public))
            .expect("accept"));
        assert!(chen.may_see_restricted() && !chen.awaits_restricted_key());
        assert_eq!(value(&mut chen, &record).as_deref(), Some(MARKER));
        drop(chen);
        // Kept as her grant in the key file.
        let mut chen = Store::open(&db, Some("chen"), PW).expect("chen");
        assert_eq!(value(&mut chen, &record).as_deref(), Some(MARKER));
        drop(chen);

        // A screener's store takes nothing, even a key sealed to him.
        let mut bilal = Store::open(&db, Some("bilal"), PW).expect("bilal");
        bilal.set_proven("screener").expect("proven");
        assert!(!bilal.awaits_restricted_key());
        let bilal_public = bilal.user_public_key().expect("his key");
        assert!(!bilal
            .accept_restricted_key(&sealed_to(&secret, &bilal_public))
            .expect("accept"));
        assert_eq!(value(&mut bilal, &record), None);
        assert!(!crate::keys::KeyFile::read(&db)
            .expect("keys")
            .has_grant("bilal"));
        drop(bilal);
        for b in raw_twin_blobs(&db, "bilal") {
            assert!(b.starts_with(SEALED) && !contains(&b, MARKER));
        }
    }

    #[test]
    fn a_screeners_push_sets_restricted_changes_aside_for_a_holder() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("d.db");
        let mut amina = enrolled_clinician(&db);
        amina.add_user("bilal", Role::Screener, PW).expect("bilal");
        let subject = amina
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let record = amina.new_record("pda", &subject).expect("record");
        let page = amina.pending_changes(0, 1 << 24).expect("page");
        amina.mark_pushed(page.upto.expect("upto")).expect("ack");
        write_restricted(&mut amina, &record);
        drop(amina);

        let mut bilal = Store::open(&db, Some("bilal"), PW).expect("bilal");
        bilal.set_proven("screener").expect("proven");
        bilal
            .set_answer(&record, "weight_kg", "61", None)
            .expect("screener's work");
        let page = bilal.pending_changes(0, 1 << 24).expect("page");
        assert!(!page.chunks.is_empty(), "his work travels");
        assert!(page.chunks.iter().all(|c| c.kind != DocKind::Restricted));
        bilal.mark_pushed(page.upto.expect("upto")).expect("ack");
        assert!(
            !bilal.has_pending_changes().expect("pending"),
            "never blocks"
        );
        assert_eq!(bilal.sealed_waiting_count().expect("waiting"), 3);
        drop(bilal);

        let mut amina = Store::open(&db, Some("amina"), PW).expect("amina");
        assert!(amina.has_pending_changes().expect("pending"));
        let page = amina.pending_changes(0, 1 << 24).expect("page");
        let twin: Vec<_> = page
            .chunks
            .iter()
            .filter(|c| c.kind == DocKind::Restricted)
            .collect();
        assert_eq!(twin.len(), 3, "her three answers, in order");
        assert!(twin
            .iter()
            .all(|c| automerge::Change::from_bytes(c.bytes.clone()).is_ok()));
        amina.mark_pushed(page.upto.expect("upto")).expect("ack");
        assert!(!amina.has_pending_changes().expect("pending"));
        assert_eq!(amina.sealed_waiting_count().expect("waiting"), 0);
    }
}
