//! The verifier's side of the PostgreSQL backend: the queue of unverified documents,
//! their verdicts (verified, quarantined), the review of quarantined chunks, and
//! what the verifier writes (records, record facts with their report parts). Each
//! function is one `Db` operation (crate::db).

use super::*;

pub(super) async fn unverified(db: &PgDb, limit: i64) -> DbResult<Vec<Unverified>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT doc_id, kind, site, last_seq, verified_seq FROM docs WHERE last_seq > verified_seq
             AND kind IN ('record', 'restricted', 'subject') LIMIT $1",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Unverified {
            doc_id: r.get(0),
            kind: r.get(1),
            site: r.get(2),
            upto: r.get(3),
            verified: r.get(4),
        })
        .collect())
}

pub(super) async fn verified(db: &PgDb, done: &[Verified]) -> DbResult<()> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    for v in done {
        tx.execute(
            "UPDATE docs SET verified_seq = GREATEST(verified_seq, $2),
               summary = CASE WHEN $2 >= verified_seq THEN $3 ELSE summary END
             WHERE doc_id = $1",
            &[&v.doc_id, &v.upto, &v.summary],
        )
        .await?;
        if let Some(p) = &v.record {
            tx.execute(
                "INSERT INTO records(record_id, site, form_id, form_version, subject_id, status, conflict, created)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (record_id) DO UPDATE SET site = $2, form_id = $3, form_version = $4,
                   subject_id = $5, status = $6, conflict = $7, created = $8",
                &[&p.record_id, &p.site, &p.form_id, &p.form_version, &p.subject_id, &p.status, &p.conflict, &p.created],
            )
            .await?;
        }
        if let Some(f) = &v.facts {
            put_fact(&tx, f).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn quarantine(db: &PgDb, doc_id: &str, upto: i64, reason: &str) -> DbResult<()> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    tx.execute(
        "UPDATE log SET quarantined = TRUE WHERE doc_id = $1 AND seq <= $2
         AND seq > (SELECT verified_seq FROM docs WHERE doc_id = $1)",
        &[&doc_id, &upto],
    )
    .await?;
    tx.execute(
        "UPDATE docs SET verified_seq = GREATEST(verified_seq, $2), quarantine_reason = $3
         WHERE doc_id = $1",
        &[&doc_id, &upto, &reason],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn quarantine_chunks(
    db: &PgDb,
    doc_id: &str,
    hashes: &[[u8; 32]],
    reason: &str,
) -> DbResult<u64> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    let mut n = 0;
    for h in hashes {
        n += tx
            .execute(
                "UPDATE log SET quarantined = TRUE WHERE doc_id = $1 AND hash = $2
                 AND seq > (SELECT verified_seq FROM docs WHERE doc_id = $1)",
                &[&doc_id, &h.as_slice()],
            )
            .await?;
    }
    tx.execute(
        "UPDATE docs SET quarantine_reason = $2 WHERE doc_id = $1",
        &[&doc_id, &reason],
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

pub(super) async fn quarantined(db: &PgDb) -> DbResult<Vec<(String, String)>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT doc_id, quarantine_reason FROM docs WHERE quarantine_reason IS NOT NULL ORDER BY doc_id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn backlog(db: &PgDb) -> DbResult<Backlog> {
    let r = db
        .client()
        .await?
        .query_one(
            "SELECT (SELECT value FROM counter WHERE name = 'seq'),
                    (SELECT count(*) FROM docs WHERE kind IN ('record', 'restricted', 'subject')),
                    (SELECT count(*) FROM records),
                    (SELECT count(*) FROM docs WHERE last_seq > verified_seq
                       AND kind IN ('record', 'restricted', 'subject')),
                    (SELECT count(*) FROM docs WHERE quarantine_reason IS NOT NULL)",
            &[],
        )
        .await?;
    Ok(Backlog {
        head: r.get(0),
        documents: r.get(1),
        records: r.get(2),
        unverified: r.get(3),
        quarantined: r.get(4),
    })
}

pub(super) async fn record(db: &PgDb, id: &str) -> DbResult<Option<RecordRow>> {
    let row = db
        .client()
        .await?
        .query_opt(&format!("{RECORD_SELECT} WHERE record_id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(record_row))
}

pub(super) async fn subject_summaries(
    db: &PgDb,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, String>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT doc_id, summary FROM docs WHERE kind = 'subject' AND summary IS NOT NULL
             AND doc_id = ANY($1)",
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn verified_records(db: &PgDb) -> DbResult<Vec<(String, i64)>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT doc_id, verified_seq FROM docs WHERE kind = 'record' AND verified_seq > 0
             ORDER BY doc_id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn put_facts(db: &PgDb, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    for f in rows {
        put_fact(&tx, f).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn facts(
    db: &PgDb,
    f: &crate::db::FactsFilter,
) -> DbResult<Vec<crate::facts::FactsRow>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT report::text FROM record_facts
             WHERE ($1::text[] IS NULL OR site = ANY($1))
               AND ($2::text IS NULL OR encounter_date >= $2) AND ($3::text IS NULL OR encounter_date <= $3)
               AND ($4::text IS NULL OR site = $4) AND ($5::text IS NULL OR form_id = $5)
             ORDER BY encounter_date, record_id",
            &[&f.sites, &f.from, &f.until, &f.site, &f.form],
        )
        .await?;
    rows.iter()
        .map(|r| {
            serde_json::from_str(r.get::<_, &str>(0)).map_err(|e| {
                DbError::Task(format!(
                    "a record_facts row does not read ({e}): run `tern admin reproject`"
                ))
            })
        })
        .collect()
}

pub(super) async fn records(db: &PgDb, sites: Option<&[String]>) -> DbResult<Vec<RecordRow>> {
    let c = db.client().await?;
    let rows = match sites {
        None => {
            c.query(&format!("{RECORD_SELECT} ORDER BY record_id"), &[])
                .await?
        }
        Some(s) => {
            c.query(
                &format!("{RECORD_SELECT} WHERE site = ANY($1) ORDER BY record_id"),
                &[&s],
            )
            .await?
        }
    };
    Ok(rows.iter().map(record_row).collect())
}

// ------------------------------------------------ quarantine review (crate::quarantine)
pub(super) async fn quarantine_review(
    db: &PgDb,
    sites: Option<&[String]>,
    doc: Option<&str>,
) -> DbResult<Vec<crate::quarantine::Quarantined>> {
    let sites: Option<Vec<String>> = sites.map(<[String]>::to_vec);
    let rows = db
        .client()
        .await?
        .query(
            "SELECT d.doc_id, d.kind, d.site, d.quarantine_reason, l.bytes
             FROM docs d JOIN log l ON l.doc_id = d.doc_id
             WHERE d.quarantine_reason IS NOT NULL AND l.quarantined
               AND ($1::text[] IS NULL OR d.site = ANY($1))
               AND ($2::text IS NULL OR d.doc_id = $2)
               AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                   WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
             ORDER BY d.doc_id, l.seq",
            &[&sites, &doc],
        )
        .await?;
    let mut out: Vec<crate::quarantine::Quarantined> = Vec::new();
    for r in &rows {
        let doc_id: String = r.get(0);
        let bytes: Vec<u8> = r.get(4);
        match out.last_mut() {
            Some(q) if q.doc_id == doc_id => q.chunks.push(bytes),
            _ => out.push(crate::quarantine::Quarantined {
                doc_id,
                kind: r.get(1),
                site: r.get(2),
                reason: r.get(3),
                chunks: vec![bytes],
            }),
        }
    }
    Ok(out)
}

pub(super) async fn decide_quarantine(
    db: &PgDb,
    doc_id: &str,
    decision: &crate::quarantine::Decision,
    audit: &AuditEntry,
) -> DbResult<u64> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    // One decision at a time per document.
    tx.execute(
        "SELECT 1 FROM docs WHERE doc_id = $1 FOR UPDATE",
        &[&doc_id],
    )
    .await?;
    let waiting: Vec<(i64, Vec<u8>)> = tx
        .query(
            "SELECT seq, hash FROM log l WHERE doc_id = $1 AND quarantined
               AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                   WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
             ORDER BY seq",
            &[&doc_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    if waiting.is_empty() {
        return Err(DbError::NotFound(format!(
            "no quarantined changes of document `{doc_id}` wait for a decision"
        )));
    }
    let d = decision;
    for (_, hash) in &waiting {
        tx.execute(
            "INSERT INTO quarantine_decisions(doc_id, hash, decision, actor, reason, at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (doc_id, hash) DO UPDATE SET decision = $3, actor = $4,
               reason = $5, at = $6",
            &[&doc_id, hash, &d.choice.mark(), &d.actor, &d.why, &d.at],
        )
        .await?;
    }
    if d.choice == crate::quarantine::Choice::Release {
        // New sequence numbers past the head, under the counter's row lock (commit
        // order): devices whose cursors passed the old ones pull them, and no
        // verified sequence moves back.
        let mut seq: i64 = tx
            .query_one(
                "SELECT value FROM counter WHERE name = 'seq' FOR UPDATE",
                &[],
            )
            .await?
            .get(0);
        for (old, _) in &waiting {
            seq += 1;
            tx.execute(
                "UPDATE log SET seq = $1, quarantined = FALSE WHERE seq = $2",
                &[&seq, old],
            )
            .await?;
        }
        tx.execute("UPDATE counter SET value = $1 WHERE name = 'seq'", &[&seq])
            .await?;
        tx.execute(
            "UPDATE docs SET last_seq = GREATEST(last_seq, $2), quarantine_reason = NULL
             WHERE doc_id = $1",
            &[&doc_id, &seq],
        )
        .await?;
    } else {
        tx.execute(
            "UPDATE docs SET quarantine_reason = NULL WHERE doc_id = $1",
            &[&doc_id],
        )
        .await?;
    }
    let e = audit;
    tx.execute(
        "INSERT INTO access_log(at, actor, role, device, site, action, object)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &e.at, &e.actor, &e.role, &e.device, &e.site, &e.action, &e.object,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(waiting.len() as u64)
}

pub(super) async fn released_chunks(
    db: &PgDb,
    doc_ids: &[String],
) -> DbResult<Vec<(String, [u8; 32])>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT doc_id, hash FROM quarantine_decisions
             WHERE decision = 'released' AND doc_id = ANY($1)",
            &[&doc_ids],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let hash: Vec<u8> = r.get(1);
            Some((r.get(0), <[u8; 32]>::try_from(hash.as_slice()).ok()?))
        })
        .collect())
}

fn record_row(r: &tokio_postgres::Row) -> RecordRow {
    RecordRow {
        record_id: r.get(0),
        site: r.get(1),
        form_id: r.get(2),
        form_version: r.get(3),
        subject_id: r.get(4),
        status: r.get(5),
        conflict: r.get(6),
        created: r.get(7),
    }
}

const RECORD_SELECT: &str =
    "SELECT record_id, site, form_id, form_version, subject_id, status, conflict, created FROM records";

/// Writes one `record_facts` row and what the record gives the reports
/// (`report_counts`, `report_lines`), replacing what it gave before.
async fn put_fact(
    tx: &deadpool_postgres::Transaction<'_>,
    f: &crate::facts::FactsRow,
) -> DbResult<()> {
    let json = |r: &crate::facts::FactsRow| {
        serde_json::to_string(r).map_err(|e| DbError::Task(e.to_string()))
    };
    let compact = crate::facts::report_view(f);
    let (row, report) = (json(f)?, json(&compact)?);
    let parts = crate::reports::parts_of(&compact);
    let names: Vec<&str> = parts.counts.iter().map(|c| c.0).collect();
    let keys: Vec<&str> = parts.counts.iter().map(|c| c.1.as_str()).collect();
    let ns: Vec<i64> = parts.counts.iter().map(|c| c.2).collect();
    let reports: Vec<&str> = parts.lines.iter().map(|l| l.report()).collect();
    // parts_of writes no line that is never listed; "~" would keep one off.
    let listed: Vec<String> = parts
        .lines
        .iter()
        .map(|l| l.listed_from().unwrap_or_else(|| "~".into()))
        .collect();
    let stale: Vec<Option<String>> = parts.lines.iter().map(|l| l.stale_from()).collect();
    let urgency: Vec<String> = parts.lines.iter().map(|l| l.urgency()).collect();
    let bodies = parts
        .lines
        .iter()
        .map(|l| serde_json::to_string(&l.body))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| DbError::Task(e.to_string()))?;
    // Two pipelined round trips: what the record gave before goes (and its facts
    // row is written), then what it gives now.
    tokio::try_join!(
        async {
            tx.execute(
                "DELETE FROM report_counts WHERE record_id = $1",
                &[&f.record_id],
            )
            .await
        },
        async {
            tx.execute(
                "DELETE FROM report_lines WHERE record_id = $1",
                &[&f.record_id],
            )
            .await
        },
        async {
            tx.execute(
                "INSERT INTO record_facts(record_id, site, form_id, encounter_date, row, report)
             VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb)
             ON CONFLICT (record_id) DO UPDATE SET site = $2, form_id = $3, encounter_date = $4,
               row = $5::text::jsonb, report = $6::text::jsonb",
                &[
                    &f.record_id,
                    &f.site,
                    &f.form_id,
                    &f.encounter_date,
                    &row,
                    &report,
                ],
            )
            .await
        },
    )?;
    tokio::try_join!(
        async {
            tx.execute(
            "INSERT INTO report_counts(report, encounter_date, site, form_id, record_id, key, n)
             SELECT r, $5, $6, $7, $1, k, n
             FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(r, k, n)",
            &[&f.record_id, &names, &keys, &ns, &f.encounter_date, &f.site, &f.form_id],
        ).await
        },
        async {
            tx.execute(
                "INSERT INTO report_lines(report, encounter_date, record_id, site, form_id,
               subject_id, status, created, body, listed_from, stale_from, urgency)
             SELECT r, $2, $3, $4, $5, $6, $7, $8, b, l, s, g
             FROM unnest($1::text[], $9::text[], $10::text[], $11::text[], $12::text[])
               AS u(r, b, l, s, g)",
                &[
                    &reports,
                    &f.encounter_date,
                    &f.record_id,
                    &f.site,
                    &f.form_id,
                    &f.subject_id,
                    &f.status,
                    &f.created,
                    &bodies,
                    &listed,
                    &stale,
                    &urgency,
                ],
            )
            .await
        },
    )?;
    Ok(())
}
