//! Merge throughput of the server's verification path (not run in CI):
//! `cargo bench -p tern-store --bench merge`. Builds realistic 120-answer
//! pre-departure records (`scripts/bench-records.py`), takes them as the whole
//! documents a first sync sends, and measures on one core:
//! - whole new records: load from the chunk, summarise, read which fields its changes
//!   write (what the verifier does for a record it never had);
//! - one new change into an existing record, cold: load the record's chunk, apply,
//!   summarise, read the fields the change writes;
//! - one new change into an existing record already loaded (cached): the same
//!   without the load;
//! - a day's edits, 20 new changes into a record in one verification, cold and
//!   cached (per change).
//!
//! Prints median and p95 per operation and the rate per second per core.

mod bench_records;
use automerge::transaction::Transactable;
use automerge::{Automerge, Change, ROOT};
use std::time::{Duration, Instant};
use tern_store::{
    apply_chunks, changed_parts, load_chunks, summarize, summarize_since, DocKind, DocSummary,
    Enrolment, Role, Store,
};

fn percentiles(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    (d[d.len() / 2], d[(d.len() * 95 / 100).min(d.len() - 1)])
}

fn report(what: &str, d: Vec<Duration>) {
    let n = d.len();
    let total: Duration = d.iter().sum();
    let (p50, p95) = percentiles(d);
    println!(
        "{what:<48} median {:>8.1} µs  p95 {:>8.1} µs  {:>8.0} per second per core",
        p50.as_secs_f64() * 1e6,
        p95.as_secs_f64() * 1e6,
        n as f64 / total.as_secs_f64()
    );
}

/// Whole record documents as a first sync sends them.
fn record_documents(n: usize) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("bench.db");
    let mut s =
        Store::init(&db, "amina", Role::Clinician, "bench-password", "bench").expect("init");
    bench_records::import_bench_records(&mut s, n);
    s.set_enrolment(&Enrolment {
        server: "http://127.0.0.1:1".into(),
        token: "t".into(),
        account: "amina".into(),
        role: "clinician".into(),
        sites: vec!["bench".into()],
    })
    .expect("enrol");
    let page = s.pending_changes(0, usize::MAX).expect("page");
    page.chunks
        .into_iter()
        .filter(|c| c.kind == DocKind::Record)
        .map(|c| c.bytes)
        .collect()
}

/// A new change on top of `doc` (one answer by another device).
fn one_change(doc: &Automerge, i: usize) -> Change {
    let mut copy = doc.fork().with_actor(automerge::ActorId::from(
        b"tern:0190aaaa-0000-7000-8000-000000000002:chen".to_vec(),
    ));
    let mut tx = copy.transaction();
    let answers = match automerge::ReadDoc::get(&tx, ROOT, "answers") {
        Ok(Some((_, id))) => id,
        _ => panic!("a record has answers"),
    };
    tx.put(&answers, "weight_kg", format!("{}", 50 + i % 40))
        .expect("put");
    tx.commit();
    copy.get_last_local_change().expect("change").clone()
}

/// What the server's verifier does with a document: the base (cached with its
/// summary, or loaded from its verified chunks; empty for a new one), the new chunks
/// applied, what they touched (the fields, checked against their authors' roles),
/// and the summary (from the cached one when there is one).
fn verify(mut doc: Automerge, before: Option<&DocSummary>, new: Vec<Vec<u8>>) -> usize {
    let since = doc.get_heads();
    apply_chunks(&mut doc, new).expect("apply");
    let changed = changed_parts(&doc, &since);
    let summary = match before {
        Some(b) => summarize_since(DocKind::Record, &doc, b, &changed),
        None => summarize(DocKind::Record, &doc),
    };
    assert!(summary.is_some());
    changed.writes.len()
}

fn main() {
    let n = 500;
    let docs = record_documents(n);
    println!(
        "{n} realistic pda records; whole document {} bytes on average",
        docs.iter().map(Vec::len).sum::<usize>() / docs.len()
    );

    let mut whole = Vec::new();
    for d in &docs {
        let t = Instant::now();
        let written = verify(Automerge::new(), None, vec![d.clone()]);
        whole.push(t.elapsed());
        assert!(written > 50, "a whole record writes its answers");
    }
    report("whole new record", whole);

    let loaded: Vec<Automerge> = docs
        .iter()
        .map(|d| load_chunks([d.clone()]).expect("load"))
        .collect();
    let changes: Vec<Change> = loaded
        .iter()
        .enumerate()
        .map(|(i, d)| one_change(d, i))
        .collect();

    let mut cold = Vec::new();
    for (d, c) in docs.iter().zip(&changes) {
        let t = Instant::now();
        let base = load_chunks([d.clone()]).expect("load");
        let written = verify(base, None, vec![c.raw_bytes().to_vec()]);
        cold.push(t.elapsed());
        assert_eq!(written, 1);
    }
    report("one change into a record, cold", cold);

    // A day's edits: 20 changes into each of 100 records in one verification.
    let days: Vec<Vec<Vec<u8>>> = loaded
        .iter()
        .take(100)
        .map(|d| {
            let mut doc = d.fork();
            (0..20)
                .map(|i| {
                    let c = one_change(&doc, i);
                    doc.apply_changes([c.clone()]).expect("apply");
                    c.raw_bytes().to_vec()
                })
                .collect()
        })
        .collect();
    let mut day_cold = Vec::new();
    let mut day_cached = Vec::new();
    for ((d, doc), day) in docs.iter().zip(&loaded).zip(&days) {
        let t = Instant::now();
        let base = load_chunks([d.clone()]).expect("load");
        verify(base, None, day.clone());
        day_cold.push(t.elapsed() / 20);
        let doc = doc.fork();
        let before = summarize(DocKind::Record, &doc);
        let t = Instant::now();
        verify(doc, before.as_ref(), day.clone());
        day_cached.push(t.elapsed() / 20);
    }
    report("20 changes into a record, cold, per change", day_cold);
    report("20 changes into a loaded record, per change", day_cached);

    let mut cached = Vec::new();
    for (doc, c) in loaded.into_iter().zip(changes) {
        let before = summarize(DocKind::Record, &doc);
        let t = Instant::now();
        verify(doc, before.as_ref(), vec![c.raw_bytes().to_vec()]);
        cached.push(t.elapsed());
    }
    report("one change into a loaded record (cached)", cached);
}
