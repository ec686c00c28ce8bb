//! Verification and projection after the acknowledgement. A push is acknowledged as
//! soon as it is durable and passed the cheap checks; here, off the request path and
//! in parallel on the blocking pool, each touched document is loaded from all its
//! chunks (whole documents and changes), checked (Automerge checksums and hash
//! chain, the record's site never moved), projected into `records`, and summarised
//! (the summary travels with a whole document to devices that never held it). A document that fails has the changes since its last
//! good state quarantined: they are never merged, never pulled, and reported in the
//! log and the access log.
//!
//! The queue is the database itself (`docs.last_seq > docs.verified_seq`), so any
//! replica may verify any document, a crash loses nothing, and verifying twice is
//! harmless.

use crate::db::{AuditEntry, Db, DbError, DbResult, RecordRow, Unverified, Verified};
use std::sync::Arc;
use std::time::Duration;
use tern_store::{DocKind, DocSummary};
use tokio::sync::Notify;

/// Documents taken per batch (and verified concurrently).
const BATCH: i64 = 256;

/// What a verification found.
#[derive(Debug)]
enum Verdict {
    /// The document loads; its record projection (records only) and its summary.
    Good(Option<RecordRow>, Option<DocSummary>),
    Bad(String),
}

fn verify_doc(u: &Unverified, chunks: Vec<Vec<u8>>) -> Verdict {
    let doc = match tern_store::load_chunks(chunks) {
        Ok(doc) => doc,
        Err(e) => return Verdict::Bad(e.to_string()),
    };
    let Some(kind) = DocKind::parse(&u.kind) else {
        return Verdict::Good(None, None);
    };
    let summary = tern_store::summarize(kind, &doc);
    let Some(DocSummary::Record {
        form_id,
        form_version,
        subject_id,
        site,
        status,
        conflict,
        ..
    }) = summary.clone()
    else {
        return Verdict::Good(None, summary);
    };
    if site != u.site {
        return Verdict::Bad(format!(
            "the record claims site `{site}` but was stored for `{}`",
            u.site
        ));
    }
    let row = RecordRow {
        record_id: u.doc_id.clone(),
        site,
        form_id,
        form_version,
        subject_id,
        status,
        conflict,
    };
    Verdict::Good(Some(row), summary)
}

/// Verifies documents on the blocking pool, one task per core.
async fn verify_all_cores(
    docs: Vec<(Unverified, Vec<Vec<u8>>)>,
) -> DbResult<Vec<(Unverified, Verdict)>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_task = docs.len().div_ceil(cores).max(1);
    let mut tasks = Vec::new();
    let mut docs = docs.into_iter().peekable();
    while docs.peek().is_some() {
        let part: Vec<_> = docs.by_ref().take(per_task).collect();
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|(u, chunks)| {
                    let v = verify_doc(&u, chunks);
                    (u, v)
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.extend(t.await.map_err(|e| DbError::Task(e.to_string()))?);
    }
    Ok(out)
}

async fn quarantine<D: Db>(db: &D, u: &Unverified, reason: &str) -> DbResult<()> {
    tracing::warn!(doc = %u.doc_id, %reason, "changes quarantined");
    db.quarantine(&u.doc_id, u.upto, reason).await?;
    db.audit(&AuditEntry {
        at: chrono::Utc::now().to_rfc3339(),
        actor: "server".into(),
        role: String::new(),
        device: String::new(),
        site: u.site.clone(),
        action: "quarantine".into(),
        object: u.doc_id.clone(),
    })
    .await
}

/// Verifies one batch of waiting documents (read in one go, checked on every core,
/// results written in one transaction); returns how many.
pub async fn verify_batch<D: Db>(db: &Arc<D>) -> DbResult<usize> {
    let waiting = db.unverified(BATCH).await?;
    let n = waiting.len();
    if n == 0 {
        return Ok(0);
    }
    let chunks = db.docs_chunks(&waiting).await?;
    let verdicts = verify_all_cores(waiting.into_iter().zip(chunks).collect()).await?;
    let mut good = Vec::with_capacity(n);
    for (u, verdict) in verdicts {
        match verdict {
            Verdict::Good(record, summary) => good.push(Verified {
                doc_id: u.doc_id,
                upto: u.upto,
                record,
                summary: summary.and_then(|s| serde_json::to_string(&s).ok()),
            }),
            Verdict::Bad(reason) => quarantine(db.as_ref(), &u, &reason).await?,
        }
    }
    db.verified(&good).await?;
    Ok(n)
}

/// Verifies until nothing waits (bounded by `max_batches`).
pub async fn verify_all<D: Db>(db: &Arc<D>, max_batches: usize) -> DbResult<()> {
    for _ in 0..max_batches {
        if verify_batch(db).await? == 0 {
            break;
        }
    }
    Ok(())
}

/// The background verifier: woken after each stored push, and every second (for
/// work left by another replica or a crash).
pub async fn run<D: Db>(
    db: Arc<D>,
    wake: Arc<Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = verify_all(&db, 10_000).await {
            tracing::error!(error = %e, "verifier pass failed");
        }
        if *stop.borrow() {
            return;
        }
    }
}
