//! What the device remembers about sync: every change it holds numbered by a local
//! sequence (`sync_log`), the sync schema and its upgrades, the site's account list,
//! and the status `tern device status` prints. Its neighbours: `enrolment.rs` (the
//! hubs and servers it syncs with, each with its cursor and push marker),
//! `outgoing.rs` (push pages) and `incoming.rs` (applying pulled pages).
//!
//! Invariants:
//! - Every change row ever inserted gets a `sync_log` entry in the same transaction,
//!   by an SQLite trigger, so no write path (edit, merge, import, future ones) can
//!   forget to queue its changes for sync. Changes that predate enrolment are added by
//!   a one-time walk at enrolment.
//! - A change pulled from a peer is marked `from_server` in the transaction that
//!   applies it; it is never pushed back, to any peer.
//! - Each peer's push marker (`push_acked`) and cursor only move forward, each in the
//!   transaction that makes what they cover durable (the pulled changes and their
//!   projections for the cursor).
//! - The token lives only inside the encrypted database.

use crate::enrolment::{SyncPeer, MOVE_TO_PEERS, PEERS_SCHEMA};
use crate::error::{Result, StoreError};
use crate::roles::Role;
use crate::store::Store;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// Version of the sync tables, kept in `meta.sync_schema`.
const SYNC_SCHEMA: &str = "5";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sync_log(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    from_server INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS sync_log_doc_hash ON sync_log(doc_id, hash);
CREATE INDEX IF NOT EXISTS sync_log_doc ON sync_log(doc_id, seq);
CREATE INDEX IF NOT EXISTS sync_log_pulled ON sync_log(doc_id, from_server);
CREATE TRIGGER IF NOT EXISTS sync_log_changes AFTER INSERT ON changes BEGIN
    INSERT OR IGNORE INTO sync_log(doc_id, hash) VALUES (NEW.doc_id, NEW.hash);
END;
CREATE TABLE IF NOT EXISTS sync_state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// The sync state shown by `tern device status`.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub device_id: String,
    pub server: Option<String>,
    pub account: Option<String>,
    pub sites: Vec<String>,
    pub last_sync: Option<String>,
    pub pending_changes: i64,
    pub cursor: i64,
    /// Local users who have not proven their account on this device: their changes
    /// wait on the device until each signs in once while online.
    pub unproven_users: Vec<String>,
    /// Every hub and server this device enrolled with (the fields above are the
    /// chosen one's, by default the first).
    pub peers: Vec<SyncPeer>,
}

impl Store {
    /// Creates the sync tables and trigger when missing and queues every change the
    /// store already holds (a one-time walk, done at enrolment).
    pub(crate) fn ensure_sync_schema(&mut self) -> Result<()> {
        let have: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'sync_schema'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if have.as_deref() == Some(SYNC_SCHEMA) {
            return Ok(());
        }
        if have.is_some() {
            // An older version of the sync tables: add what is new (indexes). The
            // walk below is for enrolment only: run again, it would queue documents
            // pulled whole, whose changes are not in the log, to be pushed back.
            return self.in_tx(|s| {
                s.unique_per_document()?;
                s.conn.execute_batch(SCHEMA)?;
                s.conn.execute_batch(PEERS_SCHEMA)?;
                s.conn.execute_batch(MOVE_TO_PEERS)?;
                s.conn.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'sync_schema'",
                    [SYNC_SCHEMA],
                )?;
                Ok(())
            });
        }
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT doc_id FROM docs ORDER BY doc_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        self.in_tx(|s| {
            s.conn.execute_batch(SCHEMA)?;
            s.conn.execute_batch(PEERS_SCHEMA)?;
            for id in &ids {
                let doc = s.load_from_db(id)?;
                for c in doc.get_changes(&[]) {
                    s.conn.execute(
                        "INSERT OR IGNORE INTO sync_log(doc_id, hash) VALUES (?1, ?2)",
                        params![id, c.hash().0.to_vec()],
                    )?;
                }
            }
            // Rows still waiting for their dependencies.
            s.conn.execute(
                "INSERT OR IGNORE INTO sync_log(doc_id, hash) SELECT doc_id, hash FROM changes",
                [],
            )?;
            s.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('sync_schema', ?1)",
                [SYNC_SCHEMA],
            )?;
            Ok(())
        })
    }

    /// Sync tables before version 4 had `hash UNIQUE` over the whole log: a change
    /// byte-identical to one of another document (two empty restricted twins made in
    /// the same millisecond by the same user) was never queued. Rebuilds the log
    /// with the same rows, unique per document.
    fn unique_per_document(&mut self) -> Result<()> {
        let sql: Option<String> = self
            .conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sync_log'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if sql.is_some_and(|s| s.contains("hash BLOB NOT NULL UNIQUE")) {
            self.conn.execute_batch(
                "DROP TRIGGER IF EXISTS sync_log_changes;
                 CREATE TABLE sync_log_per_document(
                     seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL,
                     hash BLOB NOT NULL, from_server INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO sync_log_per_document SELECT seq, doc_id, hash, from_server FROM sync_log;
                 DROP TABLE sync_log;
                 ALTER TABLE sync_log_per_document RENAME TO sync_log;",
            )?;
        }
        Ok(())
    }

    pub(crate) fn synced(&self) -> Result<bool> {
        let have: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'sync_schema'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(have.is_some())
    }

    fn state(&self, key: &str) -> Result<Option<String>> {
        if !self.synced()? {
            return Ok(None);
        }
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_state(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO sync_state(key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    /// How many local changes the server has not acknowledged yet.
    /// Whether any local change waits for the server's acknowledgement (stops at
    /// the first; [`Store::pending_change_count`] counts them all).
    /// Changes held back for unproven users (see `proof.rs`) do not count: they wait
    /// for their author's proof, not for this sync.
    pub fn has_pending_changes(&mut self) -> Result<bool> {
        if !self.synced()? {
            return Ok(false);
        }
        self.sort_sealed_queue()?;
        let acked = self.push_acked()?;
        let unproven = self.unproven_users()?;
        let held = self.held_from(acked, &unproven)?.unwrap_or(i64::MAX);
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sync_log WHERE seq > ?1 AND seq < ?2 AND from_server = 0)",
            [acked, held],
            |r| r.get(0),
        )?)
    }

    /// Names of the local users of this device (the `users` table), by name.
    pub fn local_user_names(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT name FROM users ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Takes the server's list of the accounts working at this device's sites
    /// (`(name, role)`): local users take their server role (roles sync down), and
    /// from now on a new local user must be one of these accounts.
    pub fn apply_accounts(&mut self, version: u64, accounts: &[(String, String)]) -> Result<()> {
        self.ensure_sync_schema()?;
        self.in_tx(|s| s.write_accounts(version, accounts))?;
        self.take_account_role(accounts);
        self.refresh_sealing()
    }

    /// Inside a transaction: stores the account list and gives local users their
    /// server role.
    fn write_accounts(&self, version: u64, accounts: &[(String, String)]) -> Result<()> {
        self.write_account_list(accounts)?;
        self.note_accounts_version(version)
    }

    /// Inside a transaction: the account list (every peer serves the same accounts)
    /// and local users' server roles.
    pub(crate) fn write_account_list(&self, accounts: &[(String, String)]) -> Result<()> {
        let json = serde_json::to_string(accounts)
            .map_err(|e| StoreError::encode("the account list", e))?;
        self.set_state("accounts", &json)?;
        for (name, role) in accounts {
            if let Ok(role) = Role::parse(role) {
                self.conn.execute(
                    "UPDATE users SET role = ?2 WHERE name = ?1",
                    params![name, role.name()],
                )?;
            }
        }
        Ok(())
    }

    /// After a committed account list: the acting user's role follows it.
    pub(crate) fn take_account_role(&mut self, accounts: &[(String, String)]) {
        if let Some(role) = accounts
            .iter()
            .find(|(name, _)| *name == self.user)
            .and_then(|(_, role)| Role::parse(role).ok())
        {
            self.role = role;
        }
    }

    /// The server role of account `name` at this device's sites: `None` when no list
    /// came from the server yet, `Some(None)` when the name is not among them.
    pub(crate) fn account_role(&self, name: &str) -> Result<Option<Option<Role>>> {
        let Some(json) = self.state("accounts")? else {
            return Ok(None);
        };
        let accounts: Vec<(String, String)> =
            serde_json::from_str(&json).map_err(|e| StoreError::decode("the account list", e))?;
        Ok(Some(
            accounts
                .into_iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, role)| Role::parse(&role).ok()),
        ))
    }

    /// The site's account list this device holds (`(name, role)`); `None` before
    /// the server sent one.
    pub fn site_accounts(&self) -> Result<Option<Vec<(String, String)>>> {
        let Some(json) = self.state("accounts")? else {
            return Ok(None);
        };
        Ok(Some(
            serde_json::from_str(&json).map_err(|e| StoreError::decode("the account list", e))?,
        ))
    }

    /// The newest local sequence (0 before anything was queued).
    pub fn last_local_seq(&self) -> Result<i64> {
        if !self.synced()? {
            return Ok(0);
        }
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM sync_log", [], |r| {
                r.get(0)
            })?)
    }

    pub fn pending_change_count(&self) -> Result<i64> {
        if !self.synced()? {
            return Ok(0);
        }
        self.pending_after(self.push_acked()?)
    }

    /// Changes made on this device after local sequence `acked`, with the restricted
    /// ones set aside for a holder's session.
    pub(crate) fn pending_after(&self, acked: i64) -> Result<i64> {
        let queued: i64 = self.conn.query_row(
            "SELECT count(*) FROM sync_log WHERE seq > ?1 AND from_server = 0",
            [acked],
            |r| r.get(0),
        )?;
        Ok(queued + self.sealed_waiting_count()?)
    }

    /// Device id, server, last sync and pending changes.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let e = self.enrolment()?;
        Ok(SyncStatus {
            device_id: self.device.clone(),
            server: e.as_ref().map(|e| e.server.clone()),
            account: e.as_ref().map(|e| e.account.clone()),
            sites: e.map(|e| e.sites).unwrap_or_default(),
            last_sync: self.last_sync()?,
            pending_changes: self.pending_change_count()?,
            cursor: self.sync_cursor()?,
            unproven_users: {
                let mut users: Vec<String> = self.unproven_users()?.into_iter().collect();
                users.sort();
                users
            },
            peers: self.peers()?,
        })
    }

    /// Destroys this device's data after the server said it was revoked: the key file
    /// first (without it the database is unreadable), then the database and its WAL.
    pub fn destroy(self) -> Result<()> {
        let path = self.path().to_path_buf();
        drop(self);
        let key = crate::keys::key_path(&path);
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let mut shm = path.clone().into_os_string();
        shm.push("-shm");
        for p in [key, path, wal.into(), shm.into()] {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(&p, e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::restricted_id;
    use crate::{DocSummary, Enrolment, IncomingDoc, OutgoingChange, OutgoingPage};

    fn enrolled(dir: &std::path::Path, name: &str) -> Store {
        let db = dir.join(format!("{name}.db"));
        let mut s = Store::init(&db, name, Role::Screener, "pass-word", "site-a").expect("init");
        s.set_enrolment(&Enrolment {
            server: "http://127.0.0.1:1".into(),
            token: "t".into(),
            account: name.into(),
            role: "clinician".into(),
            sites: vec!["site-a".into()],
        })
        .expect("enrol");
        s
    }

    #[test]
    fn an_old_sync_log_unique_over_all_documents_becomes_unique_per_document() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = enrolled(dir.path(), "amina");
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let queued = |s: &Store| -> i64 {
            s.conn
                .query_row("SELECT count(*) FROM sync_log", [], |r| r.get(0))
                .expect("count")
        };
        let before = queued(&s);
        assert!(before > 0);
        // The sync tables of version 3: `hash` unique over the whole log.
        s.conn
            .execute_batch(
                "DROP TRIGGER sync_log_changes;
                 CREATE TABLE old_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL,
                     hash BLOB NOT NULL UNIQUE, from_server INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO old_log SELECT * FROM sync_log;
                 DROP TABLE sync_log;
                 ALTER TABLE old_log RENAME TO sync_log;
                 UPDATE meta SET value = '3' WHERE key = 'sync_schema';",
            )
            .expect("old tables");
        s.set_last_sync("2026-11-26T08:00:00Z").expect("upgrade");
        let sql: String = s
            .conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'sync_log'",
                [],
                |r| r.get(0),
            )
            .expect("sql");
        assert!(!sql.contains("UNIQUE"), "{sql}");
        assert_eq!(queued(&s), before, "every queued row kept");
        // A change with the same hash in another document is queued for that one too.
        let (doc, hash): (String, Vec<u8>) = s
            .conn
            .query_row("SELECT doc_id, hash FROM sync_log LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("row");
        assert_eq!(doc, subject);
        s.conn
            .execute(
                "INSERT INTO changes(doc_id, hash, bytes) VALUES ('another', ?1, x'00')",
                [&hash],
            )
            .expect("change");
        assert_eq!(queued(&s), before + 1);
    }

    #[test]
    fn changes_before_and_after_enrolment_are_queued_once_and_acks_only_advance() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("a.db");
        let mut s = Store::init(&db, "amina", Role::Screener, "pass-word", "site-a").expect("init");
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        s.compact(0).expect("compact");
        s.set_enrolment(&Enrolment {
            server: "http://127.0.0.1:1".into(),
            token: "t".into(),
            account: "amina".into(),
            role: "clinician".into(),
            sites: vec!["site-a".into()],
        })
        .expect("enrol");
        assert_eq!(s.role(), Role::Clinician);
        let before = s.pending_change_count().expect("count");
        assert!(before > 0, "compacted changes are queued by the walk");
        let record = s.new_record("pda", &subject).expect("record");
        let after = s.pending_change_count().expect("count");
        assert!(after > before);
        let page = s.pending_changes(0, 1).expect("page");
        assert_eq!(page.chunks.len(), 1, "a page holds at least one chunk");
        let all = s.pending_changes(0, usize::MAX).expect("all");
        // Nothing was ever pushed: the subject, the record and its restricted twin
        // (its only author is now a clinician) travel whole; the page covers every
        // queued change.
        assert_eq!(all.upto, Some(after));
        assert_eq!(all.documents, 3);
        let record_chunks: Vec<_> = all.chunks.iter().filter(|c| c.doc_id == record).collect();
        assert_eq!(record_chunks.len(), 1);
        assert_eq!(
            crate::chunk_kind(&record_chunks[0].bytes),
            Ok(crate::ChunkKind::Document)
        );
        assert_eq!(record_chunks[0].site, "site-a");
        let mid = all.chunks[all.chunks.len() / 2].local_seq;
        s.mark_pushed(mid).expect("ack");
        s.mark_pushed(1).expect("no step back");
        assert_eq!(s.push_acked().expect("acked"), mid);
        let rest = s.pending_changes(0, usize::MAX).expect("rest");
        assert!(rest.chunks.iter().all(|c| c.local_seq > mid));
        assert!(s
            .set_enrolment(&s.enrolment().expect("e").expect("some"))
            .is_err());
    }

    #[test]
    fn pulled_changes_are_not_pushed_back_and_move_the_cursor() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut a = enrolled(dir.path(), "amina");
        let mut b = enrolled(dir.path(), "bilal");
        let subject = a.add_subject(&[("sex".into(), "male".into())]).expect("s");
        a.new_record("pda", &subject).expect("r");
        let docs = as_incoming(a.pending_changes(0, usize::MAX).expect("out"), None);
        let before = b.pending_change_count().expect("n");
        let applied = b
            .apply_pulled(vec![], vec![], docs.clone(), 42)
            .expect("apply");
        assert!(applied.new_changes > 0);
        assert_eq!(b.pending_change_count().expect("n"), before);
        assert_eq!(b.sync_cursor().expect("c"), 42);
        // Twice is once; an older cursor does not move it back.
        let again = b.apply_pulled(vec![], vec![], docs, 7).expect("again");
        assert_eq!(again.new_changes, 0);
        assert_eq!(b.sync_cursor().expect("c"), 42);
        assert_eq!(b.list_records(&Default::default()).expect("list").len(), 1);
    }

    type SummaryOf = dyn Fn(&OutgoingChange) -> Option<DocSummary>;

    /// A push page as the server would send it on, each document with the summary
    /// `summary` gives it (the server's, after verification).
    fn as_incoming(page: OutgoingPage, summary: Option<&SummaryOf>) -> Vec<IncomingDoc> {
        let mut docs: Vec<IncomingDoc> = Vec::new();
        for c in page.chunks {
            let s = summary.and_then(|f| f(&c));
            match docs.iter_mut().find(|d| d.doc_id == c.doc_id) {
                Some(d) => d.changes.push(c.bytes),
                None => docs.push(IncomingDoc {
                    doc_id: c.doc_id,
                    kind: c.kind,
                    changes: vec![c.bytes],
                    summary: s,
                }),
            }
        }
        docs
    }

    #[test]
    fn a_whole_document_with_its_summary_is_stored_as_received_and_never_pushed_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut a = enrolled(dir.path(), "amina");
        let mut b = enrolled(dir.path(), "bilal");
        let subject = a
            .add_subject(&[
                ("sex".into(), "female".into()),
                ("given_name".into(), "Amal".into()),
            ])
            .expect("s");
        let record = a.new_record("pda", &subject).expect("r");
        a.set_answer(&record, "weight_kg", "61", None)
            .expect("answer");
        let page = a.pending_changes(0, usize::MAX).expect("out");
        // The sender's own summary stands in for the server's (same function).
        let summarise = |c: &OutgoingChange| {
            let doc = automerge::Automerge::load(&c.bytes).ok()?;
            crate::summarize(c.kind, &doc)
        };
        let docs = as_incoming(page, Some(&summarise));
        assert!(docs.iter().filter(|d| d.summary.is_some()).count() >= 2);
        let applied = b.apply_pulled(vec![], vec![], docs, 9).expect("apply");
        assert!(applied.new_changes > 0);
        let listed = b.list_records(&Default::default()).expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].subject_id, subject);
        let hits = b
            .search_subjects(&crate::SubjectQuery {
                name: Some("amal".into()),
                ..Default::default()
            })
            .expect("search");
        assert_eq!(hits.len(), 1, "the subject is searchable from the summary");
        // The stored document opens, and a later edit travels as one change.
        assert_eq!(b.show(&record).expect("open").answers["weight_kg"], 61.0);
        let before = b.pending_change_count().expect("n");
        assert_eq!(before, 0, "nothing received is queued to push back");
        // An upgrade of the sync tables adds indexes and queues nothing.
        b.conn
            .execute("UPDATE meta SET value = '2' WHERE key = 'sync_schema'", [])
            .expect("older version");
        b.set_last_sync("2026-11-25T00:00:00Z").expect("upgrade");
        assert_eq!(b.pending_change_count().expect("n"), 0);
        b.set_answer(&record, "weight_kg", "62", None)
            .expect("edit");
        let out = b.pending_changes(0, usize::MAX).expect("out");
        assert_eq!(out.documents, 0);
        assert_eq!(out.chunks.len(), 1);
    }

    #[test]
    fn a_twin_a_screener_wrote_travels_as_changes() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("s.db");
        let mut s = Store::init(&db, "sami", Role::Screener, "pass-word", "site-a").expect("init");
        s.set_enrolment(&Enrolment {
            server: "http://127.0.0.1:1".into(),
            token: "t".into(),
            account: "sami".into(),
            role: "screener".into(),
            sites: vec!["site-a".into()],
        })
        .expect("enrol");
        let subject = s.add_subject(&[("sex".into(), "male".into())]).expect("s");
        let record = s.new_record("pda", &subject).expect("r");
        let page = s.pending_changes(0, usize::MAX).expect("page");
        assert_eq!(page.documents, 2, "the subject and the record");
        let twin = restricted_id(&record);
        let twin_chunks: Vec<_> = page.chunks.iter().filter(|c| c.doc_id == twin).collect();
        assert!(!twin_chunks.is_empty());
        assert!(twin_chunks
            .iter()
            .all(|c| crate::chunk_kind(&c.bytes) == Ok(crate::ChunkKind::Change)));
    }

    #[test]
    fn roles_sync_down_and_new_users_must_be_accounts() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = enrolled(dir.path(), "amina");
        // Before any list came from the server, a user is added with the given role.
        s.add_user("karim", Role::Screener, "pass-word-2")
            .expect("karim");
        assert_eq!(s.accounts_version().expect("v"), 0);
        s.apply_accounts(
            42,
            &[
                ("amina".into(), "supervisor".into()),
                ("karim".into(), "clinician".into()),
                ("lena".into(), "clinician".into()),
            ],
        )
        .expect("accounts");
        assert_eq!(s.accounts_version().expect("v"), 42);
        assert_eq!(s.role(), Role::Supervisor, "the acting user's role follows");
        assert_eq!(role_of(&s, "karim"), "clinician");
        // A new local user must be an account, and takes its server role.
        let err = s
            .add_user("nobody", Role::Screener, "pass-word-3")
            .expect_err("not an account");
        assert!(err.to_string().contains("not a server account"), "{err}");
        s.add_user("lena", Role::Screener, "pass-word-4")
            .expect("lena");
        assert_eq!(role_of(&s, "lena"), "clinician");
    }

    fn role_of(s: &Store, n: &str) -> String {
        s.conn
            .query_row("SELECT role FROM users WHERE name = ?1", [n], |r| r.get(0))
            .expect("role")
    }

    #[test]
    fn enrolment_stores_the_site_accounts_in_the_same_transaction() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("a.db");
        let mut s =
            Store::init(&db, "amina", Role::Screener, "pass-word", "unassigned").expect("init");
        // Before enrolment nothing is known: a local user is added with its role.
        s.add_user("karim", Role::Screener, "pass-word-2")
            .expect("karim");
        assert_eq!(
            s.local_user_names().expect("names"),
            vec!["amina".to_string(), "karim".to_string()]
        );
        let e = Enrolment {
            server: "http://127.0.0.1:1".into(),
            token: "t".into(),
            account: "amina".into(),
            role: "clinician".into(),
            sites: vec!["site-a".into()],
        };
        let list = [
            ("amina".to_string(), "clinician".to_string()),
            ("karim".to_string(), "supervisor".to_string()),
            ("lena".to_string(), "screener".to_string()),
        ];
        // A refused enrolment (no site) stores neither the enrolment nor the list.
        let no_site = Enrolment {
            sites: vec![],
            ..e.clone()
        };
        assert!(s
            .set_enrolment_with_accounts(&no_site, Some((7, &list)))
            .is_err());
        assert_eq!(s.enrolment().expect("e"), None);
        assert_eq!(s.accounts_version().expect("v"), 0);
        assert_eq!(role_of(&s, "karim"), "screener");

        s.set_enrolment_with_accounts(&e, Some((7, &list)))
            .expect("enrol");
        assert_eq!(s.enrolment().expect("e").expect("some").sites, e.sites);
        assert_eq!(s.accounts_version().expect("v"), 7);
        assert_eq!(s.role(), Role::Clinician);
        assert_eq!(s.site(), "site-a");
        assert_eq!(
            role_of(&s, "karim"),
            "supervisor",
            "existing users take theirs"
        );
        // From enrolment on (no sync yet), a new local user must be an account.
        let err = s
            .add_user("nobody", Role::Clinician, "pass-word-3")
            .expect_err("not an account");
        let msg = err.to_string();
        assert!(msg.contains("not a server account"), "{msg}");
        assert!(msg.contains("`nobody`") && msg.contains("site-a"), "{msg}");
        assert!(!s.local_user_names().expect("n").contains(&"nobody".into()));
        assert_eq!(
            s.add_user("lena", Role::Clinician, "pass-word-4")
                .expect("lena"),
            Role::Screener,
            "the server role, not the one asked for"
        );
        // The list survives reopening, and a second enrolment changes nothing.
        drop(s);
        let mut s = Store::open(&db, Some("karim"), "pass-word-2").expect("open");
        assert_eq!(s.role(), Role::Supervisor);
        assert!(s
            .set_enrolment_with_accounts(&e, Some((9, &list[..1])))
            .is_err());
        assert_eq!(s.accounts_version().expect("v"), 7);
        assert!(s.add_user("nobody", Role::Screener, "pass-word-3").is_err());
    }

    #[test]
    fn an_enrolment_without_a_list_leaves_the_accounts_unknown() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("a.db");
        let mut s =
            Store::init(&db, "amina", Role::Screener, "pass-word", "unassigned").expect("init");
        s.set_enrolment_with_accounts(
            &Enrolment {
                server: "http://127.0.0.1:1".into(),
                token: "t".into(),
                account: "amina".into(),
                role: "clinician".into(),
                sites: vec!["site-a".into()],
            },
            None,
        )
        .expect("enrol");
        assert_eq!(s.accounts_version().expect("v"), 0);
        assert_eq!(
            s.add_user("karim", Role::Screener, "pass-word-2")
                .expect("as before"),
            Role::Screener
        );
    }

    #[test]
    fn destroy_removes_keys_and_database() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = enrolled(dir.path(), "amina");
        let path = s.path().to_path_buf();
        s.destroy().expect("destroy");
        assert!(!path.exists());
        assert!(!crate::keys::key_path(&path).exists());
    }
}
