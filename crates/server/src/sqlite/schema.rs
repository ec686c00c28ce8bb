//! The SQLite backend's schema: its numbered migrations (crate::migrate) and how
//! they run. Each step runs in one `BEGIN IMMEDIATE` transaction with its row in
//! `schema_migrations`, so two processes opening the database together run it once.
//!
//! The steps (never edited once released; a change is a new step, on both backends):
//! 1. `schema before numbered migrations`: the tables tern made before, and the
//!    upgrades of databases made before them (a log unique per document, the columns
//!    `docs.summary`, `devices.via_hub`, `records.created`, the worklist columns of
//!    `report_lines` and their index).

use crate::db::DbResult;
use crate::migrate::{due, MigrateError, Migration};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

/// How a step runs: a function of the step's transaction.
type Step = fn(&Transaction) -> DbResult<()>;

/// The SQLite backend's steps, in order.
pub(crate) const MIGRATIONS: &[Migration<Step>] = &[Migration {
    version: 1,
    name: "schema before numbered migrations",
    step: before_numbered_migrations,
}];

/// Brings the database to the latest step: each due step in its own transaction
/// with its `schema_migrations` row. Refuses a database of a newer tern.
pub(super) fn migrate(conn: &mut Connection) -> DbResult<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations(
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);",
        )?;
        let applied = applied(&tx)?;
        let Some(next) = due(MIGRATIONS, &applied)?.first().copied() else {
            tx.commit()?;
            return Ok(());
        };
        (next.step)(&tx).map_err(|source| MigrateError::Step {
            version: next.version,
            name: next.name,
            source: Box::new(source),
        })?;
        tx.execute(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![
                next.version,
                next.name,
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ],
        )?;
        tx.commit()?;
    }
}

/// The versions a database records.
pub(super) fn applied(conn: &Connection) -> DbResult<Vec<u32>> {
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
    let mut out = Vec::new();
    for v in rows {
        let v = v?;
        out.push(u32::try_from(v).map_err(|_| MigrateError::Unknown(v))?);
    }
    Ok(out)
}

/// The tables tern made before numbered migrations (step 1 adds the columns older
/// databases lack; tests make old databases from it). Never edit: a change is a
/// new step.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sites(name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS accounts(
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_sites(
    account TEXT NOT NULL, site TEXT NOT NULL, PRIMARY KEY(account, site));
CREATE TABLE IF NOT EXISTS enrolments(
    code_hash TEXT PRIMARY KEY, site TEXT NOT NULL, account TEXT,
    expires_ms INTEGER NOT NULL, used_by TEXT);
CREATE TABLE IF NOT EXISTS devices(
    id TEXT PRIMARY KEY, site TEXT NOT NULL, account TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, last_sync TEXT, revoked INTEGER NOT NULL DEFAULT 0);
-- The accounts that proved themselves (own password, online) on each device: the only
-- authors a device may push changes for. Devices enrolled before this table existed
-- keep their enrolling account.
CREATE TABLE IF NOT EXISTS device_accounts(
    device_id TEXT NOT NULL, account TEXT NOT NULL, proven_ms INTEGER NOT NULL,
    PRIMARY KEY(device_id, account));
INSERT OR IGNORE INTO device_accounts(device_id, account, proven_ms)
    SELECT id, account, 0 FROM devices;
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Each device's escrowed restricted key pair (crate::escrow): the secret key is sealed
-- to a proving clinician's or supervisor's own key in the answer to their proof.
CREATE TABLE IF NOT EXISTS restricted_keys(
    device_id TEXT PRIMARY KEY, public TEXT NOT NULL, secret TEXT NOT NULL,
    escrowed_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
    token_hash TEXT PRIMARY KEY, account TEXT NOT NULL, expires_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures(key TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at_ms);
CREATE TABLE IF NOT EXISTS access_log(
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, device TEXT NOT NULL, site TEXT NOT NULL,
    action TEXT NOT NULL, object TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counter(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counter(name, value) VALUES ('seq', 0);
CREATE TABLE IF NOT EXISTS log(
    seq INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, kind TEXT NOT NULL,
    site TEXT NOT NULL, hash BLOB NOT NULL, bytes BLOB NOT NULL,
    origin TEXT NOT NULL, quarantined INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS log_doc_hash ON log(doc_id, hash);
CREATE INDEX IF NOT EXISTS log_doc ON log(doc_id, seq);
CREATE INDEX IF NOT EXISTS log_site ON log(site, seq);
CREATE TABLE IF NOT EXISTS docs(
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, site TEXT NOT NULL,
    last_seq INTEGER NOT NULL, verified_seq INTEGER NOT NULL DEFAULT 0,
    quarantine_reason TEXT, summary TEXT);
CREATE INDEX IF NOT EXISTS docs_unverified ON docs(verified_seq, last_seq);
-- The verification queue: documents with chunks not yet verified. Pulls serve only
-- what lies before the first unverified chunk (see `pull`).
CREATE INDEX IF NOT EXISTS docs_pending ON docs(verified_seq)
    WHERE last_seq > verified_seq AND kind IN ('record', 'restricted', 'subject');
CREATE TABLE IF NOT EXISTS records(
    record_id TEXT PRIMARY KEY, site TEXT NOT NULL, form_id TEXT NOT NULL,
    form_version TEXT NOT NULL, subject_id TEXT NOT NULL, status TEXT NOT NULL,
    conflict INTEGER NOT NULL);
-- What the server knows of each record (crate::facts): the verdict as JSON text.
CREATE TABLE IF NOT EXISTS record_facts(
    record_id TEXT PRIMARY KEY, site TEXT NOT NULL, form_id TEXT NOT NULL,
    encounter_date TEXT NOT NULL,
    -- What reports read (crate::facts::report_view): a compact copy of `row`, before
    -- it so that reading it never walks `row`'s overflow pages.
    report TEXT NOT NULL, row TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS record_facts_day ON record_facts(encounter_date, site, form_id);
-- Exports page through one form's records in day order (crate::export::store).
CREATE INDEX IF NOT EXISTS record_facts_export ON record_facts(form_id, encounter_date, record_id);
-- What each record gives the reports (crate::reports::parts_of), written with its
-- facts: counts that aggregate reports add up by key, lines that worklists read.
-- Both are kept in report and day order, so that a report reads a range of pages.
CREATE TABLE IF NOT EXISTS report_counts(
    report TEXT NOT NULL, encounter_date TEXT NOT NULL, site TEXT NOT NULL,
    form_id TEXT NOT NULL, record_id TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY(report, encounter_date, site, form_id, record_id, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_counts_record ON report_counts(record_id);
CREATE TABLE IF NOT EXISTS report_lines(
    report TEXT NOT NULL, encounter_date TEXT NOT NULL, record_id TEXT NOT NULL,
    site TEXT NOT NULL, form_id TEXT NOT NULL, subject_id TEXT NOT NULL,
    status TEXT NOT NULL, created TEXT NOT NULL, body TEXT NOT NULL,
    -- When the line is on its list, when its record is a stale draft, its place on
    -- the list (crate::reports::Line::listed_from, stale_from, urgency).
    listed_from TEXT NOT NULL DEFAULT '', stale_from TEXT, urgency TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(report, encounter_date, record_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_lines_record ON report_lines(record_id);
";

/// What a report counts of its lines (crate::reports::Tally) without reading them.
/// Made after the columns are (databases made before them gain them in step 1).
const REPORT_LINES_TALLY: &str = "
CREATE INDEX IF NOT EXISTS report_lines_tally
    ON report_lines(report, encounter_date, site, form_id, listed_from, stale_from);
";

/// The table of review decisions on quarantined chunks (crate::quarantine): one row
/// per decided chunk.
const QUARANTINE: &str = "
CREATE TABLE IF NOT EXISTS quarantine_decisions(
    doc_id TEXT NOT NULL, hash BLOB NOT NULL, decision TEXT NOT NULL,
    actor TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY(doc_id, hash));
";

/// Exports' tables (crate::export::store, issue 18): recipients and approvals.
const EXPORTS: &str = "
CREATE TABLE IF NOT EXISTS export_recipients(
    name TEXT PRIMARY KEY, public_key TEXT NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS export_approvals(
    id TEXT PRIMARY KEY, purpose TEXT NOT NULL, form_id TEXT NOT NULL, sites TEXT NOT NULL,
    identified INTEGER NOT NULL, restricted INTEGER NOT NULL,
    requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    approved_by TEXT, approved_at TEXT);
";

/// Step 1: the tables tern made before numbered migrations, made when missing, and
/// databases made before some of them brought up to them. Idempotent, so that a
/// database of any earlier tern (without `schema_migrations`) ends identical to a
/// new one.
fn before_numbered_migrations(conn: &Transaction) -> DbResult<()> {
    unique_per_document(conn)?;
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(QUARANTINE)?;
    // Exports (issue 18): recipients and approvals.
    conn.execute_batch(EXPORTS)?;
    // Databases made before document summaries (protocol 2).
    let has_summary: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('docs') WHERE name = 'summary'",
        [],
        |r| r.get(0),
    )?;
    if !has_summary {
        conn.execute_batch("ALTER TABLE docs ADD COLUMN summary TEXT")?;
    }
    // Databases made before records kept the day they were started: the column,
    // filled from the verified summaries.
    let has_created: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('records') WHERE name = 'created'",
        [],
        |r| r.get(0),
    )?;
    // Devices enrolled through a supervisor hub (via_hub: the hub's device id).
    let has_via_hub: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('devices') WHERE name = 'via_hub'",
        [],
        |r| r.get(0),
    )?;
    if !has_via_hub {
        conn.execute_batch("ALTER TABLE devices ADD COLUMN via_hub TEXT")?;
    }
    if !has_created {
        conn.execute_batch(
            "ALTER TABLE records ADD COLUMN created TEXT NOT NULL DEFAULT '';
             UPDATE records SET created = coalesce((SELECT json_extract(d.summary, '$.Record.created')
                 FROM docs d WHERE d.doc_id = records.record_id), '');",
        )?;
    }
    // Databases made before worklists were bounded in SQL (report parts version
    // 1): the columns, filled when `tern serve` rebuilds the parts.
    let has_listed: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('report_lines') WHERE name = 'listed_from'",
        [],
        |r| r.get(0),
    )?;
    if !has_listed {
        conn.execute_batch(
            "ALTER TABLE report_lines ADD COLUMN listed_from TEXT NOT NULL DEFAULT '';
             ALTER TABLE report_lines ADD COLUMN stale_from TEXT;
             ALTER TABLE report_lines ADD COLUMN urgency TEXT NOT NULL DEFAULT '';",
        )?;
    }
    conn.execute_batch(REPORT_LINES_TALLY)?;
    Ok(())
}

/// Databases made before a chunk was unique per document had `hash UNIQUE` over the
/// whole log: a second document holding a byte-identical chunk (two empty restricted
/// twins made in the same millisecond by the same user, say) was acknowledged and
/// never stored. Rebuilds such a log with the same rows (in the step's transaction).
fn unique_per_document(conn: &Transaction) -> DbResult<()> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'log'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if !sql.is_some_and(|s| s.contains("hash BLOB NOT NULL UNIQUE")) {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TABLE log_per_document(
             seq INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, kind TEXT NOT NULL,
             site TEXT NOT NULL, hash BLOB NOT NULL, bytes BLOB NOT NULL,
             origin TEXT NOT NULL, quarantined INTEGER NOT NULL DEFAULT 0);
         INSERT INTO log_per_document SELECT seq, doc_id, kind, site, hash, bytes, origin, quarantined FROM log;
         DROP TABLE log;
         ALTER TABLE log_per_document RENAME TO log;",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteDb;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn the_steps_are_numbered_from_one() {
        assert!(crate::migrate::well_numbered(MIGRATIONS));
    }

    #[test]
    fn a_new_database_records_every_step_once() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let latest = crate::migrate::latest(MIGRATIONS);
        for _ in 0..2 {
            let db = SqliteDb::open(dir.path()).expect("open");
            let versions = rt.block_on(db.run(|c| applied(c))).expect("versions");
            assert_eq!(versions, (1..=latest).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_database_made_before_numbered_migrations_is_brought_up_to_date() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        {
            let plain = Connection::open(dir.path().join("tern-server.db")).expect("plain");
            plain.execute_batch(SCHEMA).expect("old schema");
        }
        let db = SqliteDb::open(dir.path()).expect("open");
        let (versions, columns) = rt
            .block_on(db.run(|c| {
                let columns: i64 = c.query_row(
                    "SELECT (SELECT count(*) FROM pragma_table_info('records') WHERE name = 'created')
                          + (SELECT count(*) FROM pragma_table_info('devices') WHERE name = 'via_hub')",
                    [],
                    |r| r.get(0),
                )?;
                Ok((applied(c)?, columns))
            }))
            .expect("read");
        assert_eq!(
            versions,
            (1..=crate::migrate::latest(MIGRATIONS)).collect::<Vec<_>>()
        );
        assert_eq!(columns, 2);
    }

    #[test]
    fn a_database_of_a_newer_tern_is_refused_and_left_alone() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let db = SqliteDb::open(dir.path()).expect("open");
        let newer = crate::migrate::latest(MIGRATIONS) + 1;
        rt.block_on(db.run(move |c| {
            c.execute(
                "INSERT INTO schema_migrations(version, name, applied_at)
                 VALUES (?1, 'from the future', '2099-01-01T00:00:00Z')",
                params![newer],
            )?;
            Ok(())
        }))
        .expect("a newer step");
        drop(db);
        let err = SqliteDb::open(dir.path()).expect_err("newer");
        assert_eq!(
            err.to_string(),
            format!(
                "this database was made by a newer tern (schema version {newer}, this tern \
                 knows {}); update tern",
                newer - 1
            )
        );
    }
}
