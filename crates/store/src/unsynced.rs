//! What a revoked device keeps: before tern-sync destroys a store the server revoked,
//! the documents with work the server never acknowledged are written to
//! `<db>.unsynced-<time>.tern`, encrypted, so the programme can recover that work
//! (docs/security.md, "Revocation").
//!
//! The file holds the store's key file as it was (each local user's data key wrapped
//! with their password; the restricted key granted to clinicians and supervisors) and
//! the documents encrypted with the data key (XChaCha20-Poly1305), their restricted
//! twins still sealed to the restricted key. So it opens exactly as the store did:
//! with a local user's password, restricted sections only with a holder's. Nothing in
//! it is readable without one of those passwords; [`recover_unsynced`] turns it back
//! into a change file (`tern device changes import`, or for a data manager to read).

use crate::error::{Result, StoreError};
use crate::keys::DataKey;
use crate::store::Store;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MAGIC: &str = "tern-unsynced";
const AAD: &[u8] = b"tern-unsynced 1";

#[derive(Serialize, Deserialize)]
struct UnsyncedFile {
    format: String,
    version: u32,
    /// The key file of the store, as it was.
    keys: serde_json::Value,
    nonce: String,
    /// The encrypted body: JSON `[{"id", "kind", "blobs": [hex]}]`, blobs as stored
    /// (a snapshot or change; sealed for restricted twins).
    body: String,
}

#[derive(Serialize, Deserialize)]
struct StoredDoc {
    id: String,
    kind: String,
    blobs: Vec<String>,
}

impl Store {
    /// Writes the documents holding changes the server has not acknowledged to an
    /// encrypted file beside the database; `None` when there are none. Called before
    /// a revoked device destroys its data.
    pub fn keep_unsynced(&mut self) -> Result<Option<PathBuf>> {
        let acked = self.push_acked_by_every_peer()?;
        let mut ids: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT doc_id FROM sync_log WHERE seq > ?1 AND from_server = 0",
            )?;
            let rows = stmt.query_map([acked], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if self.sealed_waiting_count()? > 0 {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT doc_id FROM sealed_waiting")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for id in rows {
                ids.push(id?);
            }
        }
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(None);
        }
        let mut docs = Vec::new();
        for id in ids {
            let (kind, snapshot): (String, Option<Vec<u8>>) = self.conn.query_row(
                "SELECT kind, snapshot FROM docs WHERE doc_id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut blobs: Vec<String> = snapshot.iter().map(hex::encode).collect();
            let mut stmt = self
                .conn
                .prepare("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map(params![id], |r| r.get::<_, Vec<u8>>(0))?;
            for row in rows {
                blobs.push(hex::encode(row?));
            }
            docs.push(StoredDoc { id, kind, blobs });
        }
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&docs).map_err(|e| StoreError::encode("unsynced work", e))?,
        );
        let mut nonce = [0u8; 24];
        crate::keys::random_fill(&mut nonce)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&self.data_key().0)
            .map_err(|e| StoreError::Random(e.to_string()))?;
        let body = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain.as_slice(),
                    aad: AAD,
                },
            )
            .map_err(|e| StoreError::Random(e.to_string()))?;
        let key_path = crate::keys::key_path(self.path());
        let keys_text =
            std::fs::read_to_string(&key_path).map_err(|e| StoreError::io(&key_path, e))?;
        let keys: serde_json::Value =
            serde_json::from_str(&keys_text).map_err(|e| StoreError::BadKeyFile {
                path: key_path.clone(),
                reason: e.to_string(),
            })?;
        let file = UnsyncedFile {
            format: MAGIC.into(),
            version: 1,
            keys,
            nonce: hex::encode(nonce),
            body: hex::encode(body),
        };
        let text =
            serde_json::to_vec(&file).map_err(|e| StoreError::encode("the unsynced file", e))?;
        let mut out = self.path().as_os_str().to_owned();
        out.push(format!(
            ".unsynced-{}.tern",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
        let out = PathBuf::from(out);
        crate::keys::write_atomic(&out, &text)?;
        Ok(Some(out))
    }
}

/// What [`Store::recover_unsynced`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecoverReport {
    /// Documents opened from the file.
    pub recovered: usize,
    /// Restricted twins left out: sealed, and the file's user does not hold the
    /// restricted key.
    pub restricted_left_out: usize,
    /// What merging them into this store did.
    pub import: crate::exchange::ImportReport,
}

impl Store {
    /// Opens a file written by [`Store::keep_unsynced`] with the password of `user`,
    /// a local user of the revoked device, and merges its documents into this store,
    /// as a change file would be (restricted twins only when `user` held the
    /// restricted key and this store's user may see them). All or nothing: a file
    /// that is not one, a wrong password or a damaged document changes nothing. No
    /// plain copy touches the disk.
    ///
    /// Refused on an enrolled store: its pushes carry only its own devices' changes,
    /// so the revoked device's work would block its sync (recover into a store made
    /// for it with `tern device init`).
    pub fn recover_unsynced(
        &mut self,
        file: &Path,
        user: &str,
        password: &str,
    ) -> Result<RecoverReport> {
        if self.enrolment()?.is_some() {
            return Err(StoreError::RecoverIntoEnrolled);
        }
        let (docs, restricted_left_out) = open_unsynced(file, user, password)?;
        let bytes = zeroize::Zeroizing::new(crate::exchange::change_file_bytes(&docs)?);
        let import = self.import_change_bytes(file, &bytes)?;
        Ok(RecoverReport {
            recovered: docs.len(),
            restricted_left_out,
            import,
        })
    }
}

/// Opens a file written by [`Store::keep_unsynced`] with a local user's password and
/// writes its documents as a change file at `out` (restricted twins only when `user`
/// held the restricted key; otherwise they are left out and counted). Returns how
/// many documents were written and how many restricted ones were left out.
pub fn recover_unsynced(
    file: &Path,
    user: &str,
    password: &str,
    out: &Path,
) -> Result<(usize, usize)> {
    let (written, left_out) = open_unsynced(file, user, password)?;
    crate::exchange::write_change_file(out, &written)?;
    Ok((written.len(), left_out))
}

type Documents = Vec<(String, String, automerge::Automerge)>;

/// The documents of an unsynced-work file, and how many restricted twins were left
/// out (sealed, and `user` holds no restricted key).
fn open_unsynced(file: &Path, user: &str, password: &str) -> Result<(Documents, usize)> {
    let bad = |reason: &str| StoreError::BadKeyFile {
        path: file.to_path_buf(),
        reason: reason.to_string(),
    };
    let text = std::fs::read(file).map_err(|e| StoreError::io(file, e))?;
    let f: UnsyncedFile =
        serde_json::from_slice(&text).map_err(|_| bad("not a tern unsynced-work file"))?;
    if f.format != MAGIC || f.version != 1 {
        return Err(bad("not a tern unsynced-work file of version 1"));
    }
    let mut keys = crate::keys::KeyFile::from_json(file, f.keys)?;
    let unlocked = keys.unlock(user, password)?;
    let restricted = keys.granted(user, &unlocked.user)?;
    let nonce: [u8; 24] = hex::decode(&f.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| bad("its nonce is damaged"))?;
    let body = hex::decode(&f.body).map_err(|_| bad("its body is not hex"))?;
    let data: &DataKey = &unlocked.data;
    let cipher = XChaCha20Poly1305::new_from_slice(&data.0)
        .map_err(|e| StoreError::Random(e.to_string()))?;
    let plain = zeroize::Zeroizing::new(
        cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: &body,
                    aad: AAD,
                },
            )
            .map_err(|_| bad("its body does not open with this key (altered or damaged)"))?,
    );
    let docs: Vec<StoredDoc> =
        serde_json::from_slice(&plain).map_err(|_| bad("its body is damaged"))?;
    let mut written = Vec::new();
    let mut left_out = 0;
    for d in docs {
        let mut doc = automerge::Automerge::new();
        let mut usable = true;
        for blob in &d.blobs {
            let bytes = hex::decode(blob).map_err(|_| bad("a blob is not hex"))?;
            let bytes = match (bytes.strip_prefix(crate::sealed::SEALED), &restricted) {
                (None, _) => bytes,
                (Some(sealed), Some(key)) => key
                    .unseal(sealed)
                    .map_err(|_| bad("a sealed blob does not open"))?,
                (Some(_), None) => {
                    usable = false;
                    break;
                }
            };
            crate::chunk::apply_chunks(&mut doc, [bytes])
                .map_err(|e| StoreError::BadDocument(d.id.clone(), e.to_string()))?;
        }
        if !usable {
            left_out += 1;
            continue;
        }
        written.push((d.id, d.kind, doc));
    }
    Ok((written, left_out))
}
