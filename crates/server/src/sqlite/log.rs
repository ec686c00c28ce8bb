//! The change log in the SQLite backend: storing pushed changes (sequence numbers
//! in commit order), pulls (from one snapshot, cut into pages, never past the first
//! unverified chunk) and reading documents' chunks. Each function is one `Db`
//! operation (crate::db).

use super::*;

/// Sequence numbers a pull considers at most per round trip (a pull page is cut by
/// bytes; this bounds the work of finding them).
const PULL_ROWS: i64 = 4096;

pub(super) async fn chunks_after(db: &SqliteDb, seq: i64, origin: &str) -> DbResult<i64> {
    let origin = origin.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            "SELECT count(*) FROM log WHERE seq > ?1 AND origin != ?2
             AND kind IN ('record', 'restricted', 'subject')",
            params![seq, origin],
            |r| r.get(0),
        )?)
    })
    .await
}

pub(super) async fn doc_pending(db: &SqliteDb, doc_id: &str) -> DbResult<bool> {
    let id = doc_id.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            "SELECT last_seq > verified_seq FROM docs WHERE doc_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false))
    })
    .await
}

pub(super) async fn verified_seq(db: &SqliteDb, doc_id: &str) -> DbResult<i64> {
    let id = doc_id.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            "SELECT verified_seq FROM docs WHERE doc_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
    })
    .await
}

pub(super) async fn doc_meta(
    db: &SqliteDb,
    ids: &[String],
) -> DbResult<Vec<(String, String, String)>> {
    let ids = ids.to_vec();
    db.run(move |c| {
        let mut out = Vec::new();
        let mut stmt = c.prepare_cached("SELECT kind, site FROM docs WHERE doc_id = ?1")?;
        for id in ids {
            if let Some((k, s)) = stmt
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
            {
                out.push((id, k, s));
            }
        }
        Ok(out)
    })
    .await
}

pub(super) async fn store_changes(db: &SqliteDb, origin: &str, docs: &[NewDoc]) -> DbResult<u64> {
    let (origin, docs) = (origin.to_string(), docs.to_vec());
    db.run(move |c| {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut seq: i64 =
            tx.query_row("SELECT value FROM counter WHERE name = 'seq'", [], |r| {
                r.get(0)
            })?;
        let mut new = 0u64;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO log(seq, doc_id, kind, site, hash, bytes, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut doc = tx.prepare_cached(
                "INSERT INTO docs(doc_id, kind, site, last_seq) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(doc_id) DO UPDATE SET last_seq = ?4",
            )?;
            for d in &docs {
                let before = seq;
                for (hash, bytes) in &d.changes {
                    let n = insert.execute(params![
                        seq + 1,
                        d.doc_id,
                        d.kind,
                        d.site,
                        &hash[..],
                        bytes,
                        origin
                    ])?;
                    if n > 0 {
                        seq += 1;
                        new += 1;
                    }
                }
                if seq > before {
                    doc.execute(params![d.doc_id, d.kind, d.site, seq])?;
                }
            }
        }
        tx.execute("UPDATE counter SET value = ?1 WHERE name = 'seq'", [seq])?;
        tx.commit()?;
        Ok(new)
    })
    .await
}

pub(super) async fn pull(
    db: &SqliteDb,
    scope: &Scope,
    cursor: i64,
    max_bytes: usize,
) -> DbResult<Pulled> {
    let scope = scope.clone();
    db.run(move |c| {
        let tx = c.transaction()?;
        let stored: i64 =
            tx.query_row("SELECT value FROM counter WHERE name = 'seq'", [], |r| {
                r.get(0)
            })?;
        // Forms and configuration are stored for site `*`, visible to all.
        let mut sites = scope.sites.clone();
        sites.push("*".into());
        let sites = serde_json::to_string(&sites).unwrap_or_else(|_| "[\"*\"]".into());
        let first: Option<i64> = tx.query_row(
            "SELECT MIN((SELECT MIN(l.seq) FROM log l
                WHERE l.doc_id = d.doc_id AND l.seq > d.verified_seq AND l.origin <> ?1))
             FROM docs d
             WHERE d.last_seq > d.verified_seq AND d.kind IN ('record', 'restricted', 'subject')
               AND d.site IN (SELECT value FROM json_each(?2))",
            params![scope.exclude_origin, sites],
            |r| r.get(0),
        )?;
        let head = verified_head(stored, first);
        // First the sequence numbers in scope, from the (site, seq) index: rows of
        // other sites are never read. Then each row, in order, until the page is
        // full.
        let seqs: Vec<i64> = {
            let mut stmt = tx.prepare_cached(
                "SELECT seq FROM log
                 WHERE site IN (SELECT value FROM json_each(?4)) AND seq > ?1 AND seq <= ?2
                   AND quarantined = 0 AND origin <> ?3 AND (kind <> 'restricted' OR ?5)
                 ORDER BY seq LIMIT ?6",
            )?;
            let rows = stmt.query_map(
                params![
                    cursor,
                    head,
                    scope.exclude_origin,
                    sites,
                    scope.restricted,
                    PULL_ROWS
                ],
                |r| r.get(0),
            )?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut stmt = tx.prepare_cached(
            "SELECT l.seq, l.doc_id, l.kind, l.site, l.bytes,
                    CASE WHEN d.verified_seq >= d.last_seq THEN d.summary END
             FROM log l LEFT JOIN docs d ON d.doc_id = l.doc_id WHERE l.seq = ?1",
        )?;
        let mut items: Vec<LogItem> = Vec::new();
        let mut cut = PageCut::new(max_bytes, seqs.len(), PULL_ROWS);
        for seq in &seqs {
            let item = stmt.query_row([seq], |r| {
                Ok(LogItem {
                    seq: r.get(0)?,
                    doc_id: r.get(1)?,
                    kind: r.get(2)?,
                    site: r.get(3)?,
                    bytes: r.get(4)?,
                    summary: r.get(5)?,
                })
            })?;
            if !cut.take(item.bytes.len()) {
                break;
            }
            items.push(item);
        }
        Ok(Pulled {
            cursor: cut.cursor(cursor, items.last().map(|i| i.seq), head),
            items,
            more: cut.more(),
            head,
            waiting: head < stored,
        })
    })
    .await
}

pub(super) async fn doc_changes(db: &SqliteDb, doc_id: &str, upto: i64) -> DbResult<Vec<Vec<u8>>> {
    let id = doc_id.to_string();
    db.rows(
        "SELECT bytes FROM log WHERE doc_id = ?1 AND seq <= ?2 AND quarantined = 0 ORDER BY seq",
        (id, upto),
        |r| r.get(0),
    )
    .await
}

pub(super) async fn docs_chunks(
    db: &SqliteDb,
    docs: &[(String, i64, i64)],
) -> DbResult<Vec<Vec<Vec<u8>>>> {
    let wanted = docs.to_vec();
    db.run(move |c| {
        let mut stmt = c.prepare_cached(
            "SELECT bytes FROM log WHERE doc_id = ?1 AND seq > ?2 AND seq <= ?3 AND quarantined = 0
             ORDER BY seq",
        )?;
        let mut out = Vec::with_capacity(wanted.len());
        for (id, after, upto) in &wanted {
            let rows = stmt.query_map(params![id, after, upto], |r| r.get(0))?;
            out.push(rows.collect::<rusqlite::Result<_>>()?);
        }
        Ok(out)
    })
    .await
}
