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

use crate::db::{AuditEntry, Db, DbResult, RecordRow, Unverified};
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

async fn verify_one<D: Db>(db: Arc<D>, u: Unverified) -> DbResult<()> {
    let changes = db.doc_changes(&u.doc_id, u.upto).await?;
    let (u, verdict) = tokio::task::spawn_blocking(move || {
        let v = verify_doc(&u, changes);
        (u, v)
    })
    .await
    .map_err(|e| crate::db::DbError::Task(e.to_string()))?;
    match verdict {
        Verdict::Good(p, summary) => {
            let summary = summary.and_then(|s| serde_json::to_string(&s).ok());
            db.verified(&u.doc_id, u.upto, p.as_ref(), summary.as_deref())
                .await
        }
        Verdict::Bad(reason) => {
            tracing::warn!(doc = %u.doc_id, %reason, "changes quarantined");
            db.quarantine(&u.doc_id, u.upto, &reason).await?;
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
    }
}

/// Verifies one batch of waiting documents in parallel; returns how many.
pub async fn verify_batch<D: Db>(db: &Arc<D>) -> DbResult<usize> {
    let waiting = db.unverified(BATCH).await?;
    let n = waiting.len();
    let mut set = tokio::task::JoinSet::new();
    for u in waiting {
        set.spawn(verify_one(db.clone(), u));
    }
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "verification failed; will retry"),
            Err(e) => tracing::error!(error = %e, "verification task failed; will retry"),
        }
    }
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
