//! The SQLCipher connection: raw key, WAL, `synchronous=FULL`, and versioned schema
//! migrations keyed on `PRAGMA user_version`. Migrations only ever append to
//! [`MIGRATIONS`]; each runs in its own transaction with the version bump.

use crate::error::{Result, StoreError};
use crate::keys::DataKey;
use rusqlite::Connection;
use std::path::Path;

/// Schema migrations; entry `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: documents, change rows, forms, users and the projections.
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL, created TEXT NOT NULL);
     CREATE TABLE forms(
        form_id TEXT NOT NULL, version TEXT NOT NULL,
        definition TEXT NOT NULL, translations TEXT NOT NULL,
        PRIMARY KEY(form_id, version));
     CREATE TABLE config_tables(name TEXT PRIMARY KEY, text TEXT NOT NULL);
     -- One row per Automerge document: the compacted snapshot and a revision that
     -- bumps on every write, so an in-memory copy can be checked cheaply.
     CREATE TABLE docs(
        doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL,
        snapshot BLOB, rev INTEGER NOT NULL DEFAULT 0);
     -- Changes not yet folded into the snapshot (and changes waiting for their deps).
     CREATE TABLE changes(
        id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, hash BLOB NOT NULL,
        bytes BLOB NOT NULL, UNIQUE(doc_id, hash));
     CREATE TABLE records(
        record_id TEXT PRIMARY KEY, form_id TEXT NOT NULL, form_version TEXT NOT NULL,
        subject_id TEXT NOT NULL, site TEXT NOT NULL, status TEXT NOT NULL,
        conflict INTEGER NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);
     CREATE TABLE subjects(
        subject_id TEXT PRIMARY KEY, display_name TEXT NOT NULL,
        name_fold TEXT NOT NULL, name_skeleton TEXT NOT NULL,
        date_of_birth TEXT, documents TEXT NOT NULL, sex TEXT,
        merged_into TEXT, conflict INTEGER NOT NULL, created TEXT NOT NULL);",
    // 2: indexes for the list and search screens.
    "CREATE INDEX records_subject ON records(subject_id);
     CREATE INDEX records_status ON records(status, site);
     CREATE INDEX subjects_dob ON subjects(date_of_birth);
     CREATE INDEX changes_doc ON changes(doc_id);",
    // 3: when each local user proved their server account on this device (NULL:
    // unproven; see proof.rs).
    "ALTER TABLE users ADD COLUMN proven TEXT;",
    // 4: alerts and tasks the forms' rules raise (alerts.rs), a projection of the
    // records; `alert_revs` notes the document revisions each record's alerts were
    // derived from.
    "CREATE TABLE alerts(
        record_id TEXT NOT NULL, rule TEXT NOT NULL, field TEXT NOT NULL,
        kind TEXT NOT NULL, fired_at TEXT NOT NULL, deadline TEXT,
        state TEXT NOT NULL, closed_at TEXT,
        PRIMARY KEY(record_id, rule, field));
     CREATE INDEX alerts_state ON alerts(state, deadline);
     CREATE TABLE alert_revs(record_id TEXT PRIMARY KEY, rev INTEGER NOT NULL);",
];

pub(crate) fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Opens (or creates) the encrypted database with the raw data key.
pub(crate) fn open(path: &Path, key: &DataKey) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // SQLCipher would print decryption failures to stderr; the caller reports them.
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    let pragma =
        zeroize::Zeroizing::new(format!("PRAGMA key = {};", key.pragma_literal().as_str()));
    conn.execute_batch(&pragma)?;
    // The first read is where a wrong key shows.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|_| StoreError::NotADatabase {
            path: path.to_path_buf(),
        })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal(mode));
    }
    // FULL: a commit is on disk (WAL fsynced) before it returns, against power loss.
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    Ok(conn)
}

/// Runs every migration the database has not had, up to `target`.
pub(crate) fn migrate(conn: &mut Connection, target: i64) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > schema_version() {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known: schema_version(),
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}
