//! A sync with nothing new, and one changed field, when the device and the server
//! hold many records (goal: one round trip and under 1 KB each way, whatever the
//! record count), and a first sync of that many records to an empty device.
//!
//! Importing 100,000 records through the store takes about an hour here (every
//! imported answer is a durable change), so the bench imports `--template` real
//! records (`scripts/bench-records.py`, about 120 answers each) on device A, syncs
//! them, and pushes copies of their record and restricted documents under new record
//! ids, through the real protocol with A's token, until the server holds
//! `--records` records (subjects are not copied: every copy links to one of the
//! template's subjects). Each copy gets one more change (its weight) so that no two
//! documents have the same bytes (the server stores a chunk once, by hash). The server verifies and projects them all; then device B, a
//! new clinician device, syncs: its first sync pulls every record, then a sync with
//! nothing new, then it changes one answer and syncs.
//!
//! Not part of CI (`cargo test` builds no benches). Run, in release:
//!   cargo bench -p tern-server --bench idle_at_scale -- --records 100000
//! Options: --records N (100000), --template N (200), --backend sqlite|postgres.

#[allow(dead_code)]
#[path = "../tests/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/pg.rs"]
mod pg;

#[path = "../../store/benches/bench_records.rs"]
mod bench_records;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::ReadDoc;
use common::{Backend, TestServer, ACCOUNT_PASSWORD, PASSWORD};
use std::time::{Duration, Instant};
use tern_store::{DocKind, OutgoingChange, OutgoingPage, Role, Store};
use tern_sync::plan::Session;
use tern_sync::protocol::{self, SyncResponse};

struct Args {
    records: usize,
    template: usize,
    backend: String,
}

fn args() -> Args {
    let mut a = Args {
        records: 100_000,
        template: 200,
        backend: "sqlite".into(),
    };
    // The program name first, then the flags.
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--records" => a.records = value.parse().expect("--records takes a number"),
            "--template" => a.template = value.parse().expect("--template takes a number"),
            "--backend" => a.backend = value,
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    a
}

/// A clinician's device at site-a with `n` realistic records, enrolled.
fn device_with_records(
    dir: &std::path::Path,
    admin: &tern_server::admin::Admin,
    url: &str,
    n: usize,
) -> Store {
    let db = dir.join("a.db");
    let mut s = Store::init(&db, "amina", Role::Clinician, PASSWORD, "site-a").expect("init");
    bench_records::import_bench_records(&mut s, n);
    let code = admin.enrolment_code("site-a", None).expect("code");
    tern_sync::enrol(&mut s, url, &code, ACCOUNT_PASSWORD).expect("enrol");
    s
}

/// Pushes one page of chunks with device A's token; returns the bytes sent.
fn push(
    client: &reqwest::blocking::Client,
    url: &str,
    token: &str,
    chunks: Vec<OutgoingChange>,
) -> usize {
    let n = chunks.len() as u32;
    let page = OutgoingPage {
        chunks,
        upto: Some(1),
        documents: n as usize,
    };
    // A small pull page: this pusher does not want the records back.
    let mut session = Session::new(0).with_pull_bytes(1);
    let outgoing = session.request(&page).expect("request");
    let body = protocol::encode(&outgoing.request).expect("encode");
    let sent = body.len();
    let resp = client
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .expect("push");
    assert_eq!(resp.status().as_u16(), 200, "push refused");
    let answer: SyncResponse = protocol::decode(&resp.bytes().expect("body")).expect("decode");
    assert_eq!(answer.acked, n, "every copy acknowledged");
    sent
}

fn index_of(template: &[OutgoingChange], doc_id: &str) -> usize {
    template
        .iter()
        .position(|t| t.doc_id == doc_id)
        .expect("in the template")
}

/// The document with one more change by its own author (a weight in a record, an
/// HIV lab id in a restricted twin), saved as a device saves it.
fn distinct(doc: &automerge::Automerge, restricted: bool, copy: usize) -> Vec<u8> {
    let mut d = doc.fork();
    if let Some(actor) = doc.get_changes(&[]).first().map(|c| c.actor_id().clone()) {
        d.set_actor(actor);
    }
    let mut tx = d.transaction();
    let answers = match tx.get(automerge::ROOT, "answers") {
        Ok(Some((_, id))) => id,
        other => panic!("answers map: {other:?}"),
    };
    let (key, value) = match restricted {
        true => ("hiv_lab_id", format!("\"LAB-{copy}\"")),
        false => ("weight_kg", format!("{}", 40 + copy % 80)),
    };
    tx.put(&answers, key, value).expect("put");
    tx.commit_with(
        CommitOptions::default()
            .with_message("set".to_string())
            .with_time(1_800_000_000_000 + copy as i64),
    );
    d.save_nocompress()
}

fn wait_verified(admin: &tern_server::admin::Admin) -> Duration {
    let t = Instant::now();
    loop {
        let b = admin.backlog().expect("backlog");
        if b.unverified == 0 {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(3600),
            "verification stalled"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn show(what: &str, took: Duration, r: &tern_sync::SyncReport) {
    println!(
        "{what:<44} {:>8.2} s  {:>4} round trips  {:>10} B up  {:>11} B down  {} documents pulled",
        took.as_secs_f64(),
        r.round_trips,
        r.bytes_sent,
        r.bytes_received,
        r.pulled_documents
    );
}

fn main() {
    let a = args();
    let backend: Backend = match a.backend.as_str() {
        "sqlite" => common::sqlite(),
        "postgres" => common::postgres(),
        other => panic!("--backend sqlite|postgres, not {other}"),
    };
    let server = TestServer::start(&backend.storage);
    let url = server.url();
    let admin = common::accounts(&backend.storage);
    let dir = tempfile::tempdir().expect("tmp");

    let t = Instant::now();
    let mut dev_a = device_with_records(dir.path(), &admin, &url, a.template);
    let template: Vec<OutgoingChange> = dev_a
        .pending_changes(0, usize::MAX)
        .expect("page")
        .chunks
        .into_iter()
        .filter(|c| c.kind != DocKind::Subject)
        .collect();
    let token = dev_a
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .token;
    let (dev_a, _) = tern_sync::sync(dev_a).expect("first sync of device A");
    drop(dev_a);
    println!(
        "{} template records imported and pushed by device A in {:.1} s",
        a.template,
        t.elapsed().as_secs_f64()
    );

    // Copies under new record ids, in pages of about 2 MiB.
    let t = Instant::now();
    let client = reqwest::blocking::Client::new();
    let loaded: Vec<automerge::Automerge> = template
        .iter()
        .map(|c| tern_store::load_chunks([c.bytes.clone()]).expect("load"))
        .collect();
    let copies = a.records.div_ceil(a.template).saturating_sub(1);
    let mut page = Vec::new();
    let mut page_bytes = 0;
    let mut sent = 0;
    let mut made = a.template;
    let mut copied_records = Vec::new();
    'copies: for copy in 1..=copies {
        for c in &template {
            let original = c.doc_id.trim_end_matches(".restricted");
            let index = index_of(&template, original);
            let id = format!("0190aaaa-{copy:04x}-7000-8000-{index:012x}");
            let doc_id = match c.kind {
                DocKind::Restricted => format!("{id}.restricted"),
                _ => {
                    if made >= a.records {
                        break 'copies;
                    }
                    made += 1;
                    copied_records.push(id.clone());
                    id
                }
            };
            let bytes = distinct(
                &loaded[index_of(&template, &c.doc_id)],
                c.kind == DocKind::Restricted,
                copy,
            );
            page_bytes += bytes.len();
            page.push(OutgoingChange {
                doc_id,
                bytes,
                ..c.clone()
            });
            if page_bytes > 2 << 20 {
                sent += push(&client, &url, &token, std::mem::take(&mut page));
                page_bytes = 0;
            }
        }
    }
    if !page.is_empty() {
        sent += push(&client, &url, &token, page);
    }
    println!(
        "{made} records on the server: copies pushed in {:.1} s ({:.1} MB)",
        t.elapsed().as_secs_f64(),
        sent as f64 / 1e6
    );
    let verified = wait_verified(&admin);
    let backlog = admin.backlog().expect("backlog");
    println!(
        "  ... verified and projected {:.1} s later: {} documents, {} records, {} quarantined",
        verified.as_secs_f64(),
        backlog.documents,
        backlog.records,
        backlog.quarantined
    );

    // Device B: an empty clinician device.
    let db_b = dir.path().join("b.db");
    let mut b = Store::init(&db_b, "amina", Role::Clinician, PASSWORD, "site-a").expect("init");
    let code = admin.enrolment_code("site-a", None).expect("code");
    tern_sync::enrol(&mut b, &url, &code, ACCOUNT_PASSWORD).expect("enrol B");
    drop(b);
    let open = || Store::open(&db_b, None, PASSWORD).expect("open B");

    let t = Instant::now();
    let (b, first) = tern_sync::sync(open()).expect("first sync of B");
    show("first sync to an empty device", t.elapsed(), &first);
    let listed = b
        .list_records(&tern_store::RecordFilter {
            limit: Some(usize::MAX / 2),
            ..Default::default()
        })
        .expect("list")
        .len();
    println!("  records listed on device B: {listed}");
    let on_b: std::collections::HashSet<String> = b
        .list_records(&tern_store::RecordFilter {
            limit: Some(usize::MAX / 2),
            ..Default::default()
        })
        .expect("list")
        .into_iter()
        .map(|r| r.record_id)
        .collect();
    let missing: Vec<&String> = copied_records
        .iter()
        .filter(|id| !on_b.contains(*id))
        .collect();
    if !missing.is_empty() {
        // Copies byte-identical to their template were once acknowledged and never
        // stored (the server kept a chunk once over the whole log): none may be missing.
        println!(
            "  acknowledged copies not listed: {} (e.g. {:?})",
            missing.len(),
            missing.first()
        );
    }
    let record = b
        .list_records(&tern_store::RecordFilter {
            limit: Some(1),
            ..Default::default()
        })
        .expect("list")
        .first()
        .map(|r| r.record_id.clone())
        .expect("a record");
    drop(b);

    for i in 0..3 {
        let t = Instant::now();
        let (_, idle) = tern_sync::sync(open()).expect("idle sync");
        show(&format!("nothing new ({})", i + 1), t.elapsed(), &idle);
    }

    let mut b = open();
    b.set_answer(&record, "temp_c", "39.1", None)
        .expect("one answer");
    let t = Instant::now();
    let (_, one) = tern_sync::sync(b).expect("one field");
    show("one field changed (push)", t.elapsed(), &one);
    let size = std::fs::metadata(&db_b).map(|m| m.len()).unwrap_or(0);
    println!("device B's database: {:.1} MB", size as f64 / 1e6);
    // Gracefully: the verifier finishes its batch before the process exits (exiting
    // under a running SQLCipher connection aborted the process in the C library's
    // exit handlers).
    server.stop();
}
