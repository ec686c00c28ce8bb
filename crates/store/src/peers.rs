//! What the device keeps about the peers it exchanges bundles with (issue 16): its own
//! bundle keys (secret, inside the encrypted database), each peer's public keys (from
//! enrolment, or from the first online sync of a device enrolled before bundles), the
//! sequence of the next bundle to each peer, and the bundles imported from each peer
//! (sequence and SHA-256 of the file), which decides whether a bundle is new, the same
//! again, or a replay.
//!
//! The store holds bytes only: the keys are made and used by `tern_sync::bundle`.
//! Invariant: the secret never leaves the SQLCipher database except to the caller
//! that signs or opens a bundle.

use crate::enrolment::PeerRefusal;
use crate::error::Result;
use crate::store::Store;
use rusqlite::{params, OptionalExtension};

const PEER_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bundle_keys(
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS peers(
    peer_id TEXT PRIMARY KEY,
    sign BLOB NOT NULL,
    seal BLOB NOT NULL,
    out_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bundles_in(
    peer_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    digest BLOB NOT NULL,
    PRIMARY KEY(peer_id, seq));
";

/// A peer's public keys as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRow {
    pub id: String,
    /// Ed25519 verifying key (32 bytes).
    pub sign: Vec<u8>,
    /// X25519 public key (32 bytes).
    pub seal: Vec<u8>,
}

impl Store {
    fn ensure_peer_schema(&mut self) -> Result<()> {
        self.conn.execute_batch(PEER_SCHEMA)?;
        Ok(())
    }

    /// This device's bundle keys (64 secret bytes), if it has any yet.
    pub fn bundle_secret(&mut self) -> Result<Option<Vec<u8>>> {
        self.ensure_peer_schema()?;
        Ok(self
            .conn
            .query_row("SELECT secret FROM bundle_keys WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Keeps this device's bundle keys; keys once made are never replaced (a peer
    /// holds the public half).
    pub fn set_bundle_secret(&mut self, secret: &[u8]) -> Result<()> {
        self.ensure_peer_schema()?;
        self.in_tx(|s| {
            s.conn.execute(
                "INSERT OR IGNORE INTO bundle_keys(id, secret) VALUES (1, ?1)",
                [secret],
            )?;
            Ok(())
        })
    }

    /// The peers whose keys this device holds, by id.
    pub fn bundle_peers(&mut self) -> Result<Vec<PeerRow>> {
        self.ensure_peer_schema()?;
        let mut stmt = self
            .conn
            .prepare("SELECT peer_id, sign, seal FROM peers ORDER BY peer_id")?;
        let rows = stmt.query_map([], |r| {
            Ok(PeerRow {
                id: r.get(0)?,
                sign: r.get(1)?,
                seal: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a peer's public keys (enrolment, or a first online sync). A peer's
    /// keys, once known, do not change: other keys under the same id are refused.
    pub fn set_bundle_peer(&mut self, peer: &PeerRow) -> Result<()> {
        self.ensure_peer_schema()?;
        self.in_tx(|s| {
            let have: Option<(Vec<u8>, Vec<u8>)> = s
                .conn
                .query_row(
                    "SELECT sign, seal FROM peers WHERE peer_id = ?1",
                    [&peer.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match have {
                Some((sign, seal)) if sign == peer.sign && seal == peer.seal => Ok(()),
                Some(_) => Err(PeerRefusal::KeysChanged {
                    peer: peer.id.clone(),
                }
                .into()),
                None => {
                    s.conn.execute(
                        "INSERT INTO peers(peer_id, sign, seal) VALUES (?1, ?2, ?3)",
                        params![peer.id, peer.sign, peer.seal],
                    )?;
                    Ok(())
                }
            }
        })
    }

    /// The sequence number of the next bundle to `peer`, durably taken.
    pub fn next_bundle_seq(&mut self, peer: &str) -> Result<u64> {
        self.ensure_peer_schema()?;
        self.in_tx(|s| {
            let n = s.conn.execute(
                "UPDATE peers SET out_seq = out_seq + 1 WHERE peer_id = ?1",
                [peer],
            )?;
            if n == 0 {
                return Err(PeerRefusal::NoBundleKeys {
                    peer: peer.to_string(),
                }
                .into());
            }
            let seq: i64 = s.conn.query_row(
                "SELECT out_seq FROM peers WHERE peer_id = ?1",
                [peer],
                |r| r.get(0),
            )?;
            Ok(seq.max(0) as u64)
        })
    }

    /// What this device imported from `peer`: the digest recorded for bundle `seq`,
    /// and the newest sequence imported (0: none).
    pub fn bundle_seen(&mut self, peer: &str, seq: u64) -> Result<(Option<Vec<u8>>, u64)> {
        self.ensure_peer_schema()?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let digest = self
            .conn
            .query_row(
                "SELECT digest FROM bundles_in WHERE peer_id = ?1 AND seq = ?2",
                params![peer, seq],
                |r| r.get(0),
            )
            .optional()?;
        let last: i64 = self.conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM bundles_in WHERE peer_id = ?1",
            [peer],
            |r| r.get(0),
        )?;
        Ok((digest, last.max(0) as u64))
    }

    /// Notes a bundle from `peer` as imported, after all its pages were applied, and
    /// moves the push marker to what the peer acknowledged (never back).
    pub fn note_bundle_imported(
        &mut self,
        peer: &str,
        seq: u64,
        digest: &[u8],
        acked: i64,
    ) -> Result<()> {
        self.ensure_peer_schema()?;
        self.mark_pushed(acked)?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.in_tx(|s| {
            s.conn.execute(
                "INSERT OR IGNORE INTO bundles_in(peer_id, seq, digest) VALUES (?1, ?2, ?3)",
                params![peer, seq, digest],
            )?;
            Ok(())
        })
    }
}
