//! The embedded SQLite backend: one file `tern-server.db` in the data folder, WAL with
//! `synchronous=FULL`, one connection behind a mutex (SQLite has one writer anyway),
//! every call on the blocking pool so the async runtime never waits on the disk.
//!
//! Encrypted at rest (SQLCipher) with a random 256-bit key in a key file:
//! `TERN_SERVER_KEY_FILE`, or `tern-server.key` in the data folder (mode 0600,
//! created with the database). A copy of the database or a backup without the key
//! file reveals nothing; keep the key file on other storage (a secrets volume) to
//! protect against the theft of the data disk too. A database made before encryption
//! is encrypted in place the first time it is opened.
//! Sequence numbers come from a counter row updated in the writing transaction, so
//! they increase in commit order.
//!
//! This file opens the database (key file, encryption, [`schema`]'s migrations) and
//! holds the one `impl Db`, which hands each operation to the file of its concern:
//! [`accounts`], [`log`], [`verify`], [`reports`].

mod accounts;
mod log;
mod reports;
pub(crate) mod schema;
mod verify;

use crate::db::*;
use crate::enrolment::{hub_link, EnrolmentCode, HubLink, KnownDevice};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// The SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Opens (or creates) `DIR/tern-server.db`, encrypted with the key file.
    pub fn open(dir: &Path) -> DbResult<SqliteDb> {
        Self::open_with(dir, None)
    }

    /// The database file of a data folder.
    pub fn path(dir: &Path) -> std::path::PathBuf {
        dir.join("tern-server.db")
    }

    /// Opens (or creates) `DIR/tern-server.db` with `key` (64 hex digits, e.g. a hub's,
    /// unwrapped with its supervisor's passphrase) instead of a key file.
    pub fn open_with(dir: &Path, key: Option<&str>) -> DbResult<SqliteDb> {
        std::fs::create_dir_all(dir)?;
        let path = Self::path(dir);
        // Key strings are wiped from memory when dropped (issue 13; SQLCipher keeps its
        // own copy of the key while the connection is open).
        let key: Zeroizing<String> = match key {
            Some(k) if k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()) => {
                Zeroizing::new(k.to_string())
            }
            Some(_) => return Err(OpenRefusal::KeyShape.into()),
            None => database_key(dir, &path)?,
        };
        if is_plaintext(&path)? {
            encrypt_in_place(&path, &key)?;
        }
        let mut conn = Connection::open(&path)?;
        let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", key.as_str()));
        conn.execute_batch(&pragma)?;
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            return Err(OpenRefusal::WrongKey {
                db: path,
                key_file: key_file(dir),
                reason: e.to_string(),
            }
            .into());
        }
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        schema::migrate(&mut conn)?;
        Ok(SqliteDb {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The rows of one query, each read by `row` (a statement kept prepared).
    pub(crate) async fn rows<T, P>(
        &self,
        sql: &'static str,
        params: P,
        row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> DbResult<Vec<T>>
    where
        T: Send + 'static,
        P: rusqlite::Params + Send + 'static,
    {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params, row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| DbError::Task("the database lock was poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }
}

/// Where the database key lives.
fn key_file(dir: &Path) -> std::path::PathBuf {
    std::env::var_os("TERN_SERVER_KEY_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.join("tern-server.key"))
}

/// The database key (64 hex digits): read from the key file, or created with a new
/// database. A database without its key file is refused, never re-keyed.
fn database_key(dir: &Path, db: &Path) -> DbResult<Zeroizing<String>> {
    let file = key_file(dir);
    match std::fs::read_to_string(&file).map(Zeroizing::new) {
        Ok(text) => {
            check_private(&file)?;
            let key = Zeroizing::new(text.trim().to_string());
            if key.len() != 64 || !key.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(OpenRefusal::NotAKeyFile(file).into());
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if db.exists() && !is_plaintext(db)? {
                return Err(OpenRefusal::MissingKeyFile {
                    db: db.to_path_buf(),
                    key_file: file,
                }
                .into());
            }
            let mut raw = Zeroizing::new([0u8; 32]);
            getrandom::fill(raw.as_mut_slice())
                .map_err(|e| OpenRefusal::NoRandomness(e.to_string()))?;
            let key = Zeroizing::new(hex::encode(raw.as_slice()));
            write_private(&file, &key)?;
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses a key file that others than its owner may read or write (issue 13).
fn check_private(file: &Path) -> DbResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(OpenRefusal::SharedKeyFile {
                file: file.to_path_buf(),
                mode: mode & 0o777,
            }
            .into());
        }
    }
    Ok(())
}

/// Writes a new file readable by its owner only, atomically and durably (the
/// file, then its folder, so the rename survives a power loss).
fn write_private(path: &Path, text: &str) -> DbResult<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = std::fs::remove_file(&tmp);
    let mut f = options.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Whether `path` is an unencrypted SQLite database (its plain header).
fn is_plaintext(path: &Path) -> DbResult<bool> {
    use std::io::Read;
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => Ok(f.read_exact(&mut head).is_ok() && &head == b"SQLite format 3\0"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Encrypts a database made before encryption: exported into an encrypted copy,
/// which then replaces it (the plain file is gone once the rename is durable).
fn encrypt_in_place(path: &Path, key: &str) -> DbResult<()> {
    let tmp = path.with_extension("db.encrypting");
    let _ = std::fs::remove_file(&tmp);
    {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let attach = Zeroizing::new(format!("ATTACH DATABASE ?1 AS encrypted KEY \"x'{key}'\""));
        conn.execute(&attach, [tmp.to_string_lossy()])?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.execute_batch("DETACH DATABASE encrypted;")?;
    }
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    tracing::info!(db = %path.display(), "encrypted the server database in place");
    Ok(())
}

/// `?1,?2,...,?n`: the placeholders of an `IN (...)` list of `n` values.
fn in_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

// Each operation is written in the module of its concern ([`accounts`], [`log`],
// [`verify`], [`reports`]); the one `impl Db` hands it on.
crate::db::delegate_db!(SqliteDb);

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn report_parts_of_an_older_version_are_found_and_their_columns_added() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let db = SqliteDb::open(dir.path()).expect("open");
        // A database made before worklists were bounded in SQL, with one record.
        rt.block_on(db.run(|c| {
            // Made before numbered migrations too: no `schema_migrations`.
            c.execute_batch(
                "DROP TABLE schema_migrations;
                 DROP INDEX report_lines_tally;
                 ALTER TABLE report_lines DROP COLUMN listed_from;
                 ALTER TABLE report_lines DROP COLUMN stale_from;
                 ALTER TABLE report_lines DROP COLUMN urgency;
                 INSERT INTO record_facts(record_id, site, form_id, encounter_date, report, row)
                     VALUES ('r', 'site-a', 'pda', '2026-03-10', '{}', '{}');",
            )?;
            Ok(())
        }))
        .expect("an old database");
        drop(db);
        let db = SqliteDb::open(dir.path()).expect("reopen");
        let (columns, index): (i64, i64) = rt
            .block_on(db.run(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM pragma_table_info('report_lines')
                             WHERE name IN ('listed_from', 'stale_from', 'urgency')),
                            (SELECT count(*) FROM sqlite_master WHERE name = 'report_lines_tally')",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            }))
            .expect("schema");
        assert_eq!((columns, index), (3, 1));
        let version = crate::reports::PARTS_VERSION;
        let missing = |db: &SqliteDb| rt.block_on(db.report_parts_missing(version)).expect("read");
        assert!(missing(&db), "no version noted: rebuilt");
        rt.block_on(db.set_setting(crate::reports::PARTS_SETTING, "1"))
            .expect("set");
        assert!(missing(&db), "another version: rebuilt");
        rt.block_on(db.set_setting(crate::reports::PARTS_SETTING, version))
            .expect("set");
        assert!(!missing(&db), "this version: kept");
        // A bounded worklist reads its first lines in the primary key's order.
        let plan: Vec<String> = rt
            .block_on(db.run(|c| {
                let mut stmt = c.prepare(
                    "EXPLAIN QUERY PLAN SELECT body FROM report_lines
                     WHERE report = 'incomplete' AND encounter_date >= '2026-01-01'
                       AND encounter_date <= '2026-12-31' AND listed_from <= 'x'
                     ORDER BY encounter_date, record_id LIMIT 10",
                )?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }))
            .expect("plan");
        assert!(
            !plan.iter().any(|p| p.contains("TEMP B-TREE")),
            "no sort: {plan:?}"
        );
    }

    #[test]
    fn the_database_is_encrypted_and_opens_only_with_its_key_file() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let db = SqliteDb::open(dir.path()).expect("open");
        rt.block_on(db.add_site("site-a")).expect("site");
        drop(db);
        let path = dir.path().join("tern-server.db");
        assert!(
            !is_plaintext(&path).expect("read"),
            "no plain SQLite header"
        );
        let bytes = std::fs::read(&path).expect("db");
        assert!(!bytes.windows(6).any(|w| w == b"site-a"), "no plain text");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tern-server.key"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SqliteDb::open(dir.path()).expect("reopen");
        assert!(rt.block_on(again.site_exists("site-a")).expect("read"));
        drop(again);
        // A key file others may read: refused until it is private again.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join("tern-server.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let err = SqliteDb::open(dir.path()).expect_err("readable key file");
            assert!(err.to_string().contains("chmod 600"), "{err}");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }

        // Another key file: refused with a message naming it, nothing changed.
        let key = dir.path().join("tern-server.key");
        let good = std::fs::read_to_string(&key).expect("key");
        std::fs::write(&key, "ab".repeat(32)).expect("other key");
        let err = SqliteDb::open(dir.path()).expect_err("wrong key");
        assert!(err.to_string().contains("key file"), "{err}");
        // No key file at all: refused, never re-keyed.
        std::fs::remove_file(&key).expect("rm");
        let err = SqliteDb::open(dir.path()).expect_err("no key");
        assert!(err.to_string().contains("missing"), "{err}");
        std::fs::write(&key, good).expect("restore");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let back = SqliteDb::open(dir.path()).expect("reopen");
        assert!(rt.block_on(back.site_exists("site-a")).expect("read"));
    }

    #[test]
    fn a_database_made_before_encryption_is_encrypted_in_place() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("tern-server.db");
        {
            let plain = Connection::open(&path).expect("plain");
            plain.execute_batch(schema::SCHEMA).expect("schema");
            plain
                .execute("INSERT INTO sites(name) VALUES ('old-site')", [])
                .expect("row");
        }
        assert!(is_plaintext(&path).expect("read"));
        let db = SqliteDb::open(dir.path()).expect("open");
        assert!(rt.block_on(db.site_exists("old-site")).expect("kept"));
        drop(db);
        assert!(!is_plaintext(&path).expect("read"));
    }

    #[test]
    fn a_log_unique_over_all_documents_becomes_unique_per_document() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("tern-server.db");
        let chunk = |doc: &str| NewDoc {
            doc_id: doc.into(),
            kind: "record".into(),
            site: "site-a".into(),
            changes: vec![([7u8; 32], b"the same bytes".to_vec())],
        };
        {
            // The schema of databases made before: `hash` unique over the whole log.
            let old = schema::SCHEMA.replace("hash BLOB NOT NULL,", "hash BLOB NOT NULL UNIQUE,");
            let old = old.replace(
                "CREATE UNIQUE INDEX IF NOT EXISTS log_doc_hash ON log(doc_id, hash);",
                "",
            );
            let plain = Connection::open(&path).expect("plain");
            plain.execute_batch(&old).expect("old schema");
            plain
                .execute(
                    "INSERT INTO log(seq, doc_id, kind, site, hash, bytes, origin)
                     VALUES (1, 'doc-1', 'record', 'site-a', ?1, ?2, 'dev')",
                    params![&[7u8; 32][..], &b"the same bytes"[..]],
                )
                .expect("row");
            plain
                .execute("UPDATE counter SET value = 1 WHERE name = 'seq'", [])
                .expect("counter");
        }
        let db = SqliteDb::open(dir.path()).expect("open");
        let new = rt
            .block_on(db.store_changes("dev", &[chunk("doc-2"), chunk("doc-1")]))
            .expect("store");
        assert_eq!(new, 1, "doc-2 stored, doc-1 had it already");
        for doc in ["doc-1", "doc-2"] {
            let rows = rt.block_on(db.doc_changes(doc, 10)).expect("rows");
            assert_eq!(rows, vec![b"the same bytes".to_vec()], "{doc}");
        }
        drop(db);
        // Opening again changes nothing.
        let db = SqliteDb::open(dir.path()).expect("reopen");
        let rows = rt.block_on(db.doc_changes("doc-2", 10)).expect("rows");
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn records_projected_before_their_start_was_kept_get_it_from_the_summaries() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        {
            // The schema before: no `records.created`.
            let plain = Connection::open(dir.path().join("tern-server.db")).expect("plain");
            plain.execute_batch(schema::SCHEMA).expect("old schema");
            let summary = r#"{"Record":{"form_id":"pda","form_version":"1.0.0","subject_id":"S","site":"site-a","status":"draft","created":"2026-03-09T08:00:00Z","conflict":false}}"#;
            plain
                .execute(
                    "INSERT INTO docs(doc_id, kind, site, last_seq, verified_seq, summary)
                     VALUES ('r1', 'record', 'site-a', 1, 1, ?1)",
                    [summary],
                )
                .expect("doc");
            plain
                .execute_batch(
                    "INSERT INTO records VALUES ('r1', 'site-a', 'pda', '1.0.0', 'S', 'draft', 0);
                     INSERT INTO records VALUES ('r2', 'site-a', 'pda', '1.0.0', 'S', 'draft', 0);",
                )
                .expect("rows");
        }
        let db = SqliteDb::open(dir.path()).expect("open");
        let r1 = rt.block_on(db.record("r1")).expect("read").expect("r1");
        assert_eq!(r1.created, "2026-03-09T08:00:00Z");
        let r2 = rt.block_on(db.record("r2")).expect("read").expect("r2");
        assert_eq!(r2.created, "", "no summary: undated");
        drop(db);
        let db = SqliteDb::open(dir.path()).expect("reopen");
        assert_eq!(
            rt.block_on(db.record("r1"))
                .expect("read")
                .expect("r1")
                .created,
            r1.created
        );
    }
}
