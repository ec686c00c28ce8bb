//! The verifier's side of the SQLite backend: the queue of unverified documents,
//! their verdicts (verified, quarantined), the review of quarantined chunks, and
//! what the verifier writes (records, record facts with their report parts). Each
//! function is one `Db` operation (crate::db).

use super::*;

pub(super) async fn unverified(db: &SqliteDb, limit: i64) -> DbResult<Vec<Unverified>> {
    db.rows(
        "SELECT doc_id, kind, site, last_seq, verified_seq FROM docs WHERE last_seq > verified_seq
             AND kind IN ('record', 'restricted', 'subject') LIMIT ?1",
        (limit,),
        |r| {
            Ok(Unverified {
                doc_id: r.get(0)?,
                kind: r.get(1)?,
                site: r.get(2)?,
                upto: r.get(3)?,
                verified: r.get(4)?,
            })
        },
    )
    .await
}

pub(super) async fn verified(db: &SqliteDb, done: &[Verified]) -> DbResult<()> {
    let done = done.to_vec();
    db.run(move |c| {
        let tx = c.transaction()?;
        for v in &done {
            tx.execute(
                "UPDATE docs SET verified_seq = max(verified_seq, ?2),
                   summary = CASE WHEN ?2 >= verified_seq THEN ?3 ELSE summary END
                 WHERE doc_id = ?1",
                params![v.doc_id, v.upto, v.summary],
            )?;
            if let Some(p) = &v.record {
                tx.execute(
                    "INSERT OR REPLACE INTO records(record_id, site, form_id, form_version, subject_id, status, conflict, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![p.record_id, p.site, p.form_id, p.form_version, p.subject_id, p.status, p.conflict, p.created],
                )?;
            }
            if let Some(f) = &v.facts {
                put_fact(&tx, f)?;
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

pub(super) async fn quarantine(
    db: &SqliteDb,
    doc_id: &str,
    upto: i64,
    reason: &str,
) -> DbResult<()> {
    let (id, reason) = (doc_id.to_string(), reason.to_string());
    db.run(move |c| {
        let tx = c.transaction()?;
        tx.execute(
            "UPDATE log SET quarantined = 1 WHERE doc_id = ?1 AND seq <= ?2
             AND seq > (SELECT verified_seq FROM docs WHERE doc_id = ?1)",
            params![id, upto],
        )?;
        tx.execute(
            "UPDATE docs SET verified_seq = max(verified_seq, ?2), quarantine_reason = ?3 WHERE doc_id = ?1",
            params![id, upto, reason],
        )?;
        tx.commit()?;
        Ok(())
    })
    .await
}

pub(super) async fn quarantine_chunks(
    db: &SqliteDb,
    doc_id: &str,
    hashes: &[[u8; 32]],
    reason: &str,
) -> DbResult<u64> {
    let (id, reason, hashes) = (doc_id.to_string(), reason.to_string(), hashes.to_vec());
    db.run(move |c| {
        let tx = c.transaction()?;
        let mut n = 0;
        for h in &hashes {
            n += tx.execute(
                "UPDATE log SET quarantined = 1 WHERE doc_id = ?1 AND hash = ?2
                 AND seq > (SELECT verified_seq FROM docs WHERE doc_id = ?1)",
                params![id, h.as_slice()],
            )? as u64;
        }
        tx.execute(
            "UPDATE docs SET quarantine_reason = ?2 WHERE doc_id = ?1",
            params![id, reason],
        )?;
        tx.commit()?;
        Ok(n)
    })
    .await
}

pub(super) async fn quarantined(db: &SqliteDb) -> DbResult<Vec<(String, String)>> {
    db.rows("SELECT doc_id, quarantine_reason FROM docs WHERE quarantine_reason IS NOT NULL ORDER BY doc_id", (), |r| Ok((r.get(0)?, r.get(1)?))).await
}

pub(super) async fn backlog(db: &SqliteDb) -> DbResult<Backlog> {
    db.run(|c| {
        Ok(c.query_row(
            "SELECT (SELECT value FROM counter WHERE name = 'seq'),
                    (SELECT count(*) FROM docs WHERE kind IN ('record', 'restricted', 'subject')),
                    (SELECT count(*) FROM records),
                    (SELECT count(*) FROM docs WHERE last_seq > verified_seq
                       AND kind IN ('record', 'restricted', 'subject')),
                    (SELECT count(*) FROM docs WHERE quarantine_reason IS NOT NULL)",
            [],
            |r| {
                Ok(Backlog {
                    head: r.get(0)?,
                    documents: r.get(1)?,
                    records: r.get(2)?,
                    unverified: r.get(3)?,
                    quarantined: r.get(4)?,
                })
            },
        )?)
    })
    .await
}

pub(super) async fn record(db: &SqliteDb, id: &str) -> DbResult<Option<RecordRow>> {
    let id = id.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            &format!("{RECORD_SELECT} WHERE record_id = ?1"),
            [&id],
            record_row,
        )
        .optional()?)
    })
    .await
}

pub(super) async fn subject_summaries(
    db: &SqliteDb,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, String>> {
    db.subject_summaries_impl(ids).await
}

pub(super) async fn verified_records(db: &SqliteDb) -> DbResult<Vec<(String, i64)>> {
    db.verified_records_impl().await
}

pub(super) async fn put_facts(db: &SqliteDb, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
    db.put_facts_impl(rows).await
}

pub(super) async fn facts(
    db: &SqliteDb,
    filter: &crate::db::FactsFilter,
) -> DbResult<Vec<crate::facts::FactsRow>> {
    db.facts_impl(filter).await
}

pub(super) async fn records(db: &SqliteDb, sites: Option<&[String]>) -> DbResult<Vec<RecordRow>> {
    let sites = sites.map(<[String]>::to_vec);
    db.run(move |c| {
        let mut stmt = c.prepare(&format!("{RECORD_SELECT} ORDER BY record_id"))?;
        let rows = stmt.query_map([], record_row)?;
        let all: Vec<RecordRow> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(match sites {
            None => all,
            Some(s) => all.into_iter().filter(|r| s.contains(&r.site)).collect(),
        })
    })
    .await
}

// ------------------------------------------------ quarantine review (crate::quarantine)
pub(super) async fn quarantine_review(
    db: &SqliteDb,
    sites: Option<&[String]>,
    doc: Option<&str>,
) -> DbResult<Vec<crate::quarantine::Quarantined>> {
    let sites = sites.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
    let doc = doc.map(str::to_string);
    db.run(move |c| {
        let mut stmt = c.prepare(
            "SELECT d.doc_id, d.kind, d.site, d.quarantine_reason, l.bytes
             FROM docs d JOIN log l ON l.doc_id = d.doc_id
             WHERE d.quarantine_reason IS NOT NULL AND l.quarantined = 1
               AND (?1 IS NULL OR d.site IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR d.doc_id = ?2)
               AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                   WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
             ORDER BY d.doc_id, l.seq",
        )?;
        let rows = stmt.query_map(params![sites, doc], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })?;
        let mut out: Vec<crate::quarantine::Quarantined> = Vec::new();
        for row in rows {
            let (doc_id, kind, site, reason, bytes) = row?;
            match out.last_mut() {
                Some(q) if q.doc_id == doc_id => q.chunks.push(bytes),
                _ => out.push(crate::quarantine::Quarantined {
                    doc_id,
                    kind,
                    site,
                    reason,
                    chunks: vec![bytes],
                }),
            }
        }
        Ok(out)
    })
    .await
}

pub(super) async fn decide_quarantine(
    db: &SqliteDb,
    doc_id: &str,
    decision: &crate::quarantine::Decision,
    audit: &AuditEntry,
) -> DbResult<u64> {
    let (id, d, e) = (doc_id.to_string(), decision.clone(), audit.clone());
    db.run(move |c| {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let waiting: Vec<(i64, Vec<u8>)> = {
            let mut stmt = tx.prepare(
                "SELECT seq, hash FROM log l WHERE doc_id = ?1 AND quarantined = 1
                   AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                       WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
                 ORDER BY seq",
            )?;
            let rows = stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if waiting.is_empty() {
            return Err(DbError::NotFound(format!(
                "no quarantined changes of document `{id}` wait for a decision"
            )));
        }
        for (_, hash) in &waiting {
            tx.execute(
                "INSERT INTO quarantine_decisions(doc_id, hash, decision, actor, reason, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(doc_id, hash) DO UPDATE SET decision = ?3, actor = ?4,
                   reason = ?5, at = ?6",
                params![id, hash, d.choice.mark(), d.actor, d.why, d.at],
            )?;
        }
        if d.choice == crate::quarantine::Choice::Release {
            // New sequence numbers past the head: devices whose cursors passed the
            // old ones pull them, and no verified sequence moves back.
            let mut seq: i64 =
                tx.query_row("SELECT value FROM counter WHERE name = 'seq'", [], |r| {
                    r.get(0)
                })?;
            for (old, _) in &waiting {
                seq += 1;
                tx.execute(
                    "UPDATE log SET seq = ?1, quarantined = 0 WHERE seq = ?2",
                    params![seq, old],
                )?;
            }
            tx.execute("UPDATE counter SET value = ?1 WHERE name = 'seq'", [seq])?;
            tx.execute(
                "UPDATE docs SET last_seq = max(last_seq, ?2), quarantine_reason = NULL
                 WHERE doc_id = ?1",
                params![id, seq],
            )?;
        } else {
            tx.execute(
                "UPDATE docs SET quarantine_reason = NULL WHERE doc_id = ?1",
                [&id],
            )?;
        }
        tx.execute(
            "INSERT INTO access_log(at, actor, role, device, site, action, object)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![e.at, e.actor, e.role, e.device, e.site, e.action, e.object],
        )?;
        tx.commit()?;
        Ok(waiting.len() as u64)
    })
    .await
}

pub(super) async fn released_chunks(
    db: &SqliteDb,
    doc_ids: &[String],
) -> DbResult<Vec<(String, [u8; 32])>> {
    let ids = serde_json::to_string(doc_ids).unwrap_or_else(|_| "[]".into());
    db.run(move |c| {
        let mut stmt = c.prepare_cached(
            "SELECT doc_id, hash FROM quarantine_decisions
             WHERE decision = 'released' AND doc_id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map([ids], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (doc, hash) = row?;
            if let Ok(h) = <[u8; 32]>::try_from(hash.as_slice()) {
                out.push((doc, h));
            }
        }
        Ok(out)
    })
    .await
}

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        record_id: r.get(0)?,
        site: r.get(1)?,
        form_id: r.get(2)?,
        form_version: r.get(3)?,
        subject_id: r.get(4)?,
        status: r.get(5)?,
        conflict: r.get::<_, i64>(6)? != 0,
        created: r.get(7)?,
    })
}

const RECORD_SELECT: &str =
    "SELECT record_id, site, form_id, form_version, subject_id, status, conflict, created FROM records";

/// Writes one `record_facts` row and what the record gives the reports
/// (`report_counts`, `report_lines`), replacing what it gave before.
fn put_fact(tx: &rusqlite::Transaction<'_>, f: &crate::facts::FactsRow) -> DbResult<()> {
    let json = |r: &crate::facts::FactsRow| {
        serde_json::to_string(r).map_err(|e| DbError::Task(e.to_string()))
    };
    let compact = crate::facts::report_view(f);
    let (row, report) = (json(f)?, json(&compact)?);
    let parts = crate::reports::parts_of(&compact);
    tx.prepare_cached("DELETE FROM report_counts WHERE record_id = ?1")?
        .execute([&f.record_id])?;
    tx.prepare_cached("DELETE FROM report_lines WHERE record_id = ?1")?
        .execute([&f.record_id])?;
    let mut count = tx.prepare_cached(
        "INSERT INTO report_counts(report, encounter_date, site, form_id, record_id, key, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (name, key, n) in &parts.counts {
        count.execute(params![
            name,
            f.encounter_date,
            f.site,
            f.form_id,
            f.record_id,
            key,
            n
        ])?;
    }
    let mut line = tx.prepare_cached(
        "INSERT INTO report_lines(report, encounter_date, record_id, site, form_id, subject_id,
           status, created, body, listed_from, stale_from, urgency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for l in &parts.lines {
        let body = serde_json::to_string(&l.body).map_err(|e| DbError::Task(e.to_string()))?;
        let h = &l.head;
        // parts_of writes no line that is never listed; "~" would keep one off.
        let listed = l.listed_from().unwrap_or_else(|| "~".into());
        line.execute(params![
            l.report(),
            h.day,
            h.record,
            h.site,
            h.form,
            h.subject,
            h.status,
            h.created,
            body,
            listed,
            l.stale_from(),
            l.urgency()
        ])?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO record_facts(record_id, site, form_id, encounter_date, row, report)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            f.record_id,
            f.site,
            f.form_id,
            f.encounter_date,
            row,
            report
        ],
    )?;
    Ok(())
}

impl SqliteDb {
    pub(crate) async fn subject_summaries_impl(
        &self,
        ids: &[String],
    ) -> DbResult<std::collections::HashMap<String, String>> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        self.rows(
            "SELECT doc_id, summary FROM docs WHERE kind = 'subject' AND summary IS NOT NULL
                 AND doc_id IN (SELECT value FROM json_each(?1))",
            (ids,),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .await
        .map(|rows| rows.into_iter().collect())
    }

    pub(crate) async fn verified_records_impl(&self) -> DbResult<Vec<(String, i64)>> {
        self.rows(
            "SELECT doc_id, verified_seq FROM docs WHERE kind = 'record' AND verified_seq > 0
                 ORDER BY doc_id",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .await
    }

    pub(crate) async fn put_facts_impl(&self, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
        let rows = rows.to_vec();
        self.run(move |c| {
            let tx = c.transaction()?;
            for f in &rows {
                put_fact(&tx, f)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn facts_impl(
        &self,
        filter: &crate::db::FactsFilter,
    ) -> DbResult<Vec<crate::facts::FactsRow>> {
        let f = filter.clone();
        self.run(move |c| {
            let sites = f
                .sites
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
            let mut stmt = c.prepare_cached(
                "SELECT report FROM record_facts
                 WHERE (?1 IS NULL OR site IN (SELECT value FROM json_each(?1)))
                   AND (?2 IS NULL OR encounter_date >= ?2) AND (?3 IS NULL OR encounter_date <= ?3)
                   AND (?4 IS NULL OR site = ?4) AND (?5 IS NULL OR form_id = ?5)
                 ORDER BY encounter_date, record_id",
            )?;
            let rows = stmt.query_map(params![sites, f.from, f.until, f.site, f.form], |r| {
                r.get::<_, String>(0)
            })?;
            let mut out = Vec::new();
            for row in rows {
                out.push(serde_json::from_str(&row?).map_err(|e| {
                    DbError::Task(format!(
                        "a record_facts row does not read ({e}): run `tern admin reproject`"
                    ))
                })?);
            }
            Ok(out)
        })
        .await
    }
}
