//! The device store: an unlocked SQLCipher database, the acting user, and the
//! plumbing every operation shares: one SQLite transaction per operation, documents
//! loaded on demand (a small cache checked against each document's revision), change
//! rows appended, projections updated before the commit.

use crate::builtin;
use crate::db;
use crate::doc::Author;
use crate::error::{Result, StoreError};
use crate::keys::{DataKey, KeyFile};
use crate::roles::Role;
use automerge::{Automerge, Change, ChangeHash};
use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tern_forms::{ConfigTables, Form, SourceFile};

/// How many documents stay loaded; the rest are read again on demand.
const CACHE_DOCS: usize = 32;
/// A document with more change rows than this is folded into a new snapshot by
/// [`Store::compact`].
pub const COMPACT_AFTER: usize = 256;

/// The id of the restricted twin of a record.
pub(crate) use tern_record::doc::restricted_id;
/// The kind of an Automerge document (tern-record's `DocKind`).
pub(crate) use tern_record::DocKind as Kind;

#[derive(Default)]
struct DocCache {
    loaded: HashMap<String, (i64, Automerge)>,
    /// Documents changed by the open transaction; kept only if it commits.
    pending: HashMap<String, (i64, Automerge)>,
}

/// An unlocked device store acting as one local user.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    key: DataKey,
    pub(crate) user: String,
    pub(crate) role: Role,
    pub(crate) device: String,
    pub(crate) site: String,
    now: Option<DateTime<FixedOffset>>,
    cache: DocCache,
    forms: HashMap<(String, String), Arc<Form>>,
    config: Option<Arc<ConfigTables>>,
    /// Set while a whole record is written at once (`record import`): the record
    /// projection is then written once at the end instead of after every answer.
    pub(crate) defer_projection: bool,
    /// Whether the acting user proved their server account here (always true on a
    /// store that is not enrolled); see proof.rs.
    pub(crate) proven: bool,
    /// The restricted key pair as far as this session holds it (sealed.rs).
    pub(crate) sealing: crate::sealed::Sealing,
    /// The peer (hub or server) sync state calls use; `None`: the first enrolment
    /// (enrolment.rs).
    pub(crate) peer: Option<i64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("user", &self.user)
            .field("role", &self.role)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

pub(crate) fn valid_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadUserName(name.chars().take(64).collect()))
    }
}

impl Store {
    /// Creates a new encrypted store with its first user, seeds the built-in forms and
    /// writes the key file. Refuses to touch an existing database or key file.
    pub fn init(db: &Path, user: &str, role: Role, password: &str, site: &str) -> Result<Store> {
        valid_user_name(user)?;
        let key_file = crate::keys::key_path(db);
        for p in [db.to_path_buf(), key_file] {
            if p.exists() {
                return Err(StoreError::AlreadyExists { path: p });
            }
        }
        let key = DataKey::random()?;
        let mut keys = KeyFile::new(db);
        let user_key = keys.wrap(user, password, &key)?;
        let mut conn = db::open(db, &key)?;
        db::migrate(&mut conn, db::schema_version())?;
        let mut device = [0u8; 8];
        crate::keys::random_fill(&mut device)?;
        let device = hex::encode(device);
        let now = Utc::now().to_rfc3339();
        {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES ('device', ?1), ('site', ?2)",
                params![device, site],
            )?;
            tx.execute(
                "INSERT INTO users(name, role, created) VALUES (?1, ?2, ?3)",
                params![user, role.name(), now],
            )?;
            seed_builtin(&tx)?;
            tx.commit()?;
        }
        // The key file last: without it the database is unreadable, and a crash before
        // here leaves a database nobody can open, which init refuses to reuse.
        keys.write()?;
        let mut store = Store::assemble(conn, db, key, user, role, device, site.into());
        store.sealing = crate::sealed::Sealing::with_user(user_key);
        Ok(store)
    }

    /// Unlocks the store for `user` (or its only user) with their password.
    pub fn open(db: &Path, user: Option<&str>, password: &str) -> Result<Store> {
        if !db.exists() {
            return Err(StoreError::NoStore {
                path: db.to_path_buf(),
            });
        }
        let mut keys = KeyFile::read(db)?;
        let user = keys.pick_user(user)?;
        let unlocked = keys.unlock(&user, password)?;
        if unlocked.upgraded {
            // A key file of an older version: the user's key pair is new.
            keys.write()?;
        }
        let key = unlocked.data;
        let mut conn = db::open(db, &key)?;
        db::migrate(&mut conn, db::schema_version())?;
        // A newer binary brings newer form versions (and tables): a store made by an
        // older one gets them here, so its open records can move to them.
        let count = |t: &str| -> Result<usize> {
            Ok(
                conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                    r.get::<_, i64>(0)
                })? as usize,
            )
        };
        if count("forms")? < builtin::FORMS.len() || count("config_tables")? < builtin::CONFIG.len()
        {
            let tx = conn.transaction()?;
            seed_builtin(&tx)?;
            tx.commit()?;
        }
        let meta = |k: &str| -> Result<String> {
            Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))?)
        };
        let device = meta("device")?;
        let site = meta("site")?;
        let role: Option<String> = conn
            .query_row("SELECT role FROM users WHERE name = ?1", [&user], |r| {
                r.get(0)
            })
            .optional()?;
        let role = Role::parse(&role.ok_or_else(|| StoreError::UnknownUser(user.clone()))?)?;
        let mut store = Store::assemble(conn, db, key, &user, role, device, site);
        store.sealing = crate::sealed::Sealing::with_user(unlocked.user);
        store.refresh_proven()?;
        store.refresh_sealing()?;
        Ok(store)
    }

    fn assemble(
        conn: Connection,
        db: &Path,
        key: DataKey,
        user: &str,
        role: Role,
        device: String,
        site: String,
    ) -> Store {
        Store {
            conn,
            path: db.to_path_buf(),
            key,
            user: user.into(),
            role,
            device,
            site,
            now: None,
            cache: DocCache::default(),
            forms: HashMap::new(),
            config: None,
            defer_projection: false,
            proven: true,
            sealing: Default::default(),
            peer: None,
        }
    }

    /// Adds a local user: the data key wrapped for their password, their role recorded.
    /// Once the server sent its list of the site's accounts (at enrolment or a sync),
    /// the user must be one of them and takes the server role instead of `role`.
    /// Returns the role recorded.
    pub fn add_user(&mut self, name: &str, role: Role, password: &str) -> Result<Role> {
        valid_user_name(name)?;
        let role = match self.account_role(name)? {
            None => role,
            Some(Some(server_role)) => server_role,
            Some(None) => {
                return Err(StoreError::NotAnAccount {
                    name: name.into(),
                    site: self.site.clone(),
                })
            }
        };
        let mut keys = KeyFile::read(&self.path)?;
        if keys.users().iter().any(|u| u == name) {
            return Err(StoreError::UserExists(name.into()));
        }
        keys.wrap(name, password, &self.key)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO users(name, role, created) VALUES (?1, ?2, ?3)",
            params![name, role.name(), Utc::now().to_rfc3339()],
        )?;
        keys.write()?;
        Ok(role)
    }

    /// Re-wraps the data key for the acting user; the data is not re-encrypted.
    pub fn change_password(&mut self, new_password: &str) -> Result<()> {
        let mut keys = KeyFile::read(&self.path)?;
        let user_key = keys.wrap(&self.user.clone(), new_password, &self.key)?;
        // The new key pair takes the restricted key this session holds.
        if let Some(secret) = self.sealing_secret() {
            keys.grant(&self.user, &secret)?;
        }
        keys.write()?;
        self.sealing.set_user(user_key);
        Ok(())
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub(crate) fn data_key(&self) -> &DataKey {
        &self.key
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn device(&self) -> &str {
        &self.device
    }
    pub fn site(&self) -> &str {
        &self.site
    }

    /// Pins "now" (tests, benchmarks, replays); `None` goes back to the clock.
    pub fn set_now(&mut self, now: Option<DateTime<FixedOffset>>) {
        self.now = now;
    }

    pub(crate) fn now(&self) -> DateTime<FixedOffset> {
        self.now.unwrap_or_else(|| Utc::now().fixed_offset())
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    pub(crate) fn author(&self) -> Author {
        Author {
            device: self.device.clone(),
            user: self.user.clone(),
        }
    }

    /// Runs `f` in one immediate SQLite transaction. Documents changed inside become
    /// the cached copies only if the commit succeeds, which (WAL, synchronous=FULL)
    /// means the change is on disk.
    pub(crate) fn in_tx<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = f(self).and_then(|v| {
            self.conn.execute_batch("COMMIT")?;
            Ok(v)
        });
        match result {
            Ok(v) => {
                let pending = std::mem::take(&mut self.cache.pending);
                for (id, entry) in pending {
                    self.cache_put(id, entry);
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.cache.pending.clear();
                Err(e)
            }
        }
    }

    fn cache_put(&mut self, id: String, entry: (i64, Automerge)) {
        if self.cache.loaded.len() >= CACHE_DOCS && !self.cache.loaded.contains_key(&id) {
            if let Some(k) = self.cache.loaded.keys().next().cloned() {
                self.cache.loaded.remove(&k);
            }
        }
        self.cache.loaded.insert(id, entry);
    }

    fn rev(&self, id: &str) -> Result<Option<(i64, String)>> {
        Ok(self
            .conn
            .query_row("SELECT rev, kind FROM docs WHERE doc_id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// Reads a document from its snapshot and change rows.
    pub(crate) fn load_from_db(&self, id: &str) -> Result<Automerge> {
        let snapshot: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT snapshot FROM docs WHERE doc_id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        let bad = |e: &dyn std::fmt::Display| StoreError::BadDocument(id.into(), e.to_string());
        let mut doc = match snapshot {
            Some(bytes) => Automerge::load(&self.open_blob(id, bytes)?).map_err(|e| bad(&e))?,
            None => Automerge::new(),
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([id], |r| r.get::<_, Vec<u8>>(0))?;
        let mut changes = Vec::new();
        for row in rows {
            changes.push(Change::from_bytes(self.open_blob(id, row?)?).map_err(|e| bad(&e))?);
        }
        doc.apply_changes(changes).map_err(|e| bad(&e))?;
        Ok(doc)
    }

    /// A document for reading, from the cache when its revision is current.
    pub(crate) fn doc(&mut self, id: &str) -> Result<Option<&Automerge>> {
        if self.cache.pending.contains_key(id) {
            return Ok(self.cache.pending.get(id).map(|(_, d)| d));
        }
        let Some((rev, _)) = self.rev(id)? else {
            return Ok(None);
        };
        let fresh = matches!(self.cache.loaded.get(id), Some((r, _)) if *r == rev);
        if !fresh {
            let doc = self.load_from_db(id)?;
            self.cache_put(id.to_string(), (rev, doc));
        }
        Ok(self.cache.loaded.get(id).map(|(_, d)| d))
    }

    /// Takes a document out for writing inside the open transaction.
    pub(crate) fn take_doc(&mut self, id: &str) -> Result<Option<Automerge>> {
        if let Some((_, d)) = self.cache.pending.remove(id) {
            return Ok(Some(d));
        }
        if self.doc(id)?.is_none() {
            return Ok(None);
        }
        Ok(self.cache.loaded.remove(id).map(|(_, d)| d))
    }

    /// Stores the new changes of a document as rows and bumps its revision; the
    /// document becomes the cached copy when the transaction commits.
    pub(crate) fn put_doc(
        &mut self,
        id: &str,
        kind: Kind,
        doc: Automerge,
        new: &[ChangeHash],
    ) -> Result<()> {
        for hash in new {
            let (hash, bytes) = crate::doc::change_bytes(&doc, *hash)?;
            self.insert_change_row(id, &hash.0, &bytes)?;
        }
        self.conn.execute(
            "INSERT INTO docs(doc_id, kind, rev) VALUES (?1, ?2, 1)
             ON CONFLICT(doc_id) DO UPDATE SET rev = rev + 1",
            params![id, kind.name()],
        )?;
        let rev: i64 =
            self.conn
                .query_row("SELECT rev FROM docs WHERE doc_id = ?1", [id], |r| r.get(0))?;
        self.cache.pending.insert(id.to_string(), (rev, doc));
        Ok(())
    }

    /// Folds the change rows of every document with more than `threshold` of them into
    /// a new compacted snapshot. Rows whose dependencies have not arrived stay rows.
    /// Returns how many documents were folded.
    pub fn compact(&mut self, threshold: usize) -> Result<usize> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT doc_id FROM changes GROUP BY doc_id HAVING count(*) > ?1")?;
            let rows = stmt.query_map([threshold as i64], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        };
        // A twin this session cannot open waits for a session that can.
        let ids: Vec<String> = ids.into_iter().filter(|id| self.can_read(id)).collect();
        for id in &ids {
            self.in_tx(|s| s.fold_doc(id))?;
        }
        Ok(ids.len())
    }

    /// How many change rows a document has beside its snapshot.
    pub(crate) fn change_rows(&self, id: &str) -> Result<usize> {
        let rows: i64 = self.conn.query_row(
            "SELECT count(*) FROM changes WHERE doc_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        Ok(rows as usize)
    }

    /// Folds one document's change rows into its snapshot once there are more than
    /// [`COMPACT_AFTER`]. Runs after the write it follows has committed, so the save
    /// was durable before, and at most once per [`COMPACT_AFTER`] saves.
    pub(crate) fn maybe_compact(&mut self, id: &str) -> Result<()> {
        if self.change_rows(id)? > COMPACT_AFTER {
            self.in_tx(|s| s.fold_doc(id))?;
        }
        Ok(())
    }

    /// Checkpoints the WAL into the database file and rebuilds the file without free
    /// pages (after compaction, before a backup). Not for the edit path.
    pub fn vacuum(&mut self) -> Result<()> {
        self.conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
        Ok(())
    }

    /// Folds a document inside the open transaction.
    pub(crate) fn fold_doc(&mut self, id: &str) -> Result<()> {
        if !self.can_read(id) {
            return Ok(());
        }
        let doc = self.load_from_db(id)?;
        // Uncompressed columns: a sync page compresses many documents as one zstd
        // stream, which finds what they share (field ids, messages, actors) only in
        // the raw columns, not behind Automerge's per-column DEFLATE.
        let snapshot = self.seal_blob(id, &doc.save_nocompress())?;
        let hashes: Vec<Vec<u8>> = {
            let mut stmt = self
                .conn
                .prepare("SELECT hash FROM changes WHERE doc_id = ?1")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for h in hashes {
            let Ok(hash) = ChangeHash::try_from(h.as_slice()) else {
                continue;
            };
            if automerge::ReadDoc::get_change_by_hash(&doc, &hash).is_some() {
                self.conn.execute(
                    "DELETE FROM changes WHERE doc_id = ?1 AND hash = ?2",
                    params![id, h],
                )?;
            }
        }
        self.conn.execute(
            "UPDATE docs SET snapshot = ?2, rev = rev + 1 WHERE doc_id = ?1",
            params![id, snapshot],
        )?;
        self.cache.loaded.remove(id);
        Ok(())
    }

    /// The configuration tables the forms read.
    fn config(&mut self) -> Result<Arc<ConfigTables>> {
        if let Some(c) = &self.config {
            return Ok(c.clone());
        }
        let files: Vec<SourceFile> = {
            let mut stmt = self
                .conn
                .prepare("SELECT name, text FROM config_tables ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                Ok(SourceFile::new(
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let tables =
            ConfigTables::parse(&files).map_err(|d| StoreError::BrokenConfig(d.to_string()))?;
        let tables = Arc::new(tables);
        self.config = Some(tables.clone());
        Ok(tables)
    }

    /// The newest version of a form the store has.
    pub(crate) fn newest_version(&self, form_id: &str) -> Result<String> {
        let versions: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT version FROM forms WHERE form_id = ?1")?;
            let rows = stmt.query_map([form_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        versions
            .into_iter()
            .max_by_key(|v| semver_key(v))
            .ok_or_else(|| {
                let known: Vec<String> = self
                    .conn
                    .prepare("SELECT DISTINCT form_id FROM forms ORDER BY form_id")
                    .and_then(|mut s| {
                        s.query_map([], |r| r.get(0))?
                            .collect::<rusqlite::Result<_>>()
                    })
                    .unwrap_or_default();
                StoreError::NoForm(form_id.chars().take(40).collect(), known.join(", "))
            })
    }

    /// A form version as stored, with its translations.
    pub(crate) fn form(&mut self, form_id: &str, version: &str) -> Result<Arc<Form>> {
        let key = (form_id.to_string(), version.to_string());
        if let Some(f) = self.forms.get(&key) {
            return Ok(f.clone());
        }
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT definition, translations FROM forms WHERE form_id = ?1 AND version = ?2",
                [form_id, version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (definition, translations) =
            row.ok_or_else(|| StoreError::NoFormVersion(form_id.into(), version.into()))?;
        let config = self.config()?;
        let broken = |d: tern_forms::Diagnostics| StoreError::BrokenForm {
            place: "stored",
            form: format!("{form_id} {version}"),
            diagnostics: d.to_string(),
        };
        let mut form = Form::parse(
            &SourceFile::new(format!("{form_id}.json"), definition),
            &config,
        )
        .map_err(broken)?;
        let translations: Vec<(String, String)> =
            serde_json::from_str(&translations).unwrap_or_default();
        for (name, text) in translations {
            form.add_translation(&SourceFile::new(name, text))
                .map_err(broken)?;
        }
        let form = Arc::new(form);
        self.forms.insert(key, form.clone());
        Ok(form)
    }

    /// Drops every document held in memory (on auto-lock, or to measure cold reads);
    /// they are read again on demand.
    pub fn forget_documents(&mut self) {
        self.cache.loaded.clear();
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA integrity_check` of the database: `ok` when sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

pub(crate) fn semver_key(v: &str) -> Vec<u64> {
    v.split(['.', '-', '+'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

/// Adds every built-in form, translation and configuration table the store lacks.
fn seed_builtin(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    for (name, text) in builtin::CONFIG {
        tx.execute(
            "INSERT OR IGNORE INTO config_tables(name, text) VALUES (?1, ?2)",
            params![name, text],
        )?;
    }
    for (name, text) in builtin::FORMS {
        let head: serde_json::Value =
            serde_json::from_str(text).map_err(|e| StoreError::BrokenForm {
                place: "built-in",
                form: (*name).into(),
                diagnostics: e.to_string(),
            })?;
        let id = head["form_id"].as_str().unwrap_or_default();
        let version = head["version"].as_str().unwrap_or_default();
        let translations: Vec<(&str, &str)> = builtin::TRANSLATIONS
            .iter()
            .filter(|(n, _)| n.split('.').next() == Some(id))
            .copied()
            .collect();
        let translations = serde_json::to_string(&translations)
            .map_err(|e| StoreError::encode("translations", e))?;
        tx.execute(
            "INSERT OR IGNORE INTO forms(form_id, version, definition, translations)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, version, text, translations],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_take_an_old_database_to_the_current_schema() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("s.db");
        let mut s = Store::init(&db, "amina", Role::Screener, "pass-word", "x").expect("init");
        s.add_subject(&[("date_of_birth".into(), "1990-05-01".into())])
            .expect("subject");
        // Back to version 1: undo what migrations 2, 3 and 4 added.
        s.conn
            .execute_batch(
                "DROP INDEX records_subject; DROP INDEX records_status;
                 DROP INDEX subjects_dob; DROP INDEX changes_doc;
                 ALTER TABLE users DROP COLUMN proven;
                 DROP TABLE alerts; DROP TABLE alert_revs; PRAGMA user_version = 1;",
            )
            .expect("downgrade");
        drop(s);
        let s = Store::open(&db, None, "pass-word").expect("reopen");
        let version: i64 = s
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, db::schema_version());
        let indexes: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'subjects_dob'",
                [],
                |r| r.get(0),
            )
            .expect("index");
        assert_eq!(indexes, 1);
        assert_eq!(s.integrity_check().expect("check"), "ok");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("s.db");
        let s = Store::init(&db, "amina", Role::Screener, "pass-word", "x").expect("init");
        s.conn
            .execute_batch("PRAGMA user_version = 99")
            .expect("bump");
        drop(s);
        assert!(matches!(
            Store::open(&db, None, "pass-word"),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
    }
}
