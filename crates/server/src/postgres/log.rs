//! The change log in the PostgreSQL backend: storing pushed changes (sequence numbers
//! in commit order), pulls (from one snapshot, cut into pages, never past the first
//! unverified chunk) and reading documents' chunks. Each function is one `Db`
//! operation (crate::db).

use super::*;

/// Most rows one pull reads before cutting the page.
const PULL_ROWS: i64 = 4096;

/// Rows fetched per query while filling a pull page.
const PULL_BATCH: usize = 256;

pub(super) async fn chunks_after(db: &PgDb, seq: i64, origin: &str) -> DbResult<i64> {
    Ok(db
        .client()
        .await?
        .query_one(
            "SELECT count(*) FROM log WHERE seq > $1 AND origin != $2
             AND kind IN ('record', 'restricted', 'subject')",
            &[&seq, &origin],
        )
        .await?
        .get(0))
}

pub(super) async fn doc_pending(db: &PgDb, doc_id: &str) -> DbResult<bool> {
    let row = db
        .client()
        .await?
        .query_opt(
            "SELECT last_seq > verified_seq FROM docs WHERE doc_id = $1",
            &[&doc_id],
        )
        .await?;
    Ok(row.is_some_and(|r| r.get(0)))
}

pub(super) async fn verified_seq(db: &PgDb, doc_id: &str) -> DbResult<i64> {
    let row = db
        .client()
        .await?
        .query_opt(
            "SELECT verified_seq FROM docs WHERE doc_id = $1",
            &[&doc_id],
        )
        .await?;
    Ok(row.map_or(0, |r| r.get(0)))
}

pub(super) async fn doc_meta(db: &PgDb, ids: &[String]) -> DbResult<Vec<(String, String, String)>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT doc_id, kind, site FROM docs WHERE doc_id = ANY($1)",
            &[&ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

pub(super) async fn store_changes(db: &PgDb, origin: &str, docs: &[NewDoc]) -> DbResult<u64> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    // The row lock orders writers: sequence numbers increase in commit order.
    let seq: i64 = tx
        .query_one(
            "SELECT value FROM counter WHERE name = 'seq' FOR UPDATE",
            &[],
        )
        .await?
        .get(0);
    let hashes: Vec<&[u8]> = docs
        .iter()
        .flat_map(|d| d.changes.iter().map(|(h, _)| &h[..]))
        .collect();
    // Stored already: the same chunk of the same document (a byte-identical chunk
    // of another document is that document's own).
    let existing: HashSet<(String, Vec<u8>)> = tx
        .query(
            "SELECT doc_id, hash FROM log WHERE hash = ANY($1)",
            &[&hashes],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
        .collect();
    let mut seen: HashSet<(&str, &[u8])> = HashSet::new();
    let (mut seqs, mut ids, mut kinds, mut sites, mut hs, mut bytes) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut doc_ids, mut doc_kinds, mut doc_sites, mut doc_last) =
        (vec![], vec![], vec![], vec![]);
    let mut doc_index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut next = seq;
    for d in docs {
        let before = next;
        for (h, b) in &d.changes {
            if existing.contains(&(d.doc_id.clone(), h.to_vec()))
                || !seen.insert((d.doc_id.as_str(), &h[..]))
            {
                continue;
            }
            next += 1;
            seqs.push(next);
            ids.push(d.doc_id.as_str());
            kinds.push(d.kind.as_str());
            sites.push(d.site.as_str());
            hs.push(&h[..]);
            bytes.push(b.as_slice());
        }
        if next > before {
            // A document may come in several runs: one row each, the last seq.
            match doc_index.get(d.doc_id.as_str()) {
                Some(&i) => doc_last[i] = next,
                None => {
                    doc_index.insert(d.doc_id.as_str(), doc_ids.len());
                    doc_ids.push(d.doc_id.as_str());
                    doc_kinds.push(d.kind.as_str());
                    doc_sites.push(d.site.as_str());
                    doc_last.push(next);
                }
            }
        }
    }
    if next > seq {
        tx.execute(
            "INSERT INTO log(seq, doc_id, kind, site, hash, bytes, origin)
             SELECT s, d, k, si, h, b, $7 FROM UNNEST($1::bigint[], $2::text[], $3::text[],
               $4::text[], $5::bytea[], $6::bytea[]) AS t(s, d, k, si, h, b)",
            &[&seqs, &ids, &kinds, &sites, &hs, &bytes, &origin],
        )
        .await?;
        tx.execute(
            "INSERT INTO docs(doc_id, kind, site, last_seq)
             SELECT d, k, s, l FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])
               AS t(d, k, s, l)
             ON CONFLICT (doc_id) DO UPDATE SET last_seq = GREATEST(docs.last_seq, EXCLUDED.last_seq)",
            &[&doc_ids, &doc_kinds, &doc_sites, &doc_last],
        )
        .await?;
        tx.execute("UPDATE counter SET value = $1 WHERE name = 'seq'", &[&next])
            .await?;
    }
    tx.commit().await?;
    Ok((next - seq) as u64)
}

pub(super) async fn pull(
    db: &PgDb,
    scope: &Scope,
    cursor: i64,
    max_bytes: usize,
) -> DbResult<Pulled> {
    let mut c = db.client().await?;
    let tx = c
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let stored: i64 = tx
        .query_one("SELECT value FROM counter WHERE name = 'seq'", &[])
        .await?
        .get(0);
    // First the sequence numbers in scope, from the (site, seq) index: rows of
    // other sites are never read. Then the rows, a batch at a time, until the
    // page is full. Forms and configuration are stored for site `*`.
    let mut sites = scope.sites.clone();
    sites.push("*".into());
    let first: Option<i64> = tx
        .query_one(
            "SELECT MIN((SELECT MIN(l.seq) FROM log l
                WHERE l.doc_id = d.doc_id AND l.seq > d.verified_seq AND l.origin <> $1))
             FROM docs d
             WHERE d.last_seq > d.verified_seq AND d.kind IN ('record', 'restricted', 'subject')
               AND d.site = ANY($2)",
            &[&scope.exclude_origin, &sites],
        )
        .await?
        .get(0);
    let head = verified_head(stored, first);
    let seqs: Vec<i64> = tx
        .query(
            "SELECT seq FROM log
             WHERE site = ANY($4) AND seq > $1 AND seq <= $2 AND NOT quarantined
               AND origin <> $3 AND (kind <> 'restricted' OR $5)
             ORDER BY seq LIMIT $6",
            &[
                &cursor,
                &head,
                &scope.exclude_origin,
                &sites,
                &scope.restricted,
                &PULL_ROWS,
            ],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut items: Vec<LogItem> = Vec::new();
    let mut cut = PageCut::new(max_bytes, seqs.len(), PULL_ROWS);
    'page: for batch in seqs.chunks(PULL_BATCH) {
        let rows = tx
            .query(
                "SELECT l.seq, l.doc_id, l.kind, l.site, l.bytes,
                        CASE WHEN d.verified_seq >= d.last_seq THEN d.summary END
                 FROM log l LEFT JOIN docs d ON d.doc_id = l.doc_id
                 WHERE l.seq = ANY($1) ORDER BY l.seq",
                &[&batch],
            )
            .await?;
        for r in &rows {
            let bytes: Vec<u8> = r.get(4);
            if !cut.take(bytes.len()) {
                break 'page;
            }
            items.push(LogItem {
                seq: r.get(0),
                doc_id: r.get(1),
                kind: r.get(2),
                site: r.get(3),
                bytes,
                summary: r.get(5),
            });
        }
    }
    tx.commit().await?;
    Ok(Pulled {
        cursor: cut.cursor(cursor, items.last().map(|i| i.seq), head),
        items,
        more: cut.more(),
        head,
        waiting: head < stored,
    })
}

pub(super) async fn doc_changes(db: &PgDb, doc_id: &str, upto: i64) -> DbResult<Vec<Vec<u8>>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT bytes FROM log WHERE doc_id = $1 AND seq <= $2 AND NOT quarantined ORDER BY seq",
            &[&doc_id, &upto],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(super) async fn docs_chunks(
    db: &PgDb,
    docs: &[(String, i64, i64)],
) -> DbResult<Vec<Vec<Vec<u8>>>> {
    let c = db.client().await?;
    let stmt = c
        .prepare_cached(
            "SELECT bytes FROM log WHERE doc_id = $1 AND seq > $2 AND seq <= $3 AND NOT quarantined
             ORDER BY seq",
        )
        .await?;
    let mut out = Vec::with_capacity(docs.len());
    for (id, after, upto) in docs {
        let rows = c.query(&stmt, &[id, after, upto]).await?;
        out.push(rows.iter().map(|r| r.get(0)).collect());
    }
    Ok(out)
}
