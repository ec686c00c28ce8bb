//! The PostgreSQL backend's schema: its numbered migrations (crate::migrate) and
//! how they run. Each step runs in one transaction with its row in
//! `schema_migrations`, under an advisory lock (`pg_advisory_xact_lock`) so that
//! replicas starting together run it once.
//!
//! The steps (never edited once released; a change is a new step, on both backends):
//! 1. `schema before numbered migrations`: the tables tern made before, and the
//!    upgrades of databases made before them (a log unique per document, the columns
//!    `devices.via_hub`, `docs.summary`, `records.created`, the worklist columns of
//!    `report_lines` and their index).

use crate::db::DbResult;
use crate::migrate::{due, MigrateError, Migration};

/// How a step runs: SQL texts, run in order in the step's transaction.
type Step = &'static [&'static str];

/// The PostgreSQL backend's steps, in order.
pub(crate) const MIGRATIONS: &[Migration<Step>] = &[Migration {
    version: 1,
    name: "schema before numbered migrations",
    step: &[SCHEMA, QUARANTINE, EXPORTS],
}];

/// The advisory lock all replicas take while migrating.
const LOCK: i64 = 7413;

/// Brings the database to the latest step: each due step in its own transaction
/// with its `schema_migrations` row, under the advisory lock. Refuses a database of
/// a newer tern.
pub(super) async fn migrate(c: &mut deadpool_postgres::Object) -> DbResult<()> {
    loop {
        let tx = c.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations(
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);",
        )
        .await?;
        let mut applied = Vec::new();
        for row in tx
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .await?
        {
            let v: i32 = row.get(0);
            applied.push(u32::try_from(v).map_err(|_| MigrateError::Unknown(i64::from(v)))?);
        }
        let Some(next) = due(MIGRATIONS, &applied)?.first().copied() else {
            tx.commit().await?;
            return Ok(());
        };
        for sql in next.step {
            tx.batch_execute(sql)
                .await
                .map_err(|e| MigrateError::Step {
                    version: next.version,
                    name: next.name,
                    source: Box::new(e.into()),
                })?;
        }
        let version = i32::try_from(next.version)
            .map_err(|_| MigrateError::Unknown(i64::from(next.version)))?;
        tx.execute(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                &version,
                &next.name,
                &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ],
        )
        .await?;
        tx.commit().await?;
    }
}

/// The tables tern made before numbered migrations, with the upgrades of databases
/// made before some of them (idempotent). Never edit: a change is a new step.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sites(name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS accounts(
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_sites(
    account TEXT NOT NULL, site TEXT NOT NULL, PRIMARY KEY(account, site));
CREATE TABLE IF NOT EXISTS enrolments(
    code_hash TEXT PRIMARY KEY, site TEXT NOT NULL, account TEXT,
    expires_ms BIGINT NOT NULL, used_by TEXT);
CREATE TABLE IF NOT EXISTS devices(
    id TEXT PRIMARY KEY, site TEXT NOT NULL, account TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, last_sync TEXT, revoked BOOLEAN NOT NULL DEFAULT FALSE);
-- The accounts that proved themselves (own password, online) on each device: the only
-- authors a device may push changes for. Devices enrolled before this table existed
-- keep their enrolling account.
CREATE TABLE IF NOT EXISTS device_accounts(
    device_id TEXT NOT NULL, account TEXT NOT NULL, proven_ms BIGINT NOT NULL,
    PRIMARY KEY(device_id, account));
INSERT INTO device_accounts(device_id, account, proven_ms)
    SELECT id, account, 0 FROM devices ON CONFLICT DO NOTHING;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS via_hub TEXT;
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Each device's escrowed restricted key pair (crate::escrow): the secret key is sealed
-- to a proving clinician's or supervisor's own key in the answer to their proof.
CREATE TABLE IF NOT EXISTS restricted_keys(
    device_id TEXT PRIMARY KEY, public TEXT NOT NULL, secret TEXT NOT NULL,
    escrowed_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
    token_hash TEXT PRIMARY KEY, account TEXT NOT NULL, expires_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures(key TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at_ms);
CREATE TABLE IF NOT EXISTS access_log(
    id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, device TEXT NOT NULL, site TEXT NOT NULL,
    action TEXT NOT NULL, object TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counter(name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counter(name, value) VALUES ('seq', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS log(
    seq BIGINT PRIMARY KEY, doc_id TEXT NOT NULL, kind TEXT NOT NULL,
    site TEXT NOT NULL, hash BYTEA NOT NULL, bytes BYTEA NOT NULL,
    origin TEXT NOT NULL, quarantined BOOLEAN NOT NULL DEFAULT FALSE);
-- A chunk is unique per document, not over the whole log (databases made before
-- had `hash UNIQUE`: a second document with a byte-identical chunk was lost).
CREATE UNIQUE INDEX IF NOT EXISTS log_doc_hash ON log(doc_id, hash);
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'log_hash_key') THEN
        ALTER TABLE log DROP CONSTRAINT log_hash_key;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS log_doc ON log(doc_id, seq);
CREATE INDEX IF NOT EXISTS log_site ON log(site, seq);
CREATE TABLE IF NOT EXISTS docs(
    doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, site TEXT NOT NULL,
    last_seq BIGINT NOT NULL, verified_seq BIGINT NOT NULL DEFAULT 0,
    quarantine_reason TEXT);
ALTER TABLE docs ADD COLUMN IF NOT EXISTS summary TEXT;
CREATE INDEX IF NOT EXISTS docs_unverified ON docs(verified_seq, last_seq);
-- The verification queue: documents with chunks not yet verified. Pulls serve only
-- what lies before the first unverified chunk (see `pull`).
CREATE INDEX IF NOT EXISTS docs_pending ON docs(verified_seq)
    WHERE last_seq > verified_seq AND kind IN ('record', 'restricted', 'subject');
CREATE TABLE IF NOT EXISTS records(
    record_id TEXT PRIMARY KEY, site TEXT NOT NULL, form_id TEXT NOT NULL,
    form_version TEXT NOT NULL, subject_id TEXT NOT NULL, status TEXT NOT NULL,
    conflict BOOLEAN NOT NULL);
-- The day a record was started, for reports; older rows filled from the summaries.
ALTER TABLE records ADD COLUMN IF NOT EXISTS created TEXT NOT NULL DEFAULT '';
UPDATE records r SET created = coalesce(d.summary::json -> 'Record' ->> 'created', '')
    FROM docs d WHERE d.doc_id = r.record_id AND r.created = '' AND d.summary IS NOT NULL;
-- What the server knows of each record (crate::facts): the verdict as JSONB. Reports
-- read by encounter day, site and form.
CREATE TABLE IF NOT EXISTS record_facts(
    record_id TEXT PRIMARY KEY, site TEXT NOT NULL, form_id TEXT NOT NULL,
    encounter_date TEXT NOT NULL, row JSONB NOT NULL,
    -- What reports read (crate::facts::report_view): a compact copy of `row`.
    report JSONB NOT NULL);
CREATE INDEX IF NOT EXISTS record_facts_day ON record_facts(encounter_date, site, form_id);
-- Exports page through one form's records in day order (crate::export::store).
CREATE INDEX IF NOT EXISTS record_facts_export ON record_facts(form_id, encounter_date, record_id);
CREATE INDEX IF NOT EXISTS record_facts_site ON record_facts(site, encounter_date);
-- What each record gives the reports (crate::reports::parts_of), written with its
-- facts: counts that aggregate reports add up by key, lines that worklists read.
CREATE TABLE IF NOT EXISTS report_counts(
    report TEXT NOT NULL, encounter_date TEXT NOT NULL, site TEXT NOT NULL,
    form_id TEXT NOT NULL, record_id TEXT NOT NULL, key TEXT NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY(report, encounter_date, site, form_id, record_id, key) INCLUDE (n));
CREATE INDEX IF NOT EXISTS report_counts_record ON report_counts(record_id);
CREATE TABLE IF NOT EXISTS report_lines(
    report TEXT NOT NULL, encounter_date TEXT NOT NULL, record_id TEXT NOT NULL,
    site TEXT NOT NULL, form_id TEXT NOT NULL, subject_id TEXT NOT NULL,
    status TEXT NOT NULL, created TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY(report, encounter_date, record_id));
CREATE INDEX IF NOT EXISTS report_lines_record ON report_lines(record_id);
-- When the line is on its list, when its record is a stale draft, its place on the
-- list (crate::reports::Line::listed_from, stale_from, urgency): instants written to
-- sort as text, compared byte by byte. Lines written before (report parts version 1)
-- are rewritten when `tern serve` rebuilds the parts.
ALTER TABLE report_lines ADD COLUMN IF NOT EXISTS listed_from TEXT COLLATE \"C\" NOT NULL DEFAULT '';
ALTER TABLE report_lines ADD COLUMN IF NOT EXISTS stale_from TEXT COLLATE \"C\";
ALTER TABLE report_lines ADD COLUMN IF NOT EXISTS urgency TEXT COLLATE \"C\" NOT NULL DEFAULT '';
-- What a report counts of its lines (crate::reports::Tally) without reading them.
CREATE INDEX IF NOT EXISTS report_lines_tally
    ON report_lines(report, encounter_date, site, form_id, listed_from, stale_from);
";

/// The table of review decisions on quarantined chunks (crate::quarantine): one row
/// per decided chunk.
const QUARANTINE: &str = "
CREATE TABLE IF NOT EXISTS quarantine_decisions(
    doc_id TEXT NOT NULL, hash BYTEA NOT NULL, decision TEXT NOT NULL,
    actor TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY(doc_id, hash));
";

/// Exports' tables (crate::export::store, issue 18): recipients and approvals.
const EXPORTS: &str = "
CREATE TABLE IF NOT EXISTS export_recipients(
    name TEXT PRIMARY KEY, public_key TEXT NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS export_approvals(
    id TEXT PRIMARY KEY, purpose TEXT NOT NULL, form_id TEXT NOT NULL, sites TEXT NOT NULL,
    identified BOOLEAN NOT NULL, restricted BOOLEAN NOT NULL,
    requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    approved_by TEXT, approved_at TEXT);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_are_numbered_from_one() {
        assert!(crate::migrate::well_numbered(MIGRATIONS));
    }
}
