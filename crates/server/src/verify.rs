//! Verification and projection after the acknowledgement. A push is acknowledged as
//! soon as it is durable and passed the cheap checks; here, off the request path and
//! in parallel on the blocking pool, each touched document is loaded from all its
//! chunks (whole documents and changes), checked (Automerge checksums and hash
//! chain, the record's site never moved), projected into `records`, and summarised
//! (the summary travels with a whole document to devices that never held it). A
//! document that fails has the changes since its last good state quarantined: they
//! are never merged, never pulled, and reported in the log and the access log.
//!
//! Field-level write rights (FORMS.md 2.2, the form's `write_roles`) are checked
//! here too, because only the loaded document says which field an operation writes:
//! every field a record's (or restricted twin's) new changes write
//! ([`tern_record::field_writes`]) must be writable by its author's role under
//! [`tern_record::Role::may_write_field`], the rule the device store applies to its
//! own user; otherwise the new changes are quarantined like any forged write.
//! Reading what a whole new record's ~127 changes write costs more than loading
//! it, so it is done only when one of the new chunks' authors has a role the form
//! limits somewhere (a clinician's record in today's forms is not walked).
//!
//! The record workflow (FORMS.md 2) is checked the same way: every status a
//! record's new changes set ([`tern_record::changed_parts`]) must be one its author's
//! role may set ([`tern_record::may_set_status`]: a screener never signs a record as
//! reviewed nor locks it). When a whole new record's changes are not walked, the
//! status it stands at is checked with whoever set it.
//!
//! Recently verified documents stay loaded ([`DocCache`]): new changes into a cached
//! document are applied to it instead of loading it again. The cache is only a
//! cache: an entry is used only when it reflects exactly the document's verified
//! sequence in the database, so another replica's work is never missed.
//!
//! Every chunk's inflated size is bounded ([`tern_record::ChunkLimits`]) before
//! Automerge reads it, and each document is verified under `catch_unwind`: a
//! document that fails to load, or makes Automerge panic, is quarantined on its
//! own and the batch goes on, so one bad document never holds up the others nor
//! the pulls of its site.
//!
//! Chunks a supervisor released from quarantine (crate::quarantine) come back as new
//! chunks; their authors' writes and status moves are not checked again when every
//! new chunk of theirs in the pass was released ([`crate::quarantine::exempt_authors`]).
//!
//! The queue is the database itself (`docs.last_seq > docs.verified_seq`), so any
//! replica may verify any document, a crash loses nothing, and verifying twice is
//! harmless.

use crate::db::{AuditEntry, Db, DbError, DbResult, RecordRow, Unverified, Verified};
use automerge::Automerge;
use automerge::ChangeHash;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tern_record::{ChunkLimits, DocKind, DocSummary, FieldWrite, Role, StatusWrite};
use tokio::sync::Notify;

/// Documents taken per batch (and verified concurrently).
const BATCH: i64 = 256;
/// Documents kept loaded between batches (a loaded 120-answer record is tens of KB).
const CACHE_DOCS: usize = 1024;

/// Loaded documents, each with the sequence it reflects and its summary there.
#[derive(Default, Debug)]
pub struct DocCache {
    docs: std::collections::HashMap<String, (i64, Loaded)>,
    order: std::collections::VecDeque<String>,
}

impl DocCache {
    /// The loaded document if it reflects exactly `verified`.
    fn take(&mut self, id: &str, verified: i64) -> Option<Loaded> {
        match self.docs.remove(id) {
            Some((seq, doc)) if seq == verified && verified > 0 => Some(doc),
            _ => None,
        }
    }

    fn put(&mut self, id: String, seq: i64, doc: Loaded) {
        if self.docs.insert(id.clone(), (seq, doc)).is_none() {
            self.order.push_back(id);
        }
        while self.docs.len() > CACHE_DOCS {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.docs.remove(&old);
        }
        if self.order.len() > 2 * CACHE_DOCS {
            self.order.retain(|id| self.docs.contains_key(id));
        }
    }
}

/// What a verification found.
#[derive(Debug)]
enum Verdict {
    /// The document loads; its record projection (records only) and its summary.
    Good(Option<RecordRow>, Box<Option<DocSummary>>),
    Bad(String),
}

/// A verified document, loaded, with its summary.
#[derive(Debug)]
struct Loaded {
    doc: Automerge,
    summary: Option<DocSummary>,
}

/// Where a document's verified state comes from: the cache, or its verified chunks.
enum Base {
    Cached(Box<Loaded>),
    Chunks(Vec<Vec<u8>>),
}

/// What verifying one document gave: the verdict, the loaded document when good,
/// who wrote its new chunks, and the answer fields they write (records and
/// restricted twins): read at once for a few changes into a loaded document, and
/// otherwise only when an author's role is limited by the form's write rights
/// (reading what a whole new record's ~127 changes write costs more than loading it).
struct Outcome {
    verdict: Verdict,
    doc: Option<Automerge>,
    /// Users whose chunks are new: a whole document's actor table, a change's actor.
    authors: BTreeSet<String>,
    /// The heads before the new chunks.
    since: Vec<ChangeHash>,
    writes: Option<Vec<FieldWrite>>,
    /// Statuses a record's new changes set: all of them when the changes were read,
    /// else the status it stands at and who set it.
    statuses: Vec<StatusWrite>,
    /// Each new chunk (by the hash it is stored under) with the users who wrote it.
    new_chunks: Vec<([u8; 32], BTreeSet<String>)>,
    /// The user whose write made a good load bad (write or status rights): only
    /// their new chunks are quarantined, the others are verified again without them.
    culprit: Option<String>,
    /// New chunks a reviewer released from quarantine, and the users whose writes
    /// are therefore not checked (crate::quarantine::exempt_authors).
    released: HashSet<[u8; 32]>,
    exempt: BTreeSet<String>,
}

/// Verifies a document from its verified state (`base`) plus its new chunks; hands
/// the loaded document back when it is good, with the fields its new changes write.
fn verify_doc(u: &Unverified, base: Base, chunks: Vec<Vec<u8>>, limits: &ChunkLimits) -> Outcome {
    let bad = Outcome::bad;
    let new_chunks = chunk_authors(&chunks, limits);
    let authors = new_chunks
        .iter()
        .flat_map(|(_, u)| u.iter().cloned())
        .collect();
    let (mut doc, before) = match base {
        Base::Cached(loaded) => (loaded.doc, loaded.summary),
        Base::Chunks(verified) => match tern_record::load_chunks_within(verified, limits) {
            Ok(doc) => (doc, None),
            Err(e) => return bad(e.to_string()),
        },
    };
    let since = doc.get_heads();
    if let Err(e) = tern_record::apply_chunks_within(&mut doc, chunks, limits) {
        return bad(e.to_string());
    }
    let kind = DocKind::parse(&u.kind);
    let (summary, writes, statuses) = match (kind, before) {
        (Some(k @ (DocKind::Record | DocKind::Restricted)), Some(before)) => {
            let changed = tern_record::changed_parts(&doc, &since);
            let summary = tern_record::summarize_since(k, &doc, &before, &changed);
            (summary, Some(changed.writes), changed.statuses)
        }
        (Some(k @ (DocKind::Record | DocKind::Restricted)), None) => {
            let statuses = if k == DocKind::Record {
                tern_record::current_status_writes(&doc)
            } else {
                Vec::new()
            };
            (tern_record::summarize(k, &doc), None, statuses)
        }
        (Some(k), _) => (
            tern_record::summarize(k, &doc),
            Some(Vec::new()),
            Vec::new(),
        ),
        (None, _) => (None, Some(Vec::new()), Vec::new()),
    };
    match judge(u, summary) {
        verdict @ Verdict::Good(..) => Outcome {
            verdict,
            doc: Some(doc),
            authors,
            since,
            writes,
            statuses,
            new_chunks,
            culprit: None,
            released: HashSet::new(),
            exempt: BTreeSet::new(),
        },
        verdict @ Verdict::Bad(_) => Outcome {
            verdict,
            ..bad(String::new())
        },
    }
}

impl Outcome {
    fn bad(reason: String) -> Outcome {
        Outcome {
            verdict: Verdict::Bad(reason),
            doc: None,
            authors: BTreeSet::new(),
            since: Vec::new(),
            writes: None,
            statuses: Vec::new(),
            new_chunks: Vec::new(),
            culprit: None,
            released: HashSet::new(),
            exempt: BTreeSet::new(),
        }
    }
}

/// Each chunk's stored hash with the users who wrote it: every actor of a whole
/// document's actor table, the actor of a change (read from headers; a chunk that
/// does not parse, or is larger than `limits` allow, fails verification anyway).
pub(crate) fn chunk_authors(
    chunks: &[Vec<u8>],
    limits: &ChunkLimits,
) -> Vec<([u8; 32], BTreeSet<String>)> {
    // An actor that is not `tern:<device>:<user>` (refused at push anyway) counts as
    // an unknown user, whose writes are always read.
    let user = |actor: &[u8]| {
        crate::service::tern_author(actor, "")
            .map(|(_, user)| user)
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(chunks.len());
    for raw in chunks {
        if tern_record::check_size(raw, limits).is_err() {
            continue;
        }
        match tern_record::chunk_kind(raw) {
            Ok(tern_record::ChunkKind::Document) => {
                let users = tern_record::document_actors(raw)
                    .unwrap_or_default()
                    .iter()
                    .map(|a| user(a))
                    .collect();
                out.push((tern_record::document_hash(raw), users));
            }
            Ok(tern_record::ChunkKind::Change) => {
                if let Ok(change) = automerge::Change::from_bytes(raw.clone()) {
                    let users = BTreeSet::from([user(change.actor_id().to_bytes())]);
                    out.push((change.hash().0, users));
                }
            }
            Err(_) => {}
        }
    }
    out
}

/// The verdict on a loaded document from its summary (`None`: not one of ours, or a
/// document of a kind without one).
fn judge(u: &Unverified, summary: Option<DocSummary>) -> Verdict {
    let Some(row) = summary
        .as_ref()
        .and_then(|s| RecordRow::from_summary(&u.doc_id, s))
    else {
        return Verdict::Good(None, Box::new(summary));
    };
    if row.site != u.site {
        return Verdict::Bad(format!(
            "the record claims site `{}` but was stored for `{}`",
            row.site, u.site
        ));
    }
    // A record of a built-in form must name one of its built-in versions: its write
    // rights are checked against that version, so a record moved (or forged) to a
    // version the server lacks would escape them. Update the server before devices.
    if tern_record::builtin::is_form(&row.form_id)
        && tern_record::builtin::form(&row.form_id, &row.form_version).is_none()
    {
        return Verdict::Bad(format!(
            "the record names form {} version `{}`, which this server does not have",
            row.form_id,
            row.form_version.chars().take(20).collect::<String>()
        ));
    }
    Verdict::Good(Some(row), Box::new(summary))
}

/// One document to verify: what is waiting, its verified state, its new chunks, the
/// bounds on their sizes.
type Job = (Unverified, Base, Vec<Vec<u8>>, ChunkLimits);

/// Verifies documents on the blocking pool, on half the cores: the other half stays
/// free for requests, so verification never slows an acknowledgement much. A
/// document whose verification panicked is bad, alone.
async fn verify_all_cores(jobs: Vec<Job>) -> DbResult<Vec<(Unverified, Outcome)>> {
    let waiting: Vec<Unverified> = jobs.iter().map(|j| j.0.clone()).collect();
    let outcomes = on_half_the_cores(jobs, |(u, base, chunks, limits)| {
        verify_doc(&u, base, chunks, &limits)
    })
    .await?;
    Ok(waiting
        .into_iter()
        .zip(outcomes)
        .map(|(u, outcome)| (u, outcome.unwrap_or_else(Outcome::bad)))
        .collect())
}

/// `work` over `items` on the blocking pool, split over half the cores, in order;
/// an item whose work panicked gives `Err` (why, without its data) and the others
/// go on.
async fn on_half_the_cores<T: Send + 'static, R: Send + 'static>(
    items: Vec<T>,
    work: fn(T) -> R,
) -> DbResult<Vec<Result<R, String>>> {
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get() / 2)
        .max(1);
    let per_task = items.len().div_ceil(cores).max(1);
    let mut tasks = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let part: Vec<T> = items.by_ref().take(per_task).collect();
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|item| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item))).map_err(
                        |panic| {
                            let what = panic
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            format!("verifying the document panicked inside Automerge: {what}")
                        },
                    )
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

/// Quarantines a document's new chunks: only `chunks` when given and the database
/// finds them (the rest is verified again without them), else all of them.
async fn quarantine<D: Db>(
    db: &D,
    u: &Unverified,
    reason: &str,
    chunks: &[[u8; 32]],
) -> DbResult<()> {
    let some = !chunks.is_empty() && db.quarantine_chunks(&u.doc_id, chunks, reason).await? > 0;
    if some {
        tracing::warn!(doc = %u.doc_id, %reason, chunks = chunks.len(), "an author's changes quarantined");
    } else {
        tracing::warn!(doc = %u.doc_id, %reason, "changes quarantined");
        db.quarantine(&u.doc_id, u.upto, reason).await?;
    }
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

/// Verifies one batch of waiting documents (read in one go, checked on half the cores,
/// results written in one transaction); returns how many.
pub async fn verify_batch<D: Db>(
    db: &Arc<D>,
    cache: &mut DocCache,
    limits: &ChunkLimits,
) -> DbResult<usize> {
    let waiting = db.unverified(BATCH).await?;
    let n = waiting.len();
    if n == 0 {
        return Ok(0);
    }
    let cached: Vec<Option<Loaded>> = waiting
        .iter()
        .map(|u| cache.take(&u.doc_id, u.verified))
        .collect();
    // New chunks of every document, then the verified chunks of those not cached
    // (loaded apart, so that the changes to check are exactly the new ones).
    let mut wanted: Vec<(String, i64, i64)> = waiting
        .iter()
        .map(|u| (u.doc_id.clone(), u.verified, u.upto))
        .collect();
    wanted.extend(
        waiting
            .iter()
            .zip(&cached)
            .filter(|(u, c)| c.is_none() && u.verified > 0)
            .map(|(u, _)| (u.doc_id.clone(), 0, u.verified)),
    );
    let mut chunks = db.docs_chunks(&wanted).await?;
    let mut verified_chunks = chunks.split_off(n).into_iter();
    let jobs: Vec<Job> = waiting
        .into_iter()
        .zip(cached)
        .zip(chunks)
        .map(|((u, cached), chunks)| {
            let base = match cached {
                Some(doc) => Base::Cached(Box::new(doc)),
                None if u.verified > 0 => Base::Chunks(verified_chunks.next().unwrap_or_default()),
                None => Base::Chunks(Vec::new()),
            };
            (u, base, chunks, *limits)
        })
        .collect();
    let mut outcomes = verify_all_cores(jobs).await?;
    mark_released(db.as_ref(), &mut outcomes).await?;
    check_write_rights(db.as_ref(), &mut outcomes).await?;
    check_account_picks(db.as_ref(), &mut outcomes).await?;
    let mut facts = project_facts(db.as_ref(), &mut outcomes).await?;
    let mut good = Vec::with_capacity(n);
    let mut loaded = Vec::with_capacity(n);
    for (
        u,
        Outcome {
            verdict,
            doc,
            new_chunks,
            culprit,
            released,
            ..
        },
    ) in outcomes
    {
        match verdict {
            Verdict::Good(record, summary) => {
                let summary = *summary;
                good.push(Verified {
                    doc_id: u.doc_id.clone(),
                    upto: u.upto,
                    record,
                    summary: summary.as_ref().and_then(|s| serde_json::to_string(s).ok()),
                    facts: facts.remove(&u.doc_id),
                });
                if let Some(doc) = doc {
                    loaded.push((u.doc_id, u.upto, Loaded { doc, summary }));
                }
            }
            Verdict::Bad(reason) => {
                // Only the culprit's chunks, when others' are new too (issue 13: a
                // forged change must not take other devices' changes with it), and
                // never those a reviewer released: they pass alone next time.
                let theirs: Vec<[u8; 32]> = culprit
                    .map(|user| {
                        new_chunks
                            .iter()
                            .filter(|(h, users)| users.contains(&user) && !released.contains(h))
                            .map(|(h, _)| *h)
                            .collect()
                    })
                    .unwrap_or_default();
                let only = if theirs.len() < new_chunks.len() {
                    theirs
                } else {
                    Vec::new()
                };
                quarantine(db.as_ref(), &u, &reason, &only).await?
            }
        }
    }
    db.verified(&good).await?;
    for (id, seq, doc) in loaded {
        cache.put(id, seq, doc);
    }
    Ok(n)
}

/// Notes which new chunks a reviewer released (crate::quarantine) and whose writes
/// are therefore not checked: one query per batch, for the documents that loaded.
async fn mark_released<D: Db>(db: &D, outcomes: &mut [(Unverified, Outcome)]) -> DbResult<()> {
    let ids: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o.verdict, Verdict::Good(..)))
        .map(|(u, _)| u.doc_id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut released: HashMap<String, HashSet<[u8; 32]>> = HashMap::new();
    for (doc, hash) in db.released_chunks(&ids).await? {
        released.entry(doc).or_default().insert(hash);
    }
    for (u, o) in outcomes.iter_mut() {
        let Some(hashes) = released.remove(&u.doc_id) else {
            continue;
        };
        o.released = o
            .new_chunks
            .iter()
            .map(|(h, _)| *h)
            .filter(|h| hashes.contains(h))
            .collect();
        o.exempt = crate::quarantine::exempt_authors(&o.new_chunks, &o.released);
    }
    Ok(())
}

/// The `record_facts` row of each good record in the batch (crate::facts): its
/// answers and verdict, evaluated with its own form version on the blocking pool,
/// with its subject's values (from the subject's verified summary) on its encounter
/// day. Records of a form the server does not have get none.
async fn project_facts<D: Db>(
    db: &D,
    outcomes: &mut [(Unverified, Outcome)],
) -> DbResult<HashMap<String, crate::facts::FactsRow>> {
    let mut jobs = Vec::new();
    for (i, (_, o)) in outcomes.iter_mut().enumerate() {
        let Verdict::Good(Some(record), _) = &o.verdict else {
            continue;
        };
        let Some(form) = tern_record::builtin::form(&record.form_id, &record.form_version) else {
            continue;
        };
        if let Some(doc) = o.doc.take() {
            jobs.push((i, record.clone(), form, doc));
        }
    }
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = jobs.iter().map(|j| j.1.subject_id.clone()).collect();
    let mut subjects = db.subject_summaries(&ids).await?;
    // Subjects verified in this batch (a new record usually comes with its subject).
    for (u, o) in outcomes.iter() {
        if let Verdict::Good(_, summary) = &o.verdict {
            if let Some(s @ DocSummary::Subject { .. }) = summary.as_ref() {
                if let Ok(json) = serde_json::to_string(s) {
                    subjects.insert(u.doc_id.clone(), json);
                }
            }
        }
    }
    let subjects = Arc::new(subjects);
    let today = chrono::Utc::now().date_naive();
    let jobs: Vec<_> = jobs
        .into_iter()
        .map(|(i, record, form, doc)| (i, record, form, doc, subjects.clone(), today))
        .collect();
    let done = on_half_the_cores(jobs, |(i, record, form, doc, subjects, today)| {
        let subject = subjects
            .get(&record.subject_id)
            .map(|s| crate::facts::subject_values(s))
            .unwrap_or_default();
        let input = tern_record::record_input(&doc);
        let row = crate::facts::record_facts(&form, &record, &input, &subject, today);
        (i, doc, row)
    })
    .await?;
    let mut out = HashMap::new();
    // A projection that panicked leaves its record without facts (and reports without
    // it) rather than stopping the batch; the record itself stays verified.
    let failed = done.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        tracing::error!(failed, "record facts could not be projected");
    }
    for (i, doc, row) in done.into_iter().flatten() {
        let (u, o) = &mut outcomes[i];
        o.doc = Some(doc);
        out.insert(u.doc_id.clone(), row);
    }
    Ok(out)
}

/// Turns good verdicts bad where a record's new changes set a field picked from the
/// site's accounts (`choices_from.accounts`: `clinician_id`, `t1_personnel_id`) to a
/// name that is not an account of the record's site with a role the form names: the
/// rule the device store applies ([`tern_record::names_account`]), which a tampered
/// device skips. Only picks the new changes set are judged
/// ([`tern_record::account_picks_since`]). The reason names the field, the site and
/// the roles, never the name. The culprit is whoever wrote the field, when known.
async fn check_account_picks<D: Db>(
    db: &D,
    outcomes: &mut [(Unverified, Outcome)],
) -> DbResult<()> {
    let mut accounts: HashMap<String, Option<crate::db::Account>> = HashMap::new();
    for (_, o) in outcomes.iter_mut() {
        let (Verdict::Good(Some(record), _), Some(doc)) = (&o.verdict, &o.doc) else {
            continue;
        };
        let Some(form) = tern_record::builtin::form(&record.form_id, &record.form_version) else {
            continue;
        };
        let site = record.site.clone();
        for pick in tern_record::account_picks_since(&form, doc, &o.since) {
            if !accounts.contains_key(&pick.name) {
                let account = db.account(&pick.name).await?;
                accounts.insert(pick.name.clone(), account);
            }
            let of_site: Vec<(String, String)> = accounts
                .get(&pick.name)
                .and_then(Option::as_ref)
                .filter(|a| a.sites.contains(&site))
                .map(|a| vec![(a.name.clone(), a.role.clone())])
                .unwrap_or_default();
            if tern_record::names_account(&of_site, &pick.roles, &pick.name) {
                continue;
            }
            let writer = o
                .writes
                .as_ref()
                .and_then(|w| w.iter().rev().find(|w| w.field == pick.field))
                .map(|w| w.user.clone());
            o.culprit = writer.or_else(|| {
                (o.authors.len() == 1)
                    .then(|| o.authors.iter().next().cloned())
                    .flatten()
            });
            o.verdict = Verdict::Bad(format!(
                "field `{}` names someone who is not an account of site `{site}` with role {}",
                pick.field,
                pick.roles.join(" or ")
            ));
            o.doc = None;
            break;
        }
    }
    Ok(())
}

/// Turns good verdicts bad where an author wrote a field their role may not write
/// (the form's `write_roles`, decided by [`Role::may_write_field`]). The form of a
/// record is the one it names; a restricted twin's is its record's (verified in this
/// batch or before). Forms the server does not have built in carry no write rights
/// to check. The reason names the user, role, field and form, never a value.
async fn check_write_rights<D: Db>(db: &D, outcomes: &mut [(Unverified, Outcome)]) -> DbResult<()> {
    let forms = record_forms(db, outcomes).await?;
    let mut roles: HashMap<String, Option<Role>> = HashMap::new();
    // Which documents need their writes read: those whose form limits some field to
    // roles that one of their authors does not have.
    let mut to_read = Vec::new();
    for (i, (u, outcome)) in outcomes.iter().enumerate() {
        if outcome.writes.is_some() || !matches!(outcome.verdict, Verdict::Good(..)) {
            continue;
        }
        let Some(form) = forms.get(u.doc_id.trim_end_matches(".restricted")) else {
            continue;
        };
        if outcome.authors.is_empty() {
            to_read.push(i);
            continue;
        }
        for user in &outcome.authors {
            let role = role_of(db, &mut roles, user).await?;
            if !role.is_some_and(|r| may_write_every_limited_field(r, form)) {
                to_read.push(i);
                break;
            }
        }
    }
    let docs: Vec<(usize, Automerge, Vec<ChangeHash>)> = to_read
        .into_iter()
        .filter_map(|i| {
            let o = &mut outcomes[i].1;
            Some((i, o.doc.take()?, o.since.clone()))
        })
        .collect();
    let read_from: Vec<usize> = docs.iter().map(|d| d.0).collect();
    let read = on_half_the_cores(docs, |(i, doc, since)| {
        let changed = tern_record::changed_parts(&doc, &since);
        (i, doc, changed)
    })
    .await?;
    for (i, read) in read_from.into_iter().zip(read) {
        let o = &mut outcomes[i].1;
        match read {
            Ok((_, doc, changed)) => {
                o.doc = Some(doc);
                o.writes = Some(changed.writes);
                o.statuses = changed.statuses;
            }
            Err(why) => *o = Outcome::bad(why),
        }
    }
    check_writes(db, &forms, &mut roles, outcomes).await
}

/// The built-in form of each record (and restricted twin) in the batch, by record
/// id: named by a record verified in this batch, or by the server's record row.
async fn record_forms<D: Db>(
    db: &D,
    outcomes: &[(Unverified, Outcome)],
) -> DbResult<HashMap<String, Arc<tern_forms::Form>>> {
    let mut named: HashMap<String, (String, String)> = outcomes
        .iter()
        .filter_map(|(_, o)| match &o.verdict {
            Verdict::Good(Some(r), _) => Some((
                r.record_id.clone(),
                (r.form_id.clone(), r.form_version.clone()),
            )),
            _ => None,
        })
        .collect();
    let mut forms = HashMap::new();
    for (u, o) in outcomes {
        if !matches!(o.verdict, Verdict::Good(..)) {
            continue;
        }
        let record = u.doc_id.trim_end_matches(".restricted").to_string();
        if forms.contains_key(&record) {
            continue;
        }
        if !named.contains_key(&record) {
            if let Some(r) = db.record(&record).await? {
                named.insert(record.clone(), (r.form_id, r.form_version));
            }
        }
        if let Some(form) = named
            .get(&record)
            .and_then(|(id, version)| tern_record::builtin::form(id, version))
        {
            forms.insert(record, form);
        }
    }
    Ok(forms)
}

/// An account's role, looked up once per batch (`None`: no such account).
async fn role_of<D: Db>(
    db: &D,
    roles: &mut HashMap<String, Option<Role>>,
    user: &str,
) -> DbResult<Option<Role>> {
    if let Some(role) = roles.get(user) {
        return Ok(*role);
    }
    let role = db
        .account(user)
        .await?
        .and_then(|a| Role::parse(&a.role).ok());
    roles.insert(user.to_string(), role);
    Ok(role)
}

/// Whether `role` may write every field `form` limits to some roles (then nothing it
/// wrote in that form needs looking at).
fn may_write_every_limited_field(role: Role, form: &tern_forms::Form) -> bool {
    form.fields().iter().all(|f| role.may_write_field(f))
}

/// The check itself, over the writes read.
async fn check_writes<D: Db>(
    db: &D,
    forms: &HashMap<String, Arc<tern_forms::Form>>,
    roles: &mut HashMap<String, Option<Role>>,
    outcomes: &mut [(Unverified, Outcome)],
) -> DbResult<()> {
    for (u, outcome) in outcomes.iter_mut() {
        if !matches!(outcome.verdict, Verdict::Good(..)) {
            continue;
        }
        for w in &outcome.statuses {
            if outcome.exempt.contains(&w.user) {
                continue;
            }
            let role = role_of(db, roles, &w.user).await?;
            if role.is_some_and(|r| tern_record::may_set_status(r, &w.to)) {
                continue;
            }
            let who = role.map_or("no server account".to_string(), |r| r.name().to_string());
            outcome.verdict = Verdict::Bad(format!(
                "`{}` ({who}) set the record's status to `{}` from device {}, which that role may not (FORMS.md 2)",
                w.user, w.to, w.device
            ));
            outcome.culprit = Some(w.user.clone());
            outcome.doc = None;
            break;
        }
        if !matches!(outcome.verdict, Verdict::Good(..)) {
            continue;
        }
        let Some(writes) = &outcome.writes else {
            continue;
        };
        let Some(form) = forms.get(u.doc_id.trim_end_matches(".restricted")) else {
            continue;
        };
        for w in writes {
            if outcome.exempt.contains(&w.user) {
                continue;
            }
            let Some(field) = form.field(&w.field) else {
                continue;
            };
            let Some(allowed) = field.write_roles() else {
                continue;
            };
            let role = role_of(db, roles, &w.user).await?;
            if role.is_some_and(|r| r.may_write_field(field)) {
                continue;
            }
            let who = role.map_or("no server account".to_string(), |r| r.name().to_string());
            outcome.verdict = Verdict::Bad(format!(
                "`{}` ({who}) wrote field `{}` from device {}, which form {} {} lets only {} write",
                w.user,
                w.field,
                w.device,
                form.form_id(),
                form.version(),
                allowed.join(" or ")
            ));
            outcome.culprit = Some(w.user.clone());
            outcome.doc = None;
            break;
        }
    }
    Ok(())
}

/// Verifies until nothing waits (bounded by `max_batches`).
pub async fn verify_all<D: Db>(
    db: &Arc<D>,
    cache: &mut DocCache,
    max_batches: usize,
    limits: &ChunkLimits,
) -> DbResult<()> {
    for _ in 0..max_batches {
        if verify_batch(db, cache, limits).await? == 0 {
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
    limits: ChunkLimits,
) {
    let mut cache = DocCache::default();
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = verify_all(&db, &mut cache, 10_000, &limits).await {
            tracing::error!(error = %e, "verifier pass failed");
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded() -> Loaded {
        Loaded {
            doc: Automerge::new(),
            summary: None,
        }
    }

    #[test]
    fn the_cache_serves_only_the_verified_state_it_holds() {
        let mut cache = DocCache::default();
        cache.put("r1".into(), 7, loaded());
        assert!(cache.take("r1", 6).is_none(), "another replica moved on");
        assert!(cache.take("r1", 7).is_none(), "a stale entry is dropped");
        cache.put("r1".into(), 7, loaded());
        assert!(cache.take("r1", 7).is_some());
        assert!(cache.take("r1", 7).is_none(), "taken out while in use");
        for i in 0..(CACHE_DOCS + 10) {
            cache.put(format!("d{i}"), 1, loaded());
        }
        assert_eq!(cache.docs.len(), CACHE_DOCS);
        assert!(cache.take("d0", 1).is_none(), "the oldest went first");
    }

    fn panics_on_two(n: u32) -> u32 {
        assert_ne!(n, 2, "boom");
        n * 10
    }

    #[test]
    fn a_panicking_item_fails_alone() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let out = rt
            .block_on(on_half_the_cores(vec![1, 2, 3], panics_on_two))
            .expect("the others are done");
        assert_eq!(out[0], Ok(10));
        assert!(
            out[1].as_ref().is_err_and(|e| e.contains("boom")),
            "{out:?}"
        );
        assert_eq!(out[2], Ok(30));
    }

    /// A record must name a form version the server has built in (issue 14 item 7:
    /// records move to newer versions; one the server lacks escapes write rights).
    #[test]
    fn a_record_naming_an_unknown_form_version_is_bad() {
        let u = Unverified {
            doc_id: "r1".into(),
            kind: "record".into(),
            site: "s".into(),
            verified: 0,
            upto: 1,
        };
        let summary = |version: &str| {
            Some(DocSummary::Record {
                form_id: "pda".into(),
                form_version: version.into(),
                subject_id: "S".into(),
                site: "s".into(),
                status: "draft".into(),
                conflict: false,
                created: "2026-03-09T08:00:00Z".into(),
            })
        };
        for known in ["1.0.0", "1.1.0", "1.2.0"] {
            assert!(matches!(
                judge(&u, summary(known)),
                Verdict::Good(Some(_), _)
            ));
        }
        match judge(&u, summary("9.9.9")) {
            Verdict::Bad(why) => assert!(why.contains("pda") && why.contains("9.9.9"), "{why}"),
            _ => panic!("an unknown version of a built-in form passed"),
        }
    }

    #[test]
    fn damaged_chunks_are_bad_and_not_cached() {
        let u = Unverified {
            doc_id: "r1".into(),
            kind: "record".into(),
            site: "s".into(),
            verified: 0,
            upto: 1,
        };
        let o = verify_doc(
            &u,
            Base::Chunks(Vec::new()),
            vec![vec![0x85, 0x6f, 0x4a, 0x83, 0]],
            &ChunkLimits::default(),
        );
        assert!(matches!(o.verdict, Verdict::Bad(_)));
        assert!(o.doc.is_none());
    }
}
