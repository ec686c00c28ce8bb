//! What exports keep and read in the server's database, for both backends: the
//! pseudonym secret (in `settings`), recipients' public keys, supervisors'
//! approvals, and pages of the `record_facts` projection. The tables are made by
//! each backend's numbered migrations (`crate::sqlite::schema`,
//! `crate::postgres::schema`).

use super::{ExportError, Query, Source};
use crate::db::{Db, DbError, DbResult};
use crate::facts::FactsRow;
use crate::postgres::PgDb;
use crate::sqlite::SqliteDb;
use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value as J};
use std::collections::HashMap;
use std::future::Future;

/// The settings key of the export pseudonym secret (64 hex digits).
const SECRET_KEY: &str = "export_pseudonym_secret";

/// A recipient of exports: a name and an `age` X25519 public key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recipient {
    pub name: String,
    pub public_key: String,
    pub added_at: String,
}

/// A data manager's request for an export beyond the default (identified, or with
/// restricted sections), and a supervisor's approval of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Approval {
    pub id: String,
    pub purpose: String,
    pub form_id: String,
    pub sites: Vec<String>,
    pub identified: bool,
    pub restricted: bool,
    pub requested_by: String,
    pub requested_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
}

/// The storage operations of exports.
pub trait ExportDb: Db {
    /// The export secret: the stored one, or `candidate` stored now if none was
    /// (first writer wins, so concurrent first exports agree).
    fn export_secret(&self, candidate: &str) -> impl Future<Output = DbResult<String>> + Send;
    fn export_count(&self, q: &Query) -> impl Future<Output = DbResult<u64>> + Send;
    fn export_versions(&self, q: &Query) -> impl Future<Output = DbResult<Vec<String>>> + Send;
    /// Up to `limit` rows of the query after `after` (a `(day, record id)` keyset), in
    /// that order: the `record_facts_export` index's.
    fn export_page(
        &self,
        q: &Query,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> impl Future<Output = DbResult<Vec<FactsRow>>> + Send;
    /// Adds a recipient; refuses a name already taken.
    fn add_recipient(&self, r: &Recipient) -> impl Future<Output = DbResult<()>> + Send;
    fn recipients(&self) -> impl Future<Output = DbResult<Vec<Recipient>>> + Send;
    fn add_approval(&self, a: &Approval) -> impl Future<Output = DbResult<()>> + Send;
    fn approval(&self, id: &str) -> impl Future<Output = DbResult<Option<Approval>>> + Send;
    /// Every approval request, newest first.
    fn approvals(&self) -> impl Future<Output = DbResult<Vec<Approval>>> + Send;
    /// Marks a pending request approved; false when it was not pending.
    fn approve(&self, id: &str, by: &str, at: &str) -> impl Future<Output = DbResult<bool>> + Send;
}

fn task(e: impl std::fmt::Display) -> DbError {
    DbError::Task(e.to_string())
}

fn parse_row(text: &str) -> DbResult<FactsRow> {
    serde_json::from_str(text).map_err(|e| {
        DbError::Task(format!(
            "a record_facts row does not read ({e}): run `tern admin reproject`"
        ))
    })
}

/// Where a page starts: after the last row of the one before, or before every row
/// (`('', '')`); either way a range seek on `record_facts_export` (form, day, id), so
/// each page costs its own rows, not those of the pages before it.
fn keyset(after: Option<&(String, String)>) -> (String, String) {
    after.cloned().unwrap_or_default()
}

fn sites_json(q: &Query) -> Option<String> {
    q.sites
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()))
}

const SQLITE_WHERE: &str = "form_id = ?1
    AND (?2 IS NULL OR site IN (SELECT value FROM json_each(?2)))
    AND (?3 IS NULL OR encounter_date >= ?3) AND (?4 IS NULL OR encounter_date <= ?4)";

fn sqlite_approval(r: &rusqlite::Row<'_>) -> rusqlite::Result<Approval> {
    let sites: String = r.get(3)?;
    Ok(Approval {
        id: r.get(0)?,
        purpose: r.get(1)?,
        form_id: r.get(2)?,
        sites: serde_json::from_str(&sites).unwrap_or_default(),
        identified: r.get(4)?,
        restricted: r.get(5)?,
        requested_by: r.get(6)?,
        requested_at: r.get(7)?,
        approved_by: r.get(8)?,
        approved_at: r.get(9)?,
    })
}

const APPROVAL_COLUMNS: &str = "id, purpose, form_id, sites, identified, restricted, requested_by,
    requested_at, approved_by, approved_at";

impl ExportDb for SqliteDb {
    async fn export_secret(&self, candidate: &str) -> DbResult<String> {
        let candidate = candidate.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO settings(key, value) VALUES (?1, ?2)",
                params![SECRET_KEY, candidate],
            )?;
            Ok(c.query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [SECRET_KEY],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn export_count(&self, q: &Query) -> DbResult<u64> {
        let q = q.clone();
        self.run(move |c| {
            let n: i64 = c.query_row(
                &format!("SELECT count(*) FROM record_facts WHERE {SQLITE_WHERE}"),
                params![q.form_id, sites_json(&q), q.since, q.until],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn export_versions(&self, q: &Query) -> DbResult<Vec<String>> {
        let q = q.clone();
        self.run(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT DISTINCT json_extract(report, '$.form_version') FROM record_facts
                 WHERE {SQLITE_WHERE}"
            ))?;
            let rows = stmt
                .query_map(params![q.form_id, sites_json(&q), q.since, q.until], |r| {
                    r.get::<_, String>(0)
                })?;
            let mut v: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
            v.sort_by(|a, b| version_order(a, b));
            Ok(v)
        })
        .await
    }

    async fn export_page(
        &self,
        q: &Query,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> DbResult<Vec<FactsRow>> {
        let q = q.clone();
        let (day, id) = keyset(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT row FROM record_facts WHERE {SQLITE_WHERE}
                   AND (encounter_date, record_id) > (?5, ?6)
                 ORDER BY encounter_date, record_id LIMIT ?7"
            ))?;
            let rows = stmt.query_map(
                params![q.form_id, sites_json(&q), q.since, q.until, day, id, limit],
                |r| r.get::<_, String>(0),
            )?;
            let mut out = Vec::new();
            for r in rows {
                out.push(parse_row(&r?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn add_recipient(&self, r: &Recipient) -> DbResult<()> {
        let r = r.clone();
        self.run(move |c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO export_recipients(name, public_key, added_at) VALUES (?1, ?2, ?3)",
                params![r.name, r.public_key, r.added_at],
            )?;
            if n == 0 {
                return Err(DbError::Exists(format!("recipient `{}`", r.name)));
            }
            Ok(())
        })
        .await
    }

    async fn recipients(&self) -> DbResult<Vec<Recipient>> {
        self.run(|c| {
            let mut stmt = c.prepare(
                "SELECT name, public_key, added_at FROM export_recipients ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Recipient {
                    name: r.get(0)?,
                    public_key: r.get(1)?,
                    added_at: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn add_approval(&self, a: &Approval) -> DbResult<()> {
        let a = a.clone();
        self.run(move |c| {
            c.execute(
                &format!("INSERT INTO export_approvals({APPROVAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    a.id,
                    a.purpose,
                    a.form_id,
                    serde_json::to_string(&a.sites).map_err(task)?,
                    a.identified,
                    a.restricted,
                    a.requested_by,
                    a.requested_at,
                    a.approved_by,
                    a.approved_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn approval(&self, id: &str) -> DbResult<Option<Approval>> {
        let id = id.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                &format!("SELECT {APPROVAL_COLUMNS} FROM export_approvals WHERE id = ?1"),
                [id],
                sqlite_approval,
            )
            .optional()?)
        })
        .await
    }

    async fn approvals(&self) -> DbResult<Vec<Approval>> {
        self.run(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {APPROVAL_COLUMNS} FROM export_approvals ORDER BY requested_at DESC, id"
            ))?;
            let rows = stmt.query_map([], sqlite_approval)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn approve(&self, id: &str, by: &str, at: &str) -> DbResult<bool> {
        let (id, by, at) = (id.to_string(), by.to_string(), at.to_string());
        self.run(move |c| {
            Ok(c.execute(
                "UPDATE export_approvals SET approved_by = ?2, approved_at = ?3
                 WHERE id = ?1 AND approved_by IS NULL",
                params![id, by, at],
            )? == 1)
        })
        .await
    }
}

const PG_WHERE: &str = "form_id = $1 AND ($2::text[] IS NULL OR site = ANY($2))
    AND ($3::text IS NULL OR encounter_date >= $3) AND ($4::text IS NULL OR encounter_date <= $4)";

fn pg_approval(r: &tokio_postgres::Row) -> Approval {
    let sites: String = r.get(3);
    Approval {
        id: r.get(0),
        purpose: r.get(1),
        form_id: r.get(2),
        sites: serde_json::from_str(&sites).unwrap_or_default(),
        identified: r.get(4),
        restricted: r.get(5),
        requested_by: r.get(6),
        requested_at: r.get(7),
        approved_by: r.get(8),
        approved_at: r.get(9),
    }
}

impl ExportDb for PgDb {
    async fn export_secret(&self, candidate: &str) -> DbResult<String> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO settings(key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&SECRET_KEY, &candidate],
        )
        .await?;
        Ok(
            c.query_one("SELECT value FROM settings WHERE key = $1", &[&SECRET_KEY])
                .await?
                .get(0),
        )
    }

    async fn export_count(&self, q: &Query) -> DbResult<u64> {
        let n: i64 = self
            .client()
            .await?
            .query_one(
                &format!("SELECT count(*) FROM record_facts WHERE {PG_WHERE}"),
                &[&q.form_id, &q.sites, &q.since, &q.until],
            )
            .await?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn export_versions(&self, q: &Query) -> DbResult<Vec<String>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT DISTINCT report->>'form_version' FROM record_facts WHERE {PG_WHERE}"
                ),
                &[&q.form_id, &q.sites, &q.since, &q.until],
            )
            .await?;
        let mut v: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        v.sort_by(|a, b| version_order(a, b));
        Ok(v)
    }

    async fn export_page(
        &self,
        q: &Query,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> DbResult<Vec<FactsRow>> {
        let (day, id) = keyset(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT row::text FROM record_facts WHERE {PG_WHERE}
                       AND (encounter_date, record_id) > ($5::text, $6::text)
                     ORDER BY encounter_date, record_id LIMIT $7"
                ),
                &[&q.form_id, &q.sites, &q.since, &q.until, &day, &id, &limit],
            )
            .await?;
        rows.iter()
            .map(|r| parse_row(r.get::<_, &str>(0)))
            .collect()
    }

    async fn add_recipient(&self, r: &Recipient) -> DbResult<()> {
        let n = self
            .client()
            .await?
            .execute(
                "INSERT INTO export_recipients(name, public_key, added_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
                &[&r.name, &r.public_key, &r.added_at],
            )
            .await?;
        if n == 0 {
            return Err(DbError::Exists(format!("recipient `{}`", r.name)));
        }
        Ok(())
    }

    async fn recipients(&self) -> DbResult<Vec<Recipient>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT name, public_key, added_at FROM export_recipients ORDER BY name",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Recipient {
                name: r.get(0),
                public_key: r.get(1),
                added_at: r.get(2),
            })
            .collect())
    }

    async fn add_approval(&self, a: &Approval) -> DbResult<()> {
        let sites = serde_json::to_string(&a.sites).map_err(task)?;
        self.client()
            .await?
            .execute(
                &format!("INSERT INTO export_approvals({APPROVAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                &[
                    &a.id,
                    &a.purpose,
                    &a.form_id,
                    &sites,
                    &a.identified,
                    &a.restricted,
                    &a.requested_by,
                    &a.requested_at,
                    &a.approved_by,
                    &a.approved_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn approval(&self, id: &str) -> DbResult<Option<Approval>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {APPROVAL_COLUMNS} FROM export_approvals WHERE id = $1"),
                &[&id],
            )
            .await?;
        Ok(row.as_ref().map(pg_approval))
    }

    async fn approvals(&self) -> DbResult<Vec<Approval>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {APPROVAL_COLUMNS} FROM export_approvals ORDER BY requested_at DESC, id"
                ),
                &[],
            )
            .await?;
        Ok(rows.iter().map(pg_approval).collect())
    }

    async fn approve(&self, id: &str, by: &str, at: &str) -> DbResult<bool> {
        Ok(self
            .client()
            .await?
            .execute(
                "UPDATE export_approvals SET approved_by = $2, approved_at = $3
                 WHERE id = $1 AND approved_by IS NULL",
                &[&id, &by, &at],
            )
            .await?
            == 1)
    }
}

/// Semantic versions in numeric order (`1.10.0` after `1.9.0`).
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// A [`Source`] over a server store, for a synchronous export on a thread that may
/// block (the CLI's, or the blocking pool's): each read runs on `handle`.
pub struct DbSource<'a, D: ExportDb> {
    pub db: &'a D,
    pub handle: tokio::runtime::Handle,
}

impl<D: ExportDb> std::fmt::Debug for DbSource<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSource")
    }
}

impl<D: ExportDb> Source for DbSource<'_, D> {
    fn count(&mut self, q: &Query) -> Result<u64, ExportError> {
        Ok(self.handle.block_on(self.db.export_count(q))?)
    }

    fn versions(&mut self, q: &Query) -> Result<Vec<String>, ExportError> {
        Ok(self.handle.block_on(self.db.export_versions(q))?)
    }

    fn page(
        &mut self,
        q: &Query,
        version: Option<&str>,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> Result<Vec<FactsRow>, ExportError> {
        let read = |after: Option<&(String, String)>| {
            self.handle.block_on(self.db.export_page(q, after, limit))
        };
        let Some(version) = version else {
            return Ok(read(after)?);
        };
        // One form version's rows (a CSV file each): filtered here, not in SQL, so
        // the read stays a walk of the export index. With the version in SQL,
        // PostgreSQL (which cannot estimate a JSON field's share of rows) sorted the
        // whole table for every page: 189 s for 100,000 records instead of seconds.
        let mut rows = Vec::new();
        let mut from = after.cloned();
        loop {
            let page = read(from.as_ref())?;
            let end = page.len() < limit;
            if let Some(last) = page.last() {
                from = Some((last.encounter_date.clone(), last.record_id.clone()));
            }
            rows.extend(page.into_iter().filter(|r| r.form_version == version));
            if end || rows.len() >= limit {
                // The caller reads on after the last row returned: rows cut here
                // are read again, none is skipped.
                rows.truncate(limit);
                return Ok(rows);
            }
        }
    }

    fn subjects(&mut self, ids: &[String]) -> Result<HashMap<String, String>, ExportError> {
        Ok(self.handle.block_on(self.db.subject_summaries(ids))?)
    }

    fn restricted(&mut self, record_id: &str) -> Result<Map<String, J>, ExportError> {
        let twin = format!("{record_id}.restricted");
        let chunks = self.handle.block_on(async {
            let upto = self.db.verified_seq(&twin).await?;
            self.db.doc_changes(&twin, upto).await
        })?;
        if chunks.is_empty() {
            return Ok(Map::new());
        }
        let doc = tern_record::load_chunks(chunks)
            .map_err(|e| ExportError::DamagedTwin(e.to_string()))?;
        Ok(tern_record::document_answers(&doc)["answers"]
            .as_object()
            .cloned()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::RecordFacts;

    fn row(day: &str, id: &str, version: &str) -> FactsRow {
        FactsRow {
            record_id: id.into(),
            site: "site-a".into(),
            form_id: "pda".into(),
            form_version: version.into(),
            subject_id: format!("subject-{id}"),
            status: "submitted".into(),
            conflict: false,
            created: format!("{day}T10:00:00Z"),
            encounter_date: day.into(),
            outcome: None,
            facts: RecordFacts::default(),
        }
    }

    /// One version's pages, read from pages of every version: complete, in order,
    /// never more than asked for, however the versions interleave.
    #[test]
    fn a_versions_pages_hold_all_its_rows_in_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = SqliteDb::open(dir.path()).expect("db");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        // The older version's 8 rows stand together in the middle: whole pages of
        // the index hold none of them, which a single read per page would return
        // empty (ending the export early).
        let rows: Vec<FactsRow> = (0..23)
            .map(|i| {
                let version = if (9..17).contains(&i) {
                    "1.1.0"
                } else {
                    "1.2.0"
                };
                row(
                    &format!("2026-03-{:02}", 1 + i / 4),
                    &format!("r{i:02}"),
                    version,
                )
            })
            .collect();
        rt.block_on(db.put_facts(&rows)).expect("facts");
        let mut source = DbSource {
            db: &db,
            handle: rt.handle().clone(),
        };
        let q = Query {
            form_id: "pda".into(),
            sites: None,
            since: None,
            until: None,
        };
        for (version, want) in [("1.1.0", 8), ("1.2.0", 15)] {
            let mut got = Vec::new();
            let mut after: Option<(String, String)> = None;
            loop {
                let page = source
                    .page(&q, Some(version), after.as_ref(), 4)
                    .expect("page");
                assert!(page.len() <= 4);
                let Some(last) = page.last() else { break };
                after = Some((last.encounter_date.clone(), last.record_id.clone()));
                got.extend(page);
            }
            assert_eq!(got.len(), want, "{version}");
            assert!(got.iter().all(|r| r.form_version == version));
            let keys: Vec<_> = got
                .iter()
                .map(|r| (r.encounter_date.clone(), r.record_id.clone()))
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "in the index's order");
        }
    }
}
